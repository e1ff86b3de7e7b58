"""Graph networks' speed (run with `make bench`): timing ResNet-18 and MobileNetV2 at batch 64
(lowering included) within 0.2 s on each machine family once warm (measured: 2-30 ms), the
TPU's sub-batch passes and packed depthwise tiles included; importing each ONNX fixture
within 0.1 s (2-6 ms)."""

from __future__ import annotations

from pathlib import Path

import pytest

import accelsim as ax

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "onnx"


@pytest.mark.parametrize("machine", ["tpu-v1", "gpu-h200", "cpu-host"])
@pytest.mark.parametrize("name", ["resnet18", "mobilenetv2"])
def test_bench_time_an_imagenet_network(benchmark, name, machine):
    net = ax.network(name, weights="none")
    built = ax.machine(machine)
    built.run(net, batch=64)  # warm: numba's caches, lru caches of kernel choices
    benchmark.pedantic(built.run, args=(net,), kwargs={"batch": 64}, rounds=5, iterations=1)
    assert benchmark.stats.stats.median < 0.2, (name, machine, benchmark.stats.stats.median)


@pytest.mark.parametrize("name", ["resnet_small", "mobilenet_small", "gru2"])
def test_bench_import_onnx(benchmark, name):
    pytest.importorskip("onnx")
    path = FIXTURES / f"{name}.onnx"
    ax.network(path)
    benchmark.pedantic(ax.network, args=(path,), rounds=5, iterations=1)
    assert benchmark.stats.stats.median < 0.1, (name, benchmark.stats.stats.median)
