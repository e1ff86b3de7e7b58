"""Training by gradient descent: softmax cross-entropy, minibatches, SGD/Adam, evaluation.

Everything random (initial weights, shuffling, augmentation, synthetic data) draws from
generators seeded by the config's seed, so a seed reproduces the same weights.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from accelsim.errors import AccelsimError
from accelsim.nn import datasets
from accelsim.nn.layers import Params
from accelsim.nn.network import Network, check_labels, require_params
from accelsim.nn.optim import clip_by_norm, make_optimizer

SCHEDULES = ("constant", "cosine")
OPTIMIZERS = ("sgd", "adam")
MAX_EXP_ARGUMENT = 709.0  # math.exp overflows a float above this


@dataclass(frozen=True)
class TrainConfig:
    """The [training] table of a network file; `data` holds the data set's options."""

    dataset: str
    data: dict[str, Any] = field(default_factory=dict)
    optimizer: str = "sgd"
    learning_rate: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 0.0
    epochs: int = 10
    batch_size: int = 32
    clip_norm: float = 0.0
    schedule: str = "constant"
    augment_shift: int = 0
    fresh_data: bool = False
    seed: int = 0

    @classmethod
    def from_table(cls, table: dict[str, Any], **overrides: Any) -> TrainConfig:
        """Validate a [training] table; keyword overrides (None ignored) win."""
        values = {**table, **{k: v for k, v in overrides.items() if v is not None}}
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise AccelsimError(f"[training] has unknown key(s) {', '.join(unknown)}; "
                                f"allowed: {', '.join(sorted(known))}")
        if "dataset" not in values:
            raise AccelsimError("[training] needs a dataset, e.g. dataset = \"digits\"")
        config = cls(**values)
        config.validate()
        return config

    def validate(self) -> None:
        for name in ("epochs", "batch_size", "augment_shift", "seed"):
            value, low = getattr(self, name), 1 if name in ("epochs", "batch_size") else 0
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                kind = "positive" if low else "non-negative"
                raise AccelsimError(f"[training] {name} = {value!r} must be a {kind} integer")
        for name in ("learning_rate", "momentum", "weight_decay", "clip_norm"):
            value = getattr(self, name)
            if (isinstance(value, bool) or not isinstance(value, int | float)
                    or not math.isfinite(value) or value < 0):
                raise AccelsimError(f"[training] {name} = {value!r} must be a finite, "
                                    "non-negative number")
        if not self.learning_rate > 0:
            raise AccelsimError(f"[training] learning_rate = {self.learning_rate!r} must be > 0")
        self._validate_choices()

    def _validate_choices(self) -> None:
        if self.schedule not in SCHEDULES:
            raise AccelsimError(f"[training] schedule = {self.schedule!r}; choose one of "
                                f"{', '.join(SCHEDULES)}")
        if self.optimizer not in OPTIMIZERS:
            raise AccelsimError(f"[training] optimizer = {self.optimizer!r}; choose one of "
                                f"{', '.join(OPTIMIZERS)}")
        if self.dataset not in datasets.names():
            raise AccelsimError(f"[training] dataset = {self.dataset!r}; available: "
                                f"{', '.join(datasets.names())}")
        if not isinstance(self.data, dict):
            raise AccelsimError(f"[training] data = {self.data!r} must be a table of data set "
                                "options, e.g. data = { gap = 50 }")
        if not isinstance(self.fresh_data, bool):
            raise AccelsimError(f"[training] fresh_data = {self.fresh_data!r} must be true or "
                                "false")


@dataclass(frozen=True)
class TrainResult:
    network: Network
    config: TrainConfig
    history: tuple[dict[str, float], ...]
    metrics: dict[str, float]
    seconds: float
    train_size: int
    test_size: int


def softmax_cross_entropy(logits: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy over every target, and its gradient with respect to the logits."""
    flat = logits.reshape(-1, logits.shape[-1])
    labels = np.asarray(targets).reshape(-1)
    shifted = flat - flat.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    picked = log_probs[np.arange(len(labels)), labels]
    grad = np.exp(log_probs)
    grad[np.arange(len(labels)), labels] -= 1
    return float(-picked.mean()), (grad / len(labels)).reshape(logits.shape)


def evaluate(net: Network, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Accuracy and mean cross-entropy; perplexity too for per-step (language-model) targets."""
    logits = net.forward(x, logits=True)
    y = check_labels(y, logits.shape)
    loss, _ = softmax_cross_entropy(logits, y)
    metrics = {"accuracy": float(np.mean(logits.argmax(axis=-1) == y)), "loss": loss}
    if np.ndim(y) == 2:
        metrics["perplexity"] = math.exp(loss) if loss < MAX_EXP_ARGUMENT else math.inf
    return metrics


def shift_images(x: np.ndarray, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """Translate each image by up to ±max_shift pixels, filling with zeros."""
    if not max_shift or x.ndim != 4:
        return x
    pad = max_shift
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    offsets = rng.integers(0, 2 * pad + 1, size=(len(x), 2))
    h, w = x.shape[2:]
    return np.stack([padded[i, :, a : a + h, b : b + w] for i, (a, b) in enumerate(offsets)])


def learning_rate(config: TrainConfig, step: int, total: int) -> float:
    if config.schedule == "cosine":
        return config.learning_rate * 0.5 * (1 + math.cos(math.pi * step / total))
    return config.learning_rate


def _train_data(config: TrainConfig, epoch: int) -> tuple[np.ndarray, np.ndarray]:
    options = dict(config.data)
    if config.fresh_data:
        options["seed"] = options.get("seed", 0) * 1000 + config.seed * 100 + epoch
    return datasets.load(config.dataset, split="train", **options)


def _update_buffers(net: Network, updates: dict[str, Params]) -> None:
    """Write running statistics into the parameter arrays in place (the optimizer holds
    the same arrays)."""
    for layer, values in updates.items():
        for key, value in values.items():
            net.params[layer][key][...] = value


def _run_epoch(net: Network, optimizer: Any, config: TrainConfig, data: tuple, step: int,
               total: int, rng: np.random.Generator) -> tuple[float, int]:
    x, y = data
    order = rng.permutation(len(x))
    losses = []
    for start in range(0, len(x), config.batch_size):
        idx = order[start : start + config.batch_size]
        xb = shift_images(x[idx], config.augment_shift, rng)
        logits, caches = net.forward_train(xb)
        loss, dlogits = softmax_cross_entropy(logits, y[idx])
        grads = clip_by_norm(net.backward(caches, dlogits), config.clip_norm)
        optimizer.step(grads, learning_rate(config, step, total))
        _update_buffers(net, net.buffer_updates(caches))
        losses.append(loss)
        step += 1
    return float(np.mean(losses)), step


def train(net: Network, config: TrainConfig,
          log: Callable[[str], None] | None = None) -> TrainResult:
    """Train a copy of `net` (its current weights are the start) and evaluate on the test split."""
    require_params(net)
    rng = np.random.default_rng(config.seed)
    params = {layer: {k: v.astype(np.float32, copy=True) for k, v in p.items()}
              for layer, p in net.params.items()}
    work = net.with_params(params)
    optimizer = make_optimizer(config.optimizer, params, config.momentum, config.weight_decay)
    test = datasets.load(config.dataset, split="test", **config.data)
    data = _train_data(config, 0)
    total = config.epochs * math.ceil(len(data[0]) / config.batch_size)
    history, step, started = [], 0, time.perf_counter()
    for epoch in range(config.epochs):
        if config.fresh_data and epoch:
            data = _train_data(config, epoch)
        train_loss, step = _run_epoch(work, optimizer, config, data, step, total, rng)
        if not math.isfinite(train_loss):
            raise AccelsimError(f"training {net.name} diverged in epoch {epoch + 1} (train "
                                f"loss {train_loss}); lower [training] learning_rate (now "
                                f"{config.learning_rate:g}) or set clip_norm")
        record = {"epoch": epoch + 1, "train_loss": train_loss, **evaluate(work, *test)}
        history.append(record)
        if log:
            log(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                         for k, v in record.items()))
    metrics = evaluate(work, *test)
    return TrainResult(work.with_params(params, trained=True), config, tuple(history), metrics,
                       time.perf_counter() - started, len(data[0]), len(test[0]))
