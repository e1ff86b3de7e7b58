"""The integer path and the TPU's cycle-level engine agree bit for bit over whole inferences:
every layer of LeNet-5, cnn-wide and the LSTMs, every time step, under every scheme the TPU v1
can run (8- and 16-bit activations, per-tensor and per-channel weights, 8/16/32-bit cells)."""

from __future__ import annotations

import numpy as np
import pytest

import accelsim as ax
from accelsim.nn.datasets import network_data
from accelsim.precision import Precision

SCHEMES = {
    "default": {},
    "per-channel mse": {"weights": "per_channel", "calibrate": "mse"},
    "percentile, two 16-bit layers": {"calibrate": "percentile", "percentile": 99.9,
                                      "activation_bits": {"conv2": 16, "fc1": 16}},
    "all 16-bit": {"activation_bits": 16, "weights": "per_channel"},
}
RECURRENT_SCHEMES = {
    "default": {},
    "8-bit cell, small tables": {"cell_bits": 8, "lut_size": 64},
    "16-bit activations, 32-bit cell": {"activation_bits": 16, "cell_bits": 32},
    "16-bit lstm, 8-bit readout": {"activation_bits": {"lstm": 16}, "weights": "per_channel"},
}


def data(name: str, samples: int) -> tuple[ax.Network, np.ndarray, np.ndarray]:
    net = ax.network(name)
    return net, network_data(net, "train")[0][:256], network_data(net, "test")[0][:samples]


def assert_engine_matches(q, x: np.ndarray, **array) -> None:
    cycle = ax.machine("tpu-v1", numerics="cycle", **array)
    np.testing.assert_array_equal(cycle.execute(q, x, Precision.INT8), q.forward(x))
    np.testing.assert_array_equal(ax.machine("tpu-v1").execute(q, x, Precision.INT8),
                                  q.forward(x))


@pytest.mark.parametrize("options", SCHEMES.values(), ids=SCHEMES.keys())
def test_whole_lenet5_inference_is_bit_exact_on_the_engine(options):
    net, calibration, x = data("lenet5", 64)
    assert_engine_matches(ax.quantize(net, calibration, **options), x)


def test_whole_cnn_wide_inference_is_bit_exact_on_the_engine():
    net, calibration, x = data("cnn-wide", 8)
    q = ax.quantize(net, calibration, weights="per_channel", activation_bits={"fc1": 16})
    assert q.gemm_input_bits["fc1"] == 16
    assert_engine_matches(q, x)


@pytest.mark.parametrize("options", RECURRENT_SCHEMES.values(), ids=RECURRENT_SCHEMES.keys())
def test_whole_lstm_recall_inference_is_bit_exact_on_the_engine(options):
    net, calibration, x = data("lstm-recall", 64)  # 52 time steps
    assert_engine_matches(ax.quantize(net, calibration, **options), x)


def test_whole_lstm_char_inference_is_bit_exact_on_the_engine():
    net, calibration, x = data("lstm-char", 2)  # 64 steps of a 2-tile gate GEMM
    assert_engine_matches(ax.quantize(net, calibration, activation_bits=16), x)


def test_rnn_hello_is_bit_exact_on_a_small_array():
    net, calibration, x = data("rnn-hello", 1)
    assert_engine_matches(ax.quantize(net, calibration), x, array_rows=4, array_cols=4)
