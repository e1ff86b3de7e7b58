"""The TPU v1 instruction set as the compiler emits it (Jouppi et al. 2017, section 2).

CISC instructions with a repeat count folded into their sizes: the host moves inputs and
outputs over PCIe (Read_Host_Memory, Write_Host_Memory); Read_Weights queues one weight tile
from DDR3 into the weight FIFO (decoupled: it returns once the address is sent);
MatrixMultiply streams `rows` rows of Unified Buffer activations through the array against a
tile, writing or accumulating into one of the two accumulator buffers (`passes` = 2 for 16-bit
activations: the 8-bit array streams the rows twice, once per byte, at half speed); Activate
drains an accumulator buffer through the activation unit (ReLU, sigmoid, tanh, pooling, the
LSTM cell arithmetic) into the Unified Buffer; Sync makes the next instructions wait for every
result written so far (the read-after-write dependency between layers and time steps); Halt
ends.
Every instruction carries `op`, the index of the workload op it implements.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ReadHostMemory:
    op: int
    nbytes: int

    def text(self) -> str:
        return f"Read_Host_Memory   {self.nbytes:>10,} B  host → UB"


@dataclass(frozen=True, slots=True)
class ReadWeights:
    op: int
    tile: int
    nbytes: int
    rows: int
    cols: int

    def text(self) -> str:
        return (f"Read_Weights       tile {self.tile:<5} {self.rows}×{self.cols} "
                f"({self.nbytes:,} B) DDR3 → FIFO")


@dataclass(frozen=True, slots=True)
class MatrixMultiply:
    op: int
    tile: int
    rows: int
    buffer: int
    accumulate: bool
    passes: int = 1  # 2: 16-bit activations, one pass per byte (8-bit × 16-bit mode)

    @property
    def cycles(self) -> int:
        """Cycles the array is busy streaming: one row per cycle per pass."""
        return self.rows * self.passes

    def text(self) -> str:
        mode = "accumulate" if self.accumulate else "write"
        wide = f", {self.passes} passes (16-bit)" if self.passes > 1 else ""
        return (f"MatrixMultiply     tile {self.tile:<5} {self.rows:>5} rows → acc buffer "
                f"{self.buffer} ({mode}{wide})")


@dataclass(frozen=True, slots=True)
class Activate:
    op: int
    function: str
    buffer: int
    rows: int
    cycles: int

    def text(self) -> str:
        return (f"Activate           {self.function:<14} acc buffer {self.buffer}, "
                f"{self.rows} rows, {self.cycles} cycles → UB")


@dataclass(frozen=True, slots=True)
class WriteHostMemory:
    op: int
    nbytes: int

    def text(self) -> str:
        return f"Write_Host_Memory  {self.nbytes:>10,} B  UB → host"


@dataclass(frozen=True, slots=True)
class Sync:
    op: int

    def text(self) -> str:
        return "Sync"


@dataclass(frozen=True, slots=True)
class Halt:
    op: int

    def text(self) -> str:
        return "Halt"


Instruction = (ReadHostMemory | ReadWeights | MatrixMultiply | Activate | WriteHostMemory | Sync
               | Halt)


@dataclass(frozen=True)
class Program:
    """A compiled TPU program; `str(program)` is its disassembly."""

    instructions: tuple[Instruction, ...]
    op_names: tuple[str, ...]
    tiles: int

    def __len__(self) -> int:
        return len(self.instructions)

    def __str__(self) -> str:
        width = max((len(name) for name in self.op_names), default=2)
        return "\n".join(f"{index:5d}  {self.op_names[ins.op]:<{width}}  {ins.text()}"
                         for index, ins in enumerate(self.instructions))

    def count(self, kind: type) -> int:
        return sum(isinstance(i, kind) for i in self.instructions)
