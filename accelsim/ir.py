"""The lowered workload: what every machine model executes.

A `Workload` is an immutable list of ops for one batch of one network:

- `Gemm(name, m, k, n)`: C[m, n] = A[m, k] @ B[k, n], B being the weights. Convolutions are
  im2col GEMMs (their geometry kept in `conv` for machines that model im2col or implicit
  GEMM); an RNN/LSTM time step is one gate GEMM repeated `count` times with the same weights.
- `Vector(name, kind, elements)`: element-wise work (activations, the LSTM cell arithmetic).
- `Pool(name, kind, window, ...)`: 2-D pooling windows.
- `Transfer(name, direction, elements)`: host ↔ device movement of inputs and outputs.

Ops are grouped by the network layer they come from (`Workload.layers`, each a `LayerOps`);
a recurrent layer carries a `Recurrence`: its gate GEMM, its cell arithmetic and its number of
time steps, so machines that fuse the cell (cuDNN, the TPU's Activate) read the structure
instead of guessing it from op order or names.

One multiply-accumulate is 2 ops. Sizes are in elements; `*_bytes(precision)` gives exact byte
counts for a storage precision (accumulators and biases are 32-bit). On integer machines a
GEMM's A operand (its activations) may be 16 bits wide (`Gemm.activation_bits`, from a
quantized network's `gemm_input_bits`): int8 byte counts then take 2 bytes per A element.
"""

from __future__ import annotations

import dataclasses
import html
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from numbers import Integral

from accelsim.errors import AccelsimError
from accelsim.precision import Precision

ACTIVATION_BITS = (8, 16)
REVERSE_SUFFIX = ".reverse"  # the name of a bidirectional layer's second recurrence


class VectorKind(StrEnum):
    RELU = "relu"
    CLIP = "clip"  # relu6 and clip: min and max
    SIGMOID = "sigmoid"
    TANH = "tanh"
    SOFTMAX = "softmax"
    ADD = "add"
    MUL = "mul"
    SCALE = "scale"  # x · scale[c] + shift[c]: a batch norm not folded into a convolution
    COPY = "copy"  # a tensor copied into place: a concat's inputs into its output

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
    """The convolution behind an im2col GEMM, per image: zero `padding` on each side (top,
    left, bottom, right), `dilation` between taps, `groups` of channels (depthwise: groups =
    in_channels)."""

    in_channels: int
    in_hw: tuple[int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int, int, int]
    out_hw: tuple[int, int]
    dilation: tuple[int, int] = (1, 1)
    groups: int = 1

    @property
    def in_channels_per_group(self) -> int:
        return self.in_channels // self.groups

    @property
    def depthwise(self) -> bool:
        """One input channel per group (MobileNet's 3×3 layers)."""
        return self.groups > 1 and self.groups == self.in_channels


@dataclass(frozen=True)
class Gemm:
    """C[m, n] = A[m, k] @ B[k, n] (+ bias), executed `count` times with the same B; with
    `groups` > 1 (a grouped convolution) `groups` such GEMMs side by side, each with its own
    A columns and B (k and n are per group).

    `activation_bits` is the width of the A operand (the activations) on integer machines:
    8, or 16 for a layer quantized with 16-bit activations and 8-bit weights (TFLite's 16×8
    mode; the TPU v1 runs it at half speed). Float machines ignore it, and so do the int8
    timings of the CPU and GPU models for now: they time such a layer at their int8 rates
    (where they count a GEMM's input bytes, those take 2 bytes per A element).
    """

    name: str
    m: int
    k: int
    n: int
    count: int = 1
    layer: str = ""
    bias: bool = True
    conv: ConvGeometry | None = None
    activation_bits: int = 8
    groups: int = 1

    def __post_init__(self) -> None:
        bits = self.activation_bits
        if isinstance(bits, bool) or not isinstance(bits, Integral) \
                or bits not in ACTIVATION_BITS:
            raise AccelsimError(f"GEMM {self.name!r}: activation_bits = {bits!r} must be 8 or "
                                "16 (the width of its int activations)")
        object.__setattr__(self, "activation_bits", int(bits))

    def activation_element_bytes(self, precision: Precision) -> int:
        """Bytes of one A element: 2 for 16-bit activations at int8, else the precision's."""
        if precision is Precision.INT8:
            return self.activation_bits // 8
        return precision.bytes

    @property
    def macs(self) -> int:
        return self.m * self.k * self.n * self.count * self.groups

    @property
    def ops(self) -> int:
        return 2 * self.macs

    def input_bytes(self, precision: Precision) -> int:
        """A operands over all repetitions (2 bytes per element for 16-bit int activations)."""
        return (self.m * self.k * self.count * self.groups
                * self.activation_element_bytes(precision))

    def weight_bytes(self, precision: Precision) -> int:
        """B once (it is reused across repetitions) plus 32-bit biases."""
        return self.groups * (self.k * self.n * precision.bytes + (self.n * 4 if self.bias
                                                                   else 0))

    def output_bytes(self, precision: Precision) -> int:
        return self.m * self.n * self.count * self.groups * precision.bytes


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
    """Host ↔ device copy of `elements` values (network inputs in, outputs back). `bytes`
    counts them at the precision's width; the TPU compiler counts an input that a 16-bit GEMM
    reads first at 2 bytes (int16) itself."""

    name: str
    direction: Direction
    elements: int

    def bytes(self, precision: Precision) -> int:
        return self.elements * precision.bytes


Op = Gemm | Vector | Pool | Transfer


class CellKind(StrEnum):
    RNN = "rnn"
    LSTM = "lstm"
    GRU = "gru"


@dataclass(frozen=True)
class Recurrence:
    """A recurrent layer's time steps: per step one gate GEMM (`gates`, its `count` equal to
    `steps`) and the cell's element-wise arithmetic (`cell`, each op also `steps` times)."""

    kind: CellKind
    steps: int
    hidden: int
    gates: Gemm
    cell: tuple[Vector, ...]

    @property
    def cells_per_step(self) -> int:
        """Hidden units of all samples: the state one step updates."""
        return self.gates.m * self.hidden


@dataclass(frozen=True)
class LayerOps:
    """The ops of one network layer (`kind` is the layer's type, 'input'/'output' for the
    host transfers), with its recurrence when it is recurrent (a bidirectional layer lowers
    to two, the second named `<layer>.reverse`). `inputs` names the layers whose outputs it
    reads ('input': the input transfer); empty for the input transfer itself. `folds_into`
    names the convolution a batch norm folds into where a compiler folds it (its scale into
    the filters, its shift into the bias: the TPU's compiler, int8 quantization); an eager
    framework runs it as its own op."""

    name: str
    kind: str
    ops: tuple[Op, ...]
    recurrence: Recurrence | None = None
    inputs: tuple[str, ...] = ()
    folds_into: str = ""

    @property
    def gemm(self) -> Gemm | None:
        """The layer's GEMM, if it has one."""
        return next((op for op in self.ops if isinstance(op, Gemm)), None)

    @property
    def elementwise(self) -> bool:
        """Only element-wise or pooling work (a layer a GEMM's epilogue can absorb)."""
        return bool(self.ops) and all(isinstance(op, Vector | Pool) for op in self.ops)

    @property
    def transfer(self) -> bool:
        return bool(self.ops) and all(isinstance(op, Transfer) for op in self.ops)


@dataclass(frozen=True)
class Workload:
    """One batch of one network: its layers' ops. `ops` is the flat op list; `total_ops`
    counts 2 per MAC."""

    network: str
    batch: int
    layers: tuple[LayerOps, ...]
    seq_len: int | None = None

    @classmethod
    def of_ops(cls, network: str, batch: int, ops: tuple[Op, ...],
               seq_len: int | None = None) -> Workload:
        """A workload of loose ops, each its own layer (for timing single kernels)."""
        return cls(network, batch, tuple(LayerOps(op.name, _op_kind(op), (op,)) for op in ops),
                   seq_len)

    @cached_property
    def ops(self) -> tuple[Op, ...]:
        return tuple(op for layer in self.layers for op in layer.ops)

    @cached_property
    def layer_of(self) -> tuple[int, ...]:
        """Index into `layers` of every op of `ops`."""
        return tuple(i for i, layer in enumerate(self.layers) for _ in layer.ops)

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
        return {layer.name: sum(op.macs for op in layer.ops if isinstance(op, Gemm))
                for layer in self.layers if layer.gemm is not None}

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

    def with_batch(self, batch: int) -> Workload:
        """The same network at another batch: every op's size is linear in the batch (GEMM
        rows, element counts, pooled images, transfers), so each scales by batch / self.batch."""
        layers = tuple(dataclasses.replace(
            layer, ops=tuple(_op_with_batch(op, self.batch, batch) for op in layer.ops),
            recurrence=None if layer.recurrence is None else dataclasses.replace(
                layer.recurrence,
                gates=_gemm_with_batch(layer.recurrence.gates, self.batch, batch),
                cell=tuple(_vector_with_batch(op, self.batch, batch)
                           for op in layer.recurrence.cell)))
            for layer in self.layers)
        return Workload(self.network, batch, layers, self.seq_len)

    def without_transfers(self) -> Workload:
        """The device's part: the same layers without the host copies."""
        layers = tuple(layer for layer in self.layers if not layer.transfer)
        return Workload(self.network, self.batch, layers, self.seq_len)

    def summary(self) -> str:
        """A text table: one row per op with its shape and work."""
        rows = [f"{self.network} batch={self.batch}"
                + (f" seq_len={self.seq_len}" if self.seq_len else "")]
        for op in self.ops:
            rows.append(f"  {describe(op)}")
        rows.append(f"  total: {self.macs:,} MACs = {self.total_ops:,} ops")
        return "\n".join(rows)

    def __repr__(self) -> str:
        steps = f", seq_len {self.seq_len}" if self.seq_len else ""
        return (f"Workload({self.network!r}, batch {self.batch}{steps}: {len(self.layers)} "
                f"layers, {len(self.ops)} ops, {self.macs:,} MACs)")

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td>{html.escape(self.layers[i].name)}</td>"
                       f"<td>{html.escape(describe(op))}</td></tr>"
                       for i, op in zip(self.layer_of, self.ops, strict=True))
        return (f"<p>{html.escape(repr(self))}</p><table><tr><th>layer</th><th>op</th></tr>"
                f"{rows}</table>")


def _op_with_batch(op: Op, old: int, new: int) -> Op:
    """`op` for `new` samples instead of `old` (its sizes are multiples of `old`)."""
    if isinstance(op, Gemm):
        return dataclasses.replace(op, m=op.m // old * new)
    if isinstance(op, Pool):
        return dataclasses.replace(op, batch=new)
    return dataclasses.replace(op, elements=op.elements // old * new)


def _gemm_with_batch(op: Gemm, old: int, new: int) -> Gemm:
    return dataclasses.replace(op, m=op.m // old * new)


def _vector_with_batch(op: Vector, old: int, new: int) -> Vector:
    return dataclasses.replace(op, elements=op.elements // old * new)


def _op_kind(op: Op) -> str:
    if isinstance(op, Transfer):
        return "input" if op.direction is Direction.TO_DEVICE else "output"
    return type(op).__name__.lower()


def describe(op: Op) -> str:
    """One line naming an op, its shape and its work."""
    if isinstance(op, Gemm):
        times = f" ×{op.count}" if op.count > 1 else ""
        wide = f" a{op.activation_bits}" if op.activation_bits != 8 else ""
        groups = f" groups={op.groups}" if op.groups > 1 else ""
        return (f"{op.name:<14} gemm   m={op.m} k={op.k} n={op.n}{groups}{times}{wide}  "
                f"{op.macs:,} MACs")
    if isinstance(op, Vector):
        times = f" ×{op.count}" if op.count > 1 else ""
        return f"{op.name:<14} {op.kind.value:<6} {op.elements:,} elements{times}"
    if isinstance(op, Pool):
        return (f"{op.name:<14} {op.kind.value}pool {op.window[0]}x{op.window[1]} "
                f"→ {op.elements:,} elements")
    return f"{op.name:<14} {op.direction.value} {op.elements:,} elements"
