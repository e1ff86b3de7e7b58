"""`accelsim.report.write`: every format, self-contained HTML, and a folder that is replaced
whole or not at all."""

from __future__ import annotations

import base64
import csv
import dataclasses
import json
import re
from html.parser import HTMLParser

import matplotlib.pyplot as plt
import pytest

import accelsim
from accelsim.errors import AccelsimError, OutputError
from accelsim.files import mark_folder
from accelsim.machines.results import Category
from accelsim.report import write
from accelsim.report.plots import PLOTS

PNG = b"\x89PNG\r\n\x1a\n"
UNIT_KEY = re.compile(r"(seconds|_s|_ms|_per_s|_hz|_bytes|_fraction|ops|cycles|_per_inference|"
                      r"_per_joule|_watts)$")


@pytest.fixture(scope="module")
def report(tmp_path_factory, scenario_result):
    out = tmp_path_factory.mktemp("reports") / "sample"
    assert write(scenario_result, out) == out
    yield out
    plt.close("all")


def test_every_format_is_written(report):
    drawn = sorted(p for p in PLOTS if p != "accuracy")  # nothing scored: left out
    assert sorted(p.name for p in report.iterdir()) == sorted(
        [".accelsim-report", "results.json", "results.csv", "summary.md", "index.html",
         *(f"{name}.png" for name in drawn)])
    for name in drawn:
        assert (report / f"{name}.png").read_bytes().startswith(PNG)
    assert plt.get_fignums() == []
    assert [p.name for p in report.parent.iterdir()] == ["sample"]  # nothing left beside it


def test_json_is_schema_1_with_units_in_its_keys(report, scenario_result):
    doc = json.loads((report / "results.json").read_text(encoding="utf-8"))
    cmp = scenario_result.comparison
    assert doc["schema"] == 1 and doc["accelsim"] == accelsim.__version__
    assert doc["runs"] == json.loads(json.dumps(cmp.to_records()))
    assert len(doc["ops"]) == len(cmp.op_records())
    for record in [*doc["runs"], *doc["ops"], doc["scenario"]]:
        for key, value in record.items():
            if isinstance(value, float):
                assert UNIT_KEY.search(key) or key.startswith("time_seconds."), key
    assert doc["scenario"]["name"] == "report-test"
    assert doc["scenario"]["latency_limit_s"] == 0.5e-3
    assert doc["scenario"]["machines"][0] == {"preset": "tpu-v1", "overrides": {}}
    (figure,) = doc["figures"]
    assert figure["book_value"] == 92e12 and figure["unit"] == "OP/s"
    assert figure["ratio"] == pytest.approx(figure["model_value"] / 92e12)
    (reference,) = doc["references"]
    assert reference["metric"] == "throughput_per_s" and reference["published_value"] == 5e5
    assert reference["ratio"] == pytest.approx(reference["model_value"] / 5e5)
    assert len(doc["skipped"]) == len(cmp.skipped) == 12
    assert "accuracy" in doc["plots"]["left_out"]


def test_csv_has_one_row_per_op_record_in_a_fixed_column_order(report, scenario_result):
    with (report / "results.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    records = scenario_result.comparison.op_records()
    assert len(rows) == len(records)
    assert tuple(rows[0]) == (  # results.csv's schema: a change here changes every reader
        "machine", "network", "batch", "precision", "op_index", "op", "layer", "kind", "kernel",
        "seconds", "cycles", "ops", "ops_unit", "achieved_ops_per_s", "utilization_fraction",
        "bound", "dram_bytes", "onchip_bytes", *(f"time_seconds.{c.value}" for c in Category))
    assert rows[7]["op"] == records[7]["op"]
    assert float(rows[7]["seconds"]) == records[7]["seconds"]


class Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "img":
            self.images.append(dict(attrs))


def test_html_is_self_contained(report):
    text = (report / "index.html").read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "<script" not in text.lower()
    assert not re.search(r"https?://", text)
    page = Images()
    page.feed(text)
    pngs = list(report.glob("*.png"))
    assert len(page.images) == len(pngs)
    for img in page.images:
        assert img["alt"]
        assert img["src"].startswith("data:image/png;base64,")
        assert base64.b64decode(img["src"].split(",", 1)[1]).startswith(PNG)
    assert {"html", "head", "title", "style", "body", "table"} <= set(page.tags)
    assert "accuracy left out" in text


def md_row(cells):
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def test_summary_shows_the_runs_and_every_section_of_the_result(report, scenario_result):
    text = (report / "summary.md").read_text(encoding="utf-8")
    assert "## Runs" in text
    for row in scenario_result.comparison.rows():
        assert md_row(row) in text
    titles = [s.title for s in scenario_result.sections()]
    assert len(titles) == 4  # within the latency limit, book, references, skipped
    for section in scenario_result.sections():
        assert f"## {section.title[:1].upper()}{section.title[1:]}" in text
        assert md_row(section.header) in text
        for row in section.rows:
            assert md_row(row) in text
    assert "92 TOPS" in text
    assert "![End-to-end latency of one batch](latency.png)" in text
    assert "- accuracy left out: no run carries an accuracy" in text


def test_a_report_takes_the_result_types_by_name(tmp_path, scenario_result):
    """Not an object with the right attributes: a result type, or a clear error."""
    with pytest.raises(AccelsimError, match=r"cannot report on ScenarioLookalike: give a "
                                            r"Comparison"):
        write(type("ScenarioLookalike", (), {"comparison": scenario_result.comparison})(),
              tmp_path / "r")
    assert not (tmp_path / "r").exists()


def test_formats_asked_for_or_the_scenarios_are_the_only_ones_written(tmp_path,
                                                                     scenario_result):
    write(scenario_result, tmp_path / "json", formats=["json"])
    assert sorted(p.name for p in (tmp_path / "json").iterdir()) == [".accelsim-report",
                                                                     "results.json"]
    only_csv = dataclasses.replace(scenario_result, scenario=dataclasses.replace(
        scenario_result.scenario, formats=("csv", "md")))
    write(only_csv, tmp_path / "csv")
    assert sorted(p.name for p in (tmp_path / "csv").iterdir()) == [".accelsim-report",
                                                                    "results.csv", "summary.md"]
    no_plots = dataclasses.replace(scenario_result, scenario=dataclasses.replace(
        scenario_result.scenario, plots=()))
    write(no_plots, tmp_path / "none", formats=["png", "json"])
    assert sorted(p.name for p in (tmp_path / "none").iterdir()) == [".accelsim-report",
                                                                     "results.json"]
    with pytest.raises(AccelsimError, match=r"'pdf'.*json, csv, md, html, png"):
        write(scenario_result, tmp_path / "pdf", formats=["pdf"])
    assert not (tmp_path / "pdf").exists()


def test_a_bare_comparison_can_be_written(tmp_path, comparison):
    write(comparison, tmp_path / "cmp", formats=["json", "md"])
    doc = json.loads((tmp_path / "cmp" / "results.json").read_text(encoding="utf-8"))
    assert doc["scenario"] == {} and doc["figures"] == [] and doc["references"] == []


def test_a_failing_plot_leaves_the_existing_report_untouched(tmp_path, monkeypatch,
                                                             scenario_result):
    out = tmp_path / "report"
    out.mkdir()
    (out / "summary.md").write_text("the previous report", encoding="utf-8")
    mark_folder(out, ["summary.md"])

    def broken(result, ax=None):
        plt.subplots()  # a figure made before the failure is closed too
        raise RuntimeError("plot failed")

    monkeypatch.setitem(PLOTS, "latency", broken)
    with pytest.raises(RuntimeError, match="plot failed"):
        write(scenario_result, out)
    assert [p.name for p in tmp_path.iterdir()] == ["report"]
    assert sorted(p.name for p in out.iterdir()) == [".accelsim-report", "summary.md"]
    assert (out / "summary.md").read_text(encoding="utf-8") == "the previous report"
    assert plt.get_fignums() == []


def test_an_existing_report_is_replaced_whole(tmp_path, scenario_result):
    out = tmp_path / "report"
    out.mkdir()
    (out / "accuracy.png").write_bytes(PNG)  # a plot the new report does not draw
    mark_folder(out, ["accuracy.png"])
    write(scenario_result, out, formats=["json", "csv"])
    assert sorted(p.name for p in out.iterdir()) == [".accelsim-report", "results.csv",
                                                     "results.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["report"]


def test_a_file_in_the_way_is_an_error(tmp_path, scenario_result):
    (tmp_path / "report").write_text("not a folder", encoding="utf-8")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        write(scenario_result, tmp_path / "report", formats=["json"])


@pytest.mark.parametrize("names", [["notes.txt"], ["results.json", "scenario.toml"],
                                   ["photo.png"], ["results.json", "data/"]])
def test_a_folder_holding_anything_but_a_report_is_refused_and_kept(tmp_path, scenario_result,
                                                                    names):
    out = tmp_path / "mine"
    out.mkdir()
    for name in names:
        (out / name).mkdir() if name.endswith("/") else (out / name).write_text(name)
    before = sorted(p.name for p in out.iterdir())
    with pytest.raises(OutputError, match="not part of an accelsim report") as caught:
        write(scenario_result, out, formats=["json"])
    assert str(out) in str(caught.value)
    assert sorted(p.name for p in out.iterdir()) == before
    assert [p.name for p in tmp_path.iterdir()] == ["mine"]  # no temporary folder left
    for name in names:
        if not name.endswith("/"):
            assert (out / name).read_text() == name


def test_the_current_folder_is_never_replaced(tmp_path, scenario_result, monkeypatch):
    out = tmp_path / "report"
    out.mkdir()
    (out / "summary.md").write_text("the previous report", encoding="utf-8")
    monkeypatch.chdir(out)
    for target in (".", out, tmp_path):
        with pytest.raises(OutputError, match="current folder"):
            write(scenario_result, target, formats=["json"])
    assert [p.name for p in out.iterdir()] == ["summary.md"]
