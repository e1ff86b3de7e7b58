"""Post-training int8 quantization of the bundled networks: accuracy and integer numerics."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import accelsim as ax
from accelsim.errors import AccelsimError, DataError, QuantizationError
from accelsim.quant.kernels import QGemm, QRecurrent, QSoftmax, int_matmul


@pytest.fixture(scope="module")
def digits():
    return ax.datasets.load("digits", split="train")[0][:256], ax.datasets.load(
        "digits", split="test")


def test_lenet5_int8_keeps_its_accuracy(digits):
    calibration, (x, y) = digits
    net = ax.network("lenet5")
    q = ax.quantize(net, calibration=calibration)
    assert q.accuracy(x, y) >= net.accuracy(x, y) - 0.01
    assert q.accuracy(x, y) >= 0.97
    logits = q.forward(x[:20])
    reference = net.forward(x[:20])
    assert np.abs(logits - reference).max() < 0.1 * np.abs(reference).max()


def test_relu_is_fused_into_the_gemm(digits):
    q = ax.quantize(ax.network("lenet5"), calibration=digits[0])
    gemms = [op for op in q.ops if isinstance(op, QGemm)]
    assert [op.name for op in gemms] == ["conv1", "conv2", "conv3", "fc1", "fc2"]
    assert [op.relu for op in gemms] == [True, True, True, True, False]
    assert all(op.weight.dtype == np.int8 and op.bias.dtype == np.int32 for op in gemms)
    assert np.abs(gemms[0].weight).max() == 127  # symmetric: the largest weight maps to 127


def test_integer_path_is_integer_only(digits):
    q = ax.quantize(ax.network("lenet5"), calibration=digits[0])
    xq = q.quantize_input(digits[1][0][:5])
    assert xq.dtype == np.int8
    out = q.forward_int(xq)
    assert out.dtype == np.int8 and out.shape == (5, 10)


def test_int_matmul_is_exact_and_wraps_like_32_bit_hardware():
    rng = np.random.default_rng(0)
    a = rng.integers(-127, 128, (7, 300), dtype=np.int8)
    b = rng.integers(-127, 128, (300, 5), dtype=np.int8)
    np.testing.assert_array_equal(int_matmul(a, b), a.astype(np.int64) @ b.astype(np.int64))
    assert int_matmul(a, b).dtype == np.int32
    k = 140_000  # 140,000 · 128² = 2.29e9 > 2^31 − 1: the accumulator wraps
    wide = int_matmul(np.full((1, k), -128, np.int8), np.full((k, 1), -128, np.int8))
    assert wide[0, 0] == k * 128 * 128 - 2**32


def test_recurrent_networks_quantize():
    for name, floor in (("lstm-recall", 0.95), ("rnn-hello", 1.0)):
        net = ax.network(name)
        config = dict(net.training)
        x, y = ax.datasets.load(config["dataset"], split="test", **config.get("data", {}))
        q = ax.quantize(net, calibration=x[:128])
        assert any(isinstance(op, QRecurrent) for op in q.ops)
        assert q.accuracy(x, y) >= floor


def test_lstm_char_int8_costs_little_perplexity():
    net = ax.network("lstm-char")
    x, y = ax.datasets.load("stdlib-docs", split="test")
    train_x = ax.datasets.load("stdlib-docs", split="train")[0][:64]
    q = ax.quantize(net, calibration=train_x)
    assert q.accuracy(x[:100], y[:100]) >= net.accuracy(x[:100], y[:100]) - 0.01


def test_quantized_network_looks_like_its_network(digits):
    q = ax.quantize(ax.network("lenet5"), calibration=digits[0])
    assert q.name == "lenet5" and q.input_shape == (1, 32, 32)
    assert ax.lower(q, 2).macs == 2 * 416_000
    assert "int8" in repr(q)
    assert ax.quantize(q, calibration=digits[0]) is q
    with pytest.raises(AccelsimError, match="runs int8"):
        q.forward(digits[0][:2], precision="fp32")
    np.testing.assert_array_equal(q.forward(digits[0][:2], precision="INT8"),
                                  q.forward(digits[0][:2]))
    assert "conv1" in q.summary()
    with pytest.raises(AttributeError):
        _ = q.no_such_attribute


def test_bad_calibration():
    with pytest.raises(AccelsimError, match="empty batch"):
        ax.quantize(ax.network("lenet5"), calibration=np.zeros((0, 1, 32, 32)))
    bad = np.zeros((2, 1, 32, 32), np.float32)
    bad[1, 0, 3, 4] = np.nan
    bad[1, 0, 5, 5] = -np.inf
    with pytest.raises(DataError, match=r"2 non-finite values .* first is nan at index "
                                        r"\(1, 0, 3, 4\)"):
        ax.quantize(ax.network("lenet5"), calibration=bad)
    with pytest.raises(ax.AccelsimError, match="expects input"):
        ax.quantize(ax.network("lenet5"), calibration=np.zeros((3, 28, 28)))


def _valid_multiplier(multiplier: tuple[int, int]) -> bool:
    m0, shift = multiplier
    return (m0, shift) == (0, 0) or (2**30 <= m0 < 2**31 and 0 <= shift <= 62)


@pytest.mark.parametrize("name", ["lenet5", "lstm-recall", "rnn-hello"])
@pytest.mark.parametrize("level", [0.0, 1e-30])
def test_zero_range_calibration_gives_finite_integer_numerics(name, level):
    net = ax.network(name)
    shape = (4, *net.sample_shape())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division by zero, no NaN cast to int
        q = ax.quantize(net, calibration=np.full(shape, level, np.float32))
        out = q.forward(np.random.default_rng(0).random(shape, np.float32))
    assert np.all(np.isfinite(out)) and q.input_scale > 0
    for op in q.ops:
        assert op.in_scale > 0 and (op.out_scale > 0 or isinstance(op, QSoftmax))
        for field in ("multiplier", "gate_multiplier", "hidden_multiplier"):
            if hasattr(op, field):
                assert _valid_multiplier(getattr(op, field)), (op.name, field)
        if isinstance(op, QGemm | QRecurrent):
            assert np.abs(op.bias.astype(np.int64)).max() <= 2**30


def test_a_dead_layer_keeps_the_bias_of_the_next_in_int32(digits):
    calibration, (x, y) = digits
    net = ax.network("lenet5")
    params = {name: dict(p) for name, p in net.params.items()}
    params["conv3"] = {k: np.zeros_like(v) for k, v in params["conv3"].items()}
    params["fc1"]["bias"] = np.full_like(params["fc1"]["bias"], 5.0)
    dead = net.with_params(params)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        q = ax.quantize(dead, calibration=calibration)
        lsb = q.output_scale  # two requantized GEMMs: a few output steps of rounding
        np.testing.assert_allclose(q.forward(x[:8]), dead.forward(x[:8]), atol=4 * lsb)
    fc1 = next(op for op in q.ops if op.name == "fc1")
    assert fc1.in_scale == 1 / 127  # conv3's outputs were all zero: the unit range
    assert q.accuracy(x, y) == dead.accuracy(x, y)


def test_calibration_that_overflows_float32_names_the_layer():
    net = ax.network("lenet5")
    with pytest.raises(QuantizationError, match=r"layer 'conv1'"):
        ax.quantize(net, calibration=np.full((2, 1, 32, 32), 1e30, np.float32))
    with pytest.raises(QuantizationError, match=r"calibration: layer 'conv1' produced .* "
                                                r"non-finite values \(float32 overflow\)"):
        ax.quantize(net, calibration=np.full((2, 1, 32, 32), 3e38, np.float32))


def test_quantize_needs_a_network():
    with pytest.raises(AccelsimError, match="quantize needs a Network, e.g. "
                                            r"ax.network\('lenet5'\), got str"):
        ax.quantize("lenet5", calibration=np.zeros((1, 1, 32, 32)))
