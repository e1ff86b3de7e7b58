"""Train a network from its file and record it: weights (npz) and a model card (MODELS.md).

This is the one place that ties training to the file system; `accelsim train` calls it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from accelsim.errors import AccelsimError, OutputError
from accelsim.files import ensure_folder, write_text_atomically
from accelsim.nn.cards import card_markdown, read_cards, with_card
from accelsim.nn.generate import example_for
from accelsim.nn.loader import load_network, resolve_model_path, write_weights
from accelsim.nn.train import TrainConfig, TrainResult, train
from accelsim.version import VERSION


def weights_meta(result: TrainResult) -> dict:
    """The training record stored inside the npz."""
    config = result.config
    return {"network": result.network.name, "dataset": config.dataset, "data": config.data,
            "epochs": config.epochs, "seed": config.seed, "optimizer": config.optimizer,
            "learning_rate": config.learning_rate, "batch_size": config.batch_size,
            "metrics": result.metrics, "accelsim": VERSION}


def train_and_save(name_or_path: str, *, seed: int = 0, epochs: int | None = None,
                   out_dir: Path | None = None,
                   log: Callable[[str], None] | None = None) -> str:
    """Train from freshly initialised weights and write NETWORK-DATASET.npz and its card in
    MODELS.md into `out_dir` (default: the current directory); returns a short report
    naming both files.

    The folder and an existing MODELS.md are checked before training starts; both files are
    written atomically, and nothing is written when training diverges.
    """
    path = resolve_model_path(name_or_path)
    net = load_network(path, weights="init", seed=seed)
    if not net.training:
        raise AccelsimError(f"{path}: no [training] table; add one naming the dataset")
    config = TrainConfig.from_table(dict(net.training), seed=seed, epochs=epochs)
    folder = ensure_folder(Path.cwd() if out_dir is None else
                           Path(out_dir).expanduser().absolute())
    weights_path = folder / f"{net.name}-{config.dataset}.npz"
    cards_path = folder / "MODELS.md"
    cards = read_cards(cards_path)  # an unreadable MODELS.md stops us before training
    if weights_path.is_dir():
        raise OutputError(f"cannot write {weights_path}: it is a folder")
    result = train(net, config, log=log)
    check_converged(result)
    write_weights(weights_path, result.network, weights_meta(result))
    example = example_for(result.network, config.dataset)
    block = card_markdown(result, weights_path.name, example)
    write_text_atomically(cards_path, with_card(cards, net.name, block))
    metrics = ", ".join(f"{k} {v:.4g}" for k, v in result.metrics.items())
    return (f"trained {net.name} on {config.dataset} in {result.seconds:.1f} s: {metrics}\n"
            f"wrote {weights_path}\nwrote {cards_path} (card {net.name!r})"
            + (f"\nexample: {example}" if example else ""))


def check_converged(result: TrainResult) -> None:
    """Refuse to save weights or metrics that went to NaN or ±inf."""
    bad = [k for k, v in result.metrics.items() if not math.isfinite(v)]
    bad += [f"{layer}.{name}" for layer, p in result.network.params.items()
            for name, a in p.items() if not np.all(np.isfinite(a))]
    if bad:
        raise AccelsimError(f"training {result.network.name} diverged ({', '.join(bad)} not "
                            f"finite); nothing was written: lower [training] learning_rate "
                            f"(now {result.config.learning_rate:g}) or set clip_norm")
