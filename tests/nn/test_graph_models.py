"""The shipped graph-era networks (resnet-digits, gru-char) meet their targets at fp32 on the
test splits, and agree with what their model cards and npz records say."""

from __future__ import annotations

import numpy as np

import accelsim as ax
from accelsim.nn.norm import BatchNorm2d
from accelsim.nn.train import evaluate


def test_resnet_digits_reaches_97_percent_on_digits():
    x, y = ax.datasets.load("digits", split="test")
    assert ax.network("resnet-digits").accuracy(x, y) >= 0.97


def test_resnet_digits_infers_with_its_trained_running_statistics():
    net = ax.network("resnet-digits")
    norms = [layer.name for layer in net.layers if isinstance(layer, BatchNorm2d)]
    assert len(norms) == 6
    for name in norms:  # training moved them off their starting ones and zeros
        assert not np.allclose(net.params[name]["running_var"], 1.0)
        assert not np.allclose(net.params[name]["running_mean"], 0.0)
    # Inference reads no batch statistics: a sample's logits do not depend on its batch.
    x = ax.datasets.load("digits", split="test")[0][:16]
    np.testing.assert_allclose(net.forward(x, chunk=1), net.forward(x), rtol=1e-5, atol=1e-5)


def test_gru_char_is_comparable_to_lstm_char_on_held_out_text():
    x, y = ax.datasets.load("stdlib-docs", split="test")
    gru, lstm = evaluate(ax.network("gru-char"), x, y), evaluate(ax.network("lstm-char"), x, y)
    counts = np.bincount(ax.datasets.load("stdlib-docs", split="train")[1].ravel(),
                         minlength=96) + 1
    probs = counts / counts.sum()
    unigram_perplexity = float(np.exp(-np.log(probs[y.ravel()]).mean()))
    assert gru["perplexity"] < 0.5 * unigram_perplexity
    assert gru["accuracy"] > 0.5
    assert gru["perplexity"] < 1.1 * lstm["perplexity"]
