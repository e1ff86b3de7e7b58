"""The CPU machine: presets, networks, precisions, im2col."""

from __future__ import annotations

import pytest

import accelsim as ax
from accelsim.machines.cpu.core import CpuGemmDetail
from accelsim.machines.results import Category


def test_lenet5_on_the_cpus(recorded_host):
    x, y = ax.datasets.load("digits", split="test")
    for name in ("cpu-host", "cpu-haswell-e5-2699v3", "cpu-book-2006"):
        r = ax.machine(name).run(ax.network("lenet5"), batch=64, data=(x, y))
        assert r.accuracy >= 0.97 and r.seconds > 0
        assert r.layers[0].seconds == 0  # the input is already in host memory
        # end to end adds the framework's host work to the computation (framework.py)
        assert r.device_seconds < r.seconds
        assert r.seconds - r.device_seconds == pytest.approx(r.time[Category.FRAMEWORK])
        assert r.time.seconds == pytest.approx(r.seconds)


def test_im2col_is_charged_to_a_convolution_timed_on_its_own():
    """`time_op` is the numpy/BLAS path: a convolution is an im2col copy and a GEMM."""
    cpu = ax.machine("cpu-haswell-e5-2699v3")
    ops = {op.name: op for op in ax.lower(ax.network("lenet5"), batch=64).ops}
    conv1, fc1 = cpu.time_op(ops["conv1"], "fp32"), cpu.time_op(ops["fc1"], "fp32")
    assert isinstance(conv1.detail, CpuGemmDetail) and conv1.detail.im2col_s > 0
    assert fc1.detail.im2col_s == 0
    # the im2col copy is time spent moving data, beside packing
    assert conv1.time[Category.MEMORY_STALL] >= conv1.detail.im2col_s
    assert conv1.time.seconds == pytest.approx(conv1.seconds)


def test_a_network_runs_as_pytorch_runs_it():
    """In a whole network a convolution is oneDNN's direct kernel, not im2col + GEMM."""
    r = ax.machine("cpu-haswell-e5-2699v3").run(ax.network("lenet5"), batch=64)
    layers = {layer.name: layer for layer in r.layers}
    assert layers["conv1"].kernel.startswith("jit:avx2 direct")
    assert layers["fc1"].kernel.startswith("addmm")
    assert layers["pool1"].kernel.startswith("max_pool2d")
    assert all(layer.time[Category.FRAMEWORK] > 0 for layer in r.layers[1:-1])


def test_int8_needs_dot_product_instructions():
    with pytest.raises(ax.AccelsimError, match="cpu-skylake-8180 does not support int8"):
        ax.machine("cpu-skylake-8180").run(ax.network("lenet5"), precision="int8")
    vnni = ax.machine("cpu-skylake-8180", vnni=True)
    fp32 = vnni.gemm(2048, 2048, 2048, precision="fp32")
    int8 = vnni.gemm(2048, 2048, 2048, precision="int8")
    assert int8.seconds < fp32.seconds / 3
    x, y = ax.datasets.load("digits", split="test")
    assert vnni.run(ax.network("lenet5"), batch=64, precision="int8",
                    data=(x, y)).accuracy >= 0.97


def test_fp16_is_not_a_cpu_precision():
    with pytest.raises(ax.AccelsimError, match="does not support fp16"):
        ax.machine("cpu-book-2017").gemm(64, 64, 64, precision="fp16")
