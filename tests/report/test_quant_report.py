"""A quantization study in the report: its plots draw the study's own numbers, its tables
and records reach summary.md, index.html, results.json and quantization.csv, and a result
without a study is reported as before."""

from __future__ import annotations

import csv
import dataclasses
import html
import json
import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pytest

import accelsim as ax
from accelsim.errors import AccelsimError
from accelsim.nn.dense import Linear
from accelsim.nn.network import Network
from accelsim.quant.study import Variant, study_on
from accelsim.report import write
from accelsim.report.documents import STUDY_COLUMNS
from accelsim.report.inputs import NothingToPlot
from accelsim.report.quant_plots import TITLE, quantization, sensitivity

STUDY = """
[scenario]
name = "study"
description = "LeNet-5 and the hello RNN in four formats"
[quantization]
networks = ["lenet5", "rnn-hello"]
[[quantization.variants]]
precision = "fp32"
[[quantization.variants]]
label = "int8 per-tensor"
precision = "int8"
[[quantization.variants]]
precision = "int16"
[[quantization.variants]]
label = "int8 8-bit cell"
precision = "int8"
cell_bits = 8
"""


@pytest.fixture(scope="module")
def study_result(tmp_path_factory):
    path = tmp_path_factory.mktemp("scenarios") / "study.toml"
    path.write_text(textwrap.dedent(STUDY), encoding="utf-8")
    return ax.run_scenario(path)


@pytest.fixture(scope="module")
def report(tmp_path_factory, study_result):
    out = tmp_path_factory.mktemp("reports") / "study"
    write(study_result, out)
    yield out
    plt.close("all")


def bars(figure):
    return {p.get_gid(): p for a in figure.axes for p in a.patches if p.get_gid()}


def lines(figure):
    return {x.get_gid(): x for a in figure.axes for x in a.get_lines() if x.get_gid()}


def test_quantization_panels_are_each_networks_accuracy_and_perplexity(study_result):
    study = study_result.study
    assert study.variants() == ["fp32", "int8 per-tensor", "int16 (simulated)",
                                "int8 8-bit cell"]
    ax_ = quantization(study_result)
    figure = ax_.get_figure(root=True)
    shown = [a for a in figure.axes if a.get_visible()]
    assert [a.get_title() for a in shown] == ["lenet5: accuracy", "rnn-hello: accuracy",
                                              "rnn-hello: perplexity (lower is better)"]
    assert ax_ is shown[0] and figure.get_suptitle() == TITLE
    found = bars(figure)
    for r in study.rows:
        assert found[f"{r.network}|{r.variant.label}|accuracy"].get_width() == \
            pytest.approx(100 * r.accuracy)
        if r.perplexity is not None:
            assert found[f"{r.network}|{r.variant.label}|perplexity"].get_width() == \
                pytest.approx(r.perplexity)
    assert found["lenet5|int16 (simulated)|accuracy"].get_hatch()  # simulated: hatched
    assert not found["lenet5|int8 per-tensor|accuracy"].get_hatch()
    assert not any("8-bit cell" in gid for gid in found)  # no LSTM: not applicable
    reference = lines(figure)["lenet5|fp32|accuracy reference"]
    assert list(reference.get_xdata()) == [100 * study.rows[0].fp32_accuracy] * 2
    texts = [t.get_text() for a in shown for t in a.texts]
    assert texts.count("not applicable") == 3  # in each panel


def test_quantization_draws_one_network_on_the_axes_given(study_result):
    _, given = plt.subplots()
    assert quantization(study_result, network="rnn-hello", ax=given) is given
    assert set(bars(given.get_figure(root=True))) == {
        f"rnn-hello|{v}|accuracy" for v in ("fp32", "int8 per-tensor", "int16 (simulated)")}
    with pytest.raises(AccelsimError, match="name one"):
        quantization(study_result, ax=given)
    with pytest.raises(NothingToPlot, match="no network 'lenet6'"):
        quantization(study_result, network="lenet6")


def test_study_plots_of_a_result_without_a_study_are_nothing_to_plot(comparison):
    for plot in (quantization, sensitivity):
        with pytest.raises(NothingToPlot, match=r"\[quantization\] table"):
            plot(comparison)
    assert ax.plot.quantization is quantization and ax.plot.sensitivity is sensitivity


def two_layers() -> tuple[Network, np.ndarray, np.ndarray]:
    """fc2's per-tensor int8 scale, set by a −1000 weight, rounds its 1.0 weights to 0."""
    fc2 = np.array([[1.0, 0.0, -1000.0], [0.0, 1.0, -1000.0]], np.float32)
    params = {"fc1": {"weight": np.eye(2, dtype=np.float32), "bias": np.zeros(2, np.float32)},
              "fc2": {"weight": fc2, "bias": np.zeros(3, np.float32)}}
    net = Network("two", (Linear(name="fc1", out_features=2),
                          Linear(name="fc2", out_features=3)), (2,), params)
    x = np.random.default_rng(0).uniform(0, 1, (500, 2)).astype(np.float32)
    return net, x, net.predict(x)


def test_sensitivity_bars_are_each_layers_drop_with_the_suggestion_hatched():
    net, x, y = two_layers()
    study = study_on(net, x, x, y, [Variant.of("fp32")], max_drop_points=10)
    ax_ = sensitivity(study)
    found = bars(ax_.get_figure(root=True))
    for record in study.sensitivity_records():
        bar = found[f"two|{record['layer']}|drop"]
        assert bar.get_height() == pytest.approx(record["drop_points"])
        assert bool(bar.get_hatch()) == record["sixteen_bit"]
    assert found["two|fc2|drop"].get_hatch() and found["two|fc2|drop"].get_height() > 40
    assert list(lines(ax_.get_figure(root=True))["drop budget"].get_ydata()) == [10, 10]
    assert "16-bit: fc2" in [t.get_text().split("\n")[1] for t in ax_.texts if "\n" in
                             t.get_text()]
    assert "points" in ax_.get_ylabel()


def test_a_study_alone_writes_its_own_files(report):
    assert sorted(p.name for p in report.iterdir()) == sorted(
        [".accelsim-report", "results.json", "quantization.csv", "summary.md", "index.html",
         "quantization.png",
         "sensitivity.png"])  # no runs: no results.csv


def test_json_carries_the_study_and_its_plan(report, study_result):
    doc = json.loads((report / "results.json").read_text(encoding="utf-8"))
    study = study_result.study
    assert doc["runs"] == [] and doc["plots"]["drawn"] == ["quantization", "sensitivity"]
    assert doc["quantization"] == json.loads(json.dumps(study.document()))
    assert doc["quantization"]["variants"][0]["accuracy_fraction"] == study.rows[0].accuracy
    plan = doc["scenario"]["quantization"]
    assert plan["networks"] == ["lenet5", "rnn-hello"] and plan["sensitivity"] is True
    assert plan["variants"][3] == {"label": "int8 8-bit cell", "precision": "int8",
                                   "cell_bits": 8}


def test_quantization_csv_has_a_row_per_network_and_variant(report, study_result):
    with (report / "quantization.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    records = study_result.study.to_records()
    assert tuple(rows[0]) == STUDY_COLUMNS and len(rows) == len(records) == 6
    assert [(r["network"], r["variant"]) for r in rows] == [(r["network"], r["variant"])
                                                            for r in records]
    assert float(rows[0]["accuracy_fraction"]) == records[0]["accuracy_fraction"]


def md_row(cells):
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def test_summary_and_html_show_the_study_tables(report, study_result):
    text = (report / "summary.md").read_text(encoding="utf-8")
    assert "## Runs" not in text and "quantization study: lenet5, rnn-hello" in text
    for table in study_result.study.tables():
        assert f"## {table.title[:1].upper()}{table.title[1:]}" in text
        for row in table.rows:
            assert md_row(row) in text
    assert f"![{TITLE}](quantization.png)" in text
    page = (report / "index.html").read_text(encoding="utf-8")
    assert page.count("<table>") == len(study_result.study.tables()) == 4
    assert f'alt="{html.escape(TITLE)}"' in page and "<script" not in page


def test_runs_and_a_study_together(tmp_path, scenario_result, study_result):
    scenario = dataclasses.replace(scenario_result.scenario,
                                   plots=("latency", "quantization", "sensitivity"))
    both = dataclasses.replace(scenario_result, scenario=scenario, study=study_result.study)
    write(both, tmp_path / "both", formats=["json", "csv", "md", "png"])
    assert sorted(p.name for p in (tmp_path / "both").iterdir()) == sorted(
        [".accelsim-report", "results.json", "results.csv", "quantization.csv", "summary.md",
         "latency.png",
         "quantization.png", "sensitivity.png"])
    text = (tmp_path / "both" / "summary.md").read_text(encoding="utf-8")
    assert text.index("## Runs") < text.index("## Quantization accuracy")
    assert "24 runs" in text and "quantization study" in text


def test_a_result_without_a_study_is_reported_as_before(tmp_path, scenario_result):
    write(scenario_result, tmp_path / "r", formats=["json", "csv", "md"])
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == [
        ".accelsim-report", "results.csv", "results.json", "summary.md"]
    doc = json.loads((tmp_path / "r" / "results.json").read_text(encoding="utf-8"))
    assert "quantization" not in doc and "quantization" not in doc["scenario"]
    assert "quantization" not in doc["plots"]["left_out"]
    assert "uantization" not in (tmp_path / "r" / "summary.md").read_text(encoding="utf-8")
