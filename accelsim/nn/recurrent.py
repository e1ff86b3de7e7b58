"""Recurrent layers: a tanh RNN, the LSTM and the GRU, one or both directions, with
backpropagation through time.

Input (N, T, F). RNN and LSTM: each time step is one gate GEMM on the concatenated
[x_t, h_{t-1}]: M = batch, K = F + H, N = gates·H, exactly as the lowering counts it. The LSTM
follows the book's picture: input, forget and output gates are sigmoids, the candidate is a
tanh, c_t = f·c_{t-1} + i·g and h_t = o·tanh(c_t). Gate columns are ordered [i, f, o, g] so
the three sigmoid gates are contiguous (ONNX orders them i, o, f, c; PyTorch i, f, g, o: the
importer reorders).

GRU (Cho et al. 2014, as PyTorch and ONNX run it): input and hidden projections kept apart,
gates [r, z, n] (ONNX orders z, r, h), r = σ(x W_ir + b_ir + h W_hr + b_hr), z likewise,
h_t = (1 − z)·n + z·h_{t-1}. The candidate n follows ONNX's `linear_before_reset`: true
(PyTorch's GRU) n = tanh(x W_in + b_in + r·(h W_hn + b_hn)); false (ONNX's default)
n = tanh(x W_in + b_in + (r·h) W_hn + b_hn).

`bidirectional`: a second set of weights (`*_reverse`) runs the sequence backwards; the
output joins both directions' features (forward first). Without `return_sequences` the
output is each direction's final state (the reverse one's is at t = 0, as PyTorch's h_n).
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from accelsim.nn.dense import sigmoid
from accelsim.nn.layers import Layer, LayerSpecError, Params, Shape, field_spec, uniform_init
from accelsim.nn.numerics import Numerics

REVERSE = "_reverse"  # the suffix of the reverse direction's parameters


@dataclass(frozen=True)
class Recurrent(Layer):
    """Shared shapes, directions and the time loop; subclasses define one direction's run
    and its adjoint."""

    hidden_size: int = field_spec("pos_int")
    return_sequences: bool = field_spec("bool", True)
    bidirectional: bool = field_spec("bool", False)
    gates: ClassVar[int] = 1

    @property
    def directions(self) -> tuple[str, ...]:
        """Parameter suffixes: '' for the forward direction, `REVERSE` for the other."""
        return ("", REVERSE) if self.bidirectional else ("",)

    @property
    def out_features(self) -> int:
        return self.hidden_size * len(self.directions)

    def output_shape(self, in_shape: Shape) -> Shape:
        if len(in_shape) != 2:
            raise LayerSpecError(
                f"needs a (time, features) input, got shape {in_shape}; recurrent layers "
                "follow the input or another recurrent layer with return_sequences = true"
            )
        if self.return_sequences:
            return (in_shape[0], self.out_features)
        return (self.out_features,)

    def param_shapes(self, in_shape: Shape) -> dict[str, Shape]:
        width = self.gates * self.hidden_size
        shapes = {"weight": (in_shape[-1] + self.hidden_size, width), "bias": (width,)}
        return {f"{name}{d}": shape for d in self.directions for name, shape in shapes.items()}

    def init_params(self, in_shape: Shape, rng: np.random.Generator) -> Params:
        bound = 1.0 / np.sqrt(self.hidden_size)
        return {name: uniform_init(rng, shape, bound) if name.startswith("weight")
                else np.zeros(shape, np.float32)
                for name, shape in self.param_shapes(in_shape).items()}

    def forward(self, params: Params, x: np.ndarray, num: Numerics) -> tuple[np.ndarray, Any]:
        outputs, caches = [], []
        for d in self.directions:
            ys, cache = self.run_direction(params, d, x if d == "" else x[:, ::-1], num)
            outputs.append(ys if d == "" else ys[:, ::-1])
            caches.append(cache)
        if self.return_sequences:
            y = np.concatenate(outputs, axis=-1) if len(outputs) > 1 else outputs[0]
        else:  # each direction's final state: the forward one at T, the reverse one at 0
            finals = [outputs[0][:, -1], *(o[:, 0] for o in outputs[1:])]
            y = np.concatenate(finals, axis=-1) if len(finals) > 1 else finals[0]
        return y, (x.shape, caches)

    def backward(self, params: Params, cache: Any, dy: np.ndarray) -> tuple[np.ndarray, Params]:
        (n, steps, features), caches = cache
        hidden = self.hidden_size
        dx = np.zeros((n, steps, features), dtype=dy.dtype)
        grads: Params = {}
        for i, (d, step_caches) in enumerate(zip(self.directions, caches, strict=True)):
            part = dy[..., i * hidden : (i + 1) * hidden]
            full = part if self.return_sequences else np.zeros((n, steps, hidden), dy.dtype)
            if not self.return_sequences:  # the final state only
                full[:, -1 if d == "" else 0] = part
            ordered = full if d == "" else full[:, ::-1]
            dx_d, grads_d = self.back_direction(params, d, step_caches, ordered)
            dx += dx_d if d == "" else dx_d[:, ::-1]
            grads.update({f"{name}{d}": g for name, g in grads_d.items()})
        return dx, grads

    @abstractmethod
    def run_direction(self, params: Params, d: str, x: np.ndarray,
                      num: Numerics) -> tuple[np.ndarray, Any]:
        """One direction over x (already in its time order): every step's h (N, T, H) and
        the caches its adjoint needs."""

    @abstractmethod
    def back_direction(self, params: Params, d: str, cache: Any,
                       dys: np.ndarray) -> tuple[np.ndarray, Params]:
        """The adjoint of `run_direction`: gradients of x and of the direction's parameters
        (unsuffixed names), from the gradient of every step's h (N, T, H)."""


@dataclass(frozen=True)
class CellRecurrent(Recurrent):
    """RNN and LSTM: one gate GEMM on [x_t, h_{t-1}] per step, then a cell (`step`)."""

    def run_direction(self, params: Params, d: str, x: np.ndarray,
                      num: Numerics) -> tuple[np.ndarray, Any]:
        n, steps, _ = x.shape
        state = self.initial_state(n, x.dtype)
        weight, bias = num.store(params[f"weight{d}"]), num.store(params[f"bias{d}"])
        outputs, caches = [], []
        for t in range(steps):
            xh = np.concatenate([x[:, t], state[0]], axis=1)
            z = num.store(num.matmul(xh, weight) + bias)
            state, cache = self.step(z, state, num)
            outputs.append(state[0])
            caches.append((xh, cache))
        return np.stack(outputs, axis=1), caches

    def back_direction(self, params: Params, d: str, cache: Any,
                       dys: np.ndarray) -> tuple[np.ndarray, Params]:
        n, steps, _ = dys.shape
        weight = params[f"weight{d}"]
        features = weight.shape[0] - self.hidden_size
        dx = np.zeros((n, steps, features), dtype=dys.dtype)
        carry = self.initial_state(n, dys.dtype)
        dzs, xhs = [], []
        for t in reversed(range(steps)):
            xh, step_cache = cache[t]
            dz, carry_rest = self.step_back(step_cache, carry[0] + dys[:, t], carry[1:])
            dxh = dz @ weight.T
            dx[:, t] = dxh[:, :features]
            carry = (dxh[:, features:], *carry_rest)
            dzs.append(dz)
            xhs.append(xh)
        dz_all, xh_all = np.concatenate(dzs), np.concatenate(xhs)
        return dx, {"weight": xh_all.T @ dz_all, "bias": dz_all.sum(axis=0)}

    def initial_state(self, n: int, dtype: np.dtype) -> tuple[np.ndarray, ...]:
        return (np.zeros((n, self.hidden_size), dtype),)

    @abstractmethod
    def step(self, z: np.ndarray, state: tuple, num: Numerics) -> tuple[tuple, Any]:
        """New state (h first) from the gate pre-activations z, and the step's cache."""

    @abstractmethod
    def step_back(self, cache: Any, dh: np.ndarray, rest: tuple) -> tuple[np.ndarray, tuple]:
        """Gradient of the gate pre-activations, and of the carried state beyond h."""


@dataclass(frozen=True)
class RNN(CellRecurrent):
    """Elman RNN: h_t = tanh([x_t, h_{t-1}] @ W + b)."""

    type_name: ClassVar[str] = "rnn"
    gates: ClassVar[int] = 1

    def step(self, z: np.ndarray, state: tuple, num: Numerics) -> tuple[tuple, Any]:
        h = num.apply(np.tanh, z)
        return (h,), h

    def step_back(self, cache: Any, dh: np.ndarray, rest: tuple) -> tuple[np.ndarray, tuple]:
        h = cache
        return dh * (1 - h * h), ()


@dataclass(frozen=True)
class LSTM(CellRecurrent):
    """Long short-term memory.

    The forget-gate bias starts at `forget_bias` (1 by default, Jozefowicz et al. 2015) so
    that memories last from the first step; long-gap tasks start it higher (σ(3) ≈ 0.95 keeps
    8% of the cell state across 50 steps, σ(1) ≈ 0.73 keeps 1e-7).
    """

    forget_bias: float = field_spec("float", 1.0)
    type_name: ClassVar[str] = "lstm"
    gates: ClassVar[int] = 4

    def init_params(self, in_shape: Shape, rng: np.random.Generator) -> Params:
        params = super().init_params(in_shape, rng)
        hidden = self.hidden_size
        for d in self.directions:
            params[f"bias{d}"][hidden : 2 * hidden] = self.forget_bias
        return params

    def initial_state(self, n: int, dtype: np.dtype) -> tuple[np.ndarray, ...]:
        zeros = np.zeros((n, self.hidden_size), dtype)
        return (zeros, zeros.copy())

    def step(self, z: np.ndarray, state: tuple, num: Numerics) -> tuple[tuple, Any]:
        hidden = self.hidden_size
        gates = num.apply(sigmoid, z[:, : 3 * hidden])
        i, f, o = gates[:, :hidden], gates[:, hidden : 2 * hidden], gates[:, 2 * hidden :]
        g = num.apply(np.tanh, z[:, 3 * hidden :])
        c_prev = state[1]
        c = num.store(num.store(f * c_prev) + num.store(i * g))
        tanh_c = num.apply(np.tanh, c)
        h = num.store(o * tanh_c)
        return (h, c), (i, f, o, g, c_prev, tanh_c)

    def step_back(self, cache: Any, dh: np.ndarray, rest: tuple) -> tuple[np.ndarray, tuple]:
        i, f, o, g, c_prev, tanh_c = cache
        (dc_next,) = rest
        dc = dc_next + dh * o * (1 - tanh_c * tanh_c)
        di, df, do, dg = dc * g, dc * c_prev, dh * tanh_c, dc * i
        dz = np.concatenate(
            [di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g * g)], axis=1
        )
        return dz, (dc * f,)


@dataclass(frozen=True)
class GRU(Recurrent):
    """Gated recurrent unit (see the module): gates [r, z, n]; input and hidden projections
    apart (`weight_ih` (F, 3H), `weight_hh` (H, 3H), `bias_ih`, `bias_hh`)."""

    linear_before_reset: bool = field_spec("bool", True)
    type_name: ClassVar[str] = "gru"
    gates: ClassVar[int] = 3

    def param_shapes(self, in_shape: Shape) -> dict[str, Shape]:
        width = 3 * self.hidden_size
        shapes = {"weight_ih": (in_shape[-1], width), "weight_hh": (self.hidden_size, width),
                  "bias_ih": (width,), "bias_hh": (width,)}
        return {f"{name}{d}": shape for d in self.directions for name, shape in shapes.items()}

    def run_direction(self, params: Params, d: str, x: np.ndarray,
                      num: Numerics) -> tuple[np.ndarray, Any]:
        n, steps, _ = x.shape
        hidden = self.hidden_size
        w_ih, w_hh = num.store(params[f"weight_ih{d}"]), num.store(params[f"weight_hh{d}"])
        b_ih, b_hh = num.store(params[f"bias_ih{d}"]), num.store(params[f"bias_hh{d}"])
        h = np.zeros((n, hidden), x.dtype)
        outputs, caches = [], []
        for t in range(steps):
            gi = num.store(num.matmul(x[:, t], w_ih) + b_ih)
            if self.linear_before_reset:
                gh = num.store(num.matmul(h, w_hh) + b_hh)
                r, z = self._gates(gi, gh, num)
                hn = gh[:, 2 * hidden :]
                n_t = num.apply(np.tanh, num.store(gi[:, 2 * hidden :] + num.store(r * hn)))
            else:
                gh = num.store(num.matmul(h, w_hh[:, : 2 * hidden]) + b_hh[: 2 * hidden])
                r, z = self._gates(gi, gh, num)
                rh = num.store(r * h)
                hn = num.store(num.matmul(rh, w_hh[:, 2 * hidden :]) + b_hh[2 * hidden :])
                n_t = num.apply(np.tanh, num.store(gi[:, 2 * hidden :] + hn))
            h_new = num.store(num.store((1 - z) * n_t) + num.store(z * h))
            caches.append((x[:, t], h, r, z, n_t, hn))
            h = h_new
            outputs.append(h)
        return np.stack(outputs, axis=1), caches

    def _gates(self, gi: np.ndarray, gh: np.ndarray,
               num: Numerics) -> tuple[np.ndarray, np.ndarray]:
        hidden = self.hidden_size
        rz = num.apply(sigmoid, num.store(gi[:, : 2 * hidden] + gh[:, : 2 * hidden]))
        return rz[:, :hidden], rz[:, hidden:]

    def back_direction(self, params: Params, d: str, cache: Any,
                       dys: np.ndarray) -> tuple[np.ndarray, Params]:
        hidden = self.hidden_size
        w_ih, w_hh = params[f"weight_ih{d}"], params[f"weight_hh{d}"]
        grads = {name: np.zeros_like(params[f"{name}{d}"])
                 for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
        n, steps, _ = dys.shape
        dx = np.zeros((n, steps, w_ih.shape[0]), dys.dtype)
        dh_next = np.zeros((n, hidden), dys.dtype)
        for t in reversed(range(steps)):
            x_t, h, r, z, n_t, hn = cache[t]
            dh = dh_next + dys[:, t]
            dz = dh * (h - n_t) * z * (1 - z)
            dn = dh * (1 - z) * (1 - n_t * n_t)
            dh_prev = dh * z
            if self.linear_before_reset:
                dr = dn * hn * r * (1 - r)
                dgh = np.concatenate([dr, dz, dn * r], axis=1)
                dh_prev = dh_prev + dgh @ w_hh.T
                grads["weight_hh"] += h.T @ dgh
                grads["bias_hh"] += dgh.sum(axis=0)
            else:
                w_hn = w_hh[:, 2 * hidden :]
                drh = dn @ w_hn.T
                dr = drh * h * r * (1 - r)
                dgh = np.concatenate([dr, dz], axis=1)
                dh_prev = dh_prev + drh * r + dgh @ w_hh[:, : 2 * hidden].T
                grads["weight_hh"][:, : 2 * hidden] += h.T @ dgh
                grads["weight_hh"][:, 2 * hidden :] += (r * h).T @ dn
                grads["bias_hh"] += np.concatenate([dr, dz, dn], axis=1).sum(axis=0)
            dgi = np.concatenate([dr, dz, dn], axis=1)
            dx[:, t] = dgi @ w_ih.T
            grads["weight_ih"] += x_t.T @ dgi
            grads["bias_ih"] += dgi.sum(axis=0)
            dh_next = dh_prev
        return dx, grads
