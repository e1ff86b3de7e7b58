"""Network behaviour: input checks, chunked forward, precisions, summaries."""

from __future__ import annotations

import numpy as np
import pytest

import accelsim as ax
from accelsim.errors import ShapeError


def test_forward_in_chunks_equals_one_pass():
    net = ax.network("lenet5")
    x, _ = ax.datasets.load("digits", split="test")
    np.testing.assert_allclose(net.forward(x[:70], chunk=16), net.forward(x[:70]), atol=1e-4)


def test_reduced_precisions_stay_close_to_fp32():
    net = ax.network("lenet5")
    x, y = ax.datasets.load("digits", split="test")
    ref = net.forward(x)
    for precision, tolerance in (("fp16", 2e-2), ("bf16", 2e-1)):
        out = net.forward(x, precision)
        assert not np.array_equal(out, ref)
        assert np.abs(out - ref).max() < tolerance * np.abs(ref).max()
        assert abs(net.accuracy(x, y, precision) - net.accuracy(x, y)) < 0.01


def test_sequence_input_checks():
    net = ax.network("lstm-recall")
    with pytest.raises(ShapeError, match=r"expects input \(batch, time, 22\)"):
        net.forward(np.zeros((2, 22)))
    assert net.forward(np.zeros((2, 7, 22))).shape == (2, 5)


def test_summary_lists_layers_and_parameters():
    text = ax.network("lenet5").summary()
    assert "conv1" in text and "(6, 28, 28)" in text and "61,182" in text
    assert "lenet5" in repr(ax.network("lenet5"))
