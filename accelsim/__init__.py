"""accelsim: how fast does this network run on a CPU, a GPU or a systolic TPU, and why?

The public API (the names ARCHITECTURE.md fixes):

    import accelsim as ax
    net = ax.network("lenet5")
    x, y = ax.datasets.load("digits", split="test")
    wl = ax.lower(net, batch=64)
    ax.presets(); m = ax.machine(name, **overrides); r = m.run(net, batch=64, data=(x, y))
    cmp = ax.compare(["lenet5", "lstm-char"], ["tpu-v1", "gpu-h200"], batch=[1, 64])
    ax.plot.throughput(cmp)  # every plot takes ax=None and returns the matplotlib Axes
    res = ax.run_scenario("quickstart"); print(res.table()); res.write("reports/quickstart")

Importing the package loads only this list, the errors and lowering (`lower`, whose module's
name is its own): every other name is imported on first use (`PUBLIC`), so `import accelsim`
stays quick and a command loads only the layers it uses.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from accelsim.errors import AccelsimError, ScenarioError
from accelsim.lower import lower  # eager: the submodule accelsim.lower would shadow a lazy name
from accelsim.version import VERSION as __version__  # noqa: F401 (accelsim.__version__)

if TYPE_CHECKING:  # what each lazy name is, for type checkers and readers
    from accelsim import plot
    from accelsim.api import run_scenario, run_sweep
    from accelsim.build import machine
    from accelsim.comparison import Comparison
    from accelsim.engine import compare, run
    from accelsim.ir import Gemm, Pool, Transfer, Vector, Workload
    from accelsim.machines import Machine, OpResult, Precision, RunResult
    from accelsim.machines.presets import preset_names as presets
    from accelsim.nn import Network, datasets
    from accelsim.nn.loader import available_networks as networks
    from accelsim.nn.loader import load_network as network
    from accelsim.quant import QuantizedNetwork, Scheme, quantize
    from accelsim.scenario import Scenario, load_scenario
    from accelsim.scenario.result import ScenarioResult
    from accelsim.scenario.space import Sweep
    from accelsim.scenario.sweep_result import SweepResult

PUBLIC = {
    "Comparison": "accelsim.comparison", "Gemm": "accelsim.ir", "Machine": "accelsim.machines",
    "Network": "accelsim.nn", "OpResult": "accelsim.machines", "Pool": "accelsim.ir",
    "Precision": "accelsim.machines", "QuantizedNetwork": "accelsim.quant",
    "RunResult": "accelsim.machines", "Scenario": "accelsim.scenario",
    "ScenarioResult": "accelsim.scenario.result", "Scheme": "accelsim.quant",
    "Sweep": "accelsim.scenario.space", "SweepResult": "accelsim.scenario.sweep_result",
    "Transfer": "accelsim.ir", "Vector": "accelsim.ir", "Workload": "accelsim.ir",
    "compare": "accelsim.engine", "load_scenario": "accelsim.scenario",
    "machine": "accelsim.build", "network": "accelsim.nn.loader:load_network",
    "networks": "accelsim.nn.loader:available_networks",
    "presets": "accelsim.machines.presets:preset_names", "quantize": "accelsim.quant",
    "run": "accelsim.engine", "run_scenario": "accelsim.api", "run_sweep": "accelsim.api",
}
"""Each public name and the module it comes from ("module:name" where it has another name
there), imported on first use."""
MODULES = {"datasets": "accelsim.nn.datasets", "plot": "accelsim.plot"}
"""The public modules (`ax.datasets.load`, `ax.plot.throughput`)."""

__all__ = [
    "AccelsimError", "Comparison", "Gemm", "Machine", "Network", "OpResult", "Pool", "Precision",
    "QuantizedNetwork", "RunResult", "Scenario", "ScenarioError", "ScenarioResult", "Scheme",
    "Sweep", "SweepResult", "Transfer", "Vector", "Workload", "compare", "datasets",
    "load_scenario", "lower", "machine", "network", "networks", "plot", "presets", "quantize",
    "run", "run_scenario", "run_sweep",
]


def __getattr__(name: str) -> object:
    """A public name, imported from its module the first time it is asked for."""
    if name in MODULES:
        value: object = importlib.import_module(MODULES[name])
    elif name in PUBLIC:
        module, _, attribute = PUBLIC[name].partition(":")
        value = getattr(importlib.import_module(module), attribute or name)
    else:
        raise AttributeError(f"module 'accelsim' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
