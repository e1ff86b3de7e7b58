"""cuDNN's convolution algorithms as mechanisms: closed forms of their workspaces and GEMM
shapes, the choice (forced, fastest, heuristic) and the layout transforms."""

from __future__ import annotations

import math

import pytest

from accelsim.errors import AccelsimError
from accelsim.ir import ConvGeometry, Gemm
from accelsim.machines.gpu.conv import LARGE_TILE_MACS, conv_kernels, conv_rule
from accelsim.machines.gpu.conv_algorithms import (
    ConvShape,
    WinogradShape,
    candidates,
    explicit_gemm,
    fastest,
    padded_depth,
    plan,
    winograd_plan,
)
from accelsim.machines.gpu.runtime import PYTORCH_EAGER
from accelsim.machines.gpu.spec import H200, V100
from accelsim.precision import Precision

FP32, FP16 = Precision.FP32, Precision.FP16


def conv(c: int, k: int, size: int, batch: int, kernel: int = 3, stride: int = 1,
         bias: bool = False) -> Gemm:
    pad = kernel // 2
    out = (size + 2 * pad - kernel) // stride + 1
    geometry = ConvGeometry(c, (size, size), (kernel, kernel), (stride, stride),
                            (pad,) * 4, (out, out))
    return Gemm("conv", m=batch * out * out, k=c * kernel * kernel, n=k, bias=bias,
                conv=geometry)


def test_winograd_tiles_points_and_workspace():
    op = conv(64, 128, 14, 8)
    shape = ConvShape.of(op, 8)
    two, four = WinogradShape.of(shape, 2), WinogradShape.of(shape, 4)
    assert (two.points, two.tiles) == (16, 8 * 7 * 7)
    assert (four.points, four.tiles) == (36, 8 * 4 * 4)  # 14 = 3 tiles of 4 and a part
    p = winograd_plan(shape, 4, FP32, V100)
    names = [k.name for k in p.kernels]
    assert len(names) == 4 and "F(4x4,3x3)" in names[0] and names[3].startswith("winograd")
    data, filt, out = 36 * four.tiles * 64, 36 * 64 * 128, 36 * four.tiles * 128
    assert p.workspace_bytes == (data + filt + out) * 4
    # the batched GEMM does 36 products of T×C×K: 36/(16·9) of the direct MACs, 1/4
    gemm = p.kernels[2].gemm
    assert gemm is not None and gemm.ctas >= 36  # one grid over the 36 products


def test_im2col_writes_and_reads_its_buffer():
    op = conv(32, 64, 28, 4, kernel=5)
    shape = ConvShape.of(op, 4)
    p = explicit_gemm(shape, FP32, V100)
    buffer = 4 * 28 * 28 * 32 * 25 * 4
    assert p.workspace_bytes == buffer
    im2col, gemm = p.kernels
    assert im2col.dram_bytes == 4 * 32 * 28 * 28 * 4 + buffer  # the input read, the buffer
    assert gemm.gemm is not None and gemm.dram_bytes >= buffer  # the GEMM reads it back


def test_tensor_core_kernels_pad_channels_to_the_slice():
    assert padded_depth(ConvShape.of(conv(1, 16, 32, 8), 8), 32) == 9 * 32
    assert padded_depth(ConvShape.of(conv(64, 16, 32, 8), 8), 32) == 9 * 64
    assert padded_depth(ConvShape.of(conv(3, 16, 32, 8, kernel=7), 8), 32) == 49 * 32


def test_algorithms_run_only_where_they_can():
    strided = ConvShape.of(conv(64, 64, 28, 8, stride=2), 8)
    names = {p.algorithm for p in candidates(strided, FP32, V100, False)}
    assert names == {"implicit_gemm", "implicit_precomp_gemm", "gemm"}
    square = ConvShape.of(conv(64, 64, 28, 8), 8)
    assert {p.algorithm for p in candidates(square, FP32, V100, False)} == \
        {"implicit_gemm", "implicit_precomp_gemm", "gemm", "winograd", "fft"}
    assert plan("fft", square, FP16, V100, True) is None  # cuDNN 7's FFT: fp32
    with pytest.raises(AccelsimError, match="winograd needs 3x3 stride 1"):
        conv_kernels(conv(64, 64, 28, 8, kernel=5), 8, FP32, V100,
                     PYTORCH_EAGER.replace(conv_algorithm="winograd"))


def test_benchmark_is_the_minimum_over_the_candidates():
    spec, runtime = V100, PYTORCH_EAGER.replace(cudnn_benchmark=True, framework="library")
    for op, batch in ((conv(64, 128, 56, 8), 8), (conv(256, 64, 56, 8, kernel=1), 8),
                      (conv(32, 32, 64, 16, kernel=5, stride=2), 16)):
        shape = ConvShape.of(op, batch)
        every = candidates(shape, FP32, spec, False)
        chosen = conv_kernels(op, batch, FP32, spec, runtime)
        assert sum(k.seconds for k in chosen) == min(p.seconds for p in every)
        assert fastest(shape, FP32, spec, False).kernels == chosen
    # VGG's 3x3 layers with 64+ channels run faster than the direct math allows: Winograd
    vgg = ConvShape.of(conv(128, 256, 56, 8), 8)
    assert fastest(vgg, FP32, spec, False).algorithm == "winograd"
    assert fastest(vgg, FP32, spec, False).seconds < \
        2 * vgg.pixels * vgg.depth * vgg.filters / V100.fp32_peak_flops


def test_heuristic_rule_on_shape_features():
    def kernel(op: Gemm, batch: int, precision: Precision = FP32) -> str:
        return conv_rule(op, batch, precision, H200).kernel

    assert kernel(conv(1, 64, 224, 64), 64) == "implicit_convolve_sgemm"  # one channel
    assert kernel(conv(16, 32, 1, 16, kernel=1), 16) == "implicit_convolve_sgemm"  # 16 rows
    small = conv(64, 64, 8, 8)  # 512 rows × 576 × 64: 19 M MACs
    assert small.macs < LARGE_TILE_MACS and kernel(small, 8) == "xmma_fprop 32x32x8"
    wide, narrow = conv(64, 128, 56, 8), conv(64, 32, 112, 8)
    assert wide.macs > LARGE_TILE_MACS and narrow.macs > LARGE_TILE_MACS
    assert kernel(wide, 8) == "xmma_fprop 256x64x8"
    assert kernel(narrow, 8) == "xmma_fprop 128x32x8"
    assert kernel(wide, 8, FP16) == "xmma_fprop tensorcore 128x64x32"
    # the same layer split into more, smaller images: the same kernel (no batch in the rule)
    assert kernel(conv(64, 128, 28, 32), 32) == kernel(wide, 8)


def test_channels_last_removes_the_layout_transforms():
    op = conv(64, 64, 28, 8, bias=True)
    nchw = [k.name for k in conv_kernels(op, 8, FP16, H200)]
    nhwc = [k.name for k in conv_kernels(op, 8, FP16, H200,
                                         PYTORCH_EAGER.replace(channels_last=True))]
    assert sum("nchwToNhwc" in n for n in nchw) == 3 and len(nchw) == len(nhwc) + 3
    assert not any("nchwToNhwc" in n for n in nhwc)
    forced = PYTORCH_EAGER.replace(conv_algorithm="implicit_precomp_gemm")
    assert sum("nchwToNhwc" in k.name for k in conv_kernels(op, 8, FP16, H200, forced)) == 3
    assert not any("nchwToNhwc" in k.name for k in conv_kernels(
        op, 8, FP16, H200, forced.replace(channels_last=True)))


def test_a_library_call_adds_no_bias_kernel():
    op = conv(64, 64, 28, 8, bias=True)
    eager = [k.name for k in conv_kernels(op, 8, FP32, V100)]
    library = [k.name for k in conv_kernels(op, 8, FP32, V100,
                                            PYTORCH_EAGER.replace(framework="library"))]
    assert eager[-1] == "elementwise_kernel (bias add)" and library == eager[:-1]


def test_precomputed_offsets_cost_a_table_not_an_issue_slot():
    shape = ConvShape.of(conv(64, 64, 56, 16), 16)
    inline = plan("implicit_gemm", shape, FP32, V100, False)
    table = plan("implicit_precomp_gemm", shape, FP32, V100, False)
    assert inline is not None and table is not None
    assert len(table.kernels) == 2 and table.workspace_bytes == shape.depth * 4
    assert table.main.seconds < inline.main.seconds
    assert math.isclose(table.seconds, sum(k.seconds for k in table.kernels))
