"""Record this host in one command, in the layout of the recorded files (`recorded.py`), so
that a host the models never saw (another CPU, another core count) is measured the way the
bundled ones were and replayed with no code change:

    python -m accelsim.measure.record_host cpu-NAME-DATE.json --thread-counts 1 16

It writes, in this order (PyTorch first, each thread count in fresh processes, before this
process does any numpy BLAS work whose spinning threads would steal PyTorch's cores):
- `networks.rows`: LeNet-5 and the char LSTM through PyTorch at each thread count
  (`torch_networks.measure_rounds`; `accelsim validate NAME --networks` replays them);
- `layers.rows`: the single-layer cases of `torch_layers.cases()` of the chosen families
  (`torch_layers.measure_rounds`; `accelsim validate NAME --layers`);
- `micro.thread_costs_us`: one ATen parallel region (max_pool2d over 2 planes of 2×2,
  every thread count against one) and one oneDNN region a step (nn.LSTM(8, 8), 64 steps less
  one, per step), the costs framework.py's `region_s` and `onednn_region_s` stand for; and
  the first touch of fresh pages by one thread and by all (a 64 MiB tensor, mapped fresh on
  every call, filled by ATen's threads): how page faults scale with the threads taking them
  (`CPUSpec.page_fault_contention` on replay);
- `micro.dispatch_us`: small framework calls on one thread (`torch_layers.dispatch_micro`),
  whose cycles against the reference host's give `CPUSpec.framework_cycles_scale` on replay;
- `spec`: the host's calibration (`host.detect_host`), then `gemm.rows`: numpy's GEMMs in
  interleaved rounds with the calibration's own measurements (`gemm_timing.record`;
  `accelsim validate NAME` replays them), and `lscpu`.

Copy the file into accelsim/measure/data/ (the data README lists each file's source) and the
validators find it by name. Needs the optional `torch` extra. The 2-vCPU development VM took
61 s with `--rounds 1`; there one round put 3 of 226 rows beyond 2× of the model (a shared
VM's slow spells), so the default keeps the fastest of three rounds.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from accelsim.errors import AccelsimError
from accelsim.measure import torch_layers, torch_networks

LSCPU_FIELDS = ("CPU(s)", "Model name", "CPU family", "Model", "Thread(s) per core",
                "Hypervisor vendor", "L1d cache", "L2 cache", "L3 cache")
REGION_CALLS = 2_000
REGION_SAMPLES = 7
FRESH_BYTES = 64 * 2**20  # above glibc's largest mmap threshold (32 MiB): fresh every call
PAGE_BYTES = 4096


def lscpu_lines(text: str) -> list[str]:
    """The `lscpu` lines a recorded file keeps (`recorded.lscpu_fma_bits` reads them)."""
    lines = []
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in LSCPU_FIELDS and value.strip():
            lines.append(f"{key.strip()}: {value.strip()}")
    return lines


def run_lscpu() -> list[str]:
    if shutil.which("lscpu") is None:
        return []
    done = subprocess.run(["lscpu"], capture_output=True, text=True, check=False)
    return lscpu_lines(done.stdout)


def median_us(call: Callable[[], Any], calls: int = REGION_CALLS) -> float:
    """Median over REGION_SAMPLES samples of `calls` back-to-back calls, µs a call."""
    samples = []
    for _ in range(REGION_SAMPLES):
        started = time.perf_counter()
        for _ in range(calls):
            call()
        samples.append((time.perf_counter() - started) / calls * 1e6)
    return statistics.median(samples)


def thread_costs_here(threads: int) -> dict[str, float]:
    """In THIS process (fresh, PyTorch only): µs of max_pool2d over 2 planes of 2×2, of
    nn.LSTM(8, 8) over 1 and 64 steps and of filling a fresh 64 MiB tensor, at one thread and
    at `threads`, interleaved."""
    import torch

    torch.set_grad_enabled(False)
    planes = torch.randn(1, 2, 2, 2)
    lstm = torch.nn.LSTM(8, 8).eval()
    one_step, steps = torch.randn(1, 1, 8), torch.randn(64, 1, 8)
    floats = FRESH_BYTES // 4
    out: dict[str, float] = {}
    for count in (1, threads, 1, threads):
        torch.set_num_threads(count)
        timed = {f"max_pool2d_2x2x2_t{count}": median_us(lambda: torch.max_pool2d(planes, 2)),
                 f"lstm_8_8_steps1_t{count}": median_us(lambda: lstm(one_step), 200),
                 f"lstm_8_8_steps64_t{count}": median_us(lambda: lstm(steps), 50),
                 f"fresh_64mib_fill_t{count}": median_us(
                     lambda: torch.empty(floats).fill_(1.0), 5)}
        for key, value in timed.items():
            out[key] = round(min(out.get(key, value), value), 3)
    return out


def thread_costs(threads: int) -> dict[str, float]:
    """`thread_costs_here` in a fresh process, with the per-region and per-step differences:
    `aten_region_us` (max_pool2d at `threads` less at one), `onednn_step_us_tN` (an LSTM
    step: 64 steps less one, over 63) and `fresh_page_us_tN` (the fill of fresh pages per
    4 KiB page: the fault, the zeroing and the write)."""
    args = [sys.executable, "-m", "accelsim.measure.record_host", "--thread-costs",
            str(threads)]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    done = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise AccelsimError(f"timing PyTorch failed: {done.stderr.strip()[-2000:]}")
    times: dict[str, float] = json.loads(done.stdout)
    derived = {"aten_region_us": times[f"max_pool2d_2x2x2_t{threads}"]
               - times["max_pool2d_2x2x2_t1"]}
    for count in sorted({1, threads}):
        derived[f"onednn_step_us_t{count}"] = (times[f"lstm_8_8_steps64_t{count}"]
                                               - times[f"lstm_8_8_steps1_t{count}"]) / 63
        derived[f"fresh_page_us_t{count}"] = times[f"fresh_64mib_fill_t{count}"] \
            / (FRESH_BYTES / PAGE_BYTES)
    return {**times, **{k: round(v, 3) for k, v in derived.items()}}


def dispatch_calls() -> dict[str, float]:
    """`torch_layers.dispatch_micro` in a fresh one-thread process: the small framework calls
    whose cycles against the reference host's set `CPUSpec.framework_cycles_scale` on replay
    (`recorded.framework_cycles_scale_of`)."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "dispatch.json"
        args = [sys.executable, "-m", "accelsim.measure.torch_layers", "--record", str(out),
                "--dispatch"]
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        done = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            raise AccelsimError(f"timing PyTorch failed: {done.stderr.strip()[-2000:]}")
        calls: dict[str, float] = json.loads(out.read_text(encoding="utf-8"))
    return calls


def record(thread_counts: Sequence[int], families: Sequence[str], rounds: int) -> dict[str, Any]:
    """This host measured now, every part in the layout `recorded.py` and the validators
    read (module docstring)."""
    from accelsim.measure import gemm_timing, host

    counts = sorted(set(thread_counts))
    today = datetime.date.today().isoformat()
    networks = torch_networks.measure_rounds(dict(torch_networks.BATCHES), counts, rounds)
    cases = [c for c in torch_layers.cases() if torch_layers.family(c) in families]
    layers = torch_layers.measure_rounds(cases, counts, rounds) if cases else []
    threads = thread_costs(max(counts))
    calls = dispatch_calls()
    spec = host.detect_host()
    memory = host.memory_bytes()
    if memory:
        spec = spec.replace(memory_bytes=memory)
    gemms = gemm_timing.record()
    method = (f"each thread count ({', '.join(map(str, counts))}) in {rounds} fresh "
              "process(es), interleaved; per round the median of 7 samples after 3 warm-up "
              "calls, each sample >= 20 ms of back-to-back calls; the fastest round kept, "
              "every round beside it")
    return {
        "what": f"{host.cpu_model_name()}, {spec.cores} cores as this process sees them, "
                f"recorded {today} by accelsim.measure.record_host",
        "lscpu": run_lscpu(),
        "spec": dataclasses.asdict(spec),
        "spec_note": "the spec accelsim's calibration (host.detect_host) produced on this "
                     "host right after the PyTorch timings, before the GEMM rows",
        "gemm": gemms["gemm"],
        "networks": {"how": "accelsim.measure.torch_networks.measure_rounds: PyTorch "
                            f"{torch_version()} CPU, fp32, inference_mode; {method}",
                     "rows": networks},
        "layers": {"how": "accelsim.measure.torch_layers.measure_rounds: PyTorch "
                          f"{torch_version()} CPU, fp32, inference_mode, random values; "
                          f"{method}", "rows": layers},
        "micro": {"thread_costs_us": threads, "dispatch_us": calls},
    }


def torch_version() -> str:
    done = subprocess.run([sys.executable, "-c", "import torch; print(torch.__version__)"],
                          capture_output=True, text=True, check=False)
    return done.stdout.strip() or "(not installed)"


def unwritable(path: Path) -> str:
    """Why `path` cannot be written ('' where it can): its folder is made and probed."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}."):
            pass
    except OSError as err:
        return err.strerror or str(err)
    if path.is_dir():
        return "it is a folder"
    return ""


def write(doc: dict[str, Any], path: Path) -> None:
    """Write `doc` to `path` whole or not at all (a temporary file, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent,
                                     prefix=f".{path.name}.", delete=False) as out:
        json.dump(doc, out, indent=1, ensure_ascii=False)
    os.chmod(out.name, 0o644)  # a data file others read, not a private cache
    os.replace(out.name, path)


def _main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m accelsim.measure.record_host",
        description="Time this host (PyTorch networks and layers at each thread count, "
                    "thread costs, the calibration and numpy's GEMMs) into one recorded file "
                    "that `accelsim validate` replays once copied into "
                    "accelsim/measure/data/.")
    parser.add_argument("out", nargs="?", help="the JSON file to write")
    parser.add_argument("--thread-counts", type=int, nargs="+",
                        default=[1, len(os.sched_getaffinity(0))],
                        help="PyTorch thread counts to time (default: 1 and every core this "
                             "process may run on)")
    parser.add_argument("--families", nargs="*", default=["conv", "rnn", "linear", "net"],
                        choices=("conv", "rnn", "linear", "net"))
    parser.add_argument("--rounds", type=int, default=torch_layers.ROUNDS)
    parser.add_argument("--thread-costs", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.thread_costs:
        print(json.dumps(thread_costs_here(args.thread_costs)))
        return 0
    if not args.out:
        parser.error("name the JSON file to write, e.g. cpu-myhost-2026-12-07.json")
    if not torch_networks.torch_available():
        print("accelsim: recording a host times PyTorch, which is not installed; install it "
              "with `pip install torch==2.13.0` (the CPU build)", file=sys.stderr)
        return 2
    if any(t < 1 for t in args.thread_counts):
        print(f"accelsim: --thread-counts {args.thread_counts}: every count must be at least "
              "1", file=sys.stderr)
        return 2
    if args.rounds < 1:
        print(f"accelsim: --rounds {args.rounds}: time each case at least once (--rounds 1)",
              file=sys.stderr)
        return 2
    target = Path(args.out)
    problem = unwritable(target)
    if problem:  # checked before minutes of timing, not after
        print(f"accelsim: cannot write {target}: {problem}; name a file in a writable "
              "folder", file=sys.stderr)
        return 2
    write(record(args.thread_counts, args.families, args.rounds), target)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(_main())
