"""The run path: lower → time each op with the machine's model → execute the numerics at the
machine's precision → score accuracy when labelled data is given.

Timing is for one batch of `batch` samples. Numerics run over all of the data given (in chunks
of the network's forward size), so accuracy is measured on the whole set.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from accelsim.comparison import Comparison, Entry, Skipped
from accelsim.errors import AccelsimError, CapacityError, PrecisionError
from accelsim.machines.presets import HOST, build
from accelsim.machines.results import RunResult
from accelsim.measure.calibration import host_spec
from accelsim.nn.datasets import network_data
from accelsim.nn.runnable import Runnable
from accelsim.nn.scoring import score, split_data
from accelsim.precision import Precision
from accelsim.quant.study import QuantStudy, accuracy_study
from accelsim.scenario import MACHINE_PRECISION, Scenario, load_scenario
from accelsim.scenario_result import ReferenceRow, ScenarioResult, model_value

__all__ = ["compare", "machine", "network_data", "run", "run_scenario", "score", "split_data"]
CALIBRATION_SAMPLES = 256  # training samples an int8 network's activation scales come from

if TYPE_CHECKING:
    from accelsim.machines.base import Machine


def machine(name: str, /, calibration: str | Path | None = None,
            **overrides: Any) -> Machine:
    """A machine preset with spec fields overridden by keyword; `cpu-host` comes from the
    host's saved calibration (`calibration=PATH`, else the per-user cache, else measured once
    and saved, with a note on stderr)."""
    if name == HOST:
        return build(name, host_spec(None if calibration is None else Path(calibration)),
                     **overrides)
    if calibration is not None:
        raise AccelsimError(f"calibration= applies to cpu-host only, not {name!r}")
    return build(name, **overrides)


def run(machine: Machine, net: Runnable, *, batch: int = 1, precision: Any = None,
        data: Any = None, seq_len: int | None = None) -> RunResult:
    """Time one batch of `net` on `machine`; with data, also outputs and accuracy
    (`Machine.run`; `precision=None` means the machine's own)."""
    return machine.run(net, batch=batch, precision=precision, data=data, seq_len=seq_len)


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _network(spec: Any, scored: bool) -> Any:
    """A network by name or path (trained weights when it will be scored, else shapes only),
    or a network object as given."""
    from accelsim.nn.loader import load_network

    if isinstance(spec, str | Path):
        return load_network(spec, weights="trained" if scored else "none")
    return spec


def _quantized(net: Any) -> Any:
    """The int8 network, its scales calibrated on training samples (as `ax.quantize`)."""
    from accelsim.quant import QuantizedNetwork, quantize

    if isinstance(net, QuantizedNetwork):
        return net
    return quantize(net, network_data(net, "train")[0][:CALIBRATION_SAMPLES])


def _batches(m: Machine, net: Any, precision: Precision, batches: Sequence[int], data: Any,
             seq_len: int | None, on_run: Callable[[str], None] | None,
             ) -> tuple[list[Entry], list[Skipped]]:
    """One network on one machine at one precision, at every batch. The numerics do not
    depend on the batch timed: with data, the first run that fits is scored and its accuracy
    given to the others."""
    entries, skipped = [], []
    scored: float | None = None
    for b in batches:
        if on_run is not None:
            on_run(f"{net.name} on {m.name} ({precision.value}, batch {b})")
        try:
            r = m.run(net, batch=b, precision=precision, seq_len=seq_len,
                      data=data if scored is None else None)
        except (PrecisionError, CapacityError) as err:
            skipped.append(Skipped(m.name, net.name, b, precision.value, str(err)))
            continue
        if data is not None:
            scored = r.accuracy if scored is None else scored
            r = dataclasses.replace(r, accuracy=scored)
        entries.append(Entry(r))
    return entries, skipped


def compare(networks: Any, machines: Any, *, batch: int | Sequence[int] = 1,
            precision: str | Precision | Sequence[str | Precision | None] | None = None,
            seq_len: int | None = None, accuracy: bool = False,
            on_run: Callable[[str], None] | None = None) -> Comparison:
    """Every network on every machine at every batch and precision (None: each machine's
    own). Networks and machines are names (or paths, or built objects). With `accuracy`, each
    run also scores the network's own test split at that precision (int8 through a network
    quantized on 256 training samples). A precision a machine lacks, or a batch that does not
    fit its memory, is skipped and listed with the reason; `on_run` hears each run's label."""
    scored = bool(accuracy)
    nets = [_network(n, scored) for n in _as_list(networks)]
    built = [machine(m) if isinstance(m, str) else m for m in _as_list(machines)]
    batches = [int(b) for b in _as_list(batch)]
    precisions = [None if p is None else Precision(p) for p in _as_list(precision)]
    tests = [network_data(net, "test") if scored else None for net in nets]  # before any run
    entries: list[Entry] = []
    skipped: list[Skipped] = []
    for net, test in zip(nets, tests, strict=True):
        int8 = None
        for m in built:
            for p in precisions:
                chosen = m.default_precision if p is None else p
                model = net
                if chosen is Precision.INT8 and scored:
                    model = int8 = int8 or _quantized(net)
                done, left = _batches(m, model, chosen, batches, test, seq_len, on_run)
                entries += done
                skipped += left
    return Comparison(tuple(entries), tuple(skipped),
                      tuple((m.name, getattr(m, "spec", None)) for m in built))


def _scenario_machines(scenario: Scenario) -> list[Machine]:
    """Each machine of the scenario, built; an error names the file and the machine's key."""
    built = []
    for i, choice in enumerate(scenario.machines):
        try:
            built.append(machine(choice.preset, **dict(choice.overrides)))
        except AccelsimError as err:
            key = f"machines[{i}].{'overrides' if choice.overrides else 'preset'}"
            raise scenario.error(key, err) from None
    return built


def run_scenario(scenario: Scenario | str | Path,
                 on_run: Callable[[str], None] | None = None) -> ScenarioResult:
    """Run a scenario (a `Scenario`, a file's path or a bundled scenario's name): every
    network on every machine at every batch and precision (`compare`), the book's figures
    when it asks for them, the model's value beside each published reference, and its
    quantization study (`accelsim.quant.study.accuracy_study`) when it has one; `on_run`
    hears each run's and each study step's label."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if not scenario.machines and scenario.quantization is None:
        raise scenario.error("sweep", f"the scenario holds only a design-space sweep; run it "
                             f"with `accelsim sweep {scenario.name}` (or "
                             "accelsim.sweep.run_sweep(scenario))")
    comparison = Comparison(())
    if scenario.machines:  # a scenario with only a [quantization] study has no runs
        comparison = compare(
            list(scenario.networks), _scenario_machines(scenario),
            batch=list(scenario.batches),
            precision=[None if p == MACHINE_PRECISION else p for p in scenario.precisions],
            seq_len=scenario.seq_len, accuracy=scenario.accuracy, on_run=on_run)
    figures: tuple[Any, ...] = ()
    if scenario.book_figures:
        from accelsim.book import book_figures

        figures = tuple(book_figures())
    references = tuple(ReferenceRow(ref, model_value(comparison, ref))
                       for ref in scenario.references)
    return ScenarioResult(scenario, comparison, figures, references,
                          _study(scenario, on_run))


def _study(scenario: Scenario, on_run: Callable[[str], None] | None) -> QuantStudy | None:
    """The scenario's quantization study (None when it asks for none); an error names the
    scenario's [quantization] table."""
    plan = scenario.quantization
    if plan is None:
        return None
    try:
        return accuracy_study(list(plan.networks), plan.variants, plan.sensitivity,
                              plan.max_drop_points, on_step=on_run)
    except AccelsimError as err:
        raise scenario.error("quantization", err) from None
