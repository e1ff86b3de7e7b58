"""int8 quantization of graph networks: batch norm folded (or an integer per-channel affine),
adds and concats requantized to a common scale, clip, global pooling, padded pooling,
grouped/depthwise/dilated convolutions, GRU and bidirectional recurrences; bit-exact between
the integer path and the TPU's cycle-level engine, and close to fp32."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import accelsim as ax
from accelsim.nn.loader import parse_network
from accelsim.nn.network import Network
from accelsim.precision import Precision
from accelsim.quant.fixedpoint import symmetric_scale
from accelsim.quant.graph_kernels import QAdd, QAffine, QConcat
from accelsim.quant.gru import QGRU
from accelsim.quant.kernels import QElementwise, QGemm, QRecurrent, int_matmul


def layer(name: str, type_: str, **fields: object) -> dict:
    return {"name": name, "type": type_, **fields}


RESIDUAL = [  # every graph op the int8 path has: folded and unfolded batch norm, relu6, ...
    layer("stem", "conv2d", out_channels=8, kernel_size=3, padding=1, bias=False),
    layer("stem_bn", "batchnorm2d"),  # folds into stem
    layer("stem_act", "relu6"),
    layer("dw", "conv2d", out_channels=8, kernel_size=3, padding=2, dilation=2, groups=8),
    layer("dw_bn", "batchnorm2d"),  # dw is also read by the concat: cannot fold
    layer("dw_relu", "relu"),
    layer("pw", "conv2d", out_channels=8, kernel_size=1, groups=2),
    layer("add", "add", inputs=["pw", "stem_act"]),
    layer("add_relu", "relu"),
    layer("pool", "maxpool2d", kernel_size=3, stride=1, padding=1),
    layer("cat", "concat", inputs=["pool", "dw"]),
    layer("clip", "clip", min=-1.0, max=2.0),
    layer("avg", "avgpool2d", kernel_size=3, stride=2, padding=1, count_include_pad=False),
    layer("gap", "globalavgpool2d"),
    layer("flatten", "flatten"),
    layer("fc", "linear", out_features=5),
]


def inverted_residual(name: str, source: str, channels: int, expand: int) -> list[dict]:
    """MobileNetV2's block: 1×1 expansion, depthwise 3×3, 1×1 projection, residual add."""
    wide = channels * expand
    return [
        layer(f"{name}_expand", "conv2d", inputs=[source], out_channels=wide, kernel_size=1,
              bias=False),
        layer(f"{name}_expand_bn", "batchnorm2d"),
        layer(f"{name}_expand_act", "relu6"),
        layer(f"{name}_dw", "conv2d", out_channels=wide, kernel_size=3, padding=1,
              groups=wide, bias=False),
        layer(f"{name}_dw_bn", "batchnorm2d"),
        layer(f"{name}_dw_act", "relu6"),
        layer(f"{name}_project", "conv2d", out_channels=channels, kernel_size=1, bias=False),
        layer(f"{name}_project_bn", "batchnorm2d"),
        layer(f"{name}_add", "add", inputs=[f"{name}_project_bn", source]),
    ]


MOBILENET = [
    layer("stem", "conv2d", out_channels=8, kernel_size=3, stride=2, padding=1, bias=False),
    layer("stem_bn", "batchnorm2d"),
    layer("stem_act", "relu6"),
    *inverted_residual("b1", "stem_act", 8, 3),
    *inverted_residual("b2", "b1_add", 8, 2),
    layer("head", "conv2d", inputs=["b2_add"], out_channels=16, kernel_size=1, bias=False),
    layer("head_bn", "batchnorm2d"),
    layer("head_act", "relu6"),
    layer("gap", "globalavgpool2d"),
    layer("flatten", "flatten"),
    layer("fc", "linear", out_features=10),
]


def graph(name: str, layers: list[dict], input_shape: list[int], seed: int = 0,
          sequence: bool = False) -> Network:
    """A network of `layers` with random weights and batch norm statistics away from 0 and 1."""
    doc: dict = {"name": name, "input_shape": input_shape, "layers": layers}
    if sequence:
        doc.update(sequence=True, seq_len=6)
    net = parse_network(doc, Path(f"{name}.toml"), seed=seed)
    rng = np.random.default_rng(seed)
    params = {key: dict(value) for key, value in net.params.items()}
    for values in params.values():
        if "running_var" in values:
            shape = values["running_var"].shape
            values["running_mean"] = rng.normal(0, 0.3, shape).astype(np.float32)
            values["running_var"] = rng.uniform(0.5, 2, shape).astype(np.float32)
            values["weight"] = rng.uniform(0.5, 1.5, shape).astype(np.float32)
            values["bias"] = rng.normal(0, 0.2, shape).astype(np.float32)
    return net.with_params(params)


def images(shape: tuple[int, ...], count: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 1, (count, *shape)).astype(np.float32)


def assert_engine_matches(q, x: np.ndarray, array_rows: int = 256,
                          array_cols: int = 256) -> None:
    cycle = ax.machine("tpu-v1", numerics="cycle", array_rows=array_rows,
                       array_cols=array_cols)
    np.testing.assert_array_equal(cycle.execute(q, x, Precision.INT8), q.forward(x))


@pytest.fixture(scope="module")
def residual() -> tuple[Network, np.ndarray]:
    return graph("residual", RESIDUAL, [3, 12, 12]), images((3, 12, 12), 64)


def test_residual_graph_quantizes_every_op_as_an_integer_op(residual):
    net, x = residual
    q = ax.quantize(net, calibration=x[:48])
    kinds = {op.name: type(op) for op in q.ops}
    assert "stem_bn" not in kinds  # folded into stem, whose ReLU6 it absorbs
    assert kinds["dw_bn"] is QAffine and kinds["add"] is QAdd and kinds["cat"] is QConcat
    stem = next(op for op in q.ops if op.name == "stem")
    assert isinstance(stem, QGemm) and stem.output == "stem_act"
    assert (stem.out_low, stem.out_high) == (0, 127)  # relu6 at the scale of [0, 6]
    assert np.isclose(stem.out_scale, 6 / 127, rtol=0.02)
    add = next(op for op in q.ops if op.name == "add")
    assert add.inputs == ("pw", "stem_act") and add.output == "add_relu" and add.out_low == 0
    gap = next(op for op in q.ops if op.name == "gap")
    assert isinstance(gap, QElementwise) and gap.out_scale == gap.in_scale


@pytest.mark.parametrize("options", [{}, {"weights": "per_channel"}, {"activation_bits": 16}],
                         ids=["default", "per-channel", "16-bit"])
def test_residual_graph_is_bit_exact_on_the_engine_and_close_to_fp32(residual, options):
    net, x = residual
    q = ax.quantize(net, calibration=x[:48], **options)
    assert_engine_matches(q, x[48:52], array_rows=16, array_cols=16)
    reference, out = net.forward(x[48:]), q.forward(x[48:])
    assert np.abs(out - reference).max() < 0.06 * np.abs(reference).max()
    assert np.mean(out.argmax(1) == reference.argmax(1)) >= 0.9


def test_zero_points_run_the_graph_too(residual):
    net, x = residual
    q = ax.quantize(net, calibration=x[:48], activations="asymmetric")
    assert q.has_zero_points
    reference = net.forward(x[48:])
    assert np.abs(q.forward(x[48:]) - reference).max() < 0.06 * np.abs(reference).max()


@pytest.mark.parametrize("zeros", [(0, 0, 0), (5, -20, 3)])
def test_integer_add_is_within_one_code_of_the_real_sum(zeros):
    rng = np.random.default_rng(2)
    scales = (0.031, 0.0047, 0.2)
    codes = tuple(rng.integers(-128, 128, (4, 3, 9, 9)).astype(np.int8) for _ in scales)
    real = sum((q.astype(np.float64) - z) * s for q, s, z in zip(codes, scales, zeros,
                                                                 strict=True))
    out_scale, out_zero = symmetric_scale(float(np.abs(real).max())), zeros[-1]
    op = QAdd.of("add", scales, zeros, 8, out_scale, out_zero, -128, 127)
    got = op.run(codes, int_matmul).astype(np.int64)
    expected = np.clip(np.rint(real / out_scale) + out_zero, -128, 127)
    assert np.abs(got - expected).max() <= 1
    assert np.mean(got == expected) > 0.98  # the shared left shift keeps the inputs' bits
    relu = QAdd.of("add", scales, zeros, 8, out_scale, out_zero, out_zero, 127)
    assert relu.run(codes, int_matmul).min() >= out_zero


def test_concat_requantizes_to_the_common_scale_within_one_code():
    rng = np.random.default_rng(3)
    a = rng.integers(-127, 128, (2, 3, 4, 4)).astype(np.int8)
    b = rng.integers(-127, 128, (2, 5, 4, 4)).astype(np.int8)
    op = QConcat("cat", 1, (None, (1 << 30, 32)), (0, 0), 0.1)  # b at 0.025 → 0.1
    out = op.run((a, b), int_matmul)
    assert out.shape == (2, 8, 4, 4) and out.dtype == np.int8
    np.testing.assert_array_equal(out[:, :3], a)  # already on the grid: passed through
    assert np.abs(out[:, 3:] - np.rint(b.astype(np.float64) / 4)).max() <= 1


def test_padded_average_pooling_without_the_padding_divides_by_the_real_inputs():
    pool = ax.nn.conv.AvgPool2d("avg", kernel_size=(3, 3), stride=(1, 1), padding=(1, 1, 1, 1),
                                count_include_pad=False)
    op = QElementwise("avg", pool, "avgpool", 1.0, 1.0)
    x = np.full((1, 1, 4, 4), 100, np.int8)
    np.testing.assert_array_equal(op.run(x, int_matmul), x)  # corners average 4 inputs
    maxpool = QElementwise("max", ax.nn.conv.MaxPool2d("max", kernel_size=(3, 3), stride=(1, 1),
                                                       padding=(1, 1, 1, 1)), "maxpool", 1, 1)
    negative = np.full((1, 1, 3, 3), -120, np.int8)
    np.testing.assert_array_equal(maxpool.run(negative, int_matmul), negative)


@pytest.fixture(scope="module")
def digits():
    train = ax.datasets.load("digits", split="train")[0][:256]
    return train, ax.datasets.load("digits", split="test")


def test_resnet_digits_int8_is_within_half_a_point_of_fp32(digits):
    calibration, (x, y) = digits
    net = ax.network("resnet-digits")
    q = ax.quantize(net, calibration=calibration)
    fp32, int8 = net.accuracy(x, y), q.accuracy(x, y)
    assert fp32 >= 0.99  # 357 of 359 test digits when trained
    assert int8 >= fp32 - 0.005
    assert_engine_matches(q, x[:16], array_rows=32, array_cols=32)


@pytest.mark.parametrize("machine", ["tpu-v1", "cpu-host", "gpu-h200"])
def test_machines_run_resnet_digits_in_int8_with_accuracy(digits, machine):
    _, (x, y) = digits
    net = ax.network("resnet-digits")
    result = ax.machine(machine).run(net, batch=64, precision="int8", data=(x, y))
    assert result.precision is Precision.INT8
    assert result.accuracy >= net.accuracy(x, y) - 0.005


def test_mobilenet_like_graph_int8_follows_fp32():
    net, x = graph("mobile", MOBILENET, [3, 16, 16]), images((3, 16, 16), 96)
    q = ax.quantize(net, calibration=x[:64])
    assert not any(isinstance(op, QAffine) for op in q.ops)  # every batch norm folds
    reference, out = net.forward(x[64:]), q.forward(x[64:])
    cosine = np.sum(out * reference) / (np.linalg.norm(out) * np.linalg.norm(reference))
    assert cosine > 0.99
    assert np.mean(out.argmax(1) == reference.argmax(1)) >= 0.8
    assert_engine_matches(q, x[64:66], array_rows=16, array_cols=16)


RECURRENT = {
    "bidirectional lstm": [layer("rec", "lstm", hidden_size=6, bidirectional=True),
                           layer("out", "linear", out_features=4)],
    "bidirectional rnn, last state": [layer("rec", "rnn", hidden_size=5, bidirectional=True,
                                            return_sequences=False),
                                      layer("out", "linear", out_features=4)],
    "gru": [layer("rec", "gru", hidden_size=7), layer("out", "linear", out_features=4)],
    "bidirectional gru, onnx form": [layer("rec", "gru", hidden_size=6, bidirectional=True,
                                           linear_before_reset=False),
                                     layer("out", "linear", out_features=4)],
}


@pytest.mark.parametrize("layers", RECURRENT.values(), ids=RECURRENT.keys())
def test_recurrent_directions_are_bit_exact_and_close_to_fp32(layers):
    net = graph("rec", layers, [5], sequence=True)
    x = np.random.default_rng(4).normal(0, 1, (40, 6, 5)).astype(np.float32)
    q = ax.quantize(net, calibration=x, weights="per_channel")  # no input beyond its range
    assert any(isinstance(op, QRecurrent | QGRU) for op in q.ops)
    assert_engine_matches(q, x[32:], array_rows=8, array_cols=8)
    reference = net.forward(x[32:])
    assert np.abs(q.forward(x[32:]) - reference).max() < 0.08 * np.abs(reference).max() + 0.02


def test_gru_char_int8_keeps_its_accuracy():
    net = ax.network("gru-char")
    x, y = ax.datasets.load("stdlib-docs", split="test")
    calibration = ax.datasets.load("stdlib-docs", split="train")[0][:64]
    q = ax.quantize(net, calibration=calibration)
    assert sum(isinstance(op, QGRU) for op in q.ops) == 1
    assert q.accuracy(x, y) >= net.accuracy(x, y) - 0.01
    assert_engine_matches(q, x[:2])
