"""What a report reads: exactly the result types, by name.

- `Comparison` (`ax.compare`): runs;
- `ScenarioResult` (`ax.run_scenario`): runs, and the scenario's figures, references, latency
  limit and quantization study;
- `QuantStudy` (`accuracy_study`): a quantization study alone;
- `SweepResult` (`ax.run_sweep`): a design-space sweep (its own pages: `sweep_report`).

Everything a plot draws travels in the result: peak rates and each machine's main-memory
bandwidth (the roofline's slope) are in every `RunResult`. A report never builds a machine,
reads a calibration or touches the host.
"""

from __future__ import annotations

from accelsim.comparison import Comparison
from accelsim.errors import AccelsimError
from accelsim.machines.results import RunResult
from accelsim.quant.study import QuantStudy
from accelsim.scenario.result import ScenarioResult
from accelsim.scenario.scenario import Scenario

Runs = Comparison | ScenarioResult
"""A result holding runs: what the run plots take."""
Studied = QuantStudy | ScenarioResult
"""A result that may hold a quantization study: what the study plots take."""
Result = Comparison | ScenarioResult | QuantStudy
"""What `report.write` takes besides a `SweepResult`."""


class NothingToPlot(AccelsimError):
    """A result holds nothing a plot can draw (accuracy without any scored run); a report
    leaves that plot out with a note."""


def comparison_of(result: Result) -> Comparison:
    """The runs of a result (none for a study alone)."""
    if isinstance(result, Comparison):
        return result
    if isinstance(result, ScenarioResult):
        return result.comparison
    if isinstance(result, QuantStudy):
        return Comparison(())
    raise AccelsimError(f"cannot report on {type(result).__name__}: give a Comparison "
                        "(ax.compare), a scenario's result (ax.run_scenario), a quantization "
                        "study (accuracy_study) or a sweep's result (ax.run_sweep)")


def scenario_of(result: Result) -> Scenario | None:
    """The scenario a result came from (None for a comparison or a study)."""
    return result.scenario if isinstance(result, ScenarioResult) else None


def study_of(result: Result) -> QuantStudy | None:
    """The quantization study a result holds (None without one)."""
    if isinstance(result, QuantStudy):
        return result
    return result.study if isinstance(result, ScenarioResult) else None


def has_runs(result: Result) -> bool:
    """False for a study alone, or a scenario that asked only for its study."""
    if isinstance(result, ScenarioResult):
        return result.has_runs
    return isinstance(result, Comparison)


def latency_limit_s(result: Result) -> float | None:
    """The scenario's latency limit in seconds (None without one)."""
    scenario = scenario_of(result)
    return None if scenario is None else scenario.latency_limit_s


def runs_of(result: Result, what: str) -> tuple[RunResult, ...]:
    """Every run, or NothingToPlot naming the plot (`what`)."""
    runs = comparison_of(result).results
    if not runs:
        raise NothingToPlot(f"no runs to plot {what} of: every combination was skipped")
    return runs
