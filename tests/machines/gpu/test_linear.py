"""nn.Linear through cuBLASLt (blas.py): the split-K kernel of the splitk-atomic path is timed
with its K split, so a layer's time follows its batch without a cliff where the library
switches paths (issue: a 2048→10 layer took 159 µs at batch 33-1,024 and 9.6 µs at 1,025)."""

from __future__ import annotations

import itertools

import pytest

from accelsim.ir import Gemm
from accelsim.machines.gpu.blas import (
    LARGEK_MIN_K,
    LARGEK_TILE,
    LinearPath,
    addmm_kernels,
    linear_path,
)
from accelsim.machines.gpu.conv import staged_spec
from accelsim.machines.gpu.gemm import choose_kernel, tiled_kernel
from accelsim.machines.gpu.spec import H100, H200
from accelsim.precision import Precision

FP32, FP16 = Precision.FP32, Precision.FP16
CASES = [(H200, FP32), (H100, FP16)]


def linear_us(batch: int, spec, precision: Precision, k: int = 2048, n: int = 10) -> float:
    kernels = addmm_kernels(Gemm("fc", m=batch, k=k, n=n, bias=True), precision, spec)
    return sum(kr.seconds for kr in kernels) * 1e6


@pytest.mark.parametrize(("spec", "precision"), CASES)
def test_largek_splits_k_and_is_timed_split(spec, precision):
    op = Gemm("fc", m=64, k=2048, n=10, bias=True)
    assert linear_path(op.m, op.n, precision) is LinearPath.SPLITK_ATOMIC
    gemm = addmm_kernels(op, precision, spec)[2]
    split = gemm.gemm.split_k
    assert split > 1 and 2048 / split >= LARGEK_MIN_K
    # the kernel's time is its own tile at that split: partial GEMMs of K / split, the
    # partials added into C with atomics
    again = tiled_kernel(LARGEK_TILE, split, 64, 2048, 10, staged_spec(spec), precision,
                         atomic=True)
    assert gemm.seconds == again.seconds
    unsplit = tiled_kernel(LARGEK_TILE, 1, 64, 2048, 10, staged_spec(spec), precision)
    assert gemm.seconds < unsplit.seconds / 4


@pytest.mark.parametrize(("spec", "precision"), CASES)
def test_no_cliff_where_cublaslt_switches_paths(spec, precision):
    times = {b: linear_us(b, spec, precision) for b in (32, 33, 64, 256, 512, 1024, 1025, 2048)}
    # within the splitk-atomic range the time grows with the batch (or stays level) ...
    inside = [times[b] for b in (33, 64, 256, 512, 1024)]
    assert all(b >= 0.98 * a for a, b in itertools.pairwise(inside)), times
    # ... and either side of each switch it stays within the cost of the path's extra
    # kernels: a few µs, not the 27x of one kernel walking all of K
    assert times[33] < 4 * times[32] and times[1024] < 3 * times[1025], times
    fastest = choose_kernel(1024, 2048, 10, spec, precision).seconds * 1e6
    assert times[1024] < 4 * fastest, times


def test_lenet_fc_layers_still_run_unsplit():
    # K = 120 and 80 (LeNet-5's fc2 and fc3 inputs) are below LARGEK_MIN_K: one CTA walks all
    # of K, as the measured 10.3 and 8.5 µs show
    for k, n in ((120, 80), (80, 10)):
        gemm = addmm_kernels(Gemm("fc", m=64, k=k, n=n, bias=True), FP32, H200)[2]
        assert gemm.name == "sgemm_largek_lds64" and gemm.gemm.split_k == 1
