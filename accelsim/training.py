"""Train a network from its file and record it: weights (npz) and a model card (MODELS.md).

This is the one place that ties training to the file system; `accelsim train` calls it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from accelsim import __version__
from accelsim.errors import AccelsimError
from accelsim.nn.cards import card_markdown, update_cards
from accelsim.nn.generate import example_for
from accelsim.nn.loader import load_network, resolve_model_path, write_weights
from accelsim.nn.train import TrainConfig, TrainResult, train


def weights_meta(result: TrainResult) -> dict:
    """The training record stored inside the npz."""
    config = result.config
    return {"network": result.network.name, "dataset": config.dataset, "data": config.data,
            "epochs": config.epochs, "seed": config.seed, "optimizer": config.optimizer,
            "learning_rate": config.learning_rate, "batch_size": config.batch_size,
            "metrics": result.metrics, "accelsim": __version__}


def train_and_save(name_or_path: str, *, seed: int = 0, epochs: int | None = None,
                   out_dir: Path | None = None,
                   log: Callable[[str], None] | None = None) -> str:
    """Train from freshly initialised weights; returns a short report."""
    path = resolve_model_path(name_or_path)
    net = load_network(path, weights="init", seed=seed)
    if not net.training:
        raise AccelsimError(f"{path}: no [training] table; add one naming the dataset")
    config = TrainConfig.from_table(dict(net.training), seed=seed, epochs=epochs)
    result = train(net, config, log=log)
    folder = out_dir or path.parent
    weights_file = f"{net.name}-{config.dataset}.npz"
    write_weights(folder / weights_file, result.network, weights_meta(result))
    example = example_for(result.network, config.dataset)
    update_cards(folder / "MODELS.md", net.name, card_markdown(result, weights_file, example))
    metrics = ", ".join(f"{k} {v:.4g}" for k, v in result.metrics.items())
    return (f"trained {net.name} on {config.dataset} in {result.seconds:.1f} s: {metrics}\n"
            f"wrote {folder / weights_file} and its card in {folder / 'MODELS.md'}"
            + (f"\nexample: {example}" if example else ""))
