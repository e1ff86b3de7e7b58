"""Declarations: what a scenario file asks for, checked once at the edge.

- `scenario.py`, `choices.py`: the declared values (`Scenario`, with the machines it built
  and the networks it loaded, `Reference`);
- `parse.py`: reading a file into a `Scenario` (`load_scenario`, `parse_scenario`), with
  `checks.py` for the messages, `study.py` for the [quantization] table and
  `sweep_table.py` for the [sweep] table;
- `space.py`, `axes.py`, `constraints.py`: a design-space sweep (`Sweep`) and its points;
- `result.py`, `sweep_result.py`: what running them produced (`ScenarioResult`,
  `SweepResult`), for the report layer above to draw.

Nothing here runs a network: the engine and the sweep runner execute these declarations.
"""

from accelsim.scenario.choices import MachineChoice, NetworkChoice
from accelsim.scenario.parse import (
    KEYS,
    REFERENCE_METRICS,
    available_scenarios,
    load_scenario,
    parse_scenario,
    resolve_scenario,
    scenarios_dir,
)
from accelsim.scenario.scenario import FORMATS, MACHINE_PRECISION, PLOTS, Reference, Scenario

__all__ = ["FORMATS", "KEYS", "MACHINE_PRECISION", "PLOTS", "REFERENCE_METRICS",
           "MachineChoice", "NetworkChoice", "Reference", "Scenario", "available_scenarios",
           "load_scenario", "parse_scenario", "resolve_scenario", "scenarios_dir"]
