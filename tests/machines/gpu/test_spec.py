"""GPU presets: the book's and the TPU paper's figures come out of the specs."""

import pytest

import accelsim as ax
from accelsim.errors import AccelsimError
from accelsim.machines.gpu.spec import GPU_SPECS, H200


def test_peak_rates_from_the_specs():
    tflops = {name: ax.machine(name).peak_ops_per_s("fp32") / 1e12 for name in GPU_SPECS}
    assert tflops["gpu-8800gtx"] == pytest.approx(0.518, abs=0.001)  # the book's ~500 GFLOPS
    assert tflops["gpu-k80"] == pytest.approx(2.8, abs=0.01)  # TPU paper: one K80 die
    assert tflops["gpu-v100"] == pytest.approx(15.7, abs=0.05)
    assert tflops["gpu-h200"] == pytest.approx(66.9, abs=0.1)
    assert ax.machine("gpu-v100").peak_ops_per_s("fp16") == pytest.approx(125.3e12, rel=1e-3)
    assert ax.machine("gpu-8800gtx").spec.sm_count * 8 == 128  # the book's 128 cores


def test_measured_peaks_are_below_the_spec():
    # accelsim/measure/data/gpu-h200-2026-11.json: 50.9 TFLOPS fp32 SIMT and 742 TFLOPS fp16
    # measured on the H200.
    assert H200.fp32_peak_flops > 50.87e12
    assert H200.peak_ops_per_s(ax.Precision.FP16) > 742e12


def test_precisions_follow_the_hardware():
    assert ax.machine("gpu-k80").precisions == {ax.Precision.FP32}
    assert ax.machine("gpu-v100").precisions == {ax.Precision.FP32, ax.Precision.FP16}
    assert ax.Precision.INT8 in ax.machine("gpu-h200").precisions
    with pytest.raises(AccelsimError, match="gpu-k80 does not support fp16"):
        ax.machine("gpu-k80").gemm(64, 64, 64, precision="fp16")


def test_overrides():
    small = ax.machine("gpu-h200", sm_count=66)
    assert small.peak_ops_per_s("fp32") == pytest.approx(H200.fp32_peak_flops / 2)
    with pytest.raises(AccelsimError, match="no spec field"):
        ax.machine("gpu-h200", sms=3)
    with pytest.raises(AccelsimError, match=r"gpu-h200: sm_count = 0 must be a positive "
                                            r"integer \(a count of SMs\); use 1 or more"):
        ax.machine("gpu-h200", sm_count=0)


def test_shared_memory_is_carved_out_of_l1():
    # Volta: 128 KiB of L1/shared SRAM per SM, at most 96 KiB of it shared memory.
    with pytest.raises(AccelsimError, match="shared_memory_per_sm_bytes = 163840 must be at "
                                            "most l1_bytes_per_sm = 131072"):
        ax.machine("gpu-v100", shared_memory_per_sm_bytes=160 * 1024)
