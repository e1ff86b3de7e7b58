"""`write`: a scenario's result (or a comparison) into a folder, atomically.

Formats: results.json (schema-versioned, the unit in every key), results.csv (one row per
op record), summary.md, index.html (self-contained) and one PNG per plot. A result holding a
quantization study (a scenario's [quantization] table) adds its records to results.json
("quantization"), its tables to summary.md and index.html, quantization.csv (one row per
network × variant) and its plots; a scenario that asked only for the study writes no
results.csv (it has no runs). Everything is
written into a new folder beside `out_dir` first; only when it is complete does it take
`out_dir`'s place (an existing `out_dir`, which may hold only an earlier report, is moved
aside, the new one renamed in, the old one removed; any other folder is refused). A failure
on the way (a plot, a full disk) leaves `out_dir` as it was and no temporary folder behind.
A plot the result cannot draw (accuracy without a scored run) is left out with a note, not
an error.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import secrets
import shutil
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from accelsim.comparison import Comparison
from accelsim.errors import AccelsimError, OutputError
from accelsim.machines.results import Category
from accelsim.nn.files import ensure_folder, write_atomically, write_text_atomically
from accelsim.report.inputs import (
    NothingToPlot,
    Result,
    comparison_of,
    figures_of,
    latency_limit_s,
    references_of,
    scenario_of,
    study_of,
    study_only,
)
from accelsim.report.pages import Page, Plot, html_page, markdown
from accelsim.report.plots import PLOTS
from accelsim.report.quant_plots import STUDY_PLOTS
from accelsim.report.tables import reference_record, result_tables

if TYPE_CHECKING:
    from matplotlib.axes import Axes

SCHEMA = 1
FORMATS = ("json", "csv", "md", "html", "png")
PNG_DPI = 120
REPORT_FILES = ("results.json", "results.csv", "quantization.csv", "summary.md",
                "index.html")  # and plots' PNGs
ALL_PLOTS = (*PLOTS, *STUDY_PLOTS)  # the runs' plots, then the quantization study's
STUDY_COLUMNS = ("network", "variant", "precision", "scheme", "simulated",
                 "accuracy_fraction", "fp32_accuracy_fraction", "drop_points", "perplexity",
                 "fp32_perplexity", "test_samples", "calibration_samples")
FIX = "choose another report folder"
OP_COLUMNS = ("machine", "network", "batch", "precision", "op_index", "op", "layer", "kind",
              "kernel", "seconds", "cycles", "ops", "ops_unit", "achieved_ops_per_s",
              "utilization_fraction", "bound", "dram_bytes", "onchip_bytes",
              *(f"time_seconds.{c.value}" for c in Category))


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


def _version() -> str:
    """accelsim's version, read from the loaded package (importing it here would make the
    package import itself through the scenario layer)."""
    return str(getattr(sys.modules.get("accelsim"), "__version__", "unknown"))


def _finite(value: Any) -> Any:
    """NaN and ±inf as null (JSON has neither); containers converted throughout."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _json_scalar(value: Any) -> Any:
    """numpy scalars as Python numbers; anything else JSON cannot hold is an error."""
    if hasattr(value, "item") and callable(value.item):
        return _finite(value.item())
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _shown_path(path: Path) -> str:
    """The scenario file relative to the current directory when it lies below it, else its
    name: a report names no folder of the machine that wrote it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return path.name


def scenario_record(result: Result) -> dict[str, Any]:
    """The scenario as plain values ({} for a bare comparison)."""
    s = scenario_of(result)
    if s is None:
        return {}
    path = getattr(s, "path", None)
    return {
        "name": s.name, "description": getattr(s, "description", ""),
        "path": None if path is None else _shown_path(Path(path)),
        "machines": [{"preset": m.preset, "overrides": dict(m.overrides)}
                     for m in getattr(s, "machines", ())],
        "networks": [str(n) for n in getattr(s, "networks", ())],
        "batches": list(getattr(s, "batches", ())),
        "precisions": [str(p) for p in getattr(s, "precisions", ())],
        "seq_len": getattr(s, "seq_len", None), "accuracy": getattr(s, "accuracy", False),
        "latency_limit_s": getattr(s, "latency_limit_s", None),
        "plots": list(getattr(s, "plots", ())), "formats": list(getattr(s, "formats", ())),
        "book_figures": getattr(s, "book_figures", False), **_plan_record(s)}


def _plan_record(s: Any) -> dict[str, Any]:
    """The scenario's [quantization] table as plain values ({} without one)."""
    plan = getattr(s, "quantization", None)
    if plan is None:
        return {}
    return {"quantization": {
        "networks": [str(n) for n in plan.networks],
        "variants": [{"label": v.label, "precision": v.precision, **v.keywords}
                     for v in plan.variants],
        "sensitivity": plan.sensitivity, "max_drop_points": plan.max_drop_points}}


def json_document(result: Result, plots: Sequence[Plot],
                  left_out: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """results.json as plain values: the scenario, every run and op record, the book's
    figures, the references, what was skipped and which plots were drawn or left out."""
    cmp = comparison_of(result)
    study = study_of(result)
    figures = [{"name": f.name, "book": f.book, "book_value": f.book_value,
                "model_value": f.model_value, "unit": f.unit,
                "ratio": f.model_value / f.book_value if f.book_value else None,
                "note": f.note} for f in figures_of(result)]
    return _finite({
        "schema": SCHEMA, "accelsim": _version(), "scenario": scenario_record(result),
        "runs": cmp.to_records(), "ops": cmp.op_records(), "figures": figures,
        "references": [reference_record(r) for r in references_of(result)],
        "skipped": [{"machine": s.machine, "network": s.network, "batch": s.batch,
                     "precision": s.precision, "reason": s.reason} for s in cmp.skipped],
        "plots": {"drawn": [p.name for p in plots], "left_out": dict(left_out)},
        **({} if study is None else {"quantization": study.document()})})


def _csv(records: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """Records as CSV; `columns` first, in order, then any other key."""
    extra = [k for k in dict.fromkeys(k for r in records for k in r) if k not in columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*columns, *extra], lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return out.getvalue()


def csv_text(cmp: Comparison) -> str:
    """One row per op record; columns in a fixed order (any new record key after them)."""
    return _csv(cmp.op_records(), OP_COLUMNS)


def study_csv_text(study: Any) -> str:
    """quantization.csv: one row per network × variant (`QuantStudy.to_records`)."""
    return _csv(study.to_records(), STUDY_COLUMNS)


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


def _write_bytes(path: Path, data: bytes) -> None:
    write_atomically(path, lambda tmp: tmp.write_bytes(data))


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


def _page(result: Result, plots: Sequence[Plot], left_out: Sequence[tuple[str, str]]) -> Page:
    cmp = comparison_of(result)
    s = scenario_of(result)
    title = f"accelsim report: {s.name}" if s is not None else "accelsim report"
    facts = [] if study_only(result) else [
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
    facts.append(f"accelsim {_version()}")
    return Page(title, str(getattr(s, "description", "") or "").strip(), tuple(facts),
                tuple(result_tables(result)), tuple(plots), tuple(left_out))


def _fill(folder: Path, result: Result, formats: Sequence[str],
          names: Sequence[str]) -> None:
    """Write every format into `folder` (the temporary one)."""
    plots, left_out = render(result, names) if {"png", "html"} & set(formats) else ([], [])
    if "png" in formats:
        for plot in plots:
            _write_bytes(folder / f"{plot.name}.png", plot.png)
    if "json" in formats:
        document = json_document(result, plots, left_out)
        write_text_atomically(folder / "results.json",
                              json.dumps(document, indent=1, allow_nan=False,
                                         default=_json_scalar) + "\n")
    if "csv" in formats and not study_only(result):
        write_text_atomically(folder / "results.csv", csv_text(comparison_of(result)))
    study = study_of(result)
    if "csv" in formats and study is not None:
        write_text_atomically(folder / "quantization.csv", study_csv_text(study))
    page = _page(result, plots, left_out)
    if "md" in formats:
        write_text_atomically(folder / "summary.md", markdown(page, "png" in formats))
    if "html" in formats:
        write_text_atomically(folder / "index.html", html_page(page))


def _is_report_file(path: Path) -> bool:
    """A file a report writes: results.json, results.csv, summary.md, index.html, a plot."""
    return path.is_file() and (path.name in REPORT_FILES
                               or (path.suffix == ".png" and path.stem in ALL_PLOTS))


def _holds_current_folder(out: Path) -> bool:
    try:
        return Path.cwd().resolve().is_relative_to(out.resolve())
    except OSError:  # the current folder was removed
        return False


def check_out_dir(out_dir: str | os.PathLike[str],
                  ours: Callable[[Path], bool] = _is_report_file) -> Path:
    """Where a report may go (absolute): a new folder, or one holding only an earlier report
    (files for which `ours` is true), which the new one replaces whole. Anything else is an
    OutputError, raised before any work: a file, the current folder, or a folder holding
    files that are not a report."""
    out = Path(os.path.abspath(out_dir))
    existing = next(p for p in (out, *out.parents) if p.exists())
    if not existing.is_dir():
        raise OutputError(f"{existing} is a file, not a folder; {FIX}")
    if existing != out:
        return out
    if _holds_current_folder(out):
        raise OutputError(f"{out} is the current folder (or holds it), which the report "
                          f"would replace; {FIX}")
    try:
        foreign = sorted(p.name for p in out.iterdir() if not ours(p))
    except OSError as err:
        raise OutputError(f"cannot read {out}: {err.strerror or err}; {FIX}") from None
    if foreign:
        more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        shown = ", ".join(foreign[:3]) + more
        raise OutputError(f"{out} holds files that are not part of an accelsim report "
                          f"({shown}); a report replaces its folder whole, so {FIX}: a new "
                          "or empty one")
    return out


def _new_folder(out: Path, tag: str) -> Path:
    """A new, empty folder beside `out` (the umask applies, as to any folder)."""
    for _ in range(100):
        folder = out.with_name(f".{out.name}.{secrets.token_hex(6)}.{tag}")
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
        except OSError as err:
            raise OutputError(f"cannot write in {out.parent}: {err.strerror or err}; "
                              f"{FIX}") from None
    raise OutputError(f"cannot create a temporary folder in {out.parent}")


def _swap_in(new: Path, out: Path) -> None:
    """Put the complete `new` folder at `out`, replacing (then removing) an existing one."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.{secrets.token_hex(6)}.old")
        os.replace(out, old)
    try:
        os.replace(new, out)
    except OSError:
        if old is not None:
            os.replace(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write(result: Result, out_dir: str | os.PathLike[str],
          formats: Iterable[str] | None = None) -> Path:
    """Write the report of a scenario's result (or a comparison) into `out_dir`: the
    formats asked for (default: the scenario's, else all of json, csv, md, html, png) and
    the scenario's plots (default: all). Atomic: `out_dir` is replaced only once the new
    report is complete; a folder holding anything but an earlier report is refused
    (`check_out_dir`). Returns `out_dir`."""
    s = scenario_of(result)
    asked = getattr(s, "formats", None)
    chosen = _chosen(formats, FORMATS if asked is None else asked, FORMATS, "format")
    plots = getattr(s, "plots", None)  # a scenario's plots = [] draws none
    default = (*PLOTS, *(STUDY_PLOTS if study_of(result) is not None else ()))
    names = _chosen(None, default if plots is None else plots, ALL_PLOTS, "plot")
    write_folder(check_out_dir(out_dir), lambda folder: _fill(folder, result, chosen, names))
    return Path(out_dir)


def write_folder(out: Path, fill: Callable[[Path], object]) -> None:
    """Make `out` (checked by `check_out_dir`) hold exactly what `fill(folder)` writes into a
    new folder beside it, atomically: the new folder replaces `out` whole only once `fill`
    has returned; on any failure `out` is as it was and no temporary folder is left."""
    ensure_folder(out.parent.resolve(), FIX)
    folder = _new_folder(out, "tmp")
    try:
        fill(folder)
        _swap_in(folder, out)
    except OSError as err:
        raise OutputError(f"cannot write the report to {out}: {err.strerror or err}; the "
                          "previous report (if any) is unchanged") from None
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(folder)
