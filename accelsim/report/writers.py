"""`write`: a result into a folder, atomically.

A run result (a `Comparison`, a `ScenarioResult` or a `QuantStudy`) becomes results.json
(`documents.json_text`), results.csv (one row per op), summary.md, index.html
(self-contained) and one PNG per plot. A result holding a quantization study (a scenario's
[quantization] table) adds its records to results.json ("quantization"), its tables to
summary.md and index.html, quantization.csv (one row per network × variant) and its plots; a
result without runs writes no results.csv. A `SweepResult` becomes the sweep's folder
(`sweep_report`).

Everything is written into a new folder beside `out_dir` first; only when it is complete does
it take `out_dir`'s place (`accelsim.files.write_folder`: an existing `out_dir`, which may
hold only an earlier report, is moved aside, the new one renamed in, the old one removed; any
other folder is refused). A failure on the way (a plot, a full disk) leaves `out_dir` as it
was and no temporary folder behind. A plot the result cannot draw (accuracy without a scored
run) is left out with a note, not an error.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from accelsim.errors import AccelsimError
from accelsim.files import check_out_dir, write_folder
from accelsim.report.documents import json_text, runs_csv_text, study_csv_text
from accelsim.report.inputs import (
    NothingToPlot,
    Result,
    comparison_of,
    has_runs,
    latency_limit_s,
    scenario_of,
    study_of,
)
from accelsim.report.pages import Page, Plot, html_page, markdown
from accelsim.report.plots import PLOTS
from accelsim.report.quant_plots import STUDY_PLOTS
from accelsim.report.sweep_report import write_sweep_report
from accelsim.scenario.result import ScenarioResult
from accelsim.scenario.sweep_result import SweepResult
from accelsim.tables import Table
from accelsim.version import VERSION

if TYPE_CHECKING:
    from matplotlib.axes import Axes

FORMATS = ("json", "csv", "md", "html", "png")
PNG_DPI = 120
REPORT_FILES = ("results.json", "results.csv", "quantization.csv", "summary.md",
                "index.html")  # and plots' PNGs
ALL_PLOTS = (*PLOTS, *STUDY_PLOTS)  # the runs' plots, then the quantization study's


def _chosen(asked: Iterable[str] | None, default: Sequence[str], known: Sequence[str],
            what: str) -> tuple[str, ...]:
    """`asked` (or `default`), each checked against `known`."""
    chosen = tuple(default if asked is None else ([asked] if isinstance(asked, str)
                                                  else asked))
    unknown = [c for c in chosen if c not in known]
    if unknown:
        raise AccelsimError(f"unknown report {what} {', '.join(map(repr, unknown))}; "
                            f"choose from {', '.join(known)}")
    return tuple(dict.fromkeys(chosen))


def _png(ax: Axes) -> bytes:
    """The Axes' whole figure as PNG bytes; the figure is closed."""
    import matplotlib.pyplot as plt

    figure = ax.get_figure(root=True)
    if figure is None:
        raise AccelsimError("a plot returned an Axes on no figure")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=PNG_DPI, facecolor="white")
    plt.close(figure)
    return buffer.getvalue()


def _title(ax: Axes) -> str:
    """A plot's title (its alt text): the figure's when it has one (a panel plot), else the
    Axes'."""
    figure = ax.get_figure(root=True)
    overall = figure.get_suptitle() if figure is not None else ""
    return overall or ax.get_title()


def render(result: Result, names: Sequence[str]) -> tuple[list[Plot], list[tuple[str, str]]]:
    """Each named plot as PNG bytes with its title; plots with nothing to draw left out with
    why. Every figure made here is closed, whatever happens."""
    import matplotlib.pyplot as plt

    plots, left_out = [], []
    before = set(plt.get_fignums())
    try:
        for name in names:
            try:
                ax = (PLOTS[name] if name in PLOTS else STUDY_PLOTS[name])(result)
            except NothingToPlot as err:
                left_out.append((name, str(err)))
                continue
            plots.append(Plot(name, _title(ax), _png(ax)))
    finally:
        for number in set(plt.get_fignums()) - before:
            plt.close(number)
    return plots, left_out


def report_tables(result: Result) -> list[Table]:
    """Every table of a report: the runs (none without runs), then the result's own tables
    (a scenario's limit, figures, references, skipped runs and study; a study's tables)."""
    if isinstance(result, ScenarioResult):
        return result.tables()
    study = study_of(result)
    if study is not None:
        return study.tables()
    cmp = comparison_of(result)
    skipped = cmp.skipped_table()
    return [cmp.runs_table("runs"), *([] if skipped is None else [skipped])]


def _facts(result: Result) -> list[str]:
    """The lines under the report's title: what ran, the study, the limit, the version."""
    cmp = comparison_of(result)
    facts = [] if not has_runs(result) else [
        f"{len(cmp.entries)} runs: {', '.join(cmp.networks())} on "
        f"{', '.join(cmp.machines())}" if cmp.entries
        else "no runs: every combination was skipped (see Skipped)"]
    study = study_of(result)
    if study is not None:
        facts.append(f"quantization study: {', '.join(study.networks())} in "
                     f"{len(study.variants())} number formats, each calibrated on "
                     f"{study.calibration_samples} training samples and scored on its "
                     "test split")
    limit = latency_limit_s(result)
    if limit is not None:
        facts.append(f"latency limit: {limit * 1e3:g} ms end to end")
    facts.append(f"accelsim {VERSION}")
    return facts


def _page(result: Result, plots: Sequence[Plot], left_out: Sequence[tuple[str, str]]) -> Page:
    s = scenario_of(result)
    title = f"accelsim report: {s.name}" if s is not None else "accelsim report"
    description = "" if s is None else s.description.strip()
    return Page(title, description, tuple(_facts(result)), tuple(report_tables(result)),
                tuple(plots), tuple(left_out))


def _fill(folder: Path, result: Result, formats: Sequence[str],
          names: Sequence[str]) -> None:
    """Write every format into `folder` (the temporary one)."""
    plots, left_out = render(result, names) if {"png", "html"} & set(formats) else ([], [])
    if "png" in formats:
        for plot in plots:
            (folder / f"{plot.name}.png").write_bytes(plot.png)
    if "json" in formats:
        (folder / "results.json").write_text(
            json_text(result, [p.name for p in plots], left_out), "utf-8")
    if "csv" in formats and has_runs(result):
        (folder / "results.csv").write_text(runs_csv_text(comparison_of(result)), "utf-8")
    study = study_of(result)
    if "csv" in formats and study is not None:
        (folder / "quantization.csv").write_text(study_csv_text(study), "utf-8")
    page = _page(result, plots, left_out)
    if "md" in formats:
        (folder / "summary.md").write_text(markdown(page, "png" in formats), "utf-8")
    if "html" in formats:
        (folder / "index.html").write_text(html_page(page), "utf-8")


def _is_report_file(path: Path) -> bool:
    """A file a report writes: results.json, results.csv, summary.md, index.html, a plot."""
    return path.is_file() and not path.is_symlink() and (
        path.name in REPORT_FILES or (path.suffix == ".png" and path.stem in ALL_PLOTS))


def is_unmarked_report(folder: Path) -> bool:
    """A report written before reports carried the marker (`files.MARKER`): only files a
    report writes, among them a results.json whose "accelsim" field names a version."""
    try:
        data = json.loads((folder / "results.json").read_text("utf-8"))
        return (isinstance(data, dict) and isinstance(data.get("accelsim"), str)
                and all(map(_is_report_file, folder.iterdir())))
    except (OSError, ValueError):
        return False


def check_report_dir(out_dir: str | os.PathLike[str]) -> Path:
    """Where a report may go (`files.check_out_dir`): a new or empty folder, or one holding
    an earlier report (marked, or unmarked and only a report's files)."""
    return check_out_dir(out_dir, is_unmarked_report)


def write(result: Result | SweepResult, out_dir: str | os.PathLike[str],
          formats: Iterable[str] | None = None) -> Path:
    """Write the report of a result into `out_dir`: the formats asked for (default: the
    scenario's, else all of json, csv, md, html, png) and the scenario's plots (default:
    every plot the result can have). Atomic: `out_dir` is replaced only once the new report
    is complete; a folder holding anything but an earlier report is refused. A sweep's
    result writes the sweep's folder (`sweep_report.write_sweep_report`). Returns
    `out_dir`."""
    if isinstance(result, SweepResult):
        return write_sweep_report(result, out_dir)
    comparison_of(result)  # a type the report does not take fails here, before any work
    s = scenario_of(result)
    chosen = _chosen(formats, FORMATS if s is None else s.formats, FORMATS, "format")
    default = (*(PLOTS if has_runs(result) else ()),
               *(STUDY_PLOTS if study_of(result) is not None else ()))
    names = _chosen(None, default if s is None else s.plots, ALL_PLOTS, "plot")
    write_folder(check_report_dir(out_dir),
                 lambda folder: _fill(folder, result, chosen, names))
    return Path(out_dir)
