"""PyTorch's BLAS (MKL) behind aten::addmm (machines/cpu/mkl.py): closed forms of its GEMV,
its packing and its kernel, and the host rate measured from timed nn.Linear calls."""

from __future__ import annotations

import pytest

from accelsim.machines.cpu import mkl
from accelsim.machines.cpu.spec import CPUSpec
from accelsim.measure.host import mkl_efficiency

HOST = CPUSpec(name="host", cores=1, clock_hz=3e9, simd_lanes=16, fma_pipes=2,
               l1_bytes=32 * 1024, l2_bytes=2**20, l3_bytes=32 * 2**20,
               dram_bytes_per_s=24e9, fma_efficiency=0.6, mkl_fma_efficiency=0.5)


def test_batch_one_is_a_gemv_streaming_the_weights_once():
    call = mkl.addmm(HOST, 1, 256, 256)  # 256 KiB of weights: in L2
    assert call.kernel_s == 0
    assert call.memory_s == pytest.approx(256 * 256 * mkl.GEMV_CYCLES_PER_WEIGHT / 3e9)
    big = mkl.addmm(HOST, 1, 4096, 2048)  # 32 MiB: beyond L2, at MKL's streaming rate
    assert big.memory_s == pytest.approx(
        4096 * 2048 * mkl.GEMV_BEYOND_L2_CYCLES_PER_WEIGHT / 3e9)
    slow_dram = HOST.replace(dram_bytes_per_s=6e9)  # 2 B/cycle: the shared DRAM bounds it
    assert mkl.addmm(slow_dram, 1, 4096, 2048).memory_s == pytest.approx(4096 * 2048 * 4 / 6e9)


def test_rows_pack_the_whole_weight_matrix_then_run_the_kernel_at_the_mkl_rate():
    call = mkl.addmm(HOST, 64, 256, 256)  # weights and packed copy: 512 KiB, in L2
    pack = 256 * 256 * mkl.PACK_BYTES_PER_WEIGHT / HOST.l2_bytes_per_cycle / 3e9
    assert call.memory_s == pytest.approx(pack)
    assert call.kernel_s == pytest.approx(64 * 256 * 256 / (2 * 16 * 0.5) / 3e9)
    # twice the rows: twice the kernel, the same packing
    double = mkl.addmm(HOST, 128, 256, 256)
    assert double.memory_s == pytest.approx(call.memory_s)
    assert double.kernel_s == pytest.approx(2 * call.kernel_s)


def test_outputs_are_padded_to_whole_vectors():
    ten, sixteen = mkl.addmm(HOST, 64, 256, 10), mkl.addmm(HOST, 64, 256, 16)
    assert ten.kernel_s == pytest.approx(sixteen.kernel_s)


def test_packing_beyond_l2_runs_at_the_bandwidth_of_where_the_weights_live():
    l3 = mkl.addmm(HOST, 4, 1024, 1024)  # 4 MiB + its copy: in half of L3
    assert l3.memory_s == pytest.approx(
        1024 * 1024 * mkl.PACK_BYTES_PER_WEIGHT / HOST.l3_bytes_per_cycle / 3e9)
    dram = mkl.addmm(HOST, 4, 2048, 2048)  # 16 MiB + its copy: beyond
    assert dram.memory_s == pytest.approx(2048 * 2048 * mkl.PACK_BYTES_PER_WEIGHT / 24e9)


def test_threads_split_the_kernel_not_the_packing():
    two = HOST.replace(cores=2)
    one_call, two_call = mkl.addmm(HOST, 512, 512, 512), mkl.addmm(two, 512, 512, 512)
    assert two_call.threads == 2
    assert two_call.kernel_s == pytest.approx(one_call.kernel_s / 2)
    assert two_call.memory_s == pytest.approx(one_call.memory_s)


def test_the_host_rate_is_recovered_from_timed_linear_calls():
    """Calls timed on a host whose MKL runs at 0.3 of peak give back 0.3; calls too small to
    show the kernel (batch < 64, fewer outputs than a vector) are not used."""
    from accelsim.ir import Gemm
    from accelsim.machines.cpu import framework
    from accelsim.precision import Precision

    truth = HOST.replace(mkl_fma_efficiency=0.3)
    shapes = [(64, 784, 256), (256, 512, 512), (512, 2048, 1000)]
    timed = [(m, k, n, framework.linear(truth, Gemm("linear", m, k, n),
                                        Precision.FP32).seconds) for m, k, n in shapes]
    timed += [(1, 784, 256, 1.0), (1024, 256, 10, 1.0)]  # ignored, however slow
    assert mkl_efficiency(HOST, timed).mkl_fma_efficiency == pytest.approx(0.3)
    assert mkl_efficiency(HOST, timed[-2:]) == HOST


def test_no_mkl_rate_means_the_calibrated_one():
    assert HOST.replace(mkl_fma_efficiency=0).mkl_efficiency == HOST.fma_efficiency


def test_mkl_threads_even_small_calls_where_openblas_would_not():
    from accelsim.machines.cpu.blis import gemm_threads

    two = HOST.replace(cores=2)
    assert gemm_threads(two, 4, 256, 256) == 1  # OpenBLAS: under 262,144 MACs, one thread
    assert mkl.addmm(two, 4, 256, 256).threads == 2
    assert mkl.addmm(two, 4, 256, 8).threads == 1  # a single vector of outputs
