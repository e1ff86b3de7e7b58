"""gpu-p100, gpu-t4, gpu-a100: presets written from datasheets and fitted to no timing (the
repository holds no P100, T4 or A100 measurement; machines/gpu/spec.py cites each field).
So these tests check what a datasheet fixes — peak rates in closed form, precisions, limits
— and that whole networks order the GPUs as their hardware does, not any measured time."""

import pytest

import accelsim as ax
from accelsim.errors import AccelsimError
from accelsim.precision import Precision

NEW = ("gpu-p100", "gpu-t4", "gpu-a100")


@pytest.mark.parametrize("name,sms,clock_hz,datasheet_tflops", [
    ("gpu-p100", 56, 1.48e9, 10.6),  # P100 SXM2 datasheet
    ("gpu-t4", 40, 1.59e9, 8.1),  # T4 datasheet
    ("gpu-a100", 108, 1.41e9, 19.5),  # A100 whitepaper, Table 1
])
def test_fp32_peak_is_sms_times_lanes_times_an_fma_times_the_boost_clock(
        name, sms, clock_hz, datasheet_tflops):
    peak = ax.machine(name).peak_ops_per_s("fp32")
    assert peak == pytest.approx(sms * 64 * 2 * clock_hz)
    assert peak / 1e12 == pytest.approx(datasheet_tflops, abs=0.05)


@pytest.mark.parametrize("name,precision,tensor_cores,fma_per_core,datasheet_tops", [
    ("gpu-t4", "fp16", 320, 64, 65),  # Turing: 8 per SM, 4×4×4 fp16 FMA a cycle
    ("gpu-t4", "int8", 320, 128, 130),
    ("gpu-a100", "fp16", 432, 256, 312),  # Ampere: 4 per SM, 256 fp16 FMA a cycle
    ("gpu-a100", "bf16", 432, 256, 312),
    ("gpu-a100", "int8", 432, 512, 624),
])
def test_dense_tensor_rates_are_the_datasheets(name, precision, tensor_cores, fma_per_core,
                                               datasheet_tops):
    machine = ax.machine(name)
    peak = machine.peak_ops_per_s(precision)
    assert peak == pytest.approx(tensor_cores * fma_per_core * 2 * machine.spec.clock_hz)
    assert peak / 1e12 == pytest.approx(datasheet_tops, rel=0.005)


def test_precisions_follow_the_hardware():
    assert ax.machine("gpu-a100").precisions == {
        Precision.FP32, Precision.FP16, Precision.BF16, Precision.INT8}
    assert ax.machine("gpu-t4").precisions == {Precision.FP32, Precision.FP16, Precision.INT8}
    # GP100's fp16 is half2 on the FP32 lanes, not a tensor core: the model has no such path
    # and refuses fp16 rather than price it as tensor-core kernels.
    assert ax.machine("gpu-p100").precisions == {Precision.FP32}
    with pytest.raises(AccelsimError, match="gpu-p100 does not support fp16; it runs fp32"):
        ax.machine("gpu-p100").gemm(64, 64, 64, precision="fp16")
    with pytest.raises(AccelsimError, match="gpu-t4 does not support bf16"):
        ax.machine("gpu-t4").gemm(64, 64, 64, precision="bf16")


def test_memory_and_on_chip_limits_are_the_datasheets():
    a100, t4, p100 = (ax.machine(name).spec for name in ("gpu-a100", "gpu-t4", "gpu-p100"))
    assert (a100.dram_bytes, a100.dram_bytes_per_s, a100.l2_bytes) == (
        40 * 2**30, 1555e9, 40 * 2**20)
    assert (t4.dram_bytes_per_s, p100.dram_bytes_per_s) == (320e9, 732e9)
    # A100: 164 KB of its 192 KB L1 may be shared memory; more is refused.
    with pytest.raises(AccelsimError, match="must be at most l1_bytes_per_sm = 196608"):
        ax.machine("gpu-a100", shared_memory_per_sm_bytes=193 * 1024)
    assert (t4.max_warps_per_sm * t4.warp_size, a100.max_warps_per_sm * a100.warp_size) == (
        1024, 2048)
    assert a100.has_async_copy and not t4.has_async_copy and not p100.has_async_copy


@pytest.mark.parametrize("network", ["lenet5", "lstm-char"])
@pytest.mark.parametrize("name", NEW)
def test_networks_run_on_each(network, name):
    machine = ax.machine(name)
    for precision in machine.precisions:
        r = machine.run(ax.network(network, weights="none"), batch=256, precision=precision)
        assert 0 < r.device_seconds <= r.seconds


def _device_s(name: str, network: str, precision: str) -> float:
    return ax.machine(name).run(ax.network(network, weights="none"), batch=256,
                                precision=precision).device_seconds


@pytest.mark.parametrize("network,precision", [
    ("lenet5", "fp32"), ("lenet5", "fp16"), ("lstm-char", "fp16")])
def test_at_batch_256_the_a100_beats_the_v100_and_the_t4_trails_it(network, precision):
    v100 = _device_s("gpu-v100", network, precision)
    assert _device_s("gpu-a100", network, precision) < v100 < \
        _device_s("gpu-t4", network, precision)


@pytest.mark.parametrize("network", ["lenet5", "lstm-char"])
def test_in_fp32_the_p100_and_the_t4_trail_the_v100(network):
    v100 = _device_s("gpu-v100", network, "fp32")
    assert _device_s("gpu-p100", network, "fp32") > v100
    assert _device_s("gpu-t4", network, "fp32") > v100
