"""The entry points that join the layers: `accelsim.run_scenario` and `accelsim.run_sweep`
(the public API of ARCHITECTURE.md). The CLI and notebooks both call these.

`run_scenario` and `run_sweep` run in the layers below (`engine`, `sweep`) and bind the
report layer's writer to their results, so `result.write(folder)` writes the report; this
module sits above both, so no layer imports the one above it.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path

from accelsim import engine
from accelsim.report import write as write_report
from accelsim.scenario import Scenario
from accelsim.scenario.result import ScenarioResult
from accelsim.scenario.space import Sweep
from accelsim.scenario.sweep_result import SweepResult
from accelsim.sweep import runner

__all__ = ["run_scenario", "run_sweep"]


def run_scenario(scenario: Scenario | str | Path,
                 on_run: Callable[[str], None] | None = None) -> ScenarioResult:
    """Run a scenario (`engine.run_scenario`); `result.write(folder)` writes its report."""
    return dataclasses.replace(engine.run_scenario(scenario, on_run), writer=write_report)


def run_sweep(sweep: Sweep | Scenario | str | Path,
              out: str | os.PathLike[str] | None = None, *, workers: int | None = None,
              dask: object = None, progress: Callable[[int, int], None] | None = None,
              chunk_size: int | None = None, report: bool = True) -> SweepResult:
    """Every point of a sweep (`sweep.runner.run_sweep`: rows streamed into `out`, resumed
    from it); with `out` and `report`, the finished folder also gets the report's
    summary.md, index.html and plots. `result.write(folder)` writes the whole folder."""
    result = runner.run_sweep(sweep, out, workers=workers, dask=dask, progress=progress,
                              chunk_size=chunk_size)
    result = dataclasses.replace(result, writer=write_report)
    if out is not None and report:
        write_report(result, out)
    return result
