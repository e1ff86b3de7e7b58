"""Scenario files: which networks run on which machines, at which batches and precisions, what
the report shows, and published figures to set beside the model's.

    [scenario]     name (required; the report folder), description, latency_limit_ms
    [[machines]]   preset (required), overrides = { spec_field = value, name = "relabel" }
                   (or, before any table: machines = ["tpu-v1", "gpu-h200"])
    [run]          networks (required: bundled names, or .toml or .onnx paths relative to
                   this file),
                   batch (int or list, default 1), precision ("machine" = each machine's own,
                   fp32, fp16, bf16, int8; default "machine"), seq_len, accuracy (default false)
    [report]       plots, formats (default: all of PLOTS, FORMATS; plots = [] for none)
    [book]         figures (default false): the book's figures beside the model's
    [quantization] networks, variants, sensitivity, max_drop_points: an accuracy study of
                   number formats (`accelsim.scenario.study`); with it, [[machines]] and
                   [run] may both be left out
    [sweep]        machine (one preset), networks (default: run.networks), mode ("grid" or
                   "points"), constraints (["tpu.array_rows == tpu.array_cols"]; and, or);
                   [sweep.axes] tpu.array_rows = [8, 16, 32] (spec fields as
                   "<family>.<field>", or batch, precision, seq_len; a list or a range
                   { start, stop, num | step, scale = "linear" | "log", integer });
                   [[sweep.points]] explicit points: a design-space sweep, run by
                   `accelsim sweep` (`accelsim.scenario.sweep_table`); with it too, [[machines]]
                   and [run] may both be left out
    [[reference]]  network, machine, batch, metric (a run metric of `accelsim.metrics`), value,
                   source: a published figure beside the model's value

Strings become values once, here. Every mistake is a `ScenarioError` naming the file, the key
path (`run.batch[1]`) and the fix (`accelsim.scenario.checks`); unknown keys and names get a
did-you-mean; asking for accuracy of a network without a data set is refused. Machines are built
and networks loaded while parsing (cpu-host from the host's saved calibration; networks with
their trained weights where the scenario scores them), so a bad override or network file fails
before anything runs, in its own words, and nothing downstream builds them again.

Bundled scenarios live in the top-level `scenarios/` folder, which installs as the package
`accelsim.scenarios` (as `models/` installs as `accelsim.models`): `accelsim run quickstart`
finds `scenarios/quickstart.toml` from any directory, editable install or not.
"""

from __future__ import annotations

import importlib.resources
import os
import re
import tomllib
from collections.abc import Mapping
from difflib import get_close_matches
from pathlib import Path
from typing import Any, NamedTuple

from accelsim.build import machine_with
from accelsim.checks import check_number
from accelsim.errors import AccelsimError, ScenarioError
from accelsim.files import utf8_text
from accelsim.machines.presets import preset_names
from accelsim.metrics import RUN_METRICS
from accelsim.nn.loader import available_networks, load_network
from accelsim.nn.network import Network
from accelsim.precision import Precision
from accelsim.scenario.checks import Doc, show
from accelsim.scenario.scenario import (
    FORMATS,
    MACHINE_PRECISION,
    PLOTS,
    MachineChoice,
    NetworkChoice,
    Reference,
    Scenario,
)
from accelsim.scenario.study import (
    QUANTIZATION_KEYS,
    VARIANT_KEYS,
    choose_plots,
    parse_quantization,
)
from accelsim.scenario.sweep_table import RANGE_KEYS, SWEEP_KEYS, parse_sweep

KEYS: dict[str, tuple[str, ...]] = {
    "": ("scenario", "machines", "run", "report", "book", "reference", "quantization",
         "sweep"),
    "scenario": ("name", "description", "latency_limit_ms"),
    "machines": ("preset", "overrides"),
    "run": ("networks", "batch", "precision", "seq_len", "accuracy"),
    "report": ("plots", "formats"),
    "book": ("figures",),
    "reference": ("network", "machine", "batch", "metric", "value", "source"),
    "quantization": QUANTIZATION_KEYS,
    "quantization.variants": VARIANT_KEYS,
    "sweep": SWEEP_KEYS,
    "sweep.range": RANGE_KEYS,
}
MAX_RUN_VALUES = 1000  # batches (or precisions) one [run] lists: each a run per network, machine
REFERENCE_METRICS = tuple(m.name for m in RUN_METRICS)  # what [[reference]] metric may name
_NAME = re.compile(r"\w[\w .+-]{0,99}")  # the scenario's name is its report folder's name


# ---- reading ---------------------------------------------------------------------------


def scenarios_dir() -> Path:
    """The folder of bundled scenarios (the package `accelsim.scenarios`)."""
    return Path(str(importlib.resources.files("accelsim.scenarios")))


def available_scenarios() -> list[str]:
    """Names of the bundled scenarios."""
    return sorted(p.stem for p in scenarios_dir().glob("*.toml"))


def _is_file(path: Path, folder: bool = False) -> bool:
    try:
        return path.is_dir() if folder else path.is_file()
    except (OSError, ValueError):  # names too long, NUL bytes
        return False


def resolve_scenario(name_or_path: str | Path) -> Path:
    """A scenario file by path, or a bundled scenario by name ('quickstart')."""
    text = str(name_or_path)
    if not text.strip():
        raise ScenarioError("no scenario given; name a bundled one ("
                            f"{', '.join(available_scenarios())}) or give a .toml file's path")
    candidate = Path(text).expanduser()
    if _is_file(candidate):
        return candidate
    bundled = scenarios_dir() / f"{text}.toml"
    if "/" not in text and "\\" not in text and _is_file(bundled):
        return bundled
    names = available_scenarios()
    hint = get_close_matches(candidate.stem, names, n=1)
    advice = f"did you mean {hint[0]!r}? " if hint else ""
    folder = _is_file(candidate, folder=True)
    state = "is a folder, not a scenario file" if folder else "does not exist"
    raise ScenarioError(f"scenario {show(text)} {state}; {advice}bundled scenarios: "
                        f"{', '.join(names) or 'none'} (or give the path of a .toml file)")


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Read and check a scenario file (a path, or a bundled scenario's name)."""
    path = resolve_scenario(name_or_path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise ScenarioError(f"{path}: cannot read the scenario: {err.strerror or err}") from None
    text = utf8_text(raw, path, ScenarioError, "scenario files are TOML text",
                     "the file is empty; a scenario needs [scenario] name, [[machines]] "
                     "preset and [run] networks", kind="a UTF-8 text file")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"{path}: not valid TOML: {err}") from None
    except RecursionError:
        raise ScenarioError(f"{path}: not usable TOML: values nested too deeply") from None
    return parse_scenario(doc, path)


# ---- sections --------------------------------------------------------------------------


def _machine_items(doc: Mapping[str, Any], d: Doc) -> list[tuple[str, Any]]:
    if "machines" not in doc:
        raise d.missing("machines", 'add a [[machines]] table with preset = "tpu-v1" '
                        f"(presets: {', '.join(preset_names())})")
    value = doc["machines"]
    if isinstance(value, dict):
        raise d.bad("machines", value, "must be a list of tables",
                    "write [[machines]] (double brackets), one table per machine")
    return d.items(value, "machines", 'machines = ["tpu-v1"]')


def _machine(item: object, key: str, d: Doc) -> MachineChoice:
    """A [[machines]] entry, its machine built (so the spec checks the overrides in its own
    words: unknown fields with a did-you-mean)."""
    if isinstance(item, str):
        item = {"preset": item}
    if not isinstance(item, dict):
        raise d.bad(key, item, "must be a preset name or a table",
                    'e.g. [[machines]] preset = "tpu-v1"')
    d.keys(item, "machines", f"{key}.")
    if "preset" not in item:
        raise d.missing(f"{key}.preset", f"add preset = \"tpu-v1\" "
                        f"(presets: {', '.join(preset_names())})")
    preset = d.text(item["preset"], f"{key}.preset", '"tpu-v1"')
    if preset not in preset_names():
        raise d.unknown(f"{key}.preset", preset, preset_names(), "machine preset")
    overrides = item.get("overrides", {})
    if not isinstance(overrides, dict):
        raise d.bad(f"{key}.overrides", overrides, "must be a table of spec fields",
                    "e.g. overrides = { array_rows = 32 }")
    try:
        built = machine_with(preset, overrides)
    except AccelsimError as err:
        raise d.wrap(f"{key}.overrides", err) from None
    return MachineChoice(preset, tuple(overrides.items()), built)


def _machines(doc: Mapping[str, Any], d: Doc) -> tuple[MachineChoice, ...]:
    chosen: list[MachineChoice] = []
    for key, item in _machine_items(doc, d):
        choice = _machine(item, key, d)
        if choice.name in [c.name for c in chosen]:
            raise d.bad(f"{key}.preset", choice.preset, f"repeats the machine {choice.name!r}",
                        'give one of them a name of its own, e.g. overrides = { name = '
                        f'"{choice.preset}-b" }}')
        chosen.append(choice)
    return tuple(chosen)


class NetworkReader:
    """Reads a network entry of the document ('lenet5', or a TOML or ONNX path relative to the
    scenario file) into a `NetworkChoice`, loading each network once per kind of weights."""

    def __init__(self, d: Doc) -> None:
        self.d = d
        self.loaded: dict[tuple[str, str], Network] = {}

    def spec(self, item: object, key: str) -> str:
        """The network as the engine takes it: a bundled name, or an absolute path."""
        bundled = available_networks()
        text = self.d.text(item, key, '"lenet5" or "models/mine.toml"')
        if text in bundled:
            return text
        if text.endswith((".toml", ".onnx")) or "/" in text or "\\" in text:
            path = Path(text).expanduser()
            base = Path.cwd() if self.d.path is None else self.d.path.parent
            return os.path.normpath(path if path.is_absolute() else base / path)
        raise self.d.unknown(key, text, bundled, "bundled network",
                             also=", or give the path of a .toml or .onnx file")

    def __call__(self, item: object, key: str, weights: str = "none") -> NetworkChoice:
        spec = self.spec(item, key)
        if (spec, weights) not in self.loaded:
            try:
                self.loaded[spec, weights] = load_network(spec, weights=weights)
            except AccelsimError as err:
                raise self.d.wrap(key, err) from None
        return NetworkChoice(spec, self.loaded[spec, weights])


def _precision(item: object, key: str, d: Doc) -> str:
    names = (MACHINE_PRECISION, *(p.value for p in Precision))
    text = d.text(item, key, '"machine" or "int8"')
    if text.strip().lower() == MACHINE_PRECISION:
        return MACHINE_PRECISION
    try:
        return Precision.parse(text).value
    except AccelsimError:
        raise d.unknown(key, text, names, "precision") from None


class _Run(NamedTuple):
    networks: tuple[NetworkChoice, ...]
    batches: tuple[int, ...]
    precisions: tuple[str, ...]
    seq_len: int | None
    accuracy: bool

    def names(self) -> list[str]:
        """The networks' own names, in order."""
        return [c.loaded().name for c in self.networks]


def _run(doc: Mapping[str, Any], d: Doc, read: NetworkReader) -> _Run:
    run = d.table(doc, "run", required=True)
    if "networks" not in run:
        raise d.missing("run.networks", f"add networks = [\"lenet5\"] (bundled: "
                        f"{', '.join(available_networks())})")
    accuracy = d.flag(run.get("accuracy", False), "run.accuracy")
    networks: list[NetworkChoice] = []
    for key, item in d.items(run["networks"], "run.networks", 'networks = ["lenet5"]'):
        shapes = read(item, key).loaded()
        if shapes.name in [c.loaded().name for c in networks]:
            raise d.bad(key, item, f"repeats the network {shapes.name!r}", "remove the repeat")
        if accuracy and "dataset" not in shapes.training:
            raise d.bad("run.accuracy", accuracy, f"needs a test set, but {shapes.name} names "
                        "no data set ([training] dataset)", "set accuracy = false, or leave "
                        "that network out")
        networks.append(read(item, key, "trained" if accuracy else "none"))
    batches = d.distinct(d.items(run.get("batch", 1), "run.batch", "batch = [1, 64]",
                                 MAX_RUN_VALUES), d.count)
    precisions = d.distinct(d.items(run.get("precision", MACHINE_PRECISION), "run.precision",
                                    'precision = ["machine"]', MAX_RUN_VALUES),
                            lambda item, key: _precision(item, key, d))
    seq_len = None if "seq_len" not in run else d.count(run["seq_len"], "run.seq_len")
    return _Run(tuple(networks), tuple(batches), tuple(precisions), seq_len, accuracy)


def _header(doc: Mapping[str, Any], d: Doc) -> tuple[str, str, float | None]:
    head = d.table(doc, "scenario", required=True)
    if "name" not in head:
        raise d.missing("scenario.name", 'add name = "my-scenario" under [scenario]')
    name = d.text(head["name"], "scenario.name", '"quickstart"')
    if not _NAME.fullmatch(name) or name.strip() in (".", ".."):
        raise d.bad("scenario.name", name, "cannot name the report folder",
                    "use letters, digits, spaces and . + - _ (at most 100), e.g. \"my-sweep\"")
    description = head.get("description", "")
    if not isinstance(description, str):
        raise d.bad("scenario.description", description, "must be a string",
                    'e.g. description = "LeNet-5 on three machines"')
    limit = head.get("latency_limit_ms")
    if limit is not None:
        limit = check_number(limit, "scenario.latency_limit_ms", owner=d.where,
                             meaning="milliseconds", error=ScenarioError) / 1e3
    return name, description, limit


def _reference(item: object, key: str, d: Doc, run: _Run,
               machines: tuple[MachineChoice, ...]) -> Reference:
    if not isinstance(item, dict):
        raise d.bad(key, item, "must be a table", "write [[reference]] with network, machine, "
                    "batch, metric, value, source")
    d.keys(item, "reference", f"{key}.")
    for field in KEYS["reference"][:-1]:
        if field not in item:
            raise d.missing(f"{key}.{field}", "a reference needs network, machine, batch, "
                            "metric and value (and a source)")
    network = d.text(item["network"], f"{key}.network", '"lenet5"')
    names = run.names()
    if network not in names:
        raise d.unknown(f"{key}.network", network, names, "network of run.networks")
    machine = d.text(item["machine"], f"{key}.machine", '"tpu-v1"')
    if machine not in [m.name for m in machines]:
        raise d.unknown(f"{key}.machine", machine, [m.name for m in machines],
                        "machine of [[machines]]")
    batch = d.count(item["batch"], f"{key}.batch")
    if batch not in run.batches:
        raise d.bad(f"{key}.batch", batch, "is not one of run.batch",
                    f"add {batch} to run.batch, or use one of {list(run.batches)}")
    metric = d.text(item["metric"], f"{key}.metric", '"throughput_per_s"')
    if metric not in REFERENCE_METRICS:
        raise d.unknown(f"{key}.metric", metric, REFERENCE_METRICS, "metric")
    value = check_number(item["value"], f"{key}.value", owner=d.where, meaning="",
                         error=ScenarioError)
    source = item.get("source", "")
    if not isinstance(source, str):
        raise d.bad(f"{key}.source", source, "must be a string",
                    'e.g. source = "Jouppi et al. 2017, Table 6"')
    return Reference(network, machine, batch, metric, float(value), source)


def _references(doc: Mapping[str, Any], d: Doc, run: _Run,
                machines: tuple[MachineChoice, ...]) -> tuple[Reference, ...]:
    if "reference" not in doc:
        return ()
    value = doc["reference"]
    if not isinstance(value, list):
        raise d.bad("reference", value, "must be a list of tables",
                    "write [[reference]] (double brackets), one table per figure")
    return tuple(_reference(item, f"reference[{i}]", d, run, machines)
                 for i, item in enumerate(value))


def parse_scenario(doc: Mapping[str, Any], path: str | Path | None = None) -> Scenario:
    """Check a scenario document (as `tomllib` reads it); `path` names the file in errors and
    is where relative network paths start (else the current directory)."""
    d = Doc(None if path is None else Path(path), KEYS)
    if not isinstance(doc, Mapping):
        raise ScenarioError(f"{d.where}: a scenario is a table of sections, not "
                            f"{type(doc).__name__}")
    d.keys(doc, "", "")
    name, description, limit = _header(doc, d)
    no_runs = ("quantization" in doc or "sweep" in doc) and "machines" not in doc \
        and "run" not in doc  # a study or a sweep needs no runs
    read = NetworkReader(d)
    machines = () if no_runs else _machines(doc, d)
    run = _Run((), (), (), None, False) if no_runs else _run(doc, d, read)
    study = parse_quantization(doc, d, run.networks, read)
    sweep = parse_sweep(doc, d, run.networks, read, name, description)
    report = d.table(doc, "report")
    plots = choose_plots(report, d, PLOTS, not no_runs, study)
    formats = (FORMATS if "formats" not in report
               else d.choices(report["formats"], "report.formats", FORMATS, "format"))
    book = d.table(doc, "book")
    return Scenario(
        name=name, description=description, path=d.path, machines=machines,
        networks=run.networks, batches=run.batches, precisions=run.precisions,
        seq_len=run.seq_len, accuracy=run.accuracy, latency_limit_s=limit, plots=plots,
        formats=formats, book_figures=d.flag(book.get("figures", False), "book.figures"),
        references=_references(doc, d, run, machines), quantization=study, sweep=sweep)
