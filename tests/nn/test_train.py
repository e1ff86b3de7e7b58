"""Training: loss and optimizers in closed form, tiny runs that learn, and determinism."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.errors import AccelsimError
from accelsim.nn.loader import load_network
from accelsim.nn.optim import SGD, Adam, clip_by_norm, global_norm
from accelsim.nn.train import TrainConfig, evaluate, softmax_cross_entropy, train

TINY_CNN = """
name = "tiny-cnn"
input_shape = [1, 32, 32]
[[layers]]
name = "conv"
type = "conv2d"
out_channels = 4
kernel_size = 5
stride = 3
[[layers]]
type = "relu"
[[layers]]
type = "maxpool2d"
kernel_size = 2
[[layers]]
type = "flatten"
[[layers]]
name = "fc"
type = "linear"
out_features = 10
[[layers]]
type = "softmax"
[training]
dataset = "digits"
optimizer = "sgd"
learning_rate = 0.1
epochs = 2
batch_size = 64
"""


def test_cross_entropy_value_and_gradient():
    logits = np.array([[2.0, 1.0, 0.1], [0.5, 0.5, 3.0]])
    labels = np.array([0, 2])
    loss, grad = softmax_cross_entropy(logits, labels)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert loss == pytest.approx(-np.log(p[[0, 1], [0, 2]]).mean())
    expected = p.copy()
    expected[[0, 1], [0, 2]] -= 1
    np.testing.assert_allclose(grad, expected / 2)


def test_sgd_momentum_two_steps():
    w = {"l": {"w": np.array([1.0])}}
    opt = SGD(w, momentum=0.9)
    opt.step({"l": {"w": np.array([1.0])}}, lr=0.1)
    assert w["l"]["w"][0] == pytest.approx(0.9)
    opt.step({"l": {"w": np.array([1.0])}}, lr=0.1)
    assert w["l"]["w"][0] == pytest.approx(0.9 - 0.19)


def test_adam_first_step_moves_by_the_learning_rate():
    w = {"l": {"w": np.array([1.0, 1.0])}}
    Adam(w).step({"l": {"w": np.array([5.0, -0.01])}}, lr=0.01)
    np.testing.assert_allclose(w["l"]["w"], [0.99, 1.01], rtol=1e-5)


def test_clipping_scales_to_the_norm():
    grads = {"a": {"w": np.array([3.0])}, "b": {"w": np.array([4.0])}}
    assert global_norm(grads) == 5.0
    assert global_norm(clip_by_norm(grads, 1.0)) == pytest.approx(1.0)
    assert clip_by_norm(grads, 10.0) is grads


def test_network_gradient_matches_finite_differences(write_model):
    net = load_network(write_model(TINY_CNN), seed=0)
    net = net.with_params({k: {p: a.astype(np.float64) for p, a in v.items()}
                           for k, v in net.params.items()})
    rng = np.random.default_rng(0)
    x, y = rng.random((3, 1, 32, 32)), np.array([1, 4, 9])
    logits, caches = net.forward_train(x)
    _, dlogits = softmax_cross_entropy(logits, y)
    grads = net.backward(caches, dlogits)
    weight = net.params["fc"]["weight"]
    for idx in [(0, 0), (5, 3), (20, 9)]:
        old = weight[idx]
        weight[idx] = old + 1e-6
        plus = softmax_cross_entropy(net.forward_train(x)[0], y)[0]
        weight[idx] = old - 1e-6
        minus = softmax_cross_entropy(net.forward_train(x)[0], y)[0]
        weight[idx] = old
        assert grads["fc"]["weight"][idx] == pytest.approx((plus - minus) / 2e-6, rel=1e-4)


def test_tiny_cnn_learns_and_training_is_deterministic(write_model):
    path = write_model(TINY_CNN)
    net = load_network(path, seed=0)
    config = TrainConfig.from_table(net.training)
    first = train(net, config)
    second = train(load_network(path, seed=0), config)
    assert first.history[-1]["train_loss"] < first.history[0]["train_loss"]
    assert first.metrics["accuracy"] > 0.6  # 10 classes: chance is 0.1
    for layer, params in first.network.params.items():
        for key, value in params.items():
            np.testing.assert_array_equal(value, second.network.params[layer][key])
    assert first.network.trained and not net.trained
    np.testing.assert_array_equal(net.params["fc"]["bias"], 0)  # the input was not touched


def test_rnn_hello_learns_the_second_l():
    net = load_network("rnn-hello", weights="init", seed=0)
    result = train(net, TrainConfig.from_table(dict(net.training)))
    assert result.metrics["accuracy"] == 1.0


def test_evaluate_reports_perplexity_for_sequences():
    net = load_network("rnn-hello")
    from accelsim.nn import datasets

    metrics = evaluate(net, *datasets.load("hello"))
    assert metrics["perplexity"] == pytest.approx(np.exp(metrics["loss"]))


@pytest.mark.parametrize("table,match", [
    ({"epochs": 2}, "needs a dataset"),
    ({"dataset": "digits", "epochs": 0}, "epochs = 0 must be a positive integer"),
    ({"dataset": "digits", "learning_rate": -1}, "learning_rate = -1 must be"),
    ({"dataset": "digits", "learning_rate": "0.1"}, "learning_rate = .0.1. must be"),
    ({"dataset": "digits", "epochs": True}, "epochs = True must be"),
    ({"dataset": "digits", "optimizer": "rms"}, "optimizer = .rms."),
    ({"dataset": "nope"}, "dataset = .nope.; available: digits"),
    ({"dataset": "recall", "data": 5}, "data = 5 must be a table"),
    ({"dataset": "digits", "schedule": "step"}, "schedule = 'step'"),
    ({"dataset": "digits", "epoch": 3}, r"unknown key\(s\) epoch"),
])
def test_bad_training_tables(table, match):
    with pytest.raises(AccelsimError, match=match):
        TrainConfig.from_table(table)
