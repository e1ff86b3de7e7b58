"""accelsim: how fast does this network run on a CPU, a GPU or a systolic TPU, and why?

The public API (names fixed by DESIGN.md):

    import accelsim as ax
    net = ax.network("lenet5")
    x, y = ax.datasets.load("digits", split="test")
    wl = ax.lower(net, batch=64)
    ax.presets(); m = ax.machine(name, **overrides); r = m.run(net, batch=64, data=(x, y))
    cmp = ax.compare(["lenet5", "lstm-char"], ["tpu-v1", "gpu-h200"], batch=[1, 64])
    ax.plot.throughput(cmp)  # every plot takes ax=None and returns the matplotlib Axes
    res = ax.run_scenario("quickstart"); print(res.table()); res.write("reports/quickstart")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from accelsim import plot
from accelsim.comparison import Comparison
from accelsim.engine import compare, machine, run, run_scenario
from accelsim.errors import AccelsimError, ScenarioError
from accelsim.ir import Gemm, Pool, Transfer, Vector, Workload
from accelsim.lower import lower
from accelsim.machines import Machine, OpResult, Precision, RunResult
from accelsim.machines.presets import preset_names
from accelsim.nn import Network, datasets
from accelsim.nn.loader import available_networks, load_network
from accelsim.quant import QuantizedNetwork, Scheme, quantize
from accelsim.scenario import Scenario, load_scenario
from accelsim.scenario_result import ScenarioResult
from accelsim.sweep import Sweep, SweepResult, run_sweep

__version__ = "0.1.0"
__all__ = [
    "AccelsimError",
    "Comparison",
    "Gemm",
    "Machine",
    "Network",
    "OpResult",
    "Pool",
    "Precision",
    "QuantizedNetwork",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "ScenarioResult",
    "Scheme",
    "Sweep",
    "SweepResult",
    "Transfer",
    "Vector",
    "Workload",
    "compare",
    "datasets",
    "load_scenario",
    "lower",
    "machine",
    "network",
    "networks",
    "plot",
    "presets",
    "quantize",
    "run",
    "run_scenario",
    "run_sweep",
]


def presets() -> list[str]:
    """Names of the machine presets that can be built."""
    return preset_names()


def network(name_or_path: str | Path, **options: Any) -> Network:
    """A bundled network by name or a TOML file by path, with its trained weights.

    Options: weights='trained' | 'init' | path to an npz; seed (for 'init');
    overrides={'layer.field': value}.
    """
    return load_network(name_or_path, **options)


def networks() -> list[str]:
    """Names of the bundled networks."""
    return available_networks()
