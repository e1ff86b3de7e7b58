"""What a scenario declares, as checked values (`accelsim.scenario.parse` reads the file):
which machines (built) run which networks (loaded), at which batches and precisions, what the
report shows, published figures to set beside the model's, and optionally a quantization
study and a design-space sweep. A parsed scenario carries the machines it built and the
networks it loaded (`accelsim.scenario.choices`), so nothing downstream builds them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from accelsim.errors import AccelsimError, ScenarioError
from accelsim.scenario.checks import where
from accelsim.scenario.choices import MachineChoice, NetworkChoice
from accelsim.scenario.space import Sweep
from accelsim.scenario.study import QuantizationPlan

PLOTS = ("throughput", "latency", "roofline", "ops_vs_flops", "accuracy", "time", "utilization")
"""The plots of a scenario's runs, by the names [report] plots takes."""
FORMATS = ("json", "csv", "md", "html", "png")
MACHINE_PRECISION = "machine"  # each machine's own precision (engine.compare's None)


@dataclass(frozen=True)
class Reference:
    """A published figure: `metric` of `network` on `machine` at `batch` is `value`."""

    network: str
    machine: str
    batch: int
    metric: str
    value: float
    source: str = ""


@dataclass(frozen=True)
class Scenario:
    """A parsed, checked scenario file (`load_scenario`, `parse_scenario`)."""

    name: str
    description: str
    path: Path | None
    machines: tuple[MachineChoice, ...]
    networks: tuple[NetworkChoice, ...]
    batches: tuple[int, ...]
    precisions: tuple[str, ...]  # "machine" or a Precision value
    seq_len: int | None = None
    accuracy: bool = False
    latency_limit_s: float | None = None
    plots: tuple[str, ...] = PLOTS
    formats: tuple[str, ...] = FORMATS
    book_figures: bool = False
    references: tuple[Reference, ...] = ()
    quantization: QuantizationPlan | None = None
    sweep: Sweep | None = None

    @property
    def run_count(self) -> int:
        """How many runs the scenario asks for (some may be skipped)."""
        return (len(self.networks) * len(self.machines) * len(self.batches)
                * len(self.precisions))

    def error(self, key: str, err: AccelsimError | str) -> ScenarioError:
        """An error about `key` of this scenario, naming its file."""
        return ScenarioError(f"{where(self.path)}: {key}: {err}")
