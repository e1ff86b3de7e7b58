"""The lowered workload: what every machine model executes.

A `Workload` is an immutable list of ops for one batch of one network:

- `Gemm(name, m, k, n)`: C[m, n] = A[m, k] @ B[k, n], B being the weights. Convolutions are
  im2col GEMMs (their geometry kept in `conv` for machines that model im2col or implicit
  GEMM); an RNN/LSTM time step is one gate GEMM repeated `count` times with the same weights.
- `Vector(name, kind, elements)`: element-wise work (activations, the LSTM cell arithmetic).
- `Pool(name, kind, window, ...)`: 2-D pooling windows.
- `Transfer(name, direction, elements)`: host ↔ device movement of inputs and outputs.

One multiply-accumulate is 2 ops. Sizes are in elements; `*_bytes(precision)` gives exact byte
counts for a storage precision (accumulators and biases are 32-bit).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from accelsim.precision import Precision


class VectorKind(StrEnum):
    RELU = "relu"
    SIGMOID = "sigmoid"
    TANH = "tanh"
    SOFTMAX = "softmax"
    ADD = "add"
    MUL = "mul"

    @property
    def transcendental(self) -> bool:
        """Needs exp (sigmoid, tanh, softmax) rather than one ALU op per element."""
        return self in (VectorKind.SIGMOID, VectorKind.TANH, VectorKind.SOFTMAX)

    @property
    def inputs(self) -> int:
        """Operand arrays read per element."""
        return 2 if self in (VectorKind.ADD, VectorKind.MUL) else 1


class PoolKind(StrEnum):
    MAX = "max"
    AVG = "avg"


@dataclass(frozen=True)
class ConvGeometry:
    """The convolution behind an im2col GEMM, per image."""

    in_channels: int
    in_hw: tuple[int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: int
    out_hw: tuple[int, int]


@dataclass(frozen=True)
class Gemm:
    """C[m, n] = A[m, k] @ B[k, n] (+ bias), executed `count` times with the same B."""

    name: str
    m: int
    k: int
    n: int
    count: int = 1
    layer: str = ""
    bias: bool = True
    conv: ConvGeometry | None = None

    @property
    def macs(self) -> int:
        return self.m * self.k * self.n * self.count

    @property
    def ops(self) -> int:
        return 2 * self.macs

    def input_bytes(self, precision: Precision) -> int:
        """A operands over all repetitions."""
        return self.m * self.k * self.count * precision.bytes

    def weight_bytes(self, precision: Precision) -> int:
        """B once (it is reused across repetitions) plus 32-bit biases."""
        return self.k * self.n * precision.bytes + (self.n * 4 if self.bias else 0)

    def output_bytes(self, precision: Precision) -> int:
        return self.m * self.n * self.count * precision.bytes


@dataclass(frozen=True)
class Vector:
    """`elements` element-wise results of one kind, `count` times."""

    name: str
    kind: VectorKind
    elements: int
    count: int = 1
    layer: str = ""

    @property
    def total_elements(self) -> int:
        return self.elements * self.count

    def input_bytes(self, precision: Precision) -> int:
        return self.total_elements * self.kind.inputs * precision.bytes

    def output_bytes(self, precision: Precision) -> int:
        return self.total_elements * precision.bytes


@dataclass(frozen=True)
class Pool:
    """Pooling of `channels` feature maps of `batch` images."""

    name: str
    kind: PoolKind
    window: tuple[int, int]
    stride: tuple[int, int]
    batch: int
    channels: int
    in_hw: tuple[int, int]
    out_hw: tuple[int, int]
    layer: str = ""

    @property
    def elements(self) -> int:
        """Output elements."""
        return self.batch * self.channels * self.out_hw[0] * self.out_hw[1]

    @property
    def in_elements(self) -> int:
        return self.batch * self.channels * self.in_hw[0] * self.in_hw[1]

    @property
    def window_ops(self) -> int:
        """Comparisons (max) or additions (avg): window size − 1 per output."""
        return self.elements * (self.window[0] * self.window[1] - 1)

    def input_bytes(self, precision: Precision) -> int:
        return self.in_elements * precision.bytes

    def output_bytes(self, precision: Precision) -> int:
        return self.elements * precision.bytes


class Direction(StrEnum):
    TO_DEVICE = "to_device"
    TO_HOST = "to_host"


@dataclass(frozen=True)
class Transfer:
    """Host ↔ device copy of `elements` values (network inputs in, outputs back)."""

    name: str
    direction: Direction
    elements: int

    def bytes(self, precision: Precision) -> int:
        return self.elements * precision.bytes


Op = Gemm | Vector | Pool | Transfer


@dataclass(frozen=True)
class Workload:
    """One batch of one network as ops. `ops` is the op list; `total_ops` counts 2 per MAC."""

    network: str
    batch: int
    ops: tuple[Op, ...]
    seq_len: int | None = None

    @property
    def gemms(self) -> tuple[Gemm, ...]:
        return tuple(op for op in self.ops if isinstance(op, Gemm))

    @property
    def macs(self) -> int:
        return sum(g.macs for g in self.gemms)

    @property
    def total_ops(self) -> int:
        """Arithmetic operations of the GEMMs: 2 per multiply-accumulate."""
        return 2 * self.macs

    @property
    def vector_elements(self) -> int:
        return sum(op.total_elements for op in self.ops if isinstance(op, Vector))

    def macs_by_layer(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for g in self.gemms:
            out[g.layer or g.name] = out.get(g.layer or g.name, 0) + g.macs
        return out

    def weight_bytes(self, precision: Precision | str) -> int:
        """Every weight and bias once."""
        p = Precision.parse(precision)
        return sum(g.weight_bytes(p) for g in self.gemms)

    def activation_bytes(self, precision: Precision | str) -> int:
        """Outputs written by every GEMM, vector and pooling op."""
        p = Precision.parse(precision)
        return sum(op.output_bytes(p) for op in self.ops if not isinstance(op, Transfer))

    def transfer_bytes(self, precision: Precision | str, direction: Direction) -> int:
        p = Precision.parse(precision)
        return sum(op.bytes(p) for op in self.ops
                   if isinstance(op, Transfer) and op.direction is direction)

    def summary(self) -> str:
        """A text table: one row per op with its shape and work."""
        rows = [f"{self.network} batch={self.batch}"
                + (f" seq_len={self.seq_len}" if self.seq_len else "")]
        for op in self.ops:
            rows.append(f"  {describe(op)}")
        rows.append(f"  total: {self.macs:,} MACs = {self.total_ops:,} ops")
        return "\n".join(rows)


def describe(op: Op) -> str:
    """One line naming an op, its shape and its work."""
    if isinstance(op, Gemm):
        times = f" ×{op.count}" if op.count > 1 else ""
        return f"{op.name:<14} gemm   m={op.m} k={op.k} n={op.n}{times}  {op.macs:,} MACs"
    if isinstance(op, Vector):
        times = f" ×{op.count}" if op.count > 1 else ""
        return f"{op.name:<14} {op.kind.value:<6} {op.elements:,} elements{times}"
    if isinstance(op, Pool):
        return (f"{op.name:<14} {op.kind.value}pool {op.window[0]}x{op.window[1]} "
                f"→ {op.elements:,} elements")
    return f"{op.name:<14} {op.direction.value} {op.elements:,} elements"
