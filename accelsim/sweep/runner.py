"""`run_sweep`: every point of a sweep, evaluated in chunks on this machine's cores or on a Dask
cluster, streamed into a folder that a rerun resumes from.

- Points are enumerated lazily (`Sweep.iter_points`), twice: once to count what is left to do
  (the progress bar's total), once to hand out chunks. Points already in the folder's
  sweep.csv (an interrupted earlier run of the same sweep) are skipped.
- Chunks: consecutive points (neighbours share a network, batch and array shape, which the
  fast TPU path times in one walk), at most `FAST_CHUNK` (tpu-v1) or `CHUNK` (other presets,
  whose points take milliseconds) and small enough that every worker gets about
  `CHUNKS_PER_WORKER` of them. A chunk crosses to a worker as plain values (`Chunk`); what
  comes back is one short tuple a point.
- Local: a `ProcessPoolExecutor` of `workers` processes (default `os.cpu_count()`), forked
  (or, beside other threads, started by a fork server: `_pool_context`); `workers=1`, or work
  that fits one chunk, runs in this process. At most `IN_FLIGHT_PER_WORKER` chunks per
  worker are queued at a time, so the work waiting stays small whatever the sweep's size
  (the finished rows are kept: the result holds them all).
- Dask: `dask=ADDRESS` (a scheduler, `dask.distributed.Client(ADDRESS)`), `dask="local"` (a
  `LocalCluster` of `workers` processes, closed at the end), or a `Client` or cluster object;
  the same chunks go to `client.submit`. The cluster's workers need the same accelsim
  installed (`pip install 'accelsim[sweep]'` there too).
- As each chunk finishes its rows are appended to sweep.csv and `progress(done, total)` is
  called. An exception out of `progress` (a KeyboardInterrupt, Ctrl-C) stops the sweep:
  queued chunks are cancelled and what finished stays in the folder for the rerun.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Protocol

from accelsim.errors import AccelsimError
from accelsim.scenario import Scenario, load_scenario
from accelsim.scenario.space import Point, Sweep
from accelsim.scenario.sweep_result import SweepResult
from accelsim.sweep.evaluate import FAST_PRESET, Chunk, Outcome, evaluate_chunk
from accelsim.sweep.store import CSV_FILE, SweepStore, write_sweep

FAST_CHUNK = 1000  # tpu-v1 points: ~0.1 s of work each chunk, so a task costs < 1% overhead
CHUNK = 20  # points of other presets: milliseconds each
CHUNKS_PER_WORKER = 4
IN_FLIGHT_PER_WORKER = 3
INSTALL = "pip install 'accelsim[sweep]'"
Progress = Callable[[int, int], None]
DaskTarget = object  # an address, "local", a distributed.Client or a cluster (see dask_client)


class DaskFuture(Protocol):
    """The part of a `distributed.Future` the runner uses."""

    def result(self) -> list[Outcome]: ...


class DaskClient(Protocol):
    """The part of a `distributed.Client` the runner uses (Dask is an optional extra)."""

    def submit(self, func: Callable[[Chunk], list[Outcome]], chunk: Chunk, /, *,
               pure: bool) -> DaskFuture: ...

    def nthreads(self) -> dict[str, int]: ...

    def cancel(self, futures: list[DaskFuture]) -> None: ...

Work = Generator[tuple[list[Point], Chunk], None, None]
Done = Generator[tuple[list[Point], list[Outcome]], None, None]


def sweep_of(sweep: Sweep | Scenario | str | Path) -> Sweep:
    """A `Sweep` from a sweep, a scenario holding one, or a scenario's path or name."""
    if isinstance(sweep, Sweep):
        return sweep
    scenario = sweep if isinstance(sweep, Scenario) else load_scenario(sweep)
    if scenario.sweep is None:
        raise AccelsimError(f"scenario {scenario.name!r} has no [sweep] table; add one "
                            "(machine, networks and [sweep.axes]) or run it with "
                            "`accelsim run`")
    return scenario.sweep


def largest_chunk(machine: str) -> int:
    """The most points a chunk holds: a tenth of a second of work or so."""
    return FAST_CHUNK if machine == FAST_PRESET else CHUNK


def choose_chunk_size(machine: str, todo: int, workers: int) -> int:
    """Points per chunk: the largest, unless that leaves a worker fewer than
    `CHUNKS_PER_WORKER` chunks."""
    return max(1, min(largest_chunk(machine), math.ceil(todo / (workers * CHUNKS_PER_WORKER))))


def _chunks(sweep: Sweep, done: Mapping[str, object], size: int, order: list[str]) -> Work:
    """Chunks of the points not yet done; every point's id goes into `order`."""
    chunk: list[Point] = []
    for point in sweep.iter_points():
        order.append(point.id)
        if point.id in done:
            continue
        chunk.append(point)
        if len(chunk) == size:
            yield chunk, _chunk(sweep, chunk)
            chunk = []
    if chunk:
        yield chunk, _chunk(sweep, chunk)


def _chunk(sweep: Sweep, points: list[Point]) -> Chunk:
    return Chunk(sweep.machine, sweep.parameters, sweep.networks,
                 tuple((p.network, p.values) for p in points))


def _in_process(work: Work) -> Done:
    for points, chunk in work:
        yield points, evaluate_chunk(chunk)


def _quiet_worker() -> None:
    """Workers leave Ctrl-C to the parent, which stops the sweep and ends them."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _pool_context() -> BaseContext | None:
    """How workers start: by fork where this process runs no other thread (quick, nothing
    imported again), else through a fork server that has imported the evaluator (fork is
    unsafe beside threads; a script must then guard its top level with `if __name__ ==
    "__main__":`, as for any spawned process); elsewhere the platform's default."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" not in methods:
        return None
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["accelsim.sweep.evaluate", "accelsim.sweep.fast_tpu"])
    return context


def _died(error: BaseException) -> AccelsimError:
    return AccelsimError(f"a sweep worker failed ({type(error).__name__}: {error}); the "
                         f"points finished so far are kept in the folder's {CSV_FILE}: run "
                         "the sweep again to resume")


def _pool(work: Work, workers: int) -> Done:
    executor = ProcessPoolExecutor(workers, mp_context=_pool_context(),
                                   initializer=_quiet_worker)
    pending: dict[Future[list[Outcome]], list[Point]] = {}
    try:
        for points, chunk in work:
            pending[executor.submit(evaluate_chunk, chunk)] = points
            while len(pending) >= workers * IN_FLIGHT_PER_WORKER:
                yield from _collect(pending, FIRST_COMPLETED)
        while pending:
            yield from _collect(pending, FIRST_COMPLETED)
    except Exception as err:  # a worker died (BrokenProcessPool), or could not answer
        if isinstance(err, AccelsimError):
            raise
        raise _died(err) from None
    finally:  # queued chunks are dropped; running ones (≤ 1 s each) end before we return, so
        # no pool thread outlives the sweep (a later sweep would start its workers beside it)
        executor.shutdown(wait=True, cancel_futures=True)


def _collect(pending: dict[Future[list[Outcome]], list[Point]], when: str) -> Done:
    finished, _ = wait(pending, return_when=when)
    for future in finished:
        yield pending.pop(future), future.result()


@contextlib.contextmanager
def dask_client(dask: DaskTarget, workers: int | None) -> Iterator[DaskClient]:
    """A `distributed.Client` for `dask` (an address, "local", a Client or a cluster); the
    client and any cluster made here are closed on the way out."""
    if isinstance(dask, int | float | bytes | list | tuple | dict | set) or dask == "":
        raise AccelsimError(f"dask = {dask!r:.60} must be a scheduler address such as "
                            "'tcp://host:8786', 'local', a distributed.Client or a cluster")
    try:
        import distributed
    except ImportError:
        raise AccelsimError(f"--dask needs dask.distributed, which is not installed: {INSTALL}"
                            ) from None
    if isinstance(dask, distributed.Client):
        yield dask
        return
    if not isinstance(dask, str | distributed.deploy.Cluster):
        raise AccelsimError(f"dask = {dask!r:.60} must be a scheduler address such as "
                            "'tcp://host:8786', 'local', a distributed.Client or a cluster")
    with contextlib.ExitStack() as stack:
        if dask == "local":
            dask = stack.enter_context(distributed.LocalCluster(
                n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                dashboard_address=None))
        try:
            client = stack.enter_context(distributed.Client(dask, timeout=10))
        except (OSError, TimeoutError, ValueError) as err:
            raise AccelsimError(f"cannot reach the Dask scheduler at {dask!r}: {err}; start "
                                "one (`dask scheduler`) or check the address") from None
        except MemoryError:  # Dask read another protocol's bytes as a frame's length
            raise AccelsimError(f"{dask!r} answered, but not as a Dask scheduler (another "
                                "service listens there, e.g. a web server); give the "
                                "scheduler's address, as `dask scheduler` prints it "
                                "(tcp://HOST:8786)") from None
        yield client


def _on_dask(work: Work, client: DaskClient) -> Done:
    from distributed import as_completed

    most = max(1, sum(client.nthreads().values())) * IN_FLIGHT_PER_WORKER
    pending: dict[DaskFuture, list[Point]] = {}
    finished = as_completed()
    try:
        for points, chunk in work:
            future = client.submit(evaluate_chunk, chunk, pure=False)
            pending[future] = points
            finished.add(future)
            while len(pending) >= most:
                future = next(finished)
                yield pending.pop(future), future.result()
        for future in finished:
            yield pending.pop(future), future.result()
    except Exception as err:
        if isinstance(err, AccelsimError):
            raise
        raise _died(err) from None
    finally:
        client.cancel(list(pending))


def _evaluate(sweep: Sweep, done: Mapping[str, object], todo: int, *, workers: int | None,
              chunk: int | None, client: DaskClient | None, order: list[str]) -> Done:
    """Outcomes chunk by chunk, from the chosen executor."""
    count = max(1, workers or os.cpu_count() or 1)
    work = _chunks(sweep, done, chunk or choose_chunk_size(sweep.machine, todo, count), order)
    if client is not None:
        return _on_dask(work, client)
    if count == 1 or todo <= (chunk or largest_chunk(sweep.machine)):
        return _in_process(work)  # one chunk of work is not worth starting processes
    return _pool(work, count)


def run_sweep(sweep: Sweep | Scenario | str | Path,
              out: str | os.PathLike[str] | None = None, *, workers: int | None = None,
              dask: DaskTarget = None, progress: Progress | None = None,
              chunk_size: int | None = None) -> SweepResult:
    """Evaluate every point of `sweep` (a `Sweep`, a scenario with a [sweep] table, or its
    path or name) and return the rows in the sweep's order. With `out`, rows stream into
    `out`/sweep.csv as chunks finish, a rerun into the same folder resumes, and the finished
    folder holds sweep.csv in the sweep's order, sweep.parquet (with pyarrow) and sweep.json
    (its report pages are the report layer's: `accelsim.run_sweep` adds them). `workers`:
    local processes (default: every core; 1 runs here); `dask`: a scheduler address,
    "local", or a Client or cluster; `progress(done, total)` hears each finished chunk;
    `chunk_size` overrides the chosen one."""
    plan = sweep_of(sweep)
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise AccelsimError(f"workers = {workers!r} must be a positive integer, e.g. 2")
    with contextlib.ExitStack() as stack:
        client = None if dask is None else stack.enter_context(dask_client(dask, workers))
        store = None if out is None else SweepStore.open(out, plan)
        if store is not None:
            stack.callback(store.close)
        done = {} if store is None else store.done
        started = time.perf_counter()  # the workers' start counts, a cluster's does not
        todo = sum(1 for p in plan.iter_points() if p.id not in done)
        rows, order, finished = dict(done), list[str](), 0
        if progress is not None:
            progress(0, todo)
        outcomes_of = stack.enter_context(contextlib.closing(_evaluate(
            plan, done, todo, workers=workers, chunk=chunk_size, client=client, order=order)))
        for points, outcomes in outcomes_of:
            new = [(p.id, *o[:2], *plan.labels(p), *o[2:])
                   for p, o in zip(points, outcomes, strict=True)]
            if store is not None:
                store.append(new)
            rows.update((row[0], row) for row in new)
            finished += len(new)
            if progress is not None:
                progress(finished, todo)
    result = SweepResult(plan, tuple(rows[i] for i in order), finished,
                         len(order) - finished, time.perf_counter() - started,
                         None if out is None else Path(out))
    if store is not None:
        write_sweep(result, store.out, lines=store.lines)
    return result
