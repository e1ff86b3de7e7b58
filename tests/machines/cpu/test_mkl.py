"""PyTorch's BLAS (MKL) behind aten::addmm (machines/cpu/mkl.py): closed forms of its GEMV,
its packing and its kernel, the host rates measured from timed nn.Linear calls, and the
packing constant's fit on the recorded grid."""

from __future__ import annotations

import pytest

from accelsim.machines.cpu import mkl
from accelsim.machines.cpu.spec import CPUSpec
from accelsim.measure.host import mkl_efficiency

GRID = "cpu-epyc-zen4-2vcpu-mkl-grid-2026-12-07.json"
HOST = CPUSpec(name="host", cores=1, clock_hz=3e9, simd_lanes=16, fma_pipes=2,
               l1_bytes=32 * 1024, l2_bytes=2**20, l3_bytes=32 * 2**20,
               dram_bytes_per_s=24e9, fma_efficiency=0.6, mkl_fma_efficiency=0.5)


def test_batch_one_is_a_gemv_streaming_the_weights_once():
    call = mkl.addmm(HOST, 1, 256, 256)  # 256 KiB of weights: in L2
    assert call.kernel_s == 0 and call.threads == 1
    assert call.memory_s == pytest.approx(256 * 256 * mkl.GEMV_CYCLES_PER_WEIGHT / 3e9)
    # 4 MiB: in L3, 4 B at 20 B a cycle is faster than the dot products: their rate holds
    l3 = mkl.addmm(HOST, 1, 1024, 1024)
    assert l3.memory_s == pytest.approx(1024 * 1024 * mkl.GEMV_CYCLES_PER_WEIGHT / 3e9)
    # the host's measured streaming rate beyond L2 holds where it is slower
    streaming = HOST.replace(mkl_stream_cycles_per_weight=0.6)
    assert mkl.addmm(streaming, 1, 1024, 1024).memory_s == pytest.approx(1024 * 1024 * 0.6 / 3e9)
    # 32 MiB: beyond half of L3, at most DRAM's 8 B a cycle: 0.5 cycles a weight
    assert mkl.addmm(HOST, 1, 4096, 2048).memory_s == pytest.approx(4096 * 2048 * 4 / 24e9)


def test_up_to_three_rows_are_a_gemv_per_row():
    one = mkl.addmm(HOST, 1, 1024, 1024)
    for m in (2, 3):
        call = mkl.addmm(HOST, m, 1024, 1024)
        assert call.memory_s == pytest.approx(m * one.memory_s) and call.kernel_s == 0
    assert mkl.addmm(HOST, 4, 1024, 1024).kernel_s > 0  # four rows: the packed kernel


def test_a_gemv_stays_on_one_thread_while_its_weights_are_cached():
    two = HOST.replace(cores=2)
    assert mkl.addmm(two, 1, 1024, 1024).threads == 1  # 4 MiB: in L3
    big = mkl.addmm(two, 1, 4096, 2048)  # 32 MiB: every core streams a band from DRAM ...
    assert big.threads == 2
    assert big.memory_s == pytest.approx(mkl.addmm(HOST, 1, 4096, 2048).memory_s)  # ... shared


def streamed(m, k, n, bytes_per_cycle=None):
    """The rows read and the outputs written (read for ownership) at `bytes_per_cycle`
    (L2's, 32 B a cycle, by default), in seconds at 3 GHz."""
    return (m * k + 2 * m * n) * 4 / (bytes_per_cycle or HOST.l2_bytes_per_cycle) / 3e9


def test_rows_pack_the_weights_then_run_the_kernel_at_the_mkl_rate():
    call = mkl.addmm(HOST, 64, 256, 256)  # weights and packed copy: 512 KiB, in L2
    pack = 256 * 256 * mkl.PACK_BYTES_PER_WEIGHT / HOST.l2_bytes_per_cycle / 3e9
    assert call.memory_s == pytest.approx(pack + streamed(64, 256, 256))
    assert call.kernel_s == pytest.approx(64 * 256 * 256 / (2 * 16 * 0.5) / 3e9)
    # twice the rows: twice the kernel and the rows' traffic, the same packing
    double = mkl.addmm(HOST, 128, 256, 256)
    assert double.memory_s == pytest.approx(pack + streamed(128, 256, 256))
    assert double.kernel_s == pytest.approx(2 * call.kernel_s)


def test_a_tall_gemm_streams_its_rows_and_outputs_from_where_they_live():
    """ATen's slow_conv2d of a 1×1 convolution, 64 → 64 channels over 112² pixels: the
    pixels are the rows, 3 MiB of them in and 3 MiB of outputs out, beyond L2, at the host's
    measured streaming rate; the 16 KiB of weights pack in L2."""
    slow = HOST.replace(mkl_stream_cycles_per_weight=0.6)
    call = mkl.addmm(slow, 112 * 112, 64, 64)
    pack = 64 * 64 * mkl.PACK_BYTES_PER_WEIGHT / HOST.l2_bytes_per_cycle / 3e9
    assert call.memory_s == pytest.approx(pack + streamed(112 * 112, 64, 64, 4 / 0.6))
    assert call.memory_s > 40 * pack and call.memory_s > 0.4 * call.kernel_s


def test_outputs_are_padded_to_whole_vectors():
    ten, sixteen = mkl.addmm(HOST, 64, 256, 10), mkl.addmm(HOST, 64, 256, 16)
    assert ten.kernel_s == pytest.approx(sixteen.kernel_s)


def test_packing_beyond_l2_streams_as_the_weights_do():
    l3 = mkl.addmm(HOST, 4, 1024, 1024)  # 4 MiB + its copy: in half of L3, 20 B a cycle
    assert l3.memory_s == pytest.approx(
        1024 * 1024 * mkl.PACK_BYTES_PER_WEIGHT / HOST.l3_bytes_per_cycle / 3e9
        + streamed(4, 1024, 1024))
    slow = HOST.replace(mkl_stream_cycles_per_weight=0.6)  # 0.15 cycles a byte
    assert mkl.addmm(slow, 4, 1024, 1024).memory_s == pytest.approx(
        1024 * 1024 * mkl.PACK_BYTES_PER_WEIGHT * 0.15 / 3e9 + streamed(4, 1024, 1024))
    dram = mkl.addmm(HOST, 4, 2048, 2048)  # 16 MiB + its copy: beyond
    assert dram.memory_s == pytest.approx(2048 * 2048 * mkl.PACK_BYTES_PER_WEIGHT / 24e9
                                          + streamed(4, 2048, 2048))


def test_threads_split_the_rows_of_the_kernel_not_the_packing():
    two = HOST.replace(cores=2)
    one_call, two_call = mkl.addmm(HOST, 512, 512, 512), mkl.addmm(two, 512, 512, 512)
    assert two_call.threads == 2
    assert two_call.kernel_s == pytest.approx(one_call.kernel_s / 2)
    # 2 MiB of rows and outputs, in L3 at 20 B a cycle a core: each core streams half
    pack = one_call.memory_s - streamed(512, 512, 512, HOST.l3_bytes_per_cycle)
    assert two_call.memory_s == pytest.approx(pack + streamed(256, 512, 512,
                                                             HOST.l3_bytes_per_cycle))
    sixteen = HOST.replace(cores=16)
    assert mkl.addmm(sixteen, 8, 512, 512).threads == 2  # 4 rows a thread
    assert mkl.addmm(sixteen, 1024, 256, 10).threads == 16  # one vector of outputs, many rows


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


def test_mkl_threads_by_rows_where_openblas_counts_macs():
    from accelsim.machines.cpu.blis import gemm_threads

    two = HOST.replace(cores=2)
    assert gemm_threads(two, 8, 128, 128) == 1  # OpenBLAS: under 262,144 MACs, one thread
    assert mkl.addmm(two, 8, 128, 128).threads == 2
    assert mkl.addmm(two, 4, 2048, 2048).threads == 1  # four rows: one thread, however big


def test_the_streaming_rate_is_recovered_from_timed_batch_one_calls():
    from accelsim.ir import Gemm
    from accelsim.machines.cpu import framework
    from accelsim.measure.host import mkl_stream_rate
    from accelsim.precision import Precision

    truth = HOST.replace(mkl_stream_cycles_per_weight=0.7)
    timed = [(1, 4096, 1024, framework.linear(truth, Gemm("linear", 1, 4096, 1024),
                                              Precision.FP32).seconds),
             (1, 256, 256, 1.0), (64, 4096, 1024, 1.0)]  # in L2 / not a GEMV: ignored
    assert mkl_stream_rate(HOST, timed).mkl_stream_cycles_per_weight == pytest.approx(0.7)
    assert mkl_stream_rate(HOST, timed[1:]) == HOST


def test_the_packing_traffic_is_the_fit_on_the_grid_s_even_rows():
    """PACK_BYTES_PER_WEIGHT is what `fit_mkl_packing` gives on the recorded grid's even rows
    (the odd ones are held out: validation/cpu_layers.py), and the fit recovers a known
    truth from calls the model itself timed."""
    from accelsim.ir import Gemm
    from accelsim.machines.cpu import framework
    from accelsim.measure import recorded
    from accelsim.measure.host import fit_mkl_packing
    from accelsim.precision import Precision

    doc = recorded.read(GRID)
    spec = recorded.replay_spec_of(doc)
    rows = [(r["batch"], r["in"], r["out"], r["us_t1"] * 1e-6)
            for r in recorded.fit_rows(doc, "linear")]
    fit = fit_mkl_packing(spec, rows)
    assert fit.bytes_per_weight == pytest.approx(mkl.PACK_BYTES_PER_WEIGHT, abs=0.05)
    assert fit.fma_efficiency == pytest.approx(spec.mkl_fma_efficiency, abs=0.03)
    timed = [(m, k, n, framework.linear(HOST, Gemm("linear", m, k, n), Precision.FP32).seconds)
             for m, k, n in ((8, 1024, 1024), (64, 2048, 2048), (128, 256, 256), (1, 64, 64))]
    truth = fit_mkl_packing(HOST, timed)
    assert truth.bytes_per_weight == pytest.approx(mkl.PACK_BYTES_PER_WEIGHT)
    assert truth.fma_efficiency == pytest.approx(HOST.mkl_fma_efficiency)
    assert truth.calls == 3
