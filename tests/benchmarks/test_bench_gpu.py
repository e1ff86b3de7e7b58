"""GPU model speed (run with `make bench`): one GEMM prediction ≤ 10 ms for a shape it has not
seen (repeated shapes come from a cache), LeNet-5 batch 64 end to end well under a second."""

from __future__ import annotations

import random
import time

import accelsim as ax
from accelsim.machines.gpu.gemm import choose_kernel
from accelsim.machines.gpu.sm_sim import simulate_sm
from accelsim.machines.gpu.spec import H200

FP32 = ax.Precision.FP32


def test_bench_new_gemm_predictions(benchmark):
    # compile (or load from numba's cache) the SM simulation once: it runs interpreted for its
    # first calls and switches mid-run otherwise, paying numba's start-up (~0.4 s) in one call
    simulate_sm.compile()
    choose_kernel(100, 100, 100, H200, FP32)
    rng = random.Random(7)
    shapes = iter([(rng.randint(1, 20000), rng.randint(1, 5000), rng.randint(1, 5000))
                   for _ in range(10_000)])
    worst = []

    def predict_new_shape():
        started = time.perf_counter()
        choose_kernel(*next(shapes), H200, FP32)
        worst.append(time.perf_counter() - started)

    benchmark.pedantic(predict_new_shape, rounds=60, iterations=1)
    assert max(worst) < 0.010


def test_bench_repeated_gemm_prediction(benchmark):
    choose_kernel(777, 333, 555, H200, FP32)
    benchmark(choose_kernel, 777, 333, 555, H200, FP32)
    assert benchmark.stats.stats.median < 1e-4


def test_bench_gpu_lenet5_batch64_end_to_end(benchmark):
    gpu = ax.machine("gpu-h200")
    net = ax.network("lenet5")
    x, y = ax.datasets.load("digits", split="test")
    result = benchmark(gpu.run, net, batch=64, precision="fp32", data=(x, y))
    assert result.accuracy >= 0.97
    assert benchmark.stats.stats.median < 1.0
