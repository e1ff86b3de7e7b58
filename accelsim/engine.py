"""The run path: lower → time each op with the machine's model → execute the numerics at the
machine's precision → score accuracy when labelled data is given.

Timing is for one batch of `batch` samples. Numerics run over all of the data given (in chunks
of the network's forward size), so accuracy is measured on the whole set.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from accelsim.errors import AccelsimError
from accelsim.machines.presets import HOST, build
from accelsim.machines.results import RunResult
from accelsim.measure.calibration import host_spec
from accelsim.nn.runnable import Runnable
from accelsim.nn.scoring import score, split_data

__all__ = ["machine", "run", "score", "split_data"]

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


def run(machine: Machine, net: Runnable, *, batch: int = 1, precision: Any = None,
        data: Any = None, seq_len: int | None = None) -> RunResult:
    """Time one batch of `net` on `machine`; with data, also outputs and accuracy
    (`Machine.run`; `precision=None` means the machine's own)."""
    return machine.run(net, batch=batch, precision=precision, data=data, seq_len=seq_len)
