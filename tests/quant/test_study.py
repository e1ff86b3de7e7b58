"""The quantization accuracy study: its rows are the numbers the networks give when run by
hand (the int8 rows bit for bit `ax.quantize(...).accuracy`), perplexity is exp of the
cross-entropy `nn.train` computes, simulated int16 sits closer to fp32 than int8, and every
bad variant is refused before anything runs."""

from __future__ import annotations

import math

import numpy as np
import pytest

import accelsim as ax
from accelsim.errors import QuantizationError
from accelsim.nn.dense import Linear
from accelsim.nn.network import Network
from accelsim.nn.scoring import score
from accelsim.nn.train import evaluate, softmax_cross_entropy
from accelsim.quant.study import (
    CALIBRATION_SAMPLES,
    DEFAULT_VARIANTS,
    QuantStudy,
    Variant,
    accuracy_study,
    perplexity,
    study_on,
)
from accelsim.quant.variants import PRECISIONS

FP32, BF16 = Variant.of("fp32"), Variant.of("bf16", "bf16")
INT8 = Variant.of("int8 per-tensor", "int8")
PER_CHANNEL = Variant.of("int8 per-channel", "int8", weights="per_channel")
A16 = Variant.of("int8 a16", "int8", activation_bits=16)
INT16 = Variant.of("int16 (simulated)", "int16")
CELL32 = Variant.of("int8 32-bit cell", "int8", cell_bits=32)


def split(name: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    net = ax.network(name)
    config = dict(net.training)
    return ax.datasets.load(config["dataset"], split=split, **config.get("data", {}))


@pytest.fixture(scope="module")
def lenet5() -> tuple[QuantStudy, Network, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    heard: list[str] = []
    variants = [FP32, BF16, INT8, PER_CHANNEL, A16, INT16, CELL32]
    study = accuracy_study("lenet5", variants, sensitivity=True, on_step=heard.append)
    assert study.variants() == [v.label for v in variants]
    assert heard == [f"quantization: lenet5, {v.label}" for v in variants] + [
        "quantization: lenet5, per-layer sensitivity"]
    return study, ax.network("lenet5"), split("lenet5", "train")[0][:256], \
        split("lenet5", "test")


@pytest.fixture(scope="module")
def lstm_char() -> tuple[QuantStudy, Network, np.ndarray, np.ndarray, np.ndarray]:
    """lstm-char on 48 test windows (3,072 predictions), calibrated on 64: enough to see
    the formats apart, a few seconds to run."""
    net = ax.network("lstm-char")
    calibration = split("lstm-char", "train")[0][:64]
    x, y = (part[:48] for part in split("lstm-char", "test"))
    study = study_on(net, calibration, x, y, [FP32, INT8, INT16, CELL32], sensitivity=False)
    return study, net, calibration, x, y


def row(study: QuantStudy, label: str, network: str | None = None):
    (found,) = [r for r in study.rows if r.variant.label == label
                and (network is None or r.network == network)]
    return found


def test_lenet5_fp32_is_the_reference_accuracy_on_the_digits_test_split(lenet5):
    study, net, _, (x, y) = lenet5
    fp32 = row(study, "fp32")
    assert fp32.accuracy == net.accuracy(x, y) == pytest.approx(356 / 359)  # 0.9916
    assert round(fp32.accuracy, 4) == 0.9916
    assert fp32.test_samples == 359 and fp32.perplexity is None  # one label per image
    assert fp32.calibration_samples == study.calibration_samples == 256
    assert all(r.fp32_accuracy == fp32.accuracy for r in study.rows)
    assert row(study, "bf16").accuracy == net.accuracy(x, y, "bf16")


def test_int8_rows_are_quantize_bit_for_bit(lenet5):
    study, net, calibration, (x, y) = lenet5
    assert CALIBRATION_SAMPLES == len(calibration) == 256
    assert row(study, INT8.label).accuracy == ax.quantize(net, calibration).accuracy(x, y)
    assert row(study, PER_CHANNEL.label).accuracy == ax.quantize(
        net, calibration, weights="per_channel").accuracy(x, y)
    assert row(study, A16.label).accuracy == ax.quantize(
        net, calibration, activation_bits=16).accuracy(x, y)
    for r in study.rows:
        assert r.drop_points == pytest.approx(100 * (r.fp32_accuracy - r.accuracy))


def test_cell_state_variants_apply_to_lstms_only(lenet5, lstm_char):
    study = lenet5[0]
    assert CELL32.label not in [r.variant.label for r in study.rows]
    (skipped,) = study.not_applicable
    assert (skipped.network, skipped.variant) == ("lenet5", CELL32.label)
    assert "no LSTM" in skipped.reason and "no LSTM" in study.table()
    assert CELL32.applies_to(ax.network("rnn-hello", weights="none")) is not None
    lut = Variant.of("lut", "int8", lut_size=64)
    assert lut.applies_to(ax.network("rnn-hello", weights="none")) is None
    assert lut.applies_to(ax.network("lenet5", weights="none")) is not None
    lstm, net, calibration, x, y = lstm_char
    assert row(lstm, CELL32.label).accuracy == ax.quantize(
        net, calibration, cell_bits=32).accuracy(x, y)


def test_lstm_char_perplexity_is_exp_of_its_cross_entropy(lstm_char):
    study, net, calibration, x, y = lstm_char
    fp32 = row(study, "fp32")
    assert fp32.perplexity == pytest.approx(evaluate(net, x, y)["perplexity"], rel=1e-6)
    q = ax.quantize(net, calibration)
    loss, _ = softmax_cross_entropy(q.forward(x), y)
    assert row(study, INT8.label).perplexity == pytest.approx(math.exp(loss), rel=1e-6)
    assert row(study, INT8.label).accuracy == q.accuracy(x, y)
    assert all(r.fp32_perplexity == fp32.perplexity for r in study.rows)
    assert 1 < fp32.perplexity < 96  # better than guessing among 96 characters
    assert (fp32.test_samples, fp32.calibration_samples) == (48, 64)


def test_simulated_int16_is_closer_to_fp32_than_int8(lstm_char):
    study = lstm_char[0]
    fp32, int8, int16 = (row(study, v.label) for v in (FP32, INT8, INT16))
    # perplexity, not top-1 on 48 windows: a few flipped argmaxes either way are noise
    assert abs(int16.perplexity - fp32.perplexity) < abs(int8.perplexity - fp32.perplexity) / 10
    assert abs(int16.drop_points) < 0.1
    assert int16.variant.simulated and "simulated" in int16.variant.scheme_label
    record = next(r for r in study.to_records() if r["variant"] == INT16.label)
    assert record["simulated"] is True and record["precision"] == "int16"


def test_perplexity_closed_forms():
    labels = np.array([[0, 3, 2]])
    assert perplexity(np.zeros((1, 3, 8)), labels) == pytest.approx(8.0)  # uniform over 8
    probabilities = np.full((1, 3, 4), 0.5 / 3)
    probabilities[0, [0, 1, 2], [0, 3, 2]] = 0.5
    assert perplexity(probabilities, labels, probabilities=True) == pytest.approx(2.0)
    assert perplexity(np.zeros((5, 8)), np.arange(5)) is None  # one label per sample
    sure = np.full((1, 3, 4), -1e6)
    sure[0, [0, 1, 2], [1, 1, 1]] = 0.0  # certain and always wrong
    assert perplexity(sure, labels) == math.inf


def two_layers() -> tuple[Network, np.ndarray, np.ndarray]:
    """fc2 writes the two real logits beside a third at −1000·(x0 + x1), so its per-tensor
    int8 weight scale rounds the real weights to 0: fc2 is the layer to keep at 16 bits."""
    fc2 = np.array([[1.0, 0.0, -1000.0], [0.0, 1.0, -1000.0]], np.float32)
    params = {"fc1": {"weight": np.eye(2, dtype=np.float32), "bias": np.zeros(2, np.float32)},
              "fc2": {"weight": fc2, "bias": np.zeros(3, np.float32)}}
    net = Network("two", (Linear(name="fc1", out_features=2),
                          Linear(name="fc2", out_features=3)), (2,), params)
    x = np.random.default_rng(0).uniform(0, 1, (1000, 2)).astype(np.float32)
    return net, x, net.predict(x)


def test_sensitivity_marks_the_sensitive_layer_and_runs_the_suggestion_in_integers():
    net, x, y = two_layers()
    study = study_on(net, x, x, y, [FP32, INT8], sensitivity=True, max_drop_points=10)
    (mixed,) = study.mixed
    assert mixed.sixteen_bit == ("fc2",) and mixed.drop_points <= 10
    records = {r["layer"]: r for r in study.sensitivity_records()}
    assert list(records) == ["fc1", "fc2", "all layers"]
    assert records["fc2"]["sixteen_bit"] and not records["fc1"]["sixteen_bit"]
    assert records["fc2"]["drop_points"] > 40
    (suggestion,) = study.suggestion_records()
    integer = score(ax.quantize(net, x, activation_bits=dict(mixed.activation_bits))
                    .forward(x), y)
    assert suggestion["integer_accuracy_fraction"] == integer
    assert suggestion["sixteen_bit_layers"] == ["fc2"]
    assert row(study, INT8.label).drop_points > 40  # all int8 loses the real logits


def test_lenet5_keeps_every_layer_at_8_bits_within_half_a_point(lenet5):
    study = lenet5[0]
    (mixed,) = study.mixed
    assert mixed.sixteen_bit == () and mixed.max_drop_points == 0.5
    assert len(study.sensitivity_records()) == 9  # eight layers, then all of them
    (suggestion,) = study.suggestion_records()
    assert suggestion["integer_accuracy_fraction"] == row(study, INT8.label).accuracy


def test_records_carry_units_and_the_tables_show_every_row(lenet5):
    study = lenet5[0]
    records = study.to_records()
    assert len(records) == len(study.rows) == 6
    assert {"accuracy_fraction", "fp32_accuracy_fraction", "drop_points", "perplexity",
            "test_samples", "calibration_samples"} <= set(records[0])
    accuracy, sensitivity, suggestion, skipped = study.tables()
    assert len(accuracy.rows) == 6 and accuracy.rows[0][:4] == ("lenet5", "fp32", "fp32",
                                                                 "99.16%")
    assert len(sensitivity.rows) == 9 and len(suggestion.rows) == len(skipped.rows) == 1
    text = study.table()
    assert "int16 (simulated)" in text and "simulated, per_tensor/symmetric/max" in text
    assert "<table>" in study._repr_html_()
    document = study.document()
    assert set(document) == {"variants", "sensitivity", "mixed_precision", "not_applicable"}


def test_the_default_variants():
    labels = [v.label for v in DEFAULT_VARIANTS]
    assert len(set(labels)) == len(labels) == 12
    assert {v.precision for v in DEFAULT_VARIANTS} == set(PRECISIONS)
    assert [v.label for v in DEFAULT_VARIANTS if v.simulated] == ["int16 (simulated)"]
    assert {dict(v.scheme).get("cell_bits") for v in DEFAULT_VARIANTS} == {None, 8, 32}
    assert Variant.of(None, "int8", weights="per_channel", calibrate="mse").label == \
        "int8 weights=per_channel calibrate=mse"
    assert Variant.of(None, "int16").label == "int16 (simulated)"


@pytest.mark.parametrize(("variant", "message"), [
    ({"precision": "int8", "weights": "per_chanel"}, "did you mean 'per_channel'?"),
    ({"precision": "int4"}, "precision = 'int4' is not a study precision; did you mean"),
    ({"precision": "int8", "percentile": 0}, "percentile = 0 must be a number in (0, 100]"),
    ({"precision": "int8", "activation_bits": 12}, "activation_bits = 12 must be 8 or 16"),
    ({"precision": "int8", "cell_bits": 24}, "cell_bits = 24 must be 8, 16 or 32"),
    ({"precision": "int8", "lut_size": 100}, "lut_size = 100 must be a power of two"),
    ({"precision": "int8", "lut_range": -1.0}, "lut_range = -1.0 must be a positive number"),
    ({"precision": "fp16", "weights": "per_channel"}, "does not apply to fp16"),
    ({"precision": "int16", "cell_bits": 8}, "simulated int16 takes only weights"),
    ({"precision": "int8", "weight": "per_channel"}, "did you mean weights?"),
])
def test_bad_variants_are_refused_with_the_fix(variant, message):
    with pytest.raises(QuantizationError, match="variant 'bad'") as caught:
        Variant.of("bad", **variant)
    assert message in str(caught.value)


def test_bad_study_arguments_are_refused_before_anything_runs():
    with pytest.raises(QuantizationError, match="'fp32' is used twice"):
        accuracy_study("lenet5", [FP32, Variant.of("fp32", "fp16")])
    with pytest.raises(QuantizationError, match="max_drop_points = -1 must be"):
        accuracy_study("lenet5", [FP32], max_drop_points=-1)
    with pytest.raises(QuantizationError, match="non-empty list of Variant"):
        accuracy_study("lenet5", [])
    with pytest.raises(QuantizationError, match="a Network or a bundled name"):
        accuracy_study([3], [FP32])  # type: ignore[list-item]
    with pytest.raises(ax.AccelsimError, match="names no data set"):
        accuracy_study("tpu-mlp0", [FP32])
