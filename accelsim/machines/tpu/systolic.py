"""A systolic array of R×C multiply-accumulate PEs: stall-free timing and a cycle-level engine.

Three dataflows share one code path, driven by a role table that says which GEMM dimension
(C[m, n] = A[m, k] @ B[k, n]) maps to the array's rows, to its columns, and to time, and
whether a stationary operand is shifted in before the data streams:

| dataflow | rows | cols | time | stationary       | preload |
|----------|------|------|------|------------------|---------|
| ws       | k    | n    | m    | weights B        | R       |
| is       | k    | m    | n    | inputs A         | R       |
| os       | m    | n    | k    | outputs C        | 0       |

The operand matrix is cut into folds of at most R×C; folds run back to back. One fold takes
P = preload + R + C + T − 2 cycles: the stationary tile shifts in over R cycles, then the
skewed wavefront of T time steps crosses all R rows and C columns. `cycles(m, k, n)` is
folds·P − 1, the index of the fold schedule's last cycle; this reproduces SCALE-Sim 3.0.0's
"Total Cycles" (CALC mode, no memory stalls) exactly (Samajdar et al., "A Systematic
Methodology for Characterizing Scalability of DNN Accelerators using SCALE-Sim", ISPASS 2020;
checked against SCALE-Sim runs in tests/machines/tpu/test_systolic.py). `simulate` moves real
int8 operands and int32 partial sums through the PEs on the same schedule (systolic_engine.py);
its last cycle index equals `cycles`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import numpy as np

from accelsim.checks import check_count
from accelsim.errors import AccelsimError


class Dataflow(StrEnum):
    WS = "ws"
    OS = "os"
    IS = "is"

    @classmethod
    def parse(cls, value: Dataflow | str) -> Dataflow:
        if isinstance(value, Dataflow):
            return value
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            raise AccelsimError(f"unknown dataflow {value!r}; choose ws (weight stationary), "
                                "os (output stationary) or is (input stationary)") from None


@dataclass(frozen=True)
class Roles:
    """Which GEMM dimension ('m', 'k' or 'n') goes to rows, columns and time."""

    rows: str
    cols: str
    time: str
    stationary: str
    preload: bool


ROLE_TABLE: dict[Dataflow, Roles] = {
    Dataflow.WS: Roles(rows="k", cols="n", time="m", stationary="weights", preload=True),
    Dataflow.IS: Roles(rows="k", cols="m", time="n", stationary="inputs", preload=True),
    Dataflow.OS: Roles(rows="m", cols="n", time="k", stationary="outputs", preload=False),
}


@dataclass(frozen=True)
class Mapping:
    """A GEMM laid onto the array: spatial extents, time steps, folds and cycles per fold."""

    spatial_rows: int
    spatial_cols: int
    time_steps: int
    row_folds: int
    col_folds: int
    fold_cycles: int

    @property
    def folds(self) -> int:
        return self.row_folds * self.col_folds


@dataclass(frozen=True)
class SystolicStats:
    """Timing and efficiency of one GEMM (SCALE-Sim's COMPUTE_REPORT quantities)."""

    cycles: int
    macs: int
    folds: int
    utilization: float
    mapping_efficiency: float


def _check_dim(label: str, value: int) -> int:
    meaning = "PEs" if label in ("rows", "cols") else "a GEMM dimension"
    return check_count(value, label, owner="SystolicArray", meaning=meaning)


@dataclass(frozen=True)
class SystolicArray:
    """An R×C array of PEs with one dataflow. Immutable; timing results are cached."""

    rows: int = 256
    cols: int = 256
    dataflow: Dataflow = Dataflow.WS

    def __post_init__(self) -> None:
        object.__setattr__(self, "rows", _check_dim("rows", self.rows))
        object.__setattr__(self, "cols", _check_dim("cols", self.cols))
        object.__setattr__(self, "dataflow", Dataflow.parse(self.dataflow))

    @property
    def roles(self) -> Roles:
        return ROLE_TABLE[self.dataflow]

    def mapping(self, m: int, k: int, n: int) -> Mapping:
        return _mapping(self.rows, self.cols, self.dataflow, _check_dim("m", m),
                        _check_dim("k", k), _check_dim("n", n))

    def cycles(self, m: int, k: int, n: int) -> int:
        """Stall-free compute cycles of C[m, n] = A[m, k] @ B[k, n] (SCALE-Sim's Total Cycles)."""
        mp = self.mapping(m, k, n)
        return mp.folds * mp.fold_cycles - 1

    def mapping_efficiency(self, m: int, k: int, n: int) -> float:
        """Mean over folds of the fraction of PEs holding an operand."""
        mp = self.mapping(m, k, n)
        used_rows = mp.spatial_rows / mp.row_folds
        used_cols = mp.spatial_cols / mp.col_folds
        return used_rows * used_cols / (self.rows * self.cols)

    def utilization(self, m: int, k: int, n: int) -> float:
        """MACs over PE-cycles: m·k·n / (cycles · R · C)."""
        return m * k * n / (self.cycles(m, k, n) * self.rows * self.cols)

    def stats(self, m: int, k: int, n: int) -> SystolicStats:
        mp = self.mapping(m, k, n)
        return SystolicStats(cycles=mp.folds * mp.fold_cycles - 1, macs=m * k * n,
                             folds=mp.folds, utilization=self.utilization(m, k, n),
                             mapping_efficiency=self.mapping_efficiency(m, k, n))

    def simulate(self, a: np.ndarray, b: np.ndarray, engine: str = "numba"):
        """Run C = A @ B through the PEs cycle by cycle; see systolic_engine.simulate."""
        from accelsim.machines.tpu.systolic_engine import simulate

        return simulate(self, a, b, engine)


@lru_cache(maxsize=65536)
def _mapping(rows: int, cols: int, dataflow: Dataflow, m: int, k: int, n: int) -> Mapping:
    roles = ROLE_TABLE[dataflow]
    dims = {"m": m, "k": k, "n": n}
    spatial_rows, spatial_cols, steps = dims[roles.rows], dims[roles.cols], dims[roles.time]
    preload = rows if roles.preload else 0
    return Mapping(spatial_rows=spatial_rows, spatial_cols=spatial_cols, time_steps=steps,
                   row_folds=math.ceil(spatial_rows / rows),
                   col_folds=math.ceil(spatial_cols / cols),
                   fold_cycles=preload + rows + cols + steps - 2)
