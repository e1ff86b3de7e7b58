"""Numerics policies: how a forward pass rounds values to a storage precision.

`EXACT` keeps the input dtype untouched (training and gradient checks, float64 included).
The float precisions emulate what accelerators do: operands are stored in the format (fp32,
fp16, or bf16 with round-to-nearest-even on the upper 16 bits of fp32), products are
accumulated in fp32 (as tensor cores and fp32 SIMT units do), and each result is rounded back
to the storage format. int8 inference is handled by the quantization path, not here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from accelsim.errors import PrecisionError
from accelsim.precision import Precision


def round_bf16(x: np.ndarray) -> np.ndarray:
    """Round float32 values to bfloat16 (nearest, ties to even), returned as float32."""
    bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    rounding = np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))
    rounded = (bits + rounding) & np.uint32(0xFFFF0000)
    return rounded.view(np.float32)


def _store_fp32(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float32)


def _store_fp16(x: np.ndarray) -> np.ndarray:
    """Values beyond ±65504 become ±inf, as on fp16 hardware."""
    with np.errstate(over="ignore"):
        return np.asarray(x, dtype=np.float32).astype(np.float16).astype(np.float32)


_STORE: dict[Precision, Callable[[np.ndarray], np.ndarray]] = {
    Precision.FP32: _store_fp32,
    Precision.FP16: _store_fp16,
    Precision.BF16: round_bf16,
}


@dataclass(frozen=True)
class Numerics:
    """A rounding policy. `precision=None` means exact: values keep their dtype."""

    precision: Precision | None = None

    def __post_init__(self) -> None:
        if self.precision is not None and self.precision not in _STORE:
            raise PrecisionError(
                f"precision {self.precision.value!r} has no float emulation; int8 runs through "
                "a quantized network (accelsim.quantize)"
            )

    def store(self, x: np.ndarray) -> np.ndarray:
        """Round `x` to the storage format."""
        if self.precision is None:
            return x
        return _STORE[self.precision](x)

    def matmul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Stored operands, fp32 (or exact) accumulation, stored result."""
        return self.store(self.store(a) @ self.store(b))

    def apply(self, fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
        """An element-wise function evaluated on stored input, result stored."""
        return self.store(fn(self.store(x)))


EXACT = Numerics()


def numerics_for(precision: Precision | str | None) -> Numerics:
    """The policy for a precision name; None gives EXACT."""
    if precision is None:
        return EXACT
    return Numerics(Precision.parse(precision))
