"""The run path: lower → time each op with the machine's model → execute the numerics at the
machine's precision → score accuracy when labelled data is given.

Timing is for one batch of `batch` samples. Numerics run over all of the data given (in chunks
of the network's forward size), so accuracy is measured on the whole set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from accelsim.errors import AccelsimError
from accelsim.lower import lower
from accelsim.machines.results import RunResult
from accelsim.nn.network import Network

if TYPE_CHECKING:
    from accelsim.machines.base import Machine


def split_data(data: Any) -> tuple[np.ndarray | None, np.ndarray | None]:
    """data may be None, inputs alone, or (inputs, labels)."""
    if data is None:
        return None, None
    if isinstance(data, tuple | list):
        if len(data) != 2:
            raise AccelsimError(f"data must be x or (x, y), got a sequence of {len(data)} items")
        x, y = data
        return np.asarray(x), None if y is None else np.asarray(y)
    return np.asarray(data), None


def score(outputs: np.ndarray, labels: np.ndarray) -> float:
    """Top-1 accuracy; per-step labels (N, T) count every step."""
    predictions = outputs.argmax(axis=-1)
    if predictions.shape != labels.shape:
        raise AccelsimError(f"labels of shape {labels.shape} do not match the network's "
                            f"predictions of shape {predictions.shape}")
    return float(np.mean(predictions == labels))


def run(machine: Machine, net: Network, *, batch: int = 1, precision: Any = None,
        data: Any = None, seq_len: int | None = None) -> RunResult:
    """Time one batch of `net` on `machine`; with data, also outputs and accuracy.

    `precision=None` means the machine's own (`machine.default_precision`).
    """
    p = machine.check_precision(machine.default_precision if precision is None else precision)
    x, y = split_data(data)
    if x is not None:
        x = net.check_input(x)
        if net.sequence and seq_len not in (None, x.shape[1]):
            raise AccelsimError(f"seq_len = {seq_len} but the data has {x.shape[1]} time "
                                "steps; leave seq_len out to time the data's length")
        if net.sequence:
            seq_len = x.shape[1]
    workload = lower(net, batch, seq_len)
    timing = machine.time_workload(workload, p)
    outputs = machine.execute(net, x, p) if x is not None else None
    accuracy = score(outputs, y) if y is not None and outputs is not None else None
    return RunResult(machine=machine.name, network=net.name, batch=workload.batch,
                     precision=p, layers=timing.layers, cycles=timing.cycles,
                     seconds=timing.seconds, ops=workload.total_ops,
                     peak_ops_per_s=machine.peak_ops_per_s(p), clock_hz=machine.clock_hz,
                     seq_len=workload.seq_len, accuracy=accuracy, outputs=outputs,
                     program=timing.program, details=timing.details)
