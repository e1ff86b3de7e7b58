"""Quantization schemes: per-channel weights, activation zero points, percentile and MSE
calibration; closed forms, known optima, accuracy, and bit-exactness with the TPU engine."""

from __future__ import annotations

import numpy as np
import pytest

import accelsim as ax
from accelsim.errors import QuantizationError
from accelsim.nn.dense import Linear
from accelsim.nn.network import Network
from accelsim.quant import Scheme
from accelsim.quant.calibration import Range, mse_range, percentile_range
from accelsim.quant.fixedpoint import affine_params, requantize
from accelsim.quant.kernels import QGemm, QRecurrent

W = np.array([[1.0, 0.125], [-2.0, 0.0625], [0.5, -0.25]])  # (in, out): columns differ 8×
CALIBRATION = np.array([[-1.0, 0.0, 3.0], [0.5, 2.0, -0.5]], np.float32)


def tiny(bias: tuple[float, float] = (0.0, 0.0)) -> Network:
    layer = Linear(name="fc", out_features=2)
    return Network("tiny", (layer,), (3,), {"fc": {"weight": W, "bias": np.array(bias)}})


@pytest.fixture(scope="module")
def digits():
    calibration = ax.datasets.load("digits", split="train")[0][:256]
    return calibration, ax.datasets.load("digits", split="test")


def test_per_channel_weights_get_one_scale_per_output_column():
    op = ax.quantize(tiny(), CALIBRATION, weights="per_channel").ops[0]
    assert isinstance(op, QGemm)
    # column 0 at 2/127: 1.0 → 63.5 → 64 (ties to even), column 1 at 0.25/127: 0.125 → 64
    np.testing.assert_array_equal(op.weight, [[64, 64], [-127, 32], [32, -127]])
    m0, shift = op.multiplier
    real = m0 / 2.0**shift
    np.testing.assert_allclose(real, op.in_scale * np.array([2.0, 0.25]) / 127 / op.out_scale,
                               rtol=2**-30)
    per_tensor = ax.quantize(tiny(), CALIBRATION).ops[0]
    np.testing.assert_array_equal(per_tensor.weight[:, 1], [8, 4, -16])  # all at 2/127
    assert isinstance(per_tensor.multiplier[0], int)


def test_asymmetric_scale_zero_point_and_bias_correction():
    q = ax.quantize(tiny((0.25, -0.5)), CALIBRATION, activations="asymmetric")
    # inputs span [−1, 3]: scale 4/255, zero point round(−128 + 1/(4/255)) = round(−64.25)
    assert (q.input_scale, q.input_zero) == (4 / 255, -64)
    assert q.quantize_input(np.zeros((1, 3), np.float32)).tolist() == [[-64] * 3]
    op = q.ops[0]
    w_scale = 2.0 / 127  # per tensor
    bias_q = np.rint(np.array([0.25, -0.5]) / (q.input_scale * w_scale))
    np.testing.assert_array_equal(op.bias, bias_q + 64 * op.weight.astype(np.int64).sum(axis=0))
    assert op.out_low == -128 and q.scheme == Scheme(activations="asymmetric")
    x = CALIBRATION  # outputs inside the calibrated range: only rounding error is left
    np.testing.assert_allclose(q.forward(x), tiny((0.25, -0.5)).forward(x), atol=0.06)


def test_affine_params_keep_zero_exact_and_cover_the_range():
    relu_output = affine_params(0.0, 2.55)  # a ReLU output uses all 256 codes
    assert relu_output == (pytest.approx(0.01), -128)
    assert affine_params(-1.0, 1.0)[1] == 0  # round(−128 + 127.5) = 0 (ties to even)
    assert affine_params(1.0, 2.0) == (2.0 / 255, -128)  # widened to hold 0
    assert affine_params(0.0, 0.0) == (1 / 127, 0)
    assert requantize(np.array([1000, -1000]), (2**30, 31), offset=-128,
                      low=-128).tolist() == [127, -128]


def test_percentile_thresholds_on_known_distributions():
    magnitudes = np.arange(1, 10_001) / 10_000  # |x| uniform on a grid: 99th pct ≈ 0.99
    both = np.concatenate([magnitudes, -magnitudes])
    assert percentile_range(both, 99.0, asymmetric=False).high == pytest.approx(0.99, abs=1e-4)
    ramp = np.linspace(-1.0, 3.0, 40_001)  # 10th and 90th percentiles are −0.6 and 2.6
    span = percentile_range(ramp, 90.0, asymmetric=True)
    assert (span.low, span.high) == (pytest.approx(-0.6), pytest.approx(2.6))
    assert percentile_range(np.linspace(1.0, 2.0, 101), 90.0, True).low == 0.0  # holds 0


def test_mse_clipping_matches_the_known_8_bit_optima():
    """Banner et al. 2019 (ACIQ): at 8 bits the MSE-optimal clip is ≈3.92σ for a Gaussian and
    ≈9.89b for a Laplace(b); a uniform distribution is best not clipped at all."""
    rng = np.random.default_rng(0)
    gauss = mse_range(rng.standard_normal(1 << 17), asymmetric=False).high
    laplace = mse_range(rng.laplace(size=1 << 17), asymmetric=False).high
    assert 3.7 < gauss < 4.15 and 9.3 < laplace < 10.5
    assert mse_range(np.linspace(-1, 1, 20_001), asymmetric=False) == Range(-1.0, 1.0)
    relu = mse_range(np.maximum(rng.standard_normal(1 << 17), 0), asymmetric=True)
    assert relu.low == 0 and 3.7 < relu.high < 4.8


@pytest.mark.parametrize(("options", "message"), [
    ({"weights": "per-channel"}, r"weights = 'per-channel' must be one of 'per_tensor', "
                                 r"'per_channel' \(did you mean 'per_channel'\?\)"),
    ({"activations": "asym"}, r"activations = 'asym' must be one of 'symmetric', 'asymmetric'"),
    ({"calibrate": "entropy"}, r"calibrate = 'entropy' must be one of 'max', 'percentile', "
                               r"'mse'$"),
    ({"calibrate": "MSE"}, r"\(did you mean 'mse'\?\)"),
    ({"percentile": 0}, r"percentile = 0 must be a number in \(0, 100\]"),
    ({"percentile": "99"}, r"percentile = '99' must be a number"),
])
def test_bad_scheme_options_name_the_value_and_the_choices(options, message):
    with pytest.raises(QuantizationError, match=message):
        ax.quantize(tiny(), CALIBRATION, **options)


def test_the_scheme_is_recorded_and_defaults_are_symmetric_per_tensor_max(digits):
    q = ax.quantize(ax.network("lenet5"), digits[0][:16])
    assert q.scheme == Scheme() and q.input_zero == 0
    assert all(getattr(op, "out_zero", 0) == 0 for op in q.ops)
    mse = ax.quantize(ax.network("lenet5"), digits[0][:16], weights="per_channel",
                      calibrate="mse")
    assert "Scheme(weights='per_channel', activations='symmetric', calibrate='mse')" in repr(mse)
    assert Scheme.parse(calibrate="percentile", percentile=99.9).label == \
        "per_tensor/symmetric/percentile(99.9)"


@pytest.mark.parametrize("options", [
    {"weights": "per_channel"},
    {"weights": "per_channel", "calibrate": "percentile"},
    {"weights": "per_channel", "calibrate": "mse"},
    {"weights": "per_channel", "activations": "asymmetric"},
])
def test_lenet5_per_channel_is_within_half_a_point_of_fp32(digits, options):
    calibration, (x, y) = digits
    net = ax.network("lenet5")
    q = ax.quantize(net, calibration, **options)
    assert q.accuracy(x, y) >= net.accuracy(x, y) - 0.005


def test_zero_points_halve_the_error_of_relu_outputs(digits):
    """ReLU outputs are non-negative: symmetric int8 wastes the negative codes."""
    calibration, (x, _) = digits
    net = ax.network("lenet5")
    reference = net.forward(x)

    def rms(q: ax.QuantizedNetwork) -> float:
        return float(np.sqrt(np.mean((q.forward(x) - reference) ** 2)))

    symmetric = rms(ax.quantize(net, calibration))
    assert rms(ax.quantize(net, calibration, activations="asymmetric")) < 0.85 * symmetric


@pytest.mark.parametrize("options", [{"weights": "per_channel"},
                                     {"weights": "per_channel", "calibrate": "mse"}])
def test_per_channel_lenet5_is_bit_exact_on_the_tpu_cycle_engine(digits, options):
    calibration, (x, y) = digits
    q = ax.quantize(ax.network("lenet5"), calibration[:64], **options)
    fast = ax.machine("tpu-v1").run(q, batch=8, precision="int8", data=(x[:12], y[:12]))
    cycle = ax.machine("tpu-v1", numerics="cycle").run(q, batch=8, precision="int8",
                                                       data=(x[:12], y[:12]))
    np.testing.assert_array_equal(fast.outputs, cycle.outputs)
    np.testing.assert_array_equal(cycle.outputs, q.forward(x[:12]))


def test_asymmetric_is_refused_on_tpu_v1_and_runs_on_a_gpu(digits):
    calibration, (x, y) = digits
    q = ax.quantize(ax.network("lenet5"), calibration[:64], activations="asymmetric")
    with pytest.raises(QuantizationError, match="tpu-v1 cannot run 'lenet5' quantized as "
                                                "per_tensor/asymmetric/max: the TPU v1 matrix "
                                                "unit has no zero-point support"):
        ax.machine("tpu-v1").run(q, batch=8, precision="int8", data=(x[:12], y[:12]))
    r = ax.machine("gpu-h100").run(q, batch=8, precision="int8", data=(x, y))
    np.testing.assert_array_equal(r.outputs, q.forward(x))
    assert r.accuracy >= 0.97


@pytest.mark.parametrize("name", ["lstm-recall", "rnn-hello"])
def test_recurrent_networks_take_every_scheme(name):
    net = ax.network(name)
    config = dict(net.training)
    x, y = ax.datasets.load(config["dataset"], split="test", **config.get("data", {}))
    baseline = ax.quantize(net, calibration=x[:128]).accuracy(x, y)
    q = ax.quantize(net, calibration=x[:128], weights="per_channel", activations="asymmetric",
                    calibrate="mse")
    recurrent = next(op for op in q.ops if isinstance(op, QRecurrent))
    assert recurrent.gate_multiplier[0].shape == (recurrent.weight.shape[1],)
    assert q.accuracy(x, y) >= baseline - 0.02


def test_a_scheme_built_from_plain_strings_means_what_it_says():
    from accelsim.quant.scheme import Scheme, Weights

    assert Scheme(weights="per_channel").weights is Weights.PER_CHANNEL
    assert Scheme(weights="per_channel") == Scheme.parse(weights="per_channel")
    with pytest.raises(QuantizationError, match="per_channel"):
        Scheme(weights="per-channel")
