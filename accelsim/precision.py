"""Number formats. One enum, parsed once at the edge (CLI, scenario, keyword arguments).

Lowering and numerics need element sizes, machines need the precision names, so the enum lives
here, below both; `accelsim.machines.base` re-exports it.
"""

from __future__ import annotations

from enum import StrEnum

from accelsim.errors import PrecisionError


class Precision(StrEnum):
    """Storage format of operands. Floating-point formats count FLOPs, int8 counts OPs."""

    FP32 = "fp32"
    FP16 = "fp16"
    BF16 = "bf16"
    INT8 = "int8"

    @property
    def bytes(self) -> int:
        """Bytes per stored element."""
        return _BYTES[self]

    @property
    def accumulator_bytes(self) -> int:
        """Bytes per accumulator: fp32 for the float formats, int32 for int8."""
        return 4

    @property
    def is_float(self) -> bool:
        return self is not Precision.INT8

    @property
    def ops_unit(self) -> str:
        """'FLOP' for floating point, 'OP' for integer: the two are never added together."""
        return "FLOP" if self.is_float else "OP"

    @classmethod
    def parse(cls, value: Precision | str) -> Precision:
        """Turn 'fp16', 'FP16' or Precision.FP16 into Precision.FP16; anything else is an error."""
        if isinstance(value, Precision):
            return value
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            choices = ", ".join(p.value for p in cls)
            raise PrecisionError(
                f"unknown precision {value!r}; choose one of {choices}"
            ) from None


_BYTES = {Precision.FP32: 4, Precision.FP16: 2, Precision.BF16: 2, Precision.INT8: 1}
