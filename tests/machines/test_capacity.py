"""Capacity: memory needs against hand arithmetic, and why no GPU kernel fits."""

from __future__ import annotations

import dataclasses

import pytest

import accelsim as ax
from accelsim.errors import CapacityError, SpecError
from accelsim.ir import Gemm, Workload
from accelsim.machines.capacity import (
    check_gemm_fits,
    check_workload_fits,
    gemm_need_bytes,
    kernel_fit_error,
    kernel_needs,
    workload_need,
)
from accelsim.machines.gpu.gemm import occupancy
from accelsim.machines.gpu.kernels import SIMT_MENU, TENSOR_MENU, TileConfig
from accelsim.machines.gpu.spec import GPU_SPECS
from accelsim.precision import Precision

# LeNet-5 by hand: weights and biases 5·5·1·6+6 + 5·5·6·16+16 + 400·120+120 + 120·80+80 +
# 80·10+10 = 61,182 values. Per sample, the largest live pair is relu1 (6×28×28 = 4,704 values
# in and out, 9,408 in all); on a CPU conv1 holds its 32×32 input, its im2col matrix
# (784 × 25 = 19,600) and its 4,704 outputs: 25,328 values.
LENET_WEIGHTS = 156 + 2416 + 48120 + 9680 + 810
LENET_LIVE = 2 * 6 * 28 * 28
LENET_LIVE_IM2COL = 32 * 32 + 28 * 28 * 25 + 6 * 28 * 28
GTX8800_BYTES = 768 * 2**20


def test_lenet_need_by_hand() -> None:
    wl = ax.lower(ax.network("lenet5"), batch=64)
    need = workload_need(wl, "fp32")
    assert (need.weight_bytes, need.activation_bytes, need.peak_op) == \
        (4 * LENET_WEIGHTS, 4 * 64 * LENET_LIVE, "relu1")
    cpu = workload_need(wl, Precision.INT8, im2col=True)
    assert (cpu.activation_bytes, cpu.peak_op) == (64 * LENET_LIVE_IM2COL, "conv1")
    assert cpu.weight_bytes == LENET_WEIGHTS + 3 * (6 + 16 + 120 + 80 + 10)  # 32-bit biases


def test_an_oversized_batch_names_the_largest_that_fits() -> None:
    fits = (GTX8800_BYTES - 4 * LENET_WEIGHTS) // (4 * LENET_LIVE)
    assert fits == 21393  # (805,306,368 − 244,728) // 37,632
    lenet = ax.network("lenet5")
    spec = GPU_SPECS["gpu-8800gtx"]
    with pytest.raises(CapacityError) as err:
        check_workload_fits(ax.lower(lenet, batch=10**7), spec.dram_bytes, "fp32",
                            "gpu-8800gtx")
    assert str(err.value) == (
        "lenet5 at batch 10000000 needs 350 GiB of memory at fp32 (239 KiB of weights + "
        "350 GiB live at relu1); gpu-8800gtx has 768 MiB: use batch ≤ 21393")
    assert check_workload_fits(ax.lower(lenet, batch=fits), GTX8800_BYTES, "fp32",
                               "gpu-8800gtx").total_bytes <= GTX8800_BYTES
    with pytest.raises(CapacityError, match="use batch ≤ 21393"):
        check_workload_fits(ax.lower(lenet, batch=fits + 1), GTX8800_BYTES, "fp32", "x")


def test_when_nothing_fits() -> None:
    wl = ax.lower(ax.network("lenet5"), batch=1)
    with pytest.raises(CapacityError, match="the weights alone do not fit"):
        check_workload_fits(wl, 4 * LENET_WEIGHTS - 1, "fp32", "tiny")
    with pytest.raises(CapacityError, match="even one sample does not fit"):
        check_workload_fits(wl, 4 * LENET_WEIGHTS + 4 * LENET_LIVE - 1, "fp32", "tiny")
    assert check_workload_fits(wl, 4 * LENET_WEIGHTS + 4 * LENET_LIVE, "fp32",
                               "tiny").total_bytes == 4 * (LENET_WEIGHTS + LENET_LIVE)


def test_recurrent_gemms_count_every_step() -> None:
    gates = Gemm("lstm.gates", m=8, k=96, n=512, count=64)
    need = workload_need(Workload.of_ops("toy", 8, (gates,)), "fp16")
    assert need.activation_bytes == 2 * 64 * 8 * (96 + 512)
    assert need.weight_bytes == 2 * 96 * 512 + 4 * 512


def test_a_gemm_too_large_names_the_largest_m() -> None:
    # B alone is 10^12 fp32 values = 4 TB: nothing fits 141 GB...
    with pytest.raises(CapacityError, match=r"B alone \(k × n = 1000000 × 1000000\) needs "
                                            "3.64 TiB: reduce k or n"):
        check_gemm_fits(10**6, 10**6, 10**6, "fp32", 141 * 10**9, "gpu-h200")
    # ...while 10 TB leaves 6e12 B for rows of A and C, 8e6 B each: m ≤ 750,000.
    with pytest.raises(CapacityError) as err:
        check_gemm_fits(10**6, 10**6, 10**6, "fp32", 10 * 10**12, "big")
    assert str(err.value) == ("gemm m=1000000 k=1000000 n=1000000 at fp32 needs 10.9 TiB for "
                              "A, B and C; big has 9.09 TiB: use m ≤ 750000")
    assert check_gemm_fits(750_000, 10**6, 10**6, "fp32", 10 * 10**12, "big") == 10**13
    with pytest.raises(CapacityError, match="even m = 1 does not fit"):
        check_gemm_fits(2, 10, 10, "fp32", 4 * (100 + 10 + 10) - 1, "tiny")  # B fits, a row not


def test_int8_gemm_results_are_32_bit() -> None:
    assert gemm_need_bytes(64, 32, 16, "int8") == 64 * 32 + 32 * 16 + 4 * 64 * 16
    assert gemm_need_bytes(64, 32, 16, "bf16") == 2 * (64 * 32 + 32 * 16 + 64 * 16)


def test_no_kernel_fits_names_the_limit() -> None:
    with pytest.raises(SpecError) as err:
        ax.machine("gpu-h200", registers_per_sm=1).gemm(64, 64, 64)
    assert str(err.value) == (
        "gpu-h200: no fp32 GEMM kernel of the menu fits on one SM: registers_per_sm = 1, but "
        "the least any kernel needs is 5120 (simt_32x32x8_stage3: 2 warps × 2560 registers: "
        "80 per thread × 32 threads in units of 256); use registers_per_sm ≥ 5120")
    with pytest.raises(SpecError, match="shared_memory_per_sm_bytes = 8192, but the least any "
                                        "kernel needs is 36864"):
        ax.machine("gpu-h200", shared_memory_per_sm_bytes=8192).gemm(64, 64, 64, "fp16")
    with pytest.raises(SpecError, match="max_warps_per_sm = 1, but the least any kernel needs "
                                        "is 2"):
        ax.machine("gpu-k80", max_warps_per_sm=1).gemm(256, 256, 256)
    with pytest.raises(SpecError, match="max_registers_per_thread = 64, but the least any "
                                        "kernel needs is 80"):
        ax.machine("gpu-8800gtx", max_registers_per_thread=64).gemm(256, 256, 256)
    assert ax.machine("gpu-h200", registers_per_sm=5120).gemm(64, 64, 64).seconds > 0


def test_the_nearest_kernel_when_no_single_limit_blocks() -> None:
    lean_registers = TileConfig("a", 32, 32, 8, 1, 2, 3, 32)  # 2 warps, 6 KiB shared
    lean_shared = TileConfig("b", 32, 32, 8, 1, 2, 1, 200)  # 2 warps, 2 KiB shared
    spec = dataclasses.replace(GPU_SPECS["gpu-h200"], shared_memory_per_sm_bytes=4096,
                               max_registers_per_thread=100)
    err = kernel_fit_error(spec, Precision.FP32, (lean_registers, lean_shared))
    assert str(err) == ("gpu-h200: no fp32 GEMM kernel of the menu fits on one SM: the nearest "
                        "kernel, a, needs more: shared_memory_per_sm_bytes = 4096 < 6144 (3 "
                        "stages of (32 + 32) × 8 × 4 B); use shared_memory_per_sm_bytes ≥ 6144")


@pytest.mark.parametrize("name", sorted(GPU_SPECS))
@pytest.mark.parametrize("scale", [1, 1 / 4, 1 / 16, 1 / 64])
def test_the_explanation_agrees_with_occupancy(name: str, scale: float) -> None:
    """A kernel fits (occupancy ≥ 1) exactly when none of its needs exceeds a limit."""
    base = GPU_SPECS[name]
    spec = dataclasses.replace(
        base, registers_per_sm=max(1, int(base.registers_per_sm * scale)),
        shared_memory_per_sm_bytes=max(1, int(base.shared_memory_per_sm_bytes * scale)),
        max_warps_per_sm=max(1, int(base.max_warps_per_sm * scale)))
    for precision in spec.precisions:
        for tile in SIMT_MENU if precision is Precision.FP32 else TENSOR_MENU:
            needs = kernel_needs(tile, spec, precision)
            fits = all(need <= getattr(spec, field) for field, (need, _) in needs.items())
            assert (occupancy(tile, spec, precision) >= 1) == fits, (tile.name, precision)
