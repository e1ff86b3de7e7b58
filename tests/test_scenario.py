"""Scenario files: every shipped one parses, every mistake is one `ScenarioError` naming the
file, the key path and the fix, no document makes the parser fail any other way, and
`run_scenario` gives the numbers the machines give when run by hand."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import textwrap
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import accelsim as ax
from accelsim.errors import ScenarioError
from accelsim.machines.presets import build
from accelsim.scenario import (
    FORMATS,
    KEYS,
    PLOTS,
    REFERENCE_METRICS,
    MachineChoice,
    Scenario,
    available_scenarios,
    load_scenario,
    parse_scenario,
    scenarios_dir,
)
from accelsim.scenario.result import ScenarioResult, model_value


def specs(choices) -> tuple[str, ...]:
    """The networks as the scenario names them."""
    return tuple(c.spec for c in choices)


BASE = """
[scenario]
name = "tiny"
[[machines]]
preset = "tpu-v1"
[[machines]]
preset = "gpu-h200"
[run]
networks = ["lenet5"]
batch = [1, 64]
"""


@pytest.fixture
def scenario_file(tmp_path: Path):
    """Write a scenario (dedented) into tmp_path/scenarios/NAME.toml; returns its path."""

    def write(body: str, name: str = "s.toml") -> Path:
        path = tmp_path / "scenarios" / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(textwrap.dedent(body), encoding="utf-8")
        return path

    return write


# ---- the shipped scenarios ---------------------------------------------------------------


@pytest.mark.parametrize("name", available_scenarios())
def test_every_shipped_scenario_parses(name):
    s = load_scenario(name)
    assert s.path == scenarios_dir() / f"{name}.toml"
    assert load_scenario(s.path) == s  # by name and by path alike
    runs = s.machines and s.networks and s.batches and s.precisions
    alone = (s.quantization or s.sweep) and not s.machines and not s.networks
    assert runs or alone  # a study or a sweep only


def test_the_shipped_scenarios_include_quickstart_and_batch_sweep():
    assert {"quickstart", "batch-sweep"} <= set(available_scenarios())
    quick = load_scenario("quickstart")
    assert [m.preset for m in quick.machines] == ["tpu-v1", "gpu-h200", "cpu-host"]
    assert specs(quick.networks) == ("lenet5", "lstm-char") and quick.batches == (1, 16, 64, 256)
    assert quick.accuracy and quick.plots == PLOTS and quick.formats == FORMATS
    sweep = load_scenario("batch-sweep")
    assert sweep.batches == tuple(4**i for i in range(7)) and not sweep.accuracy
    assert sweep.latency_limit_s == pytest.approx(7e-3)
    assert {m.preset for m in sweep.machines} == {"tpu-v1", "gpu-h200", "gpu-v100",
                                                  "cpu-haswell-e5-2699v3", "cpu-host"}


def test_a_bundled_name_resolves_and_a_local_file_wins(scenario_file, monkeypatch):
    local = scenario_file(BASE, name="quickstart")  # a file named like a bundled scenario
    monkeypatch.chdir(local.parent)
    assert load_scenario("quickstart").name == "tiny"  # the file given, not the bundled one
    assert load_scenario(str(scenarios_dir() / "quickstart.toml")).name == "quickstart"


def test_metrics_are_the_numbers_of_a_run_record():
    record = ax.compare("lenet5", "tpu-v1").to_records()[0]
    labels = {"machine", "network", "batch", "seq_len", "precision", "ops_unit"}
    assert set(REFERENCE_METRICS) == set(record) - labels


# ---- errors ----------------------------------------------------------------------------


def _mutate(body: str, change: str) -> str:
    """BASE with one line replaced ("old => new") or lines appended ("+ text")."""
    if change.startswith("+ "):
        return body + change[2:].replace("; ", "\n") + "\n"
    old, new = (part.replace("; ", "\n") for part in change.split(" => "))
    assert old in body, old
    return body.replace(old, new, 1)


ERRORS = [  # (change to BASE, key path in the message, the fix it gives)
    ('name = "tiny" => description = "x"', "scenario.name is missing", 'add name = "'),
    ('name = "tiny" => name = "../up"', "scenario.name = '../up'", "use letters, digits"),
    ('name = "tiny" => name = 3', "scenario.name = 3 must be a non-empty string", "e.g."),
    ('name = "tiny" => name = "t"; latency_limit_ms = 0',
     "scenario.latency_limit_ms = 0 must be a finite positive number", "use a value above 0"),
    ("[1, 64] => [1, 0]", "run.batch[1] = 0 must be a positive integer", "use 1 or more"),
    ("[1, 64] => [1, 2.5]", "run.batch[1] = 2.5 must be a positive integer", "use 2 or 3"),
    ("[1, 64] => '64'", "run.batch = '64' must be a positive integer",
     "without quotes: 64"),
    ("[1, 64] => []", "run.batch = [] is empty", "give at least one"),
    ("[1, 64] => [1, 4294967296]", "run.batch[1] = 4294967296 is too large",
     "at most 2,147,483,647"),
    ("[1, 64] => [64, 64]", "run.batch[1] = 64 is listed twice", "remove the repeat"),
    ('["lenet5"] => []', "run.networks = [] is empty", 'networks = ["lenet5"]'),
    ('["lenet5"] => ["lenet5", 7]', "run.networks[1] = 7 must be a non-empty string",
     '"lenet5"'),
    ('["lenet5"] => ["nets/none.toml"]', "run.networks[0]: network file",
     "does not exist"),
    ("+ seq_len = -1", "run.seq_len = -1 must be a positive integer", "use 1 or more"),
    ("+ accuracy = 1", "run.accuracy = 1 must be true or false", "accuracy = true"),
    ('+ precision = ["machine", "fp64"]', "run.precision[1] = 'fp64' is not a known precision",
     "choose from machine, fp32, fp16, bf16, int8"),
    ('+ precision = "fp16"; [book]; figures = "yes"', "book.figures = 'yes' must be true",
     "figures = true"),
    ('[[machines]]; preset = "tpu-v1"; [[machines]]; preset = "gpu-h200" => [machines]; '
     'preset = "tpu-v1"', "machines = {'preset': 'tpu-v1'} must be a list of tables",
     "[[machines]] (double brackets)"),
    ('preset = "tpu-v1" => overrides = {}', "machines[0].preset is missing",
     'add preset = "tpu-v1"'),
    ('preset = "tpu-v1" => preset = "tpu-v1"; overrides = { array_rows = 0 }',
     "machines[0].overrides: tpu-v1: array_rows = 0 must be a positive integer",
     "use 1 or more"),
    ('preset = "tpu-v1" => preset = "tpu-v1"; overrides = 32',
     "machines[0].overrides = 32 must be a table", "overrides = { array_rows = 32 }"),
    ('preset = "gpu-h200" => preset = "cpu-host"; overrides = { cores = 2.5 }',
     "machines[1].overrides: cpu-host: cores = 2.5 must be a positive integer", "use 2 or 3"),
    ('preset = "gpu-h200" => preset = "tpu-v1"', "machines[1].preset = 'tpu-v1' repeats",
     "overrides = { name = "),
    ("+ [report]; formats = []", "report.formats = [] is empty", "give at least one"),
    ('+ [report]; formats = ["pdf"]', "report.formats[0] = 'pdf' is not a known format",
     "choose from json, csv, md, html, png"),
    ('+ [[reference]]; network = "lenet5"; machine = "tpu-v1"; batch = 200; '
     'metric = "latency_ms"; value = 1.0', "reference[0].batch = 200 is not one of run.batch",
     "add 200 to run.batch"),
    ('+ [[reference]]; network = "lenet5"; machine = "tpu-v1"; batch = 1; value = 1.0',
     "reference[0].metric is missing", "a reference needs network, machine"),
    ('+ [[reference]]; network = "lenet5"; machine = "tpu-v1"; batch = 1; '
     'metric = "latency_ms"; value = -1', "reference[0].value = -1 must be a finite positive",
     "use a value above 0"),
    ("+ [reference]", "reference = {} must be a list of tables", "[[reference]]"),
    ('["lenet5"] => ["lenet5", "tpu-mlp0"]; accuracy = true',
     "run.accuracy = True needs a test set, but tpu-mlp0 names no data set",
     "set accuracy = false"),
    ('name = "tiny" => name = "tiny"; run = 3', "unknown key scenario.run; in TOML every key "
     "after [scenario] belongs to it", "move run above the first [table]"),
    ("+ [run]", "", "not valid TOML"),  # a table given twice: the TOML reader says so
]


@pytest.mark.parametrize(("change", "key", "fix"), ERRORS)
def test_each_mistake_names_the_file_the_key_path_and_the_fix(scenario_file, change, key,
                                                              fix):
    path = scenario_file(_mutate(BASE, change))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: "), message
    assert key in message and fix in message, message


DID_YOU_MEAN = [
    ("+ [reprot]", "unknown key reprot; did you mean report?"),
    ("batch = => batches =", "unknown key run.batches; did you mean run.batch?"),
    ('preset = "tpu-v1" => preset = "tpu-v1"; overide = {}',
     "unknown key machines[0].overide; did you mean machines[0].overrides?"),
    ('"tpu-v1" => "tpu-v2"', "machines[0].preset = 'tpu-v2' is not a known machine preset; "
                             "did you mean 'tpu-v1'?"),
    ('preset = "tpu-v1" => preset = "tpu-v1"; overrides = { array_row = 32 }',
     "machines[0].overrides: tpu-v1 has no spec field(s) array_row; did you mean array_rows?"),
    ('["lenet5"] => ["lenet6"]', "run.networks[0] = 'lenet6' is not a known bundled network; "
                                 "did you mean 'lenet5'?"),
    ('+ [report]; plots = ["rooflin"]', "did you mean 'roofline'?"),
    ('+ [[reference]]; network = "lenet5"; machine = "tpu-v1"; batch = 1; '
     'metric = "latency"; value = 1.0', "did you mean 'latency_ms'?"),
    ('+ [[reference]]; network = "lenet5"; machine = "gpu-h20"; batch = 1; '
     'metric = "latency_ms"; value = 1.0', "did you mean 'gpu-h200'?"),
    ('+ [[reference]]; network = "lenet-5"; machine = "tpu-v1"; batch = 1; '
     'metric = "latency_ms"; value = 1.0', "did you mean 'lenet5'?"),
]


@pytest.mark.parametrize(("change", "hint"), DID_YOU_MEAN)
def test_unknown_keys_and_names_get_a_did_you_mean(scenario_file, change, hint):
    with pytest.raises(ScenarioError, match="did you mean") as caught:
        load_scenario(scenario_file(_mutate(BASE, change)))
    assert hint in str(caught.value)


@pytest.mark.parametrize(("content", "message"), [
    (b"", "the file is empty"),
    (b'[scenario]\nname = "caf\xe9"\n', "not a UTF-8 text file (byte 0xe9"),
    (b"[scenario\n", "not valid TOML"),
])
def test_unreadable_files_name_the_file(tmp_path, content, message):
    path = tmp_path / "bad.toml"
    path.write_bytes(content)
    with pytest.raises(ScenarioError, match=re.escape(message)) as caught:
        load_scenario(path)
    assert str(caught.value).startswith(str(path))


def test_a_missing_scenario_lists_the_bundled_ones_with_a_did_you_mean(tmp_path):
    with pytest.raises(ScenarioError) as caught:
        load_scenario("quickstrat")
    assert "did you mean 'quickstart'?" in str(caught.value)
    assert "bundled scenarios: " in str(caught.value)
    with pytest.raises(ScenarioError, match="is a folder"):
        load_scenario(tmp_path)


def test_networks_given_as_paths_resolve_beside_the_scenario(scenario_file, tmp_path,
                                                             monkeypatch):
    nets = tmp_path / "nets"
    nets.mkdir()
    (nets / "small.toml").write_text(textwrap.dedent("""
        name = "small-mlp"
        input_shape = [32]
        [[layers]]
        type = "linear"
        out_features = 16
        [[layers]]
        type = "relu"
        [[layers]]
        type = "linear"
        out_features = 4
        """))
    path = scenario_file(_mutate(BASE, '["lenet5"] => ["../nets/small.toml", "lenet5"]'))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # not where the scenario is
    s = load_scenario(path)
    assert specs(s.networks) == (str(nets / "small.toml"), "lenet5")
    result = ax.run_scenario(dataclasses.replace(s, batches=(4,)))
    mine = ax.network(nets / "small.toml", weights="none")
    assert [r.network for r in result.comparison.results] == ["small-mlp", "small-mlp",
                                                              "lenet5", "lenet5"]
    direct = ax.machine("gpu-h200").run(mine, batch=4)
    assert result.comparison.select(machine="gpu-h200", network="small-mlp")[0].seconds == \
        direct.seconds


def test_a_scenario_without_a_file_resolves_paths_from_the_working_directory(monkeypatch,
                                                                             tmp_path):
    monkeypatch.chdir(tmp_path)
    doc = tomllib.loads(_mutate(BASE, '["lenet5"] => ["mine.toml"]'))
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(doc)
    assert str(caught.value).startswith("<scenario>: run.networks[0]: ")
    assert str(tmp_path / "mine.toml") in str(caught.value)


def test_machines_may_be_listed_by_name_and_relabelled_and_runs_have_defaults():
    s = parse_scenario({"scenario": {"name": "x"}, "run": {"networks": "lenet5"},
                        "machines": ["tpu-v1", "cpu-host", {"preset": "tpu-v1", "overrides": {
                            "array_rows": 32, "name": "tpu-32"}}]})
    assert [m.name for m in s.machines] == ["tpu-v1", "cpu-host", "tpu-32"]
    assert s.machines[2] == MachineChoice("tpu-v1", (("array_rows", 32), ("name", "tpu-32")))
    assert (s.batches, s.precisions, s.seq_len, s.accuracy) == ((1,), ("machine",), None, False)
    assert (s.plots, s.formats, s.book_figures, s.references) == (PLOTS, FORMATS, False, ())


def test_gpu_and_cpu_presets_can_be_relabelled():
    doc = tomllib.loads(_mutate(BASE, 'preset = "gpu-h200" => preset = "gpu-h200"; '
                                      'overrides = { name = "h200-b" }'))
    assert parse_scenario(doc).machines[1].name == "h200-b"


# ---- no document breaks the parser -----------------------------------------------------

QUICKSTART = tomllib.loads((scenarios_dir() / "quickstart.toml").read_text("utf-8"))
FIELDS = {preset: sorted({f.name for f in dataclasses.fields(build(spec).spec)} - {"name"})
          for preset, spec in (("tpu-v1", "tpu-v1"), ("gpu-h200", "gpu-h200"),
                               ("cpu-host", "cpu-haswell-e5-2699v3"))}  # a relabel is its own test
NAMES = sorted({k for keys in KEYS.values() for k in keys}
               | {f for fields in FIELDS.values() for f in fields})
WORDS = [*ax.presets(), *ax.networks(), *PLOTS, *FORMATS, *REFERENCE_METRICS, "machine", "fp16",
         "int8", "x.toml", "/", "", " "]
leaves = (st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=12)
          | st.sampled_from(WORDS) | st.datetimes() | st.integers(1, 300))
keys = st.sampled_from(NAMES) | st.text(max_size=8)
values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(keys, inner, max_size=4), max_leaves=12)


def _parses_or_says_why(doc: object) -> None:
    try:
        result = parse_scenario(doc, scenarios_dir() / "fuzz.toml")  # type: ignore[arg-type]
    except ScenarioError as err:
        assert str(err).startswith(str(scenarios_dir() / "fuzz.toml"))
    else:
        assert isinstance(result, Scenario)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(KEYS[""]) | st.text(max_size=8), values, max_size=6))
def test_random_documents_parse_or_raise_a_scenario_error(doc):
    _parses_or_says_why(doc)


@st.composite
def mutated_quickstart(draw: st.DrawFn) -> dict:
    doc = copy.deepcopy(QUICKSTART)
    for _ in range(draw(st.integers(1, 3))):
        node: object = doc
        while True:  # walk down to a table or a list, then change one entry of it
            entries = (list(node) if isinstance(node, dict)
                       else list(range(len(node))) if isinstance(node, list) else [])
            if not entries:
                break
            key = draw(st.sampled_from(entries))
            child = node[key]  # type: ignore[index]
            if isinstance(child, dict | list) and child and draw(st.booleans()):
                node = child
                continue
            action = draw(st.sampled_from(["replace", "delete", "add"]))
            if action == "delete":
                del node[key]  # type: ignore[attr-defined]
            elif action == "add" and isinstance(node, dict):
                node[draw(keys)] = draw(values)
            elif action == "add" and isinstance(node, list):
                node.append(draw(values))
            else:
                node[key] = draw(values)  # type: ignore[index]
            break
    return doc


@st.composite
def overridden_quickstart(draw: st.DrawFn) -> dict:
    """Quickstart with spec fields of one of its machines overridden by random values."""
    doc = copy.deepcopy(QUICKSTART)
    table = draw(st.sampled_from(doc["machines"]))
    fields = st.sampled_from(FIELDS[table["preset"]])
    table["overrides"] = draw(st.dictionaries(fields, leaves | values, max_size=3))
    return doc


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_quickstart() | overridden_quickstart())
def test_mutations_of_quickstart_parse_or_raise_a_scenario_error(doc):
    _parses_or_says_why(doc)


# ---- running ---------------------------------------------------------------------------


RUN = """
[scenario]
name = "run-check"
latency_limit_ms = 0.3
[[machines]]
preset = "tpu-v1"
[[machines]]
preset = "gpu-h200"
[[machines]]
preset = "cpu-host"
[[machines]]
preset = "tpu-v1"
overrides = { array_rows = 64, array_cols = 64, name = "tpu-64" }
[run]
networks = ["lenet5", "lstm-char"]
batch = [1, 8]
precision = ["machine", "fp16"]
[[reference]]
network = "lenet5"
machine = "tpu-v1"
batch = 8
metric = "latency_ms"
value = 0.02
source = "a made-up figure"
[[reference]]
network = "lstm-char"
machine = "tpu-v1"
batch = 1
metric = "throughput_per_s"
value = 5000.0
[[reference]]
network = "lenet5"
machine = "tpu-64"
batch = 1
metric = "accuracy_fraction"
value = 0.98
"""


@pytest.fixture(scope="module")
def run_result() -> ScenarioResult:
    heard: list[str] = []
    result = ax.run_scenario(parse_scenario(tomllib.loads(RUN)), on_run=heard.append)
    assert len(heard) == result.scenario.run_count == 2 * 4 * 2 * 2
    return result


def test_run_scenario_gives_what_the_machines_give_by_hand(run_result):
    machines = {"tpu-v1": ax.machine("tpu-v1"), "gpu-h200": ax.machine("gpu-h200"),
                "cpu-host": ax.machine("cpu-host"),
                "tpu-64": ax.machine("tpu-v1", array_rows=64, array_cols=64, name="tpu-64")}
    expected, skipped = [], set()
    for network in ("lenet5", "lstm-char"):
        net = ax.network(network, weights="none")
        for name, m in machines.items():
            for precision in (m.default_precision, ax.Precision.FP16):
                if precision not in m.precisions:
                    skipped.add((name, precision.value))
                    continue
                for batch in (1, 8):
                    r = m.run(net, batch=batch, precision=precision)
                    expected.append((name, network, batch, precision.value, r.seconds,
                                     r.device_seconds, r.ops))
    got = [(r.machine, r.network, r.batch, r.precision.value, r.seconds, r.device_seconds,
            r.ops) for r in run_result.comparison.results]
    assert got == expected
    assert {(s.machine, s.precision) for s in run_result.comparison.skipped} == skipped
    assert ("tpu-v1", "fp16") in skipped
    assert run_result.to_records() == run_result.comparison.to_records()


def test_references_sit_beside_the_models_value(run_result):
    by_hand = ax.machine("tpu-v1").run(ax.network("lenet5", weights="none"), batch=8)
    latency, throughput, accuracy = run_result.references
    assert latency.model_value == pytest.approx(by_hand.seconds * 1e3)
    assert latency.ratio == pytest.approx(by_hand.seconds * 1e3 / 0.02)
    lstm = ax.machine("tpu-v1").run(ax.network("lstm-char", weights="none"), batch=1)
    assert throughput.model_value == pytest.approx(lstm.throughput)
    assert accuracy.model_value is None and accuracy.ratio is None  # timing only: no accuracy
    assert model_value(run_result.comparison, dataclasses.replace(
        latency.reference, machine="gpu-h100")) is None


def test_the_table_shows_runs_the_latency_limit_references_and_skips(run_result):
    text = run_result.table()
    limit = text.index("best throughput within the 0.3 ms latency limit")
    refs = text.index("published figures beside the model's")
    skipped = text.index("skipped:")
    assert text.index("machine  ") < limit < refs < skipped
    for r in run_result.comparison.results:
        fitting = [x for x in run_result.comparison.select(machine=r.machine, network=r.network,
                                                           precision=r.precision)
                   if x.seconds <= 3e-4]
        row = f"{r.machine}  {r.network}  {r.precision.value}"
        line = next(ln for ln in text[limit:refs].splitlines() if " ".join(ln.split())
                    .startswith(" ".join(row.split())))
        if fitting:
            best = max(fitting, key=lambda x: x.throughput)
            assert line.split()[3] == str(best.batch), line
        else:
            assert line.split()[3] == "none", line
    assert "a made-up figure" in text and "tpu-v1 does not support fp16" in text
    assert "—" in text[refs:skipped]  # the accuracy reference has no model value


def test_html_escapes_the_scenario_and_holds_every_table(run_result):
    s = dataclasses.replace(run_result.scenario, description="a < b & c")
    html = dataclasses.replace(run_result, scenario=s)._repr_html_()
    assert "a &lt; b &amp; c" in html
    assert html.count("<table>") == 1 + len(run_result.sections()) == 4


def test_book_figures_are_listed_when_the_scenario_asks():
    book = pytest.importorskip("accelsim.book")
    s = parse_scenario(tomllib.loads(BASE.replace("[1, 64]", "1") + "[book]\nfigures = true\n"))
    result = ax.run_scenario(s)
    assert result.figures == book.book_figures()
    section = result.sections()[0]
    assert section.title == "the book's figures beside the model's"
    assert [row[0] for row in section.rows] == [f.name for f in result.figures]
    assert ax.run_scenario(dataclasses.replace(s, book_figures=False)).figures == ()


def test_write_hands_the_result_to_the_report(run_result, tmp_path):
    pytest.importorskip("accelsim.report")
    s = dataclasses.replace(run_result.scenario, formats=("json",), plots=())
    out = dataclasses.replace(run_result, scenario=s).write(tmp_path / "report")
    assert out == tmp_path / "report"
    written = json.loads((out / "results.json").read_text())
    assert len(written["runs"]) == len(run_result.comparison.entries)


# ---- the [quantization] study ----------------------------------------------------------

STUDY = """
[scenario]
name = "study"
[quantization]
networks = ["lenet5", "rnn-hello"]
[[quantization.variants]]
precision = "fp32"
[[quantization.variants]]
label = "int8 per-channel"
precision = "int8"
weights = "per_channel"
[[quantization.variants]]
precision = "int16"
"""


def test_a_study_alone_is_a_scenario_with_defaults():
    from accelsim.quant.study import DEFAULT_VARIANTS

    s = load_scenario("quantization")
    assert (s.machines, s.networks, s.run_count) == ((), (), 0)
    plan = s.quantization
    assert specs(plan.networks) == ("lenet5", "lenet5-classic", "cnn-wide", "lstm-char",
                             "lstm-recall", "rnn-hello")
    assert plan.variants == DEFAULT_VARIANTS and plan.sensitivity and plan.max_drop_points == 0.5
    assert s.plots == ("quantization", "sensitivity")
    bare = parse_scenario({"scenario": {"name": "q"}, "quantization": {"networks": "lenet5"}})
    assert bare.quantization.variants == DEFAULT_VARIANTS and bare.formats == FORMATS
    assert parse_scenario(tomllib.loads(BASE)).quantization is None


def test_variants_parse_into_what_quantize_takes(scenario_file):
    body = STUDY.replace(', "rnn-hello"', "")  # fc1 below is lenet5's
    s = load_scenario(scenario_file(body + '[[quantization.variants]]\nprecision = "int8"\n'
                                    "activation_bits = { fc1 = 16 }\ncell_bits = 32\n"))
    fp32, channel, int16, mixed = s.quantization.variants
    assert (fp32.label, fp32.precision, fp32.keywords) == ("fp32", "fp32", {})
    assert (channel.label, channel.keywords) == ("int8 per-channel", {"weights": "per_channel"})
    assert int16.simulated and int16.label == "int16 (simulated)"
    assert mixed.keywords == {"activation_bits": {"fc1": 16}, "cell_bits": 32}


def test_study_networks_default_to_the_runs_and_plots_follow_what_can_be_drawn():
    doc = tomllib.loads(BASE + "[quantization]\nsensitivity = false\nmax_drop_points = 1\n")
    s = parse_scenario(doc)
    assert specs(s.quantization.networks) == ("lenet5",) and not s.quantization.sensitivity
    assert s.quantization.max_drop_points == 1.0 and s.run_count == 4
    assert s.plots == (*PLOTS, "quantization")


STUDY_ERRORS = [  # (change to STUDY, what the message says)
    ('weights = "per_channel" => weights = "per_chanel"',
     "quantization.variants[1].weights: weights = 'per_chanel' must be one of "
     "'per_tensor', 'per_channel' (did you mean 'per_channel'?)"),
    ('weights = "per_channel" => weight = "per_channel"',
     "unknown key quantization.variants[1].weight; did you mean "
     "quantization.variants[1].weights?"),
    ('precision = "int16" => precision = "int4"',
     "quantization.variants[2].precision = 'int4' is not a study precision; did you mean "
     "'int8'?"),
    ('precision = "int16" => label = "x"', "quantization.variants[2].precision is missing"),
    ('precision = "fp32" => precision = "fp16"; calibrate = "mse"',
     "quantization.variants[0].calibrate = 'mse' does not apply to fp16"),
    ('weights = "per_channel" => cell_bits = 24',
     "quantization.variants[1].cell_bits: cell_bits = 24 must be 8, 16 or 32"),
    ('weights = "per_channel" => activation_bits = { fc9 = 16 }',
     "quantization.variants[1].activation_bits = {'fc9': 16} names 'fc9', which lenet5 "
     "does not have"),
    ('weights = "per_channel" => lut_range = 0.0',
     "quantization.variants[1].lut_range: lut_range = 0.0 must be a positive number"),
    ('label = "int8 per-channel" => label = "fp32"',
     "quantization.variants[1].label = 'fp32' is listed twice"),
    ('"rnn-hello"] => "tpu-mlp0"]', "quantization.networks[1] = 'tpu-mlp0' names tpu-mlp0, "
     "which names no data set"),
    ('"rnn-hello"] => "rnn-helo"]', "quantization.networks[1] = 'rnn-helo' is not a known "
     "bundled network; did you mean 'rnn-hello'?"),
    ('"rnn-hello"] => "lenet5"]', "quantization.networks[1] = 'lenet5' repeats the network"),
    ('networks = ["lenet5", "rnn-hello"] => sensitivity = true',
     "quantization.networks is missing; add networks = [\"lenet5\"] (or a [run] table"),
    ('networks = => networks_ =', "unknown key quantization.networks_; did you mean "
     "quantization.networks?"),
    ("+ sensitivity = 1", None),  # after the variants: TOML puts it in the last variant
    ('[quantization] => [quantization]; sensitivity = "yes"',
     "quantization.sensitivity = 'yes' must be true or false"),
    ("[quantization] => [quantization]; max_drop_points = -0.5",
     "quantization.max_drop_points = -0.5 must be a finite number ≥ 0 (accuracy points)"),
    ('[quantization] => [[machines]]; preset = "tpu-v1"; [quantization]', "[run] is missing"),
    ('[quantization] => [report]; plots = ["sensitivity", "latency"]; [quantization]',
     "report.plots[1] = 'latency' draws runs, but the scenario has no [[machines]] and [run]"),
]


@pytest.mark.parametrize(("change", "message"), STUDY_ERRORS)
def test_each_study_mistake_names_the_key_path_and_the_fix(scenario_file, change, message):
    path = scenario_file(_mutate(STUDY, change))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    text = str(caught.value)
    assert text.startswith(f"{path}: "), text
    if message is None:  # a key that landed in the wrong table still gets a did-you-mean
        assert "unknown key quantization.variants[2].sensitivity" in text, text
    else:
        assert message in text, text


def test_study_plots_need_a_study(scenario_file):
    path = scenario_file(BASE + '[report]\nplots = ["throughput", "quantization"]\n')
    with pytest.raises(ScenarioError, match=re.escape(
            "report.plots[1] = 'quantization' draws the quantization study and needs a "
            "[quantization] table")):
        load_scenario(path)
    path = scenario_file(STUDY.replace("[quantization]", "[report]\nplots = 'sensitivity'\n"
                                       "[quantization]\nsensitivity = false"))
    with pytest.raises(ScenarioError, match=re.escape(
            "report.plots = 'sensitivity' draws the quantization study and needs a "
            "quantization.sensitivity = true")):
        load_scenario(path)


@st.composite
def mutated_study(draw: st.DrawFn) -> dict:
    """STUDY with one of its values (or a variant's) replaced by a random one."""
    doc = tomllib.loads(STUDY)
    table = doc["quantization"]
    if draw(st.booleans()):
        table = draw(st.sampled_from(table["variants"]))
    key = draw(st.sampled_from([*KEYS["quantization"], *KEYS["quantization.variants"]]))
    table[key] = draw(values | st.sampled_from(["int8", "int16", "fp16", "per_channel", "mse",
                                                 8, 16, 32, 64, 8.0, {"fc1": 16}]))
    return doc


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_study())
def test_mutations_of_a_study_parse_or_raise_a_scenario_error(doc):
    _parses_or_says_why(doc)


def test_run_scenario_runs_the_study_alone(scenario_file):
    from accelsim.quant.study import accuracy_study

    s = load_scenario(scenario_file(STUDY.replace("[quantization]",
                                                  "[quantization]\nsensitivity = false")))
    heard: list[str] = []
    result = ax.run_scenario(s, on_run=heard.append)
    assert len(heard) == s.quantization.step_count == 6
    assert result.comparison.entries == () and not result.has_runs
    expected = accuracy_study(["lenet5", "rnn-hello"], s.quantization.variants,
                              sensitivity=False)
    assert result.study.to_records() == expected.to_records()
    text = result.table()
    assert text.startswith("quantization accuracy on each test split") and "machine" not in text
    assert [x.title for x in result.sections()] == [t.title for t in expected.tables()]
    assert "<table>" in result._repr_html_() and "QuantStudy" in repr(result)


# ---- the [sweep] table -------------------------------------------------------------------

SWEEP = """
[scenario]
name = "design"
[sweep]
machine = "tpu-v1"
networks = ["lenet5", "lstm-char"]
constraints = ["tpu.array_rows == tpu.array_cols", "batch <= 64"]
[sweep.axes]
tpu.array_rows = { start = 8, stop = 512, step = 2, scale = "log" }
tpu.array_cols = [8, 16, 32, 64, 128, 256, 512]
"tpu.ddr_bytes_per_s" = { start = 8.5e9, stop = 136e9, num = 5, scale = "log" }
batch = [1, 64, 256]
"""


def test_a_sweep_alone_is_a_scenario_and_its_axes_parse_into_a_sweep():
    s = parse_scenario(tomllib.loads(SWEEP))
    assert (s.machines, s.networks, s.run_count, s.plots, s.quantization) == ((), (), 0, (),
                                                                              None)
    sweep = s.sweep
    assert (sweep.machine, sweep.networks, sweep.name) == ("tpu-v1", ("lenet5", "lstm-char"),
                                                            "design")
    sizes = (8, 16, 32, 64, 128, 256, 512)
    assert dict(sweep.axes) == {"tpu.array_rows": sizes, "tpu.array_cols": sizes,
                                "tpu.ddr_bytes_per_s": (8.5e9, 17e9, 34e9, 68e9, 136e9),
                                "batch": (1, 64, 256)}
    assert sweep.grid_size == 2 * 7 * 7 * 5 * 3 and sweep.count() == 2 * 7 * 5 * 2
    assert sweep.constraints == ("tpu.array_rows == tpu.array_cols", "batch <= 64")
    assert parse_scenario(tomllib.loads(BASE)).sweep is None


def test_sweep_networks_default_to_the_runs_and_points_take_the_presets_values():
    doc = tomllib.loads(BASE + '[sweep]\nmachine = "gpu-h200"\n[[sweep.points]]\n'
                        "gpu.sm_count = 66\nbatch = 8\n[[sweep.points]]\n"
                        "gpu.dram_bytes_per_s = 2.4e12\n")
    s = parse_scenario(doc)
    assert s.run_count == 4 and s.sweep.networks == ("lenet5",)
    h200 = build("gpu-h200").spec
    assert [p.values for p in s.sweep.iter_points()] == [
        (66, 8, h200.dram_bytes_per_s), (h200.sm_count, 1, 2.4e12)]
    crossed = parse_scenario(tomllib.loads(SWEEP + "[[sweep.points]]\ntpu.clock_hz = 1.4e9\n"
                                           "[[sweep.points]]\ntpu.clock_hz = 7e8\n"))
    assert crossed.sweep.count() == 2 * (2 * 7 * 5 * 2)  # each point crosses the grid


SWEEP_ERRORS = [  # (change to SWEEP, what the message says)
    ("tpu.array_cols = => tpu.array_col =", "sweep.axes.tpu.array_col: 'tpu.array_col' is not "
     "an axis of a tpu-v1 sweep; did you mean 'tpu.array_cols'?"),
    ("tpu.array_cols = => gpu.sm_count =", "sweep.axes.gpu.sm_count: 'gpu.sm_count' is a gpu "
     "field, but tpu-v1 is a tpu"),
    ("batch = => batches =", "did you mean 'batch'?"),
    ("[8, 16, 32, 64, 128, 256, 512] => [0, 8]",
     "sweep.axes.tpu.array_cols[0]: tpu-v1: array_cols = 0 must be a positive integer"),
    ("[8, 16, 32, 64, 128, 256, 512] => [8, 8]",
     "sweep.axes.tpu.array_cols[1] = 8 is listed twice"),
    ("[8, 16, 32, 64, 128, 256, 512] => 8",
     "sweep.axes.tpu.array_cols = 8 must be a list of values or a range table"),
    ("batch = [1, 64, 256] => precision = ['int8', 'fp16']",
     "sweep.axes.precision[1] = 'fp16' is not a precision tpu-v1 runs; choose from int8"),
    ("batch = [1, 64, 256] => batch = [1, 0]", "sweep.axes.batch[1] = 0 must be a positive "
     "integer"),
    ("num = 5, => nums = 5,", "unknown key sweep.axes.tpu.ddr_bytes_per_s.nums; did you mean "
     "sweep.axes.tpu.ddr_bytes_per_s.num?"),
    ("stop = 136e9, => ", "sweep.axes.tpu.ddr_bytes_per_s.stop is missing"),
    ('scale = "log" } => scale = "log", integer = 1 }',
     "sweep.axes.tpu.array_rows.integer = 1 must be true or false"),
    ("step = 2, => ", "sweep.axes.tpu.array_rows: a range takes num (how many values) or step"),
    ('"batch <= 64"] => "batch <= 64", "tpu.array_row > 8"]',
     "sweep.constraints[2]: constraint 'tpu.array_row > 8': 'tpu.array_row' is not an axis or a "
     "name of this sweep; did you mean 'tpu.array_rows'?"),
    ('"batch <= 64"] => "batch << 64"]', "sweep.constraints[1]: constraint 'batch << 64'"),
    ('machine = "tpu-v1" => machine = "tpu-v2"', "sweep.machine = 'tpu-v2' is not a known "
     "machine preset; did you mean 'tpu-v1'?"),
    ('machine = "tpu-v1" => mode = "grid"', "sweep.machine is missing"),
    ('networks = ["lenet5", "lstm-char"] => mode = "grid"', "sweep.networks is missing"),
    ('networks = ["lenet5", "lstm-char"] => networks = ["lenet5", "lenet5"]',
     "sweep.networks[1] = 'lenet5' repeats the network"),
    ('networks = ["lenet5", "lstm-char"] => networks = ["lenet6"]',
     "sweep.networks[0] = 'lenet6' is not a known bundled network; did you mean 'lenet5'?"),
    ('machine = "tpu-v1" => machine = "tpu-v1"; mode = "grid"; points = [{ tpu.clock_hz = 1e9 }]',
     'sweep.mode = \'grid\' but [[sweep.points]] lists points; set mode = "points"'),
    ('machine = "tpu-v1" => machine = "tpu-v1"; points = [{ batch = 8 }]',
     "sweep: the explicit point {'batch': 8} is empty or names the axis batch as well"),
    ('machine = "tpu-v1" => machine = "tpu-v1"; mode = "points"',
     "sweep.points is missing; mode = \"points\" needs [[sweep.points]] tables"),
    ('machine = "tpu-v1" => machine = "tpu-v1"; mode = "pointz"',
     "sweep.mode = 'pointz' is not a known sweep mode; did you mean 'points'?"),
    ('machine = "tpu-v1" => machine = "tpu-v1"; axis = 1',
     "unknown key sweep.axis; did you mean sweep.axes?"),
]


@pytest.mark.parametrize(("change", "message"), SWEEP_ERRORS)
def test_each_sweep_mistake_names_the_key_path_and_the_fix(scenario_file, change, message):
    path = scenario_file(_mutate(SWEEP, change))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    text = str(caught.value)
    assert text.startswith(f"{path}: ") and message in text, text


def test_a_sweep_needs_axes_or_points_and_runs_need_the_sweep_command(scenario_file):
    with pytest.raises(ScenarioError, match=r"sweep.axes is missing; add a \[sweep.axes\]"):
        parse_scenario({"scenario": {"name": "s"}, "sweep": {"machine": "tpu-v1",
                                                             "networks": "lenet5"}})
    with pytest.raises(ScenarioError, match="holds only a design-space sweep; run it with "
                                            "`accelsim sweep design`"):
        ax.run_scenario(parse_scenario(tomllib.loads(SWEEP)))


@st.composite
def mutated_sweep(draw: st.DrawFn) -> dict:
    """SWEEP with one of its values, an axis or a range's value replaced by a random one."""
    doc = tomllib.loads(SWEEP)
    table = doc["sweep"]
    choice = draw(st.sampled_from(["sweep", "axis", "range"]))
    if choice == "axis":
        table = table["axes"]
        key = draw(st.sampled_from(["batch", "precision", "seq_len", "tpu", "gpu", "x.y"])
                   | keys)
    elif choice == "range":
        table = table["axes"]["tpu"]["array_rows"]
        key = draw(st.sampled_from(["start", "stop", "num", "step", "scale", "integer"]))
    else:
        key = draw(st.sampled_from(KEYS["sweep"]))
    table[key] = draw(values | st.sampled_from(["int8", "tpu.array_rows > 8", "log", 0, 2,
                                                 1e12, [1, 2], {"array_rows": [8]}]))
    return doc


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_sweep())
def test_mutations_of_a_sweep_parse_or_raise_a_scenario_error(doc):
    _parses_or_says_why(doc)
