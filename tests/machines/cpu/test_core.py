"""The CPU machine: presets, host detection, networks, precisions, im2col."""

from __future__ import annotations

import numpy as np
import pytest

import accelsim as ax
from accelsim.machines.cpu.host import detect_host, shift_xor_chain


def test_host_detection_is_sane():
    spec = detect_host()
    assert spec.cores >= 1 and 0.5e9 < spec.clock_hz < 6e9
    assert spec.simd_lanes in (4, 8, 16) and spec.l1_bytes >= 16 * 1024
    assert 0.2 <= spec.fma_efficiency <= 1.0 and spec.call_overhead_s < 20e-6
    assert ax.machine("cpu-host").spec is not None


def test_clock_chain_twin():
    assert shift_xor_chain(1000, np.uint64(12345)) == shift_xor_chain.py_func(
        1000, np.uint64(12345))


def test_lenet5_on_the_cpus():
    x, y = ax.datasets.load("digits", split="test")
    for name in ("cpu-host", "cpu-haswell-e5-2699v3", "cpu-book-2006"):
        r = ax.machine(name).run(ax.network("lenet5"), batch=64, data=(x, y))
        assert r.accuracy >= 0.97 and r.seconds > 0
        assert r.layers[0].seconds == 0  # the input is already in host memory


def test_im2col_is_charged_to_convolutions():
    r = ax.machine("cpu-haswell-e5-2699v3").run(ax.network("lenet5"), batch=64)
    layers = {layer.name: layer for layer in r.layers}
    assert layers["conv1"].details["im2col_s"] > 0
    assert "im2col_s" not in layers["fc1"].details or layers["fc1"].details["im2col_s"] == 0


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
