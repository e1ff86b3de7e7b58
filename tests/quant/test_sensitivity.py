"""Per-layer sensitivity by simulated quantization: closed forms of the fake quantizer, its
agreement with fp32 at 16 bits and with the integer path at 8, and the greedy 16-bit choice
on a network whose sensitive layer is known."""

from __future__ import annotations

import numpy as np
import pytest

import accelsim as ax
from accelsim.errors import QuantizationError
from accelsim.nn.dense import Linear
from accelsim.nn.network import Network
from accelsim.quant import (
    Scheme,
    fake_forward,
    layer_sensitivity,
    quantizable_layers,
    suggest_mixed_precision,
)
from accelsim.quant.calibration import Range, calibrate
from accelsim.quant.sensitivity import (
    affine_grid,
    fake_quantize,
    fake_quantize_weight,
    integer_bits,
    symmetric_grid,
)

PER_CHANNEL_MSE = Scheme.parse(weights="per_channel", calibrate="mse")


@pytest.fixture(scope="module")
def digits():
    calibration = ax.datasets.load("digits", split="train")[0][:256]
    return calibration, ax.datasets.load("digits", split="test")


def test_fake_quantization_of_known_tensors_is_the_closed_form():
    x = np.array([0.011, -0.03, 3.0, 0.01, -9.0])
    # ±2.54 at 8 bits: step 0.02; −1.5 and 0.5 round to even; ±127 clamps
    np.testing.assert_allclose(fake_quantize(x, symmetric_grid(2.54, 8)),
                               [0.02, -0.04, 2.54, 0.0, -2.54], atol=1e-7)
    # [0, 2.55] with a zero point: step 0.01, codes −128 … 127, so nothing below 0
    grid = affine_grid(Range(0.0, 2.55), 8)
    assert (grid.zero, grid.low, grid.high) == (-128, -128, 127)
    np.testing.assert_allclose(fake_quantize(np.array([-0.5, 1.234, 3.0]), grid),
                               [0.0, 1.23, 2.55], atol=1e-6)
    # 16 bits: ±32.767 onto ±32767 is a step of 0.001; 1.5 steps round to 2
    np.testing.assert_allclose(fake_quantize(np.array([0.0015, 40.0]), symmetric_grid(32.767, 16)),
                               [0.002, 32.767], atol=1e-6)
    w = np.array([[1.0, 0.125], [-2.0, 0.0625]])  # (in, out): columns differ 16×
    per_channel = fake_quantize_weight(w, 8, Scheme.parse(weights="per_channel"))
    np.testing.assert_allclose(per_channel, [[64 * 2 / 127, 0.125], [-2.0, 64 * 0.125 / 127]],
                               rtol=1e-6)
    np.testing.assert_allclose(fake_quantize_weight(w, 8)[:, 1], [8 * 2 / 127, 4 * 2 / 127],
                               rtol=1e-6)  # per tensor: both columns at 2/127


@pytest.mark.parametrize("scheme", [Scheme(), Scheme.parse(weights="per_channel",
                                                           activations="asymmetric")])
def test_16_bits_everywhere_is_fp32_to_a_thousandth_of_the_logits(digits, scheme):
    """Calibrated on the images themselves, so nothing clips: only 16-bit rounding is left."""
    x = digits[1][0]
    net = ax.network("lenet5")
    reference = net.forward(x, logits=True)
    ranges = calibrate(net, x, scheme)
    every = dict.fromkeys(quantizable_layers(net), 16)
    error = np.abs(fake_forward(net, ranges, x, every, scheme) - reference).max()
    assert error < 1e-3 * np.abs(reference).max()
    eight = np.abs(fake_forward(net, ranges, x, dict.fromkeys(every, 8), scheme) - reference)
    assert eight.max() > 50 * error  # and 8 bits is visibly coarser


@pytest.mark.parametrize("scheme", [Scheme(), PER_CHANNEL_MSE])
def test_lenet5_reports_every_layer_and_all_8_bit_matches_the_integer_path(digits, scheme):
    calibration, (x, y) = digits
    net = ax.network("lenet5")
    result = layer_sensitivity(net, calibration, x, y, scheme)
    assert [cost.layer for cost in result.layers] == ["conv1", "pool1", "conv2", "pool2",
                                                      "conv3", "flatten", "fc1", "fc2"]
    assert result.fp32_accuracy == net.accuracy(x, y)
    for cost in result.layers:
        assert cost.drop_points == pytest.approx(100 * (result.fp32_accuracy - cost.accuracy))
    real = ax.quantize(net, calibration, weights=str(scheme.weights),
                       calibrate=str(scheme.calibrate)).accuracy(x, y)
    assert abs(result.all_layers_accuracy - real) <= 0.005
    records = result.to_records()
    assert len(records) == 9 and records[-1]["accuracy"] == result.all_layers_accuracy


@pytest.mark.slow  # CI runs it (.ci/run: make test-slow)
def test_lstm_char_all_8_bit_is_within_half_a_point_of_the_integer_path():
    net = ax.network("lstm-char")
    config = dict(net.training)
    calibration = ax.datasets.load(config["dataset"], split="train", **config["data"])[0][:256]
    x, y = ax.datasets.load(config["dataset"], split="test", **config["data"])
    result = layer_sensitivity(net, calibration, x, y)
    real = ax.quantize(net, calibration).accuracy(x, y)
    assert [cost.layer for cost in result.layers] == ["lstm", "readout"]
    assert abs(result.all_layers_accuracy - real) <= 0.005


def two_layers() -> tuple[Network, np.ndarray, np.ndarray]:
    """fc1 is an identity; fc2 passes x through beside a third output at −1000·(x0 + x1),
    which fc2's per-tensor int8 weight scale (1000/127) and output range must cover: its
    1.0 weights round to 0 and the two real logits vanish. fc2 is the sensitive layer."""
    fc2 = np.array([[1.0, 0.0, -1000.0], [0.0, 1.0, -1000.0]], np.float32)
    params = {"fc1": {"weight": np.eye(2, dtype=np.float32), "bias": np.zeros(2, np.float32)},
              "fc2": {"weight": fc2, "bias": np.zeros(3, np.float32)}}
    net = Network("two", (Linear(name="fc1", out_features=2), Linear(name="fc2", out_features=3)),
                  (2,), params)
    x = np.random.default_rng(0).uniform(0, 1, (1000, 2)).astype(np.float32)
    return net, x, net.predict(x)  # labels: the fp32 predictions (100 % by construction)


def test_the_greedy_suggestion_moves_layers_in_sensitivity_order():
    net, x, y = two_layers()
    alone = layer_sensitivity(net, x, x, y)
    fc1, fc2 = alone.layers
    assert fc2.drop_points > 40 and fc2.drop_points > fc1.drop_points
    everything = suggest_mixed_precision(net, x, x, y, max_drop_points=-1)
    assert everything.sixteen_bit == ("fc2", "fc1")  # most sensitive first, not network order
    assert [step.layer for step in everything.steps] == ["fc2", "fc1"]
    first, second = everything.steps
    # fc2's output range at 16 bits is still 2000 / 65535 wide: 1 % of points lie closer
    assert 0.98 <= first.accuracy <= second.accuracy == everything.accuracy
    enough = suggest_mixed_precision(net, x, x, y, max_drop_points=10)
    assert enough.sixteen_bit == ("fc2",) and enough.drop_points <= 10
    # the integer path: fc2 reads 16 bits (fc1's outputs) and writes its logits at 16
    assert dict(everything.activation_bits) == dict(enough.activation_bits) == {"fc2": 16}
    q = ax.quantize(net, x, activation_bits=dict(enough.activation_bits))
    assert q.gemm_input_bits == {"fc1": 8, "fc2": 16}


def test_a_sixteen_bit_recurrent_unit_keeps_its_h_and_its_reader_at_16_bits():
    assert integer_bits(ax.network("lstm-recall"), ("lstm",)) == {"lstm": 16, "readout": 16}
    assert integer_bits(ax.network("lenet5"), ("conv1", "fc1")) == {"conv2": 16, "fc2": 16}


def test_a_generous_budget_keeps_everything_at_8_bits(digits):
    calibration, (x, y) = digits
    result = suggest_mixed_precision(ax.network("lenet5"), calibration, x, y,
                                     max_drop_points=100)
    assert result.sixteen_bit == () and result.steps == ()
    assert result.accuracy == result.sensitivity.all_layers_accuracy


def test_bad_bits_and_layer_names_say_what_to_give():
    net, x, y = two_layers()
    with pytest.raises(QuantizationError, match=r"bits = 32 must be an integer from 2 to 16"):
        layer_sensitivity(net, x, x, y, bits=32)
    with pytest.raises(QuantizationError, match=r"no quantizable layer named 'fc3' in 'two'; "
                                                r"choose from fc1, fc2"):
        fake_forward(net, calibrate(net, x), x, {"fc3": 8})
