"""Fixtures for the report layer: a real comparison (timing only) and a scenario's result
around it."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from accelsim.book import Figure
from accelsim.comparison import Comparison, Entry
from accelsim.engine import compare
from accelsim.scenario import MachineChoice, NetworkChoice, Reference, Scenario
from accelsim.scenario.result import ReferenceRow, ScenarioResult


def _load_plot_check():
    """plot_check.py beside this file, importable as `plot_check` by the tests here (tests are
    not a package: loaded by path once, before the test modules)."""
    if "plot_check" not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            "plot_check", Path(__file__).with_name("plot_check.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["plot_check"] = module
        spec.loader.exec_module(module)


_load_plot_check()

NETWORKS = ["lenet5", "lstm-char"]
MACHINES = ["tpu-v1", "gpu-h200", "cpu-haswell-e5-2699v3"]


@pytest.fixture(scope="session")
def comparison() -> Comparison:
    return compare(NETWORKS, MACHINES, batch=[1, 16, 64], precision=[None, "fp16"])


@pytest.fixture(scope="session")
def scenario_result(comparison: Comparison) -> ScenarioResult:
    """A scenario's result as `accelsim.run_scenario` makes it, around the comparison."""
    scenario = Scenario(
        "report-test", "LeNet-5 and an LSTM on a TPU, a GPU and a CPU", None,
        tuple(MachineChoice(m) for m in MACHINES), tuple(NetworkChoice(n) for n in NETWORKS),
        (1, 16, 64),
        ("machine", "fp16"), latency_limit_s=0.5e-3, book_figures=True,
        references=(Reference("lenet5", "tpu-v1", 64, "throughput_per_s", 5e5, "a paper"),))
    tpu = comparison.select(machine="tpu-v1", network="lenet5", batch=64)[0]
    return ScenarioResult(scenario, comparison,
                          (Figure("TPU v1 peak", "92 TOPS", 92e12, tpu.peak_ops_per_s, "OP/s",
                                  "256 × 256 × 700 MHz × 2"),),
                          (ReferenceRow(scenario.references[0], tpu.throughput),))


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
