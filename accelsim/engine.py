"""The run path: lower → time each op with the machine's model → execute the numerics at the
machine's precision → score accuracy when labelled data is given.

Timing is for one batch of `batch` samples. Numerics run over all of the data given (in chunks
of the network's forward size), so accuracy is measured on the whole set.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from accelsim.errors import AccelsimError, DataError
from accelsim.lower import lower
from accelsim.machines.presets import HOST, build
from accelsim.machines.results import RunResult
from accelsim.measure.calibration import host_spec
from accelsim.nn.network import Network, check_labels

if TYPE_CHECKING:
    from accelsim.machines.base import Machine


def machine(name: str, /, calibration: str | Path | None = None,
            **overrides: Any) -> Machine:
    """A machine preset with spec fields overridden by keyword; `cpu-host` comes from the
    host's saved calibration (`calibration=PATH`, else the per-user cache, else measured once
    and saved, with a note on stderr)."""
    if name == HOST:
        return build(name, host_spec(None if calibration is None else Path(calibration)),
                     **overrides)
    if calibration is not None:
        raise AccelsimError(f"calibration= applies to cpu-host only, not {name!r}")
    return build(name, **overrides)


def split_data(data: Any) -> tuple[np.ndarray | None, np.ndarray | None]:
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


def _as_array(part: Any, name: str) -> np.ndarray | None:
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
                     seconds=timing.seconds, device_seconds=timing.device_seconds,
                     ops=workload.total_ops, peak_ops_per_s=machine.peak_ops_per_s(p),
                     clock_hz=machine.clock_hz, seq_len=workload.seq_len, accuracy=accuracy,
                     outputs=outputs, program=timing.program, detail=timing.detail,
                     time=timing.time)
