"""Evaluating a chunk of sweep points: what a worker process (or a Dask worker) runs.

A `Chunk` carries only plain values (the preset, the parameter names, the network specs and
each point's network index and values), so sending one costs a few bytes a point; the answer
is one tuple a point, `(status, error, *METRICS)`.

- tpu-v1 points go through `accelsim.sweep.fast_tpu.tpu_points` (timing only, equal to the
  machine's own runs); points sharing a network, batch and array shape share one kernel walk,
  so chunks of neighbouring grid points are cheapest.
- Every other preset runs `accelsim.machine(preset, **overrides).run(net, batch=...,
  precision=..., seq_len=...)` (timing only: no data) and takes the same columns from its
  `RunResult` (`accelsim.metrics` reads each).

A point whose spec or run raises an `AccelsimError` (a bad override, a batch that does not fit,
a precision the machine lacks) is recorded as ("error", its message); any other exception as
("error", "TypeName: message"): one point never stops a sweep.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

from accelsim.build import machine_with
from accelsim.errors import AccelsimError
from accelsim.machines.base import Machine
from accelsim.machines.results import RunResult
from accelsim.machines.specs import SpecValue
from accelsim.metrics import run_values
from accelsim.nn.loader import load_network
from accelsim.nn.network import Network
from accelsim.scenario.space import METRICS

FAST_PRESET = "tpu-v1"
Outcome = tuple[Any, ...]  # (status, error, *METRICS)


class Chunk(NamedTuple):
    """Points to evaluate, as plain values."""

    machine: str
    parameters: tuple[str, ...]  # axis names, e.g. ("tpu.array_rows", "batch")
    networks: tuple[str, ...]  # as `load_network` takes them
    points: tuple[tuple[int, tuple[Any, ...]], ...]  # (network index, values)


class _Plan(NamedTuple):
    """Where each run parameter sits in a point's values, and the spec fields' positions."""

    batch: int | None
    precision: int | None
    seq_len: int | None
    fields: tuple[tuple[str, int], ...]  # (spec field, position)


@lru_cache(maxsize=64)
def _plan(parameters: tuple[str, ...]) -> _Plan:
    where = {p: i for i, p in enumerate(parameters)}
    fields = tuple((p.partition(".")[2], i) for i, p in enumerate(parameters) if "." in p)
    return _Plan(where.get("batch"), where.get("precision"), where.get("seq_len"), fields)


def _run_args(plan: _Plan, values: tuple[Any, ...]) -> tuple[dict[str, Any], int, Any, Any]:
    """(spec overrides, batch, precision or None, seq_len or None) of one point."""
    overrides = {field: values[i] for field, i in plan.fields}
    batch = 1 if plan.batch is None else values[plan.batch]
    precision = None if plan.precision is None else values[plan.precision]
    seq_len = None if plan.seq_len is None else values[plan.seq_len]
    return overrides, batch, precision, seq_len


def failed(error: BaseException) -> Outcome:
    """The outcome of a point that raised: its message (and type, if not a user error)."""
    text = str(error) if isinstance(error, AccelsimError) else \
        f"{type(error).__name__}: {error}"
    return ("error", " ".join(text.split()), *([None] * len(METRICS)))


def _fast_outcome(columns: dict[str, float]) -> Outcome:
    return ("ok", "", *(columns.get(m) for m in METRICS))


def _fast_chunk(chunk: Chunk) -> list[Outcome]:
    from accelsim.sweep.fast_tpu import TpuPoint, tpu_point, tpu_points

    plan = _plan(chunk.parameters)
    points = []
    for network, values in chunk.points:
        overrides, batch, precision, seq_len = _run_args(plan, values)
        points.append(TpuPoint(chunk.networks[network], batch, overrides, seq_len, precision))
    try:
        answers: list[Any] = tpu_points(points)
    except Exception:  # an unexpected failure: find its point, keep the others
        answers = []
        for p in points:
            try:
                answers.append(tpu_point(p.network, p.batch, p.overrides, seq_len=p.seq_len,
                                         precision=p.precision))
            except Exception as error:
                answers.append(error)
    return [failed(a) if isinstance(a, BaseException) else _fast_outcome(a) for a in answers]


@lru_cache(maxsize=16)
def _network(spec: str) -> Network:
    return load_network(spec, weights="none")


@lru_cache(maxsize=256)
def _machine(preset: str, overrides: tuple[tuple[str, SpecValue], ...]) -> Machine:
    return machine_with(preset, dict(overrides))


def run_outcome(run: RunResult) -> Outcome:
    """The metric columns of a `RunResult` (`metrics.SWEEP_METRICS`)."""
    return ("ok", "", *run_values(run, METRICS))


def _one(chunk: Chunk, plan: _Plan, network: int, values: tuple[Any, ...]) -> Outcome:
    try:
        overrides, batch, precision, seq_len = _run_args(plan, values)
        machine = _machine(chunk.machine, tuple(sorted(overrides.items())))
        return run_outcome(machine.run(_network(chunk.networks[network]), batch=batch,
                                       precision=precision, seq_len=seq_len))
    except Exception as error:  # recorded: one point never stops a sweep
        return failed(error)


def evaluate_chunk(chunk: Chunk) -> list[Outcome]:
    """Each point's outcome, `(status, error, *METRICS)`, in the chunk's order."""
    if chunk.machine == FAST_PRESET:
        return _fast_chunk(chunk)
    plan = _plan(chunk.parameters)
    return [_one(chunk, plan, network, values) for network, values in chunk.points]
