"""Live GEMM timings on this host: numpy's `a @ b` on float32 arrays (the output allocated per
call, as numpy does), in rounds of enough calls to last a few milliseconds, after a warm-up;
the fastest of five rounds is the measurement: on a shared, noisy host a neighbour only ever
adds time, and the least disturbed round is what the model (an undisturbed machine)
predicts, as the PyTorch harnesses keep their fastest round (a median of five let one
disturbed spell through: the 16×80×10 GEMM at 2.6 µs against 1.3 µs in one of eight runs on
the 2-vCPU Zen 4 VM). Rounds interleave all shapes with the host's calibration measurements
(clock, sustained FMA rate, the BLAS's cost per worker thread), each also its least disturbed
round (the highest clock, the fastest GEMMs and calls).

Shapes span 1.6 kFLOP to 8.6 GFLOP: LeNet-5's and the LSTMs' GEMMs at several batches and
square and rectangular GEMMs. `record` writes this host in the layout of the recorded files
(`accelsim/measure/data/`).
"""

from __future__ import annotations

import dataclasses
import datetime
import time

import numpy as np

from accelsim.measure.clock import measure_clock_hz
from accelsim.measure.host import (
    CALIBRATION_GEMM,
    blas_cores,
    calibrate_blas,
    cpu_model_name,
    detect_host,
    fingerprint,
    gemm_seconds,
    measure_call_overhead,
    thread_sync_shape,
)

SHAPES = (
    (1, 80, 10), (1, 120, 80), (1, 400, 120), (16, 80, 10), (1, 256, 512), (16, 120, 80),
    (100, 150, 16), (784, 25, 6), (16, 400, 120), (64, 64, 64), (256, 80, 10),
    (16, 256, 512), (128, 128, 128), (1, 1024, 2048), (256, 120, 80), (12544, 25, 6),
    (1600, 150, 16), (256, 256, 256), (256, 400, 120), (4096, 120, 80), (16, 1024, 2048),
    (64, 224, 512), (512, 512, 512), (200704, 25, 6), (4096, 400, 120), (256, 1024, 2048),
    (1024, 1024, 1024), (4096, 256, 512), (1024, 2048, 2048),
)
Shape = tuple[int, int, int]
ROUND_SECONDS = 3e-3
ROUNDS = 5


def _calls_per_round(a: np.ndarray, b: np.ndarray) -> int:
    a @ b  # warm-up: first-touch pages, BLAS thread start
    started = time.perf_counter()
    a @ b
    once = max(time.perf_counter() - started, 1e-7)
    return int(min(5000, max(1, ROUND_SECONDS / once)))


def _timed(a: np.ndarray, b: np.ndarray, calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        a @ b
    return (time.perf_counter() - started) / calls


def measure_all(shapes: tuple[Shape, ...],
                cores: int) -> tuple[list[float], list[float]]:
    """The fastest round's seconds per shape, and the least disturbed round of each of the
    host's calibration measurements (the highest clock; the fastest calibration GEMM on one
    and on all threads, call overhead and GEMM that times `cores` threads' wake-up and
    join), taken in interleaved rounds."""
    rng = np.random.default_rng(0)
    operands = [(rng.random((m, k), dtype=np.float32), rng.random((k, n), dtype=np.float32))
                for m, k, n in shapes]
    calls = [_calls_per_round(a, b) for a, b in operands]
    times: list[list[float]] = [[] for _ in shapes]
    # clock, 1-thread, all-thread, call, threads' wake-up
    calibration: list[list[float]] = [[], [], [], [], []]
    for _ in range(ROUNDS):
        calibration[0].append(measure_clock_hz(n=3_000_000, repeats=1))
        calibration[1].append(gemm_seconds(*CALIBRATION_GEMM, rounds=1, threads=1))
        calibration[2].append(gemm_seconds(*CALIBRATION_GEMM, rounds=1))
        calibration[3].append(measure_call_overhead(repeats=500))
        calibration[4].append(gemm_seconds(*thread_sync_shape(cores), rounds=1))
        for index, ((a, b), count) in enumerate(zip(operands, calls, strict=True)):
            times[index].append(_timed(a, b, count))
    clock, *timed = calibration
    return [min(t) for t in times], [max(clock), *(min(c) for c in timed)]




def record(shapes: tuple[Shape, ...] = SHAPES) -> dict:
    """This host measured now, in the layout of the recorded files (`recorded.py`): its
    calibrated spec and the GEMM timings, both taken in the same interleaved rounds."""
    measured, (clock, one, everyone, call, threaded) = measure_all(shapes, blas_cores())
    spec = calibrate_blas(detect_host().replace(clock_hz=clock, call_overhead_s=call), one,
                          everyone, threaded)
    return {
        "what": f"{cpu_model_name()}, {spec.cores} cores as this process sees them, "
                f"measured {datetime.date.today().isoformat()} with numpy {np.__version__}",
        "host": fingerprint(),
        "cpu_host_spec_as_detected": dataclasses.asdict(spec),
        "gemm": {"how": "numpy float32 A[m,k] @ B[k,n], interleaved rounds with the "
                        "calibration, the fastest of 5 (accelsim.measure.gemm_timing.record)",
                 "rows": [{"m": m, "k": k, "n": n, "measured_us": round(s * 1e6, 3)}
                          for (m, k, n), s in zip(shapes, measured, strict=True)]},
    }
