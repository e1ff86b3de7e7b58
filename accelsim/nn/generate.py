"""Showing what a trained sequence model does: text sampling and example predictions."""

from __future__ import annotations

import numpy as np

from accelsim.nn import datasets, text
from accelsim.nn.dense import softmax
from accelsim.nn.network import Network


def sample_text(net: Network, prompt: str, length: int = 120, temperature: float = 0.0,
                seed: int = 0) -> str:
    """Continue `prompt` character by character; temperature 0 picks the most likely one.

    The model sees the last `seq_len` characters each step (a sliding window).
    """
    rng = np.random.default_rng(seed)
    ids = list(text.encode(prompt))
    window = net.seq_len or 64
    for _ in range(length):
        context = text.one_hot(np.array(ids[-window:]))[None]
        logits = net.forward(context, logits=True)[0, -1]
        if temperature <= 0:
            ids.append(int(logits.argmax()))
        else:
            probs = softmax(logits.astype(np.float64) / temperature)
            ids.append(int(rng.choice(len(probs), p=probs)))
    return text.decode(np.array(ids))


def hello_example(net: Network) -> str:
    """'h e l l → e l l o' as the network predicts it."""
    x, _ = datasets.hello()
    predicted = net.predict(x)[0]
    return "h e l l → " + " ".join(datasets.HELLO_VOCAB[i] for i in predicted)


def recall_example(net: Network, gap: int = 50) -> str:
    """One story with the network's answer."""
    x, y = datasets.recall_task("test", n=1, gap=gap, seed=7)
    answer = datasets.RECALL_ANSWERS[int(net.predict(x)[0])]
    words = datasets.recall_story(x[0]).split()
    story = " ".join([*words[:4], "…", *words[-3:]])
    return f"{story} → {answer} (truth: {datasets.RECALL_ANSWERS[int(y[0])]})"


def example_for(net: Network, dataset: str) -> str | None:
    """A one-line demonstration suited to the data set, or None."""
    if dataset == "hello":
        return hello_example(net)
    if dataset == "recall":
        return recall_example(net, net.training.get("data", {}).get("gap", 50))
    if dataset in ("zen", "stdlib-docs"):
        return repr(sample_text(net, "Return the ", length=100, temperature=0.5))
    return None
