"""Forward closed forms and gradient checks (float64 central differences) for every layer."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.nn.conv import AvgPool2d, Conv2d, MaxPool2d, col2im, im2col
from accelsim.nn.dense import Flatten, Linear, ReLU, Sigmoid, Softmax, Tanh, relu, sigmoid
from accelsim.nn.layers import LayerSpecError
from accelsim.nn.numerics import EXACT
from accelsim.nn.recurrent import LSTM, RNN

EPS = 1e-6


def numeric_grad(f, array: np.ndarray) -> np.ndarray:
    grad = np.zeros_like(array)
    for idx in np.ndindex(array.shape):
        old = array[idx]
        array[idx] = old + EPS
        plus = f()
        array[idx] = old - EPS
        minus = f()
        array[idx] = old
        grad[idx] = (plus - minus) / (2 * EPS)
    return grad


def check_gradients(layer, in_shape, batch=2, seed=0, input_fn=None):
    rng = np.random.default_rng(seed)
    x = input_fn(rng) if input_fn else rng.standard_normal((batch, *in_shape))
    params = {k: v.astype(np.float64) + 0.1 * rng.standard_normal(v.shape)
              for k, v in layer.init_params(in_shape, rng).items()}
    y, cache = layer.forward(params, x, EXACT)
    dy = rng.standard_normal(y.shape)
    dx, grads = layer.backward(params, cache, dy)

    def loss() -> float:
        return float((layer.forward(params, x, EXACT)[0] * dy).sum())

    np.testing.assert_allclose(dx, numeric_grad(loss, x), rtol=1e-5, atol=1e-7)
    assert set(grads) == set(params)
    for key in params:
        np.testing.assert_allclose(grads[key], numeric_grad(loss, params[key]),
                                   rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("layer,in_shape", [
    (Conv2d("c", out_channels=3, kernel_size=(3, 3)), (2, 6, 6)),
    (Conv2d("c", out_channels=2, kernel_size=(3, 2), stride=(2, 1), padding=1), (2, 5, 5)),
    (Conv2d("c", out_channels=2, kernel_size=(2, 2), bias=False), (1, 4, 4)),
    (Linear("l", out_features=3), (4,)),
    (Linear("l", out_features=3), (5, 4)),
    (Flatten("f"), (2, 3, 3)),
    (Sigmoid("s"), (5,)),
    (Tanh("t"), (5,)),
    (Softmax("s"), (3, 4)),
    (AvgPool2d("a", kernel_size=(2, 2)), (2, 4, 4)),
    (AvgPool2d("a", kernel_size=(3, 3), stride=(1, 1)), (1, 5, 5)),
    (RNN("r", hidden_size=3), (5, 4)),
    (RNN("r", hidden_size=3, return_sequences=False), (5, 4)),
    (LSTM("l", hidden_size=3), (5, 4)),
    (LSTM("l", hidden_size=3, return_sequences=False), (6, 2)),
])
def test_gradients_match_finite_differences(layer, in_shape):
    check_gradients(layer, in_shape)


def test_relu_and_maxpool_gradients_away_from_kinks():
    # Distinct values far from 0 and from each other keep the finite differences on one side.
    def spread(shape):
        return lambda rng: (rng.permutation(np.prod(shape)).reshape(shape) - 20.5) * 0.1

    check_gradients(ReLU("r"), (4, 5), input_fn=spread((2, 4, 5)))
    check_gradients(MaxPool2d("m", kernel_size=(2, 2)), (2, 4, 4), input_fn=spread((2, 2, 4, 4)))
    check_gradients(MaxPool2d("m", kernel_size=(3, 3), stride=(1, 1)), (1, 5, 5),
                    input_fn=spread((2, 1, 5, 5)))


def test_book_neuron_example():
    # The book: inputs (2, 5, 8), weights (2, -1, 0.5): 4 - 5 + 4 = 3, and ReLU(3) = 3.
    layer = Linear("neuron", out_features=1, bias=False)
    params = {"weight": np.array([[2.0], [-1.0], [0.5]])}
    y, _ = layer.forward(params, np.array([[2.0, 5.0, 8.0]]), EXACT)
    assert y[0, 0] == 3.0
    assert relu(y)[0, 0] == 3.0


def test_tanh_is_a_rescaled_sigmoid():
    x = np.linspace(-6, 6, 101)
    np.testing.assert_allclose(np.tanh(x), 2 * sigmoid(2 * x) - 1, atol=1e-15)


def test_sigmoid_is_stable_for_large_inputs():
    out = sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_array_equal(out, [0.0, 0.5, 1.0])


def test_conv_matches_direct_loops():
    rng = np.random.default_rng(1)
    layer = Conv2d("c", out_channels=2, kernel_size=(3, 2), stride=(2, 1), padding=1)
    x = rng.standard_normal((2, 3, 5, 6))
    params = layer.init_params((3, 5, 6), rng)
    y, _ = layer.forward(params, x, EXACT)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    w, b = params["weight"], params["bias"]
    expected = np.zeros_like(y)
    for n, o, i, j in np.ndindex(*y.shape):
        patch = xp[n, :, 2 * i : 2 * i + 3, j : j + 2]
        expected[n, o, i, j] = (patch * w[o]).sum() + b[o]
    np.testing.assert_allclose(y, expected, rtol=1e-6)


def test_col2im_is_the_adjoint_of_im2col():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 7, 6))
    cols = im2col(x, (3, 3), (2, 1), 1)
    r = rng.standard_normal(cols.shape)
    back = col2im(r, x.shape, (3, 3), (2, 1), 1, (4, 6))
    assert np.isclose((cols * r).sum(), (x * back).sum())


def test_pooling_values():
    x = np.arange(16, dtype=float).reshape(1, 1, 4, 4)
    y_max, _ = MaxPool2d("m", kernel_size=(2, 2)).forward({}, x, EXACT)
    y_avg, _ = AvgPool2d("a", kernel_size=(2, 2)).forward({}, x, EXACT)
    np.testing.assert_array_equal(y_max[0, 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(y_avg[0, 0], [[2.5, 4.5], [10.5, 12.5]])


def test_softmax_rows_sum_to_one():
    y, _ = Softmax("s").forward({}, np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0]]), EXACT)
    np.testing.assert_allclose(y.sum(axis=-1), 1.0)
    assert y[1, 0] == pytest.approx(1.0)


def test_lstm_gates_follow_the_book_equations():
    rng = np.random.default_rng(3)
    layer = LSTM("l", hidden_size=2)
    params = layer.init_params((1, 3), rng)
    x = rng.standard_normal((1, 1, 3))
    y, _ = layer.forward(params, x, EXACT)
    z = np.concatenate([x[0, 0], np.zeros(2)]) @ params["weight"] + params["bias"]
    i, f, o, g = sigmoid(z[0:2]), sigmoid(z[2:4]), sigmoid(z[4:6]), np.tanh(z[6:8])
    c = f * 0 + i * g
    np.testing.assert_allclose(y[0, 0], o * np.tanh(c), rtol=1e-6)
    assert np.all(params["bias"][2:4] == 1.0)  # forget-gate bias starts at 1


def test_layer_shape_errors_name_the_problem():
    with pytest.raises(LayerSpecError, match="flatten"):
        Linear("fc", out_features=3).output_shape((2, 4, 4))
    with pytest.raises(LayerSpecError, match=r"in_features = 120.*400"):
        Linear("fc", out_features=3, in_features=120).output_shape((400,))
    with pytest.raises(LayerSpecError, match="larger than"):
        Conv2d("c", out_channels=1, kernel_size=(7, 7)).output_shape((1, 5, 5))
    with pytest.raises(LayerSpecError, match="time, features"):
        LSTM("l", hidden_size=3).output_shape((1, 5, 5))
