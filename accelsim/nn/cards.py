"""Model cards: one block per trained network in MODELS.md, replaced when it is retrained.

Each block sits between `<!-- card: NAME -->` and `<!-- /card: NAME -->`; text outside the
blocks (notes written by hand) is kept. Files are written atomically.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from accelsim.errors import OutputError
from accelsim.files import write_text_atomically
from accelsim.nn.train import TrainResult

HEADER = """# Model cards

Trained weights shipped with accelsim. Each card is written by `accelsim train NETWORK`
(which also writes `NETWORK-DATASET.npz`); rerunning it with the same seed reproduces the
weights. Figures are measured on the data set's held-out test split.
"""


def _escape_cell(value: str) -> str:
    return value.replace("|", "\\|")


def _percent(value: float) -> str:
    return f"{value:.2%}"


def card_markdown(result: TrainResult, weights_file: str, example: str | None) -> str:
    """The markdown block for one training run."""
    net, config, metrics = result.network, result.config, result.metrics
    data = ", ".join(f"{k}={v}" for k, v in config.data.items())
    rows = [
        ("network", f"{net.name}: {' → '.join(layer.type_name for layer in net.layers)}, "
                    f"{net.num_params:,} parameters"),
        ("data", f"{config.dataset}{f' ({data})' if data else ''}: {result.train_size:,} "
                 f"train / {result.test_size:,} test samples"),
        ("training", f"{config.optimizer}, lr {config.learning_rate:g}"
                     f"{f' momentum {config.momentum:g}' if config.optimizer == 'sgd' else ''}"
                     f", {config.schedule} schedule, {config.epochs} epochs, batch "
                     f"{config.batch_size}, seed {config.seed}"),
        ("time", f"{result.seconds:.1f} s of training on {os.cpu_count()} CPU cores"),
        ("test accuracy", _percent(metrics["accuracy"])),
        ("test loss", f"{metrics['loss']:.4f} nats"),
    ]
    if "perplexity" in metrics:
        rows.append(("test perplexity", f"{metrics['perplexity']:.3f}"))
    if example:
        rows.append(("example", f"`{example}`"))
    body = "\n".join(f"| {k} | {_escape_cell(v)} |" for k, v in rows)
    return (f"<!-- card: {net.name} -->\n## {net.name} — `{weights_file}`\n\n"
            f"{net.description}\n\n| | |\n|---|---|\n{body}\n<!-- /card: {net.name} -->")


def read_cards(path: Path) -> str:
    """The text of MODELS.md (the header alone when it does not exist yet)."""
    if not path.exists():
        return HEADER
    if path.is_dir():
        raise OutputError(f"{path} is a folder; model cards go in a MODELS.md file: choose "
                          "another --out-dir")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise OutputError(f"{path}: not UTF-8 text (byte offset {err.start}); fix or move the "
                          "file so its cards are not lost, then train again") from None
    except OSError as err:
        raise OutputError(f"{path}: cannot read the model cards: {err.strerror or err}") from None


def with_card(text: str, name: str, block: str) -> str:
    """`text` with the card of `name` inserted or replaced; everything else kept."""
    pattern = re.compile(rf"<!-- card: {re.escape(name)} -->.*?<!-- /card: {re.escape(name)} -->",
                         re.S)
    if pattern.search(text):
        return pattern.sub(lambda _: block, text)
    return text.rstrip("\n") + "\n\n" + block + "\n"


def update_cards(path: Path, name: str, block: str) -> None:
    """Insert or replace the card of `name` in the MODELS.md at `path`, atomically."""
    write_text_atomically(path, with_card(read_cards(path), name, block))
