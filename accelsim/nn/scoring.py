"""Data given to a run: inputs alone or (inputs, labels), and top-1 scoring of outputs."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from accelsim.errors import AccelsimError, DataError
from accelsim.nn.network import check_labels

Data = ArrayLike | tuple[ArrayLike, ArrayLike] | list[ArrayLike] | None
"""What a run is given: nothing, inputs alone, or (inputs, labels)."""


def split_data(data: Data) -> tuple[np.ndarray | None, np.ndarray | None]:
    """data may be None, inputs alone, or (inputs, labels) with one label per sample."""
    if data is None:
        return None, None
    if isinstance(data, tuple | list):
        if len(data) != 2:
            raise AccelsimError(f"data must be x or (x, y), got a sequence of {len(data)} items")
        x, y = (_as_array(part, name) for part, name in zip(data, ("inputs", "labels"),
                                                              strict=True))
        if x is not None and y is not None and x.ndim and (y.ndim == 0 or len(y) != len(x)):
            got = "a single label" if y.ndim == 0 else f"{len(y):,} labels"
            raise DataError(f"labels of shape {y.shape} give {got} for {len(x):,} samples; "
                            "give one label per sample: data=(x, y) with len(y) == len(x)")
        return x, y
    return _as_array(data, "inputs"), None


def _as_array(part: ArrayLike | None, name: str) -> np.ndarray | None:
    if part is None:
        return None
    try:
        return np.asarray(part)
    except (ValueError, TypeError) as err:
        raise DataError(f"the {name} cannot form one array ({err}); give a numpy array of "
                        "equal-length rows") from None


def score(outputs: np.ndarray, labels: np.ndarray) -> float:
    """Top-1 accuracy; per-step labels (N, T) count every step.

    Labels must be class indices 0 … classes − 1, one per prediction.
    """
    outputs = np.asarray(outputs)
    labels = check_labels(labels, outputs.shape)
    return float(np.mean(outputs.argmax(axis=-1) == labels))
