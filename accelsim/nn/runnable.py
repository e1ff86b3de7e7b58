"""What a machine can run: a float `Network` or a `QuantizedNetwork` alike.

Lowering reads only the shape side (name, layers, input and sample shapes, sequence length);
the run path also validates inputs and computes outputs. Both network kinds satisfy this
protocol explicitly (no attribute forwarding).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np

from accelsim.errors import AccelsimError
from accelsim.nn.layers import Layer, Shape
from accelsim.precision import Precision


@runtime_checkable
class Runnable(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def layers(self) -> tuple[Layer, ...]: ...

    @property
    def input_shape(self) -> Shape: ...

    @property
    def sequence(self) -> bool: ...

    @property
    def training(self) -> Mapping[str, Any]: ...

    @property
    def seq_len(self) -> int | None: ...

    def sample_shape(self, seq_len: int | None = None) -> Shape: ...

    @property
    def sources(self) -> tuple[tuple[str, ...], ...]: ...

    def layer_shapes(self, seq_len: int | None = None) -> Iterator[tuple[Layer, Shape, Shape]]:
        ...

    def layer_io(self, seq_len: int | None = None
                 ) -> Iterator[tuple[Layer, tuple[Shape, ...], Shape]]: ...

    def check_input(self, x: np.ndarray) -> np.ndarray: ...

    def forward(self, x: np.ndarray, precision: Precision | str | None = None) -> np.ndarray: ...

    def accuracy(self, x: np.ndarray, y: np.ndarray) -> float: ...


def check_runnable(net: object, where: str) -> Runnable:
    """`net` if it is a network object (a `Network` or a `QuantizedNetwork`), else an error
    naming what `where` expected: a name or a path is loaded by `accelsim.network` first."""
    if isinstance(net, Runnable):
        return net
    if isinstance(net, str) or hasattr(net, "__fspath__"):
        raise AccelsimError(f"{where} takes a network object, not the name {str(net)!r}; "
                            f"load it first: net = accelsim.network({str(net)!r})")
    raise AccelsimError(f"{where} takes a network (accelsim.network(...) or "
                        f"accelsim.quantize(...)), not a {type(net).__name__}: {net!r:.60}")
