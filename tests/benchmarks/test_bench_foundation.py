"""Speed of the foundation paths (run with `make bench`)."""

from __future__ import annotations

import pytest

import accelsim as ax


@pytest.fixture(scope="module")
def lenet():
    return ax.network("lenet5")


def test_bench_lower_lenet5(benchmark, lenet):
    wl = benchmark(ax.lower, lenet, 64)
    assert wl.macs == 64 * 416_000


def test_bench_lenet5_forward_fp32_batch64(benchmark, lenet):
    x, _ = ax.datasets.load("digits", split="test")
    out = benchmark(lenet.forward, x[:64])
    assert out.shape == (64, 10)


def test_bench_lstm_char_forward_batch64(benchmark):
    net = ax.network("lstm-char")
    x, _ = ax.datasets.load("stdlib-docs", split="test")
    out = benchmark(net.forward, x[:64])
    assert out.shape == (64, 64, 96)
