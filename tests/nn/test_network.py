"""Network behaviour: input checks, chunked forward, precisions, summaries."""

from __future__ import annotations

import numpy as np
import pytest

import accelsim as ax
from accelsim.errors import DataError, ShapeError
from accelsim.nn.network import check_labels


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


@pytest.mark.parametrize(("value", "count"), [(np.nan, 1), (np.inf, 2), (-np.inf, 3)])
def test_non_finite_inputs_are_counted_and_located(value, count):
    net = ax.network("lenet5")
    x = np.zeros((4, 1, 32, 32), np.float32)
    x[2, 0, 5, 7] = value
    x[3, 0, :count - 1, 0] = value
    plural = "s" if count > 1 else ""
    with pytest.raises(DataError, match=rf"input of network 'lenet5' holds {count} non-finite "
                                        rf"value{plural} .* shape \(4, 1, 32, 32\); the first is "
                                        rf"{value} at index \(2, 0, 5, 7\)"):
        net.forward(x)
    with pytest.raises(DataError, match="non-finite"):
        net.accuracy(x, np.zeros(4, int))


def test_non_numeric_inputs_are_refused():
    net = ax.network("rnn-hello")
    with pytest.raises(DataError, match="dtype <U1; give real numbers"):
        net.forward(np.full((1, 4, 4), "a"))
    with pytest.raises(DataError, match="dtype complex128"):
        net.forward(np.zeros((1, 4, 4), complex))
    assert net.forward(np.zeros((1, 4, 4), int)).shape == (1, 4, 4)


@pytest.mark.parametrize(("labels", "message"), [
    (np.zeros(5, int), r"labels of shape \(5,\) give 5 labels for 4 samples"),
    (np.int64(3), r"a single label for 4 samples"),
    (np.array([0, 1, -1, 2]), r"1 label\(s\) outside 0 to 9 .* first is -1 at index 2"),
    (np.array([0, 10, 12, 2]), r"2 label\(s\) outside 0 to 9 .* first is 10 at index 1"),
    (np.array([0.0, 1.5, 2.0, 3.0]), r"label 1\.5 at index 1 is not a whole number"),
    (np.array([0.0, np.nan, 2.0, 3.0]), r"the label array holds 1 non-finite value"),
    (np.array(["0", "1", "2", "3"]), r"labels have dtype <U1; give integer class indices"),
    (np.zeros((4, 2), int), r"labels of shape \(4, 2\) do not match the network's "
                            r"predictions of shape \(4,\)"),
])
def test_bad_labels_are_errors_naming_the_value(labels, message):
    net = ax.network("lenet5")
    x = ax.datasets.load("digits", split="test")[0][:4]
    with pytest.raises(DataError, match=message):
        net.accuracy(x, labels)
    with pytest.raises(DataError, match=message):
        ax.quantize(net, calibration=x).accuracy(x, labels)


def test_integral_float_labels_and_per_step_labels_are_accepted():
    net = ax.network("lenet5")
    x, y = ax.datasets.load("digits", split="test")
    assert net.accuracy(x, y.astype(np.float64)) == net.accuracy(x, y) > 0.9
    seq = ax.network("rnn-hello")
    hx, hy = ax.datasets.load("hello")
    assert seq.accuracy(hx, hy) == 1.0
    with pytest.raises(DataError, match=r"labels of shape \(1,\) do not match .* \(1, 4\)"):
        seq.accuracy(hx, hy[:, 0])
    assert check_labels([1, 2], (2, 3)).dtype == np.int64
