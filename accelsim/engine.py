"""Many runs: networks × machines × batches × precisions (`compare`), and a scenario's runs,
book figures, references and quantization study (`run_scenario`).

Each run is `Machine.run` (the one run path, `accelsim.machines.run`): timing is for one
batch of `batch` samples; numerics run over all of the data given, so accuracy is measured
on the whole test split, once per network, machine and precision.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from accelsim.book import book_figures
from accelsim.build import machine
from accelsim.checks import check_count
from accelsim.comparison import Comparison, Entry, Skipped
from accelsim.errors import AccelsimError, CapacityError, PrecisionError
from accelsim.machines.base import Machine
from accelsim.machines.results import RunResult
from accelsim.nn.datasets import network_data
from accelsim.nn.loader import load_network
from accelsim.nn.network import Network
from accelsim.nn.runnable import Runnable, check_runnable
from accelsim.nn.scoring import Data
from accelsim.precision import Precision
from accelsim.quant import QuantizedNetwork, quantize
from accelsim.quant.study import QuantStudy, accuracy_study
from accelsim.scenario import MACHINE_PRECISION, Scenario, load_scenario
from accelsim.scenario.result import Figure, ReferenceRow, ScenarioResult, model_value

__all__ = ["compare", "machine", "run", "run_scenario"]
CALIBRATION_SAMPLES = 256  # training samples an int8 network's activation scales come from
NetworkSpec = str | Path | Runnable
MachineSpecifier = str | Machine
OnRun = Callable[[str], None]


def run(machine: Machine, net: Runnable, *, batch: int = 1,
        precision: Precision | str | None = None, data: Data = None,
        seq_len: int | None = None) -> RunResult:
    """Time one batch of `net` on `machine`; with data, also outputs and accuracy
    (`Machine.run`; `precision=None` means the machine's own)."""
    return machine.run(net, batch=batch, precision=precision, data=data, seq_len=seq_len)


def _as_list(value: object) -> list[Any]:
    """A list of what was given: the items of a list or tuple, else the value alone (a
    string is one name, not a sequence of letters)."""
    return list(value) if isinstance(value, list | tuple) else [value]


def _network(spec: NetworkSpec, scored: bool) -> Runnable:
    """A network by name or path (trained weights when it will be scored, else shapes only),
    or a network object as given."""
    if isinstance(spec, str | Path):
        return load_network(spec, weights="trained" if scored else "none")
    return check_runnable(spec, "compare: networks")


def _machine(spec: object) -> Machine:
    """A machine by preset name, or a built machine as given."""
    if isinstance(spec, str):
        return machine(spec)
    if isinstance(spec, Machine):
        return spec
    raise AccelsimError(f"compare: machines holds {spec!r} ({type(spec).__name__}); give "
                        "preset names (accelsim.presets()) or machines from accelsim.machine")


def _quantized(net: Runnable) -> Runnable:
    """The int8 network, its scales calibrated on training samples (as `ax.quantize`)."""
    if isinstance(net, QuantizedNetwork) or not isinstance(net, Network):
        return net
    return quantize(net, network_data(net, "train")[0][:CALIBRATION_SAMPLES])


def _batches(m: Machine, net: Runnable, precision: Precision, batches: Sequence[int],
             data: Data, seq_len: int | None, on_run: OnRun | None,
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


def compare(networks: NetworkSpec | Sequence[NetworkSpec],
            machines: MachineSpecifier | Sequence[MachineSpecifier], *,
            batch: int | Sequence[int] = 1,
            precision: str | Precision | Sequence[str | Precision | None] | None = None,
            seq_len: int | None = None, accuracy: bool = False,
            on_run: OnRun | None = None) -> Comparison:
    """Every network on every machine at every batch and precision (None: each machine's
    own). Networks and machines are names (or paths, or built objects). With `accuracy`, each
    run also scores the network's own test split at that precision (int8 through a network
    quantized on 256 training samples). A precision a machine lacks, or a batch that does not
    fit its memory, is skipped and listed with the reason; `on_run` hears each run's label."""
    scored = bool(accuracy)
    nets = [_network(n, scored) for n in _as_list(networks)]
    built = [_machine(m) for m in _as_list(machines)]
    batches = [check_count(b, "batch", owner="compare", meaning="samples")
               for b in _as_list(batch)]
    precisions = [None if p is None else Precision.parse(p) for p in _as_list(precision)]
    tests = [network_data(net, "test") if scored else None for net in nets]  # before any run
    entries: list[Entry] = []
    skipped: list[Skipped] = []
    for net, test in zip(nets, tests, strict=True):
        int8: Runnable | None = None
        for m in built:
            for p in precisions:
                chosen = m.default_precision if p is None else p
                model = net
                if chosen is Precision.INT8 and scored:
                    model = int8 = int8 or _quantized(net)
                done, left = _batches(m, model, chosen, batches, test, seq_len, on_run)
                entries += done
                skipped += left
    return Comparison(tuple(entries), tuple(skipped))


def _scenario_machines(scenario: Scenario) -> list[Machine]:
    """Each machine of the scenario, as parsed (built here for a scenario made by hand); an
    error names the file and the machine's key."""
    built = []
    for i, choice in enumerate(scenario.machines):
        try:
            built.append(choice.built())
        except AccelsimError as err:
            key = f"machines[{i}].{'overrides' if choice.overrides else 'preset'}"
            raise scenario.error(key, err) from None
    return built


def run_scenario(scenario: Scenario | str | Path,
                 on_run: OnRun | None = None) -> ScenarioResult:
    """Run a scenario (a `Scenario`, a file's path or a bundled scenario's name): every
    network on every machine at every batch and precision (`compare`), the book's figures
    when it asks for them, the model's value beside each published reference, and its
    quantization study (`accelsim.quant.study.accuracy_study`) when it has one; `on_run`
    hears each run's and each study step's label. The result's `write` needs a report
    writer: `accelsim.run_scenario` binds the report layer's."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if not scenario.machines and scenario.quantization is None:
        raise scenario.error("sweep", f"the scenario holds only a design-space sweep; run it "
                             f"with `accelsim sweep {scenario.name}` (or "
                             "accelsim.run_sweep(scenario))")
    comparison = Comparison(())
    if scenario.machines:  # a scenario with only a [quantization] study has no runs
        weights = "trained" if scenario.accuracy else "none"
        comparison = compare(
            [c.loaded(weights) for c in scenario.networks], _scenario_machines(scenario),
            batch=list(scenario.batches),
            precision=[None if p == MACHINE_PRECISION else p for p in scenario.precisions],
            seq_len=scenario.seq_len, accuracy=scenario.accuracy, on_run=on_run)
    figures: tuple[Figure, ...] = ()
    if scenario.book_figures:
        figures = tuple(book_figures())
    references = tuple(ReferenceRow(ref, model_value(comparison, ref))
                       for ref in scenario.references)
    return ScenarioResult(scenario, comparison, figures, references,
                          _study(scenario, on_run))


def _study(scenario: Scenario, on_run: OnRun | None) -> QuantStudy | None:
    """The scenario's quantization study (None when it asks for none); an error names the
    scenario's [quantization] table."""
    plan = scenario.quantization
    if plan is None:
        return None
    try:
        return accuracy_study([c.loaded("trained") for c in plan.networks], plan.variants,
                              plan.sensitivity, plan.max_drop_points, on_step=on_run)
    except AccelsimError as err:
        raise scenario.error("quantization", err) from None
