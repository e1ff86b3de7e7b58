"""Cycle-level systolic array engine: real int8 operands and int32 partial sums, register by
register, cycle by cycle, on the fold schedule of `SystolicArray`.

Every PE has a horizontal register h (the operand entering from the left, passed right each
cycle) and a vertical register v (ws/is: the partial sum passed down; os: the operand entering
from the top, passed down), plus a stationary register w (ws/is, loaded by shifting a tile down
the rows over R cycles, last row first) or an accumulator (os). The role table turns A and B
into the left stream L[t, row], the stationary tile S[row, col] or top stream G[t, col], and
the output O.

At cycle τ of a fold's streaming phase, PE (r, c) works on time step t = τ − r − c; only PEs
with 0 ≤ t < T hold data, and only those are stepped (the others hold bubbles and never feed
an active PE). Rows beyond the ones holding operands pass partial sums straight down: their
R − rows_used registers add that many cycles of delay, applied as such. The numba kernel and
its numpy twin implement the same register semantics; tests assert they agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numba
import numpy as np

from accelsim.errors import AccelsimError


class SystolicArray(Protocol):
    """What the engine reads of `systolic.SystolicArray`: its size, role table entry and
    fold mapping (a protocol, so this module does not import the one that calls it)."""

    @property
    def rows(self) -> int: ...

    @property
    def cols(self) -> int: ...

    @property
    def roles(self) -> Any: ...

    def mapping(self, m: int, k: int, n: int) -> Any: ...


@dataclass(frozen=True)
class SimulationResult:
    """C = A @ B as the array computed it, and when each output was complete."""

    output: np.ndarray  # int32 (m, n)
    output_cycles: np.ndarray  # int64 (m, n): cycle of the last MAC into each output
    cycles_run: int  # cycles the fold schedule took; cycles_run − 1 == SystolicArray.cycles

    @property
    def last_cycle(self) -> int:
        return self.cycles_run - 1


@numba.njit(cache=True)
def _preload(wbuf, tile, rows, used_rows, used_cols):
    """Shift a tile in from the top over `rows` cycles; row r ends holding tile[r].

    The weight shift-register chains of each column are a circular buffer of 2·rows entries
    (each value written twice so any window of `rows` is contiguous): a shift down moves the
    head one entry up instead of moving every value. Register (r, c) is wbuf[head + r, c].
    """
    head = 0
    for p in range(rows):
        head = (head - 1) % rows
        src = rows - 1 - p
        for c in range(used_cols):
            value = tile[src, c] if src < used_rows else 0
            wbuf[head, c] = value
            wbuf[head + rows, c] = value


@numba.njit(cache=True)
def _shift_in_left(hbuf, left, head, cols, tau, r, r0, lo):
    """Shift row r's operand registers right; a new operand enters column 0 if active."""
    if lo == 0:
        value = left[tau - r, r0 + r]
        hbuf[r, head] = value
        hbuf[r, head + cols] = value


@numba.njit(cache=True)
def _stream_stationary(left, wbuf, hbuf, v, out, out_cycles, r0, c0, used_rows, used_cols,
                       steps, rows, cols, start):
    """Streaming phase of a ws/is fold: operands move right, partial sums move down.

    Operand registers of row r are a circular buffer too: register (r, c) is
    hbuf[r, head + c], and the head moves one entry left per cycle (a shift right).
    """
    head = 0
    for tau in range(steps + used_rows + used_cols - 2):
        head = (head - 1) % cols
        for r in range(used_rows - 1, -1, -1):
            lo = max(0, tau - r - steps + 1)
            hi = min(used_cols - 1, tau - r)
            _shift_in_left(hbuf, left, head, cols, tau, r, r0, lo)
            if r == 0:
                for c in range(lo, hi + 1):
                    v[0, c] = np.int32(hbuf[0, head + c]) * np.int32(wbuf[0, c])
            else:
                for c in range(lo, hi + 1):
                    v[r, c] = v[r - 1, c] + np.int32(hbuf[r, head + c]) * np.int32(wbuf[r, c])
            if r == used_rows - 1:
                for c in range(lo, hi + 1):
                    out[tau - r - c, c0 + c] += v[r, c]
                    out_cycles[tau - r - c, c0 + c] = start + tau + (rows - used_rows)


@numba.njit(cache=True)
def _stream_output_stationary(left, top, hbuf, vbuf, acc, out, out_cycles, r0, c0, used_rows,
                              used_cols, steps, rows, cols, start):
    """Streaming phase of an os fold: operands move right and down into accumulators.

    Vertical operand registers are a circular buffer over rows: register (r, c) is
    vbuf[vhead + r, c], the head moving one entry up per cycle (a shift down).
    """
    head = 0
    vhead = 0
    for tau in range(steps + used_rows + used_cols - 2):
        head = (head - 1) % cols
        vhead = (vhead - 1) % rows
        lo0, hi0 = max(0, tau - steps + 1), min(used_cols - 1, tau)
        for c in range(lo0, hi0 + 1):
            value = top[tau - c, c0 + c]
            vbuf[vhead, c] = value
            vbuf[vhead + rows, c] = value
        for r in range(used_rows - 1, -1, -1):
            lo = max(0, tau - r - steps + 1)
            hi = min(used_cols - 1, tau - r)
            _shift_in_left(hbuf, left, head, cols, tau, r, r0, lo)
            for c in range(lo, hi + 1):
                acc[r, c] += np.int32(hbuf[r, head + c]) * np.int32(vbuf[vhead + r, c])
            if lo == tau - r - steps + 1 and lo <= hi:  # the last time step is at column lo
                out[r0 + r, c0 + lo] = acc[r, lo]
                out_cycles[r0 + r, c0 + lo] = start + tau


@numba.njit(cache=True)
def run_folds(left, top, out, out_cycles, stationary, rows, cols, fold_cycles):
    """All folds, column folds outer and row folds inner (SCALE-Sim's order)."""
    spatial_rows = left.shape[1]
    spatial_cols = top.shape[1]
    steps = left.shape[0]
    row_folds = (spatial_rows + rows - 1) // rows
    col_folds = (spatial_cols + cols - 1) // cols
    wbuf = np.zeros((2 * rows, cols), np.int8)
    vbuf = np.zeros((2 * rows, cols), np.int8)
    hbuf = np.zeros((rows, 2 * cols), np.int8)
    v = np.zeros((rows, cols), np.int32)
    acc = np.zeros((rows, cols), np.int32)
    for fc in range(col_folds):
        for fr in range(row_folds):
            start = (fc * row_folds + fr) * fold_cycles
            r0, c0 = fr * rows, fc * cols
            used_rows = min(rows, spatial_rows - r0)
            used_cols = min(cols, spatial_cols - c0)
            if stationary:
                _preload(wbuf, top[r0 : r0 + used_rows, c0 : c0 + used_cols], rows, used_rows,
                         used_cols)
                _stream_stationary(left, wbuf, hbuf, v, out, out_cycles, r0, c0, used_rows,
                                   used_cols, steps, rows, cols, start + rows)
            else:
                acc[:, :] = 0
                _stream_output_stationary(left, top, hbuf, vbuf, acc, out, out_cycles, r0, c0,
                                          used_rows, used_cols, steps, rows, cols, start)


def run_folds_numpy(left, top, out, out_cycles, stationary, rows, cols, fold_cycles) -> None:
    """The numpy twin of `run_folds`: same registers, all active PEs of a cycle at once."""
    spatial_rows, spatial_cols, steps = left.shape[1], top.shape[1], left.shape[0]
    row_folds, col_folds = -(-spatial_rows // rows), -(-spatial_cols // cols)
    for fc in range(col_folds):
        for fr in range(row_folds):
            start = (fc * row_folds + fr) * fold_cycles
            r0, c0 = fr * rows, fc * cols
            ru, cu = min(rows, spatial_rows - r0), min(cols, spatial_cols - c0)
            w = np.zeros((ru, cu), np.int32)
            if stationary:
                w = _preload_numpy(top[r0 : r0 + ru, c0 : c0 + cu], rows, ru, cu)
                start += rows
            _stream_numpy(left, top, w, out, out_cycles, stationary, (r0, c0, ru, cu),
                          steps, rows, start)


def _preload_numpy(tile: np.ndarray, rows: int, ru: int, cu: int) -> np.ndarray:
    w = np.zeros((ru, cu), np.int32)
    for p in range(rows):
        w[1:] = w[:-1].copy()
        src = rows - 1 - p
        w[0] = tile[src] if src < ru else 0
    return w


def _stream_numpy(left, top, w, out, out_cycles, stationary, fold, steps, rows, start):
    r0, c0, ru, cu = fold
    rr, cc = np.meshgrid(np.arange(ru), np.arange(cu), indexing="ij")
    h = np.zeros((ru, cu), np.int32)
    v = np.zeros((ru, cu), np.int32)
    acc = np.zeros((ru, cu), np.int32)
    for tau in range(steps + ru + cu - 2):
        t = tau - rr - cc
        active = (t >= 0) & (t < steps)
        ts = np.clip(t, 0, steps - 1)
        x = np.where(cc == 0, left[ts, r0 + rr], np.roll(h, 1, axis=1))
        h = np.where(active, x, h)
        if stationary:
            above = np.where(rr > 0, np.roll(v, 1, axis=0), 0)
            v = np.where(active, above + x * w, v)
            done = active & (rr == ru - 1)
            out[ts[done], c0 + cc[done]] += v[done]
            out_cycles[ts[done], c0 + cc[done]] = start + tau + rows - ru
        else:
            y = np.where(rr == 0, top[ts, c0 + cc], np.roll(v, 1, axis=0))
            v = np.where(active, y, v)
            acc = np.where(active, acc + x * y, acc)
            done = active & (t == steps - 1)
            out[r0 + rr[done], c0 + cc[done]] = acc[done]
            out_cycles[r0 + rr[done], c0 + cc[done]] = start + tau


def _as_int8(name: str, matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix)
    if matrix.ndim != 2:
        raise AccelsimError(f"{name} must be a matrix, got shape {matrix.shape}")
    out_of_range = matrix.size > 0 and (matrix.min() < -128 or matrix.max() > 127)
    if not np.issubdtype(matrix.dtype, np.integer) or out_of_range:
        raise AccelsimError(f"{name} must hold int8 values (-128..127); quantize it first")
    return np.ascontiguousarray(matrix, dtype=np.int8)


def operands(array: SystolicArray, a: np.ndarray, b: np.ndarray):
    """Left stream, stationary tile or top stream, and output shape, per the role table."""
    if array.roles.stationary == "weights":
        return a, b, (a.shape[0], b.shape[1])
    if array.roles.stationary == "inputs":
        return np.ascontiguousarray(b.T), np.ascontiguousarray(a.T), (b.shape[1], a.shape[0])
    return np.ascontiguousarray(a.T), b, (a.shape[0], b.shape[1])


def simulate(array: SystolicArray, a: np.ndarray, b: np.ndarray,
             engine: str = "numba") -> SimulationResult:
    """C = A @ B on the array; returns values, per-output cycles and the cycles run."""
    a, b = _as_int8("A", a), _as_int8("B", b)
    if a.shape[1] != b.shape[0]:
        raise AccelsimError(f"A is {a.shape} and B is {b.shape}: inner dimensions differ")
    if engine not in ("numba", "numpy"):
        raise AccelsimError(f"engine = {engine!r}; choose 'numba' or 'numpy'")
    mp = array.mapping(a.shape[0], a.shape[1], b.shape[1])
    left, top, out_shape = operands(array, a, b)
    out = np.zeros(out_shape, np.int32)
    out_cycles = np.zeros(out_shape, np.int64)
    stationary = array.roles.preload
    kernel = run_folds if engine == "numba" else run_folds_numpy
    kernel(left, top, out, out_cycles, stationary, array.rows, array.cols, mp.fold_cycles)
    if array.roles.stationary == "inputs":
        out, out_cycles = out.T, out_cycles.T
    return SimulationResult(np.ascontiguousarray(out), np.ascontiguousarray(out_cycles),
                            mp.folds * mp.fold_cycles)
