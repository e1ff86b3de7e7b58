"""CPU model speed (run with `make bench`): one GEMM prediction ≤ 10 ms for a new shape,
LeNet-5 batch 64 end to end well under a second."""

from __future__ import annotations

import random
import time

import accelsim as ax
from accelsim.machines.cpu.blis import predict
from accelsim.machines.cpu.spec import HASWELL


def test_bench_new_cpu_gemm_predictions(benchmark):
    rng = random.Random(3)
    shapes = iter([(rng.randint(1, 50000), rng.randint(1, 8000), rng.randint(1, 8000))
                   for _ in range(10_000)])
    worst = []

    def predict_new_shape():
        started = time.perf_counter()
        predict(HASWELL, *next(shapes))
        worst.append(time.perf_counter() - started)

    benchmark.pedantic(predict_new_shape, rounds=200, iterations=1)
    assert max(worst) < 0.010


def test_bench_cpu_lenet5_batch64_end_to_end(benchmark):
    cpu = ax.machine("cpu-haswell-e5-2699v3")
    x, y = ax.datasets.load("digits", split="test")
    result = benchmark(cpu.run, ax.network("lenet5"), batch=64, data=(x, y))
    assert result.accuracy >= 0.97
    assert benchmark.stats.stats.median < 1.0
