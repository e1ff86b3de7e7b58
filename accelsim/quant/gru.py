"""The GRU on integers (one direction; a bidirectional layer runs two and joins them).

x keeps its own grid (scale s_x, zero point z_x: the bias absorbs −z_x·Σ_k w, as in a GEMM)
and h lives on the unit grid 1/G (G = 127 at 8 bits, 32,767 at 16): h ∈ [−1, 1] always.
Both projections are integer GEMMs through the injectable `gemm`: x W_ih for every step at
once, h W_hh once per step; their int32 accumulators are requantized per column to one gate
scale s_g (calibrated over every pre-activation: r and z sums, both projections of the
candidate and its tanh argument). Then, all in integers:

    r, z  = σ-table(clamp(gi_rz + gh_rz))                    codes at 1/G
    n     = tanh-table(clamp(gi_n + div_round(r · gh_n, G)))  linear_before_reset
            tanh-table(clamp(gi_n + requant(div_round(r · h, G) W_hn + b_hn)))  otherwise
    h'    = div_round((G − z) · n + z · h, G)                  (1 − z)·n + z·h at 1/G
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accelsim.nn.recurrent import GRU
from accelsim.quant.calibration import LayerRange
from accelsim.quant.fixedpoint import (
    Multiplier,
    code_dtype,
    code_max,
    div_round,
    requantize,
    symmetric_scale,
)
from accelsim.quant.kernels import IntGemm, Table, Wired, gate_tables
from accelsim.quant.quantize import (
    QParams,
    check_accumulators,
    multiplier,
    weight_and_bias,
    zero_corrected,
)
from accelsim.quant.scheme import Scheme


@dataclass(frozen=True, eq=False)
class QGRU(Wired):
    """One direction of a GRU on integers (see the module)."""

    name: str
    layer: GRU
    weight_ih: np.ndarray  # int8 (F, 3H)
    bias_ih: np.ndarray  # int32 (3H,) at s_x · w_ih scale, less z_x · Σ_k w_ih
    weight_hh: np.ndarray  # int8 (H, 3H)
    bias_hh: np.ndarray  # int32 (3H,) at (1/G) · w_hh scale
    ih_multiplier: Multiplier  # x accumulators → gate codes, per column
    hh_multiplier: Multiplier  # h accumulators → gate codes, per column
    sigmoid_table: Table
    tanh_table: Table
    in_scale: float
    out_scale: float  # 1/G
    in_zero: int = 0
    out_zero: int = 0
    bits: int = 8
    reverse: bool = False

    def run(self, x: np.ndarray, gemm: IntGemm) -> np.ndarray:
        if self.reverse:
            x = x[:, ::-1]
        n, steps, features = x.shape
        top = code_max(self.bits)
        flat = np.ascontiguousarray(x).reshape(n * steps, features)
        gi = requantize(gemm(flat, self.weight_ih) + self.bias_ih, self.ih_multiplier, -top,
                        top).astype(np.int64).reshape(n, steps, -1)
        h = np.zeros((n, self.layer.hidden_size), code_dtype(-top, top))
        outputs = []
        for t in range(steps):
            h = self._step(gi[:, t], h, gemm)
            outputs.append(h)
        if not self.layer.return_sequences:
            return outputs[-1]
        hs = np.stack(outputs, axis=1)
        return np.ascontiguousarray(hs[:, ::-1]) if self.reverse else hs

    def _step(self, gi: np.ndarray, h: np.ndarray, gemm: IntGemm) -> np.ndarray:
        """One time step: h' from the step's input projection (gate codes) and h."""
        hidden, top = self.layer.hidden_size, code_max(self.bits)
        rz_cols = slice(0, 2 * hidden) if not self.layer.linear_before_reset else slice(None)
        gh = self._project(h, rz_cols, gemm)
        gates = self.sigmoid_table(np.clip(gi[:, : 2 * hidden] + gh[:, : 2 * hidden],
                                           -top, top)).astype(np.int64)
        r, z = gates[:, :hidden], gates[:, hidden:]
        if self.layer.linear_before_reset:
            reset = div_round(r * gh[:, 2 * hidden :], top)
        else:
            rh = div_round(r * h.astype(np.int64), top).astype(h.dtype)
            reset = self._project(rh, slice(2 * hidden, None), gemm)
        cand = self.tanh_table(np.clip(gi[:, 2 * hidden :] + reset, -top, top)).astype(np.int64)
        new = div_round((top - z) * cand + z * h.astype(np.int64), top)
        return np.clip(new, -top, top).astype(h.dtype)

    def _project(self, h: np.ndarray, cols: slice, gemm: IntGemm) -> np.ndarray:
        """h W_hh[:, cols] + b_hh[cols], requantized to gate codes."""
        top = code_max(self.bits)
        acc = gemm(h, np.ascontiguousarray(self.weight_hh[:, cols])) + self.bias_hh[cols]
        return requantize(acc, columns(self.hh_multiplier, cols), -top, top).astype(np.int64)


def columns(multiplier: Multiplier, cols: slice) -> Multiplier:
    """The multipliers of some columns (all of them for one per tensor)."""
    m0, shift = multiplier
    if isinstance(m0, np.ndarray) and isinstance(shift, np.ndarray):
        return m0[cols], shift[cols]
    return multiplier


def gru_op(layer: GRU, params: dict, inp: QParams, ranges: LayerRange, scheme: Scheme,
           bits: int) -> QGRU:
    """One direction's QGRU from its (unsuffixed) parameters; x at `inp`."""
    unit = 1.0 / code_max(bits)
    gate_scale = symmetric_scale(ranges.gates.magnitude, bits)
    w_ih_scales, w_ih, b_ih = weight_and_bias(params["weight_ih"], params["bias_ih"],
                                              inp.scale, scheme)
    b_ih = zero_corrected(b_ih, w_ih, inp.zero)
    check_accumulators(w_ih, b_ih, inp)
    w_hh_scales, w_hh, b_hh = weight_and_bias(params["weight_hh"], params["bias_hh"], unit,
                                              scheme)
    check_accumulators(w_hh, b_hh, QParams(unit, 0, bits))
    sigmoid_table, tanh_table = gate_tables(gate_scale, bits, scheme.lut_size,
                                            scheme.lut_range)
    return QGRU(layer.name, layer, w_ih, b_ih, w_hh, b_hh,
                multiplier(inp.scale * w_ih_scales / gate_scale, scheme),
                multiplier(unit * w_hh_scales / gate_scale, scheme), sigmoid_table,
                tanh_table, inp.scale, unit, inp.zero, 0, bits)
