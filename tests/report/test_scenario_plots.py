"""Every plot of every bundled scenario, drawn by the functions its report calls (issue 21,
item 5), read by the plot checker (`plot_check.faults`): no tick label, legend text or
label over another, no text off the figure, no point outside its axes.

A scenario with runs draws its [report] plots from its result (`PLOTS`, `STUDY_PLOTS`, as
`writers.render` does); a design-space sweep draws `sweep_figures` of its rows, as its
folder's report does. Runs are timing only unless a plot reads their accuracy (the accuracy
plot); nothing is written. The scenarios whose runs or study take long carry the `slow`
marker (`make test-slow` and .ci/run check them).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import matplotlib.pyplot as plt
import plot_check as check  # tests/report/conftest.py loads it by path
import pytest
from matplotlib.figure import Figure

from accelsim.engine import run_scenario
from accelsim.report.plots import PLOTS
from accelsim.report.quant_plots import STUDY_PLOTS
from accelsim.report.sweep_plots import sweep_figures
from accelsim.scenario.parse import load_scenario
from accelsim.sweep.runner import run_sweep

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
# about 8 s and 2 s on two cores; the others 3 to 8 s each, and a minute for the study
FAST = {"quickstart", "bring-your-own"}




def figures(path: Path) -> Iterator[tuple[str, Figure]]:
    """(plot name, figure) for every plot the scenario's report draws."""
    scenario = load_scenario(path)
    if scenario.sweep is not None:
        for name, _, figure in sweep_figures(run_sweep(scenario.sweep, workers=1)):
            yield name, figure
        return
    result = run_scenario(replace(scenario, book_figures=False, accuracy=scenario.accuracy
                                  and "accuracy" in scenario.plots))
    for name in scenario.plots:
        ax = (PLOTS[name] if name in PLOTS else STUDY_PLOTS[name])(result)
        yield name, ax.get_figure(root=True)


@pytest.mark.parametrize("path", [
    pytest.param(p, id=p.stem, marks=() if p.stem in FAST else pytest.mark.slow)
    for p in SCENARIOS])
def test_every_plot_of_a_bundled_scenario_reads_cleanly(path):
    found = {}
    for name, figure in figures(path):
        found[name] = check.faults(figure)
        plt.close(figure)
    assert found, f"{path.name} draws no plot"
    assert {name: faults for name, faults in found.items() if faults} == {}


def test_the_fast_set_names_bundled_scenarios():
    assert {p.stem for p in SCENARIOS} >= FAST
