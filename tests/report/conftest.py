"""Fixtures for the report layer: a real comparison (timing only) and a stand-in with the
attributes a scenario's result has (the report reads it by duck typing)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from accelsim.book import Figure
from accelsim.comparison import Comparison, Entry
from accelsim.engine import compare
from accelsim.scenario import MachineChoice, Reference, Scenario
from accelsim.scenario_result import ReferenceRow, ScenarioResult

NETWORKS = ["lenet5", "lstm-char"]
MACHINES = ["tpu-v1", "gpu-h200", "cpu-haswell-e5-2699v3"]


@dataclass(frozen=True)
class Choice:
    preset: str
    overrides: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class StandInScenario:
    name: str = "report-test"
    description: str = "LeNet-5 and an LSTM on a TPU, a GPU and a CPU"
    path: Path | None = None
    machines: tuple[Choice, ...] = tuple(Choice(m) for m in MACHINES)
    networks: tuple[str, ...] = tuple(NETWORKS)
    batches: tuple[int, ...] = (1, 16, 64)
    precisions: tuple[str, ...] = ("machine", "fp16")
    seq_len: int | None = None
    accuracy: bool = False
    latency_limit_s: float | None = 0.5e-3
    plots: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()
    book_figures: bool = True


@dataclass(frozen=True)
class StandInFigure:
    name: str
    book: str
    book_value: float
    model_value: float
    unit: str
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.model_value / self.book_value


@dataclass(frozen=True)
class StandInReference:
    network: str
    machine: str
    batch: int
    metric: str
    value: float
    source: str


@dataclass(frozen=True)
class StandInRow:
    reference: StandInReference
    model_value: float | None


@dataclass(frozen=True)
class StandInResult:
    scenario: StandInScenario
    comparison: Comparison
    figures: tuple[StandInFigure, ...] = ()
    references: tuple[StandInRow, ...] = ()


@pytest.fixture(scope="session")
def comparison() -> Comparison:
    return compare(NETWORKS, MACHINES, batch=[1, 16, 64], precision=[None, "fp16"])


@pytest.fixture(scope="session")
def scenario_result(comparison: Comparison) -> ScenarioResult:
    """A scenario's result as `accelsim.run_scenario` makes it, around the comparison."""
    scenario = Scenario(
        "report-test", "LeNet-5 and an LSTM on a TPU, a GPU and a CPU", None,
        tuple(MachineChoice(m) for m in MACHINES), tuple(NETWORKS), (1, 16, 64),
        ("machine", "fp16"), latency_limit_s=0.5e-3, book_figures=True,
        references=(Reference("lenet5", "tpu-v1", 64, "throughput_per_s", 5e5, "a paper"),))
    tpu = comparison.select(machine="tpu-v1", network="lenet5", batch=64)[0]
    return ScenarioResult(scenario, comparison,
                          (Figure("TPU v1 peak", "92 TOPS", 92e12, tpu.peak_ops_per_s, "OP/s",
                                  "256 × 256 × 700 MHz × 2"),),
                          (ReferenceRow(scenario.references[0], tpu.throughput),))


@pytest.fixture(scope="session")
def stand_in(comparison: Comparison) -> StandInResult:
    """Only the fields the contract gives a scenario's result (no `sections()`)."""
    tpu = comparison.select(machine="tpu-v1", network="lenet5", batch=64)[0]
    figures = (StandInFigure("TPU v1 peak", "92 TOPS", 92e12, tpu.peak_ops_per_s, "OP/s",
                             "256 × 256 × 700 MHz × 2"),)
    references = (StandInRow(StandInReference("lenet5", "tpu-v1", 64, "throughput_per_s",
                                              5e5, "a stand-in paper"), tpu.throughput),
                  StandInRow(StandInReference("lenet5", "gpu-k80", 8, "latency_ms", 1.0,
                                              "not run here"), None))
    return StandInResult(StandInScenario(), comparison, figures, references)


@pytest.fixture(scope="session")
def scored(comparison: Comparison) -> Comparison:
    """The runs with accuracies set by hand (the plot only reads them): int8 a little
    below the float formats."""
    given = {"fp32": 0.99, "fp16": 0.985, "int8": 0.97}
    return Comparison(tuple(Entry(dataclasses.replace(
        r, accuracy=given[r.precision.value] - (0.1 if r.network == "lstm-char" else 0.0)))
        for r in comparison.results))


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")
