"""What a report reads: a `Comparison`, or a scenario's result, and the few machine facts a
plot needs beyond the runs.

A scenario result is read by duck typing (`ScenarioResultLike`: `.scenario`, `.comparison`,
`.figures`, `.references`), so the report never imports the scenario layer that calls it.
Reports never simulate: the only machine fact they look up is main-memory bandwidth (the
roofline's slope), read from the spec each machine ran with (`Comparison.specs`), or, for a
comparison that holds none, from the spec its preset (and the scenario's overrides) builds,
without running anything; `cpu-host` is then read from its saved calibration only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, TypeAlias

from accelsim.comparison import Comparison
from accelsim.errors import AccelsimError
from accelsim.machines.results import RunResult

BANDWIDTH_FIELDS = ("dram_bytes_per_s", "ddr_bytes_per_s")  # CPUs and GPUs; the TPU's DDR3


class NothingToPlot(AccelsimError):
    """A result holds nothing a plot can draw (accuracy without any scored run); a report
    leaves that plot out with a note."""


class ScenarioResultLike(Protocol):
    """What a report reads of `accelsim.scenario.ScenarioResult`."""

    @property
    def scenario(self) -> Any: ...

    @property
    def comparison(self) -> Comparison: ...

    @property
    def figures(self) -> tuple[Any, ...]: ...

    @property
    def references(self) -> tuple[Any, ...]: ...


Result: TypeAlias = "Comparison | ScenarioResultLike"


def comparison_of(result: Result) -> Comparison:
    """The runs of a comparison or of a scenario's result."""
    if isinstance(result, Comparison):
        return result
    found = getattr(result, "comparison", None)
    if not isinstance(found, Comparison):
        raise AccelsimError(f"cannot report on {type(result).__name__}: give a Comparison "
                            "(ax.compare) or a scenario's result (ax.run_scenario)")
    return found


def scenario_of(result: Result) -> Any | None:
    """The scenario a result came from, or None for a bare comparison."""
    return getattr(result, "scenario", None)


def latency_limit_s(result: Result) -> float | None:
    """The scenario's latency limit in seconds (None without one, or for a comparison)."""
    limit = getattr(scenario_of(result), "latency_limit_s", None)
    return None if limit is None else float(limit)


def figures_of(result: Result) -> tuple[Any, ...]:
    """The book's figures a scenario's result holds (none for a comparison)."""
    return tuple(getattr(result, "figures", ()) or ())


def references_of(result: Result) -> tuple[Any, ...]:
    """The published references a scenario's result holds (none for a comparison)."""
    return tuple(getattr(result, "references", ()) or ())


def study_of(result: Any) -> Any | None:
    """The quantization study a result holds: a `QuantStudy` itself, or a scenario result's
    `.study` (None without one)."""
    if hasattr(result, "rows") and hasattr(result, "mixed"):
        return result
    return getattr(result, "study", None)


def study_only(result: Result) -> bool:
    """True for a scenario's result that holds a quantization study and no runs at all (not
    even skipped ones): the scenario asked only for the study."""
    cmp = comparison_of(result)
    return study_of(result) is not None and not cmp.entries and not cmp.skipped


def runs_of(result: Result, what: str) -> tuple[RunResult, ...]:
    """Every run, or NothingToPlot naming the plot (`what`)."""
    runs = comparison_of(result).results
    if not runs:
        raise NothingToPlot(f"no runs to plot {what} of: every combination was skipped")
    return runs


def dram_bytes_per_s(spec: Any) -> float | None:
    """A machine spec's main-memory bandwidth: `dram_bytes_per_s` (CPUs, GPUs) or
    `ddr_bytes_per_s` (the TPU's weight DDR3); None for a spec with neither."""
    for name in BANDWIDTH_FIELDS:
        value = getattr(spec, name, None)
        if value:
            return float(value)
    return None


def _built_spec(preset: str, overrides: Mapping[str, Any]) -> Any | None:
    """A preset's spec with overrides (cpu-host's from its saved calibration, or None)."""
    from accelsim.machines.presets import HOST, build

    if preset != HOST:
        return build(preset, **overrides).spec
    from accelsim.measure.calibration import default_path, load

    saved = default_path()
    return build(HOST, load(saved), **overrides).spec if saved.exists() else None


def _choices(result: Result) -> dict[str, tuple[str, dict[str, Any]]]:
    """Machine name -> (preset, overrides) from a scenario's machines ({} for a comparison)."""
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for choice in getattr(scenario_of(result), "machines", ()) or ():
        overrides = dict(getattr(choice, "overrides", ()) or ())
        out[str(overrides.get("name", choice.preset))] = (choice.preset, overrides)
    return out


def bandwidths(result: Result) -> dict[str, float | None]:
    """Machine name -> DRAM bytes/s for every machine in the result: from the spec it ran
    with (`Comparison.specs`), else rebuilt from its preset and the scenario's overrides
    (None where unknown: a machine built outside the presets, or cpu-host never calibrated
    here)."""
    cmp = comparison_of(result)
    choices = _choices(result)
    out: dict[str, float | None] = {}
    for name in cmp.machines():
        if cmp.spec(name) is not None:
            out[name] = dram_bytes_per_s(cmp.spec(name))
            continue
        preset, overrides = choices.get(name, (name, {}))
        try:
            out[name] = dram_bytes_per_s(_built_spec(preset, overrides))
        except AccelsimError:
            out[name] = None
    return out
