"""Gradient-descent optimizers: SGD with momentum and Adam, updating parameters in place."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from accelsim.errors import AccelsimError
from accelsim.nn.layers import Params

ParamTree = dict[str, Params]


def _zeros_like(tree: ParamTree) -> ParamTree:
    return {layer: {k: np.zeros_like(v) for k, v in p.items()} for layer, p in tree.items()}


def global_norm(grads: ParamTree) -> float:
    return float(np.sqrt(sum(float(np.sum(g * g)) for p in grads.values() for g in p.values())))


def clip_by_norm(grads: ParamTree, max_norm: float | None) -> ParamTree:
    """Scale all gradients together so their global L2 norm is at most max_norm."""
    if not max_norm:
        return grads
    norm = global_norm(grads)
    if norm <= max_norm:
        return grads
    scale = max_norm / (norm + 1e-12)
    return {layer: {k: g * scale for k, g in p.items()} for layer, p in grads.items()}


@dataclass
class SGD:
    """v ← μ·v − lr·(g + λ·w);  w ← w + v."""

    params: ParamTree
    momentum: float = 0.9
    weight_decay: float = 0.0
    velocity: ParamTree = field(init=False)

    def __post_init__(self) -> None:
        self.velocity = _zeros_like(self.params)

    def step(self, grads: ParamTree, lr: float) -> None:
        for layer, layer_grads in grads.items():
            for key, grad in layer_grads.items():
                weight = self.params[layer][key]
                vel = self.velocity[layer][key]
                vel *= self.momentum
                vel -= lr * (grad + self.weight_decay * weight)
                weight += vel


@dataclass
class Adam:
    """Kingma & Ba 2015 with bias correction; weight decay added to the gradient."""

    params: ParamTree
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0
    first: ParamTree = field(init=False)
    second: ParamTree = field(init=False)
    steps: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.first = _zeros_like(self.params)
        self.second = _zeros_like(self.params)

    def step(self, grads: ParamTree, lr: float) -> None:
        self.steps += 1
        correction1 = 1 - self.beta1**self.steps
        correction2 = 1 - self.beta2**self.steps
        for layer, layer_grads in grads.items():
            for key, grad in layer_grads.items():
                weight = self.params[layer][key]
                grad = grad + self.weight_decay * weight
                m, v = self.first[layer][key], self.second[layer][key]
                m *= self.beta1
                m += (1 - self.beta1) * grad
                v *= self.beta2
                v += (1 - self.beta2) * grad * grad
                weight -= lr * (m / correction1) / (np.sqrt(v / correction2) + self.eps)


def make_optimizer(name: str, params: ParamTree, momentum: float, weight_decay: float):
    if name == "sgd":
        return SGD(params, momentum=momentum, weight_decay=weight_decay)
    if name == "adam":
        return Adam(params, weight_decay=weight_decay)
    raise AccelsimError(f"unknown optimizer {name!r}; choose 'sgd' or 'adam'")
