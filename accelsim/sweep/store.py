"""A sweep's folder: rows streamed into sweep.csv as chunks finish, read back to resume, and
the finished report written atomically.

While a sweep runs, its folder holds sweep.json (what is being swept, the columns, the
accelsim version) and sweep.csv: the header once, then each finished chunk's rows appended in
one write and flushed, in the order chunks finish. Run the same sweep into the same folder
again and the rows already there are read back (their point ids are skipped, their values
kept exactly: every number is written as Python's shortest round-trip text); a last line cut
short by a kill is dropped. Every row read back is checked again (`_valid_rows`): one that
is not a row this sweep writes (garbage, a metric that is not a finite number ≥ 0, an unknown
status, labels that are not its point id's) is dropped from the file and its point runs
again; a point's id covers its network files' content (`scenario.space`), so an edited
network runs again too. A folder whose sweep.csv has other columns, or was written by
another accelsim version, is refused, never overwritten: its rows belong to another sweep.

When every point is done, the whole folder is replaced at once (`files.write_folder`): the
CSV rewritten in the sweep's order with exactly its points, sweep.parquet (converted at the
end from the same rows, when pyarrow is importable; pyarrow is optional), sweep.json and, when
the report layer hands them in (`Pages`), summary.md, index.html and the plots. If that
fails, the folder keeps the streamed rows, so a rerun resumes.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Any, NamedTuple

from accelsim.errors import OutputError
from accelsim.files import check_out_dir, mark_folder, write_folder, write_text_atomically
from accelsim.scenario.axes import value_kind
from accelsim.scenario.space import LABELS, METRICS, Sweep
from accelsim.scenario.sweep_result import SweepResult
from accelsim.version import VERSION

CSV_FILE, PARQUET_FILE, MANIFEST_FILE = "sweep.csv", "sweep.parquet", "sweep.json"
PAGES = ("summary.md", "index.html")
SCHEMA = 1
FIX = "choose another --out folder, or remove it to start over"
Row = tuple[Any, ...]


class Pages(NamedTuple):
    """A sweep's report pages, rendered by the report layer: summary.md, index.html and each
    plot's name and PNG bytes."""

    markdown: str
    html: str
    plots: tuple[tuple[str, bytes], ...]


def _manifest(out: Path) -> dict[str, Any]:
    """The folder's sweep.json ({} when absent or unreadable)."""
    try:
        data = json.loads((out / MANIFEST_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def is_unmarked_sweep(out: Path) -> bool:
    """A sweep's folder written before folders carried the marker (`files.MARKER`): only a
    sweep's files (sweep.csv, sweep.parquet, sweep.json, summary.md, index.html and the
    plots its sweep.json lists), among them a sweep.json whose "accelsim" field names a
    version."""
    manifest = _manifest(out)
    plots = {f"{name}.png" for name in manifest.get("plots", []) if isinstance(name, str)}
    names = {CSV_FILE, PARQUET_FILE, MANIFEST_FILE, *PAGES, *plots}
    return isinstance(manifest.get("accelsim"), str) and all(
        p.is_file() and not p.is_symlink() and p.name in names for p in out.iterdir())


def check_sweep_dir(out_dir: str | os.PathLike[str]) -> Path:
    """Where a sweep may write (absolute; a symlink followed): a new or empty folder, or a
    sweep's (marked, or unmarked and only a sweep's files); anything else is an OutputError
    before any work."""
    return check_out_dir(out_dir, is_unmarked_sweep)


# ---- values as text and back -----------------------------------------------------------


_BOOLS = {"True": True, "False": False, "": None}
_CELL: dict[str, Callable[[str], Any]] = {  # one cell back into its value ("" is None)
    "text": str, "int": lambda t: int(t) if t else None,
    "float": lambda t: float(t) if t else None, "bool": _BOOLS.__getitem__,
    "number": lambda t: None if not t else int(t) if t.lstrip("-").isdecimal() else float(t)}


def _kinds(sweep: Sweep) -> list[str]:
    """Each column's kind: text, int, float, bool, or number (a metric: int or float)."""
    named = {"int": "int", "float": "float", "bool": "bool", "str": "text", "precision": "text"}
    return ["number" if c in METRICS else "int" if c == "batch" else "text" if c in LABELS
            else named[value_kind(sweep.machine, c)] for c in sweep.columns]


def _column(cells: Sequence[str], kind: str) -> list[Any]:
    """A column's cells back into the values written, a whole column at a time where its
    cells allow (a metric column of whole numbers stays ints, one of floats floats); cell by
    cell where some are empty or mixed. Raises ValueError or KeyError on a cell no sweep
    writes."""
    if kind == "text":
        return list(cells)
    with contextlib.suppress(ValueError):
        if kind in ("int", "number"):
            return list(map(int, cells))
    with contextlib.suppress(ValueError):
        if kind == "float" or (kind == "number" and not any(map(str.isdecimal, cells))):
            return list(map(float, cells))
    return [_CELL[kind](c) for c in cells]


def csv_text(rows: Iterable[Row], columns: Iterable[str] | None) -> str:
    """The header (unless None) and rows as CSV (None as an empty cell; numbers as `str`
    writes them, the shortest text that reads back as the same float)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if columns is not None:
        writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue()


# ---- the streaming store ---------------------------------------------------------------


class SweepStore:
    """sweep.csv in a sweep's folder, open for appending. `done` holds the rows read back,
    `lines` every row's CSV line by point id (read back or appended), so the finished file is
    put together without formatting a number twice."""

    def __init__(self, out: Path, sweep: Sweep, done: dict[str, Row], lines: dict[str, str],
                 file: IO[str]) -> None:
        self.out, self.sweep, self.done, self.lines, self._file = out, sweep, done, lines, file

    @classmethod
    def open(cls, out_dir: str | os.PathLike[str], sweep: Sweep) -> SweepStore:
        """Check the folder, read back the rows of an earlier run of this sweep, and open
        the CSV for appending (created with its header when new)."""
        out = check_sweep_dir(out_dir)
        path = out / CSV_FILE
        done, lines = _read_rows(path, sweep) if path.exists() else (None, {})
        try:
            out.mkdir(parents=True, exist_ok=True)
            mark_folder(out, (MANIFEST_FILE, CSV_FILE))
            plots = _manifest(out).get("plots", [])  # an earlier report's, still there
            (out / MANIFEST_FILE).write_text(_manifest_text(sweep, "running", plots=plots),
                                             "utf-8")
            file = path.open("a" if done is not None else "w", encoding="utf-8", newline="")
        except OSError as err:
            raise OutputError(f"cannot write in {out}: {err.strerror or err}; {FIX}") from None
        if done is None:
            file.write(csv_text((), sweep.columns))
            file.flush()
        return cls(out, sweep, done or {}, lines, file)

    def append(self, rows: list[Row]) -> None:
        """Add finished rows to the CSV, in one write, flushed."""
        text = _lines(rows)
        self._file.write("".join(text))
        self._file.flush()
        self.lines.update(zip((row[0] for row in rows), text, strict=True))

    def close(self) -> None:
        self._file.close()


def _lines(rows: list[Row]) -> list[str]:
    """Each row's CSV line (one at a time only where a value holds a line break)."""
    text = csv_text(rows, None).splitlines(keepends=True)
    if len(text) == len(rows):
        return text
    return [csv_text([row], None) for row in rows]


def _read_rows(path: Path, sweep: Sweep) -> tuple[dict[str, Row], dict[str, str]]:
    """The valid rows an earlier run of the sweep left in `path` and their CSV lines, by
    point id (`_valid_rows`); a last line cut short is dropped, and a file holding rows that
    are not valid is rewritten without them (their points run again). Another sweep's (or
    version's) CSV is refused."""
    folder = path.parent
    written = _manifest(folder).get("accelsim", VERSION)
    try:
        data = path.read_bytes()
        if data and not data.endswith(b"\n"):
            data = data[:data.rfind(b"\n") + 1]
            with path.open("r+b") as file:
                file.truncate(len(data))
        text = data.decode("utf-8").splitlines(keepends=True)
        lines = list(csv.reader(text))
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise OutputError(f"cannot read {path} to resume the sweep: {err}; {FIX}") from None
    if not lines or tuple(lines[0]) != sweep.columns or written != VERSION:
        why = (f"was written by accelsim {written}, this is {VERSION}"
               if written != VERSION else "holds another sweep's columns")
        raise OutputError(f"{path} {why}, so its rows cannot be resumed; {FIX}")
    if len(lines) != len(text):  # a value held a line break: write each row afresh
        text = ["", *_lines([tuple(line) for line in lines[1:]])]
    done = _valid_rows(lines[1:], sweep)
    kept = {line[0]: raw for i, (line, raw) in enumerate(zip(lines[1:], text[1:], strict=True))
            if i in done}
    rows = {row[0]: row for row in done.values()}
    if len(rows) != len(lines) - 1:
        write_text_atomically(path, csv_text((), sweep.columns)
                              + "".join(kept[i] for i in rows))
    return rows, {i: kept[i] for i in rows}


def _valid_rows(lines: list[list[str]], sweep: Sweep) -> dict[int, Row]:
    """Rows by line index, parsed, of the lines that are a row this sweep writes: the right
    cells, each of its column's kind; status ok with every metric a finite number ≥ 0, or
    error with a message and no metric; its id a point of the sweep whose labels (machine,
    network, batch, precision, axis values) are the row's. A later row of the same point
    wins."""
    width = len(sweep.columns)
    fit = [i for i, line in enumerate(lines) if len(line) == width]
    parsed: dict[int, list[Any]] = {i: [] for i in fit}
    for c, kind in enumerate(_kinds(sweep)):
        try:  # a whole column at once where every cell reads
            for i, value in zip(fit, _column([lines[i][c] for i in fit], kind), strict=True):
                parsed[i].append(value)
        except (ValueError, KeyError):
            for i in fit:
                try:
                    parsed[i].append(_CELL[kind](lines[i][c]))
                except (ValueError, KeyError):
                    parsed[i].append(_BAD)
    rows = {i: tuple(v) for i, v in parsed.items() if _BAD not in v and _outcome_ok(v)}
    labels = len(sweep.columns) - 3 - len(METRICS)  # machine, network, batch, …, axes
    ids = {row[0] for row in rows.values()}
    expected = {p.id: sweep.labels(p) for p in sweep.iter_points() if p.id in ids}
    latest = {row[0]: i for i, row in rows.items()
              if expected.get(row[0]) == tuple(row[3:3 + labels])}
    return {i: rows[i] for i in sorted(latest.values())}


_BAD = object()  # a cell no sweep writes


def _outcome_ok(row: list[Any]) -> bool:
    """Status ok with every metric a finite number ≥ 0, or error with a message and none."""
    status, error, metrics = row[1], row[2], row[len(row) - len(METRICS):]
    if status == "ok":
        return all(isinstance(v, int | float) and not isinstance(v, bool)
                   and math.isfinite(v) and v >= 0 for v in metrics)
    return status == "error" and bool(error) and all(v is None for v in metrics)


def _manifest_text(sweep: Sweep, state: str, result: SweepResult | None = None,
                   plots: Iterable[str] = ()) -> str:
    """sweep.json: the sweep, its columns, the accelsim version, the plots in the folder,
    and when finished the counts."""
    document: dict[str, Any] = {"schema": SCHEMA, "accelsim": VERSION, "state": state,
                                "sweep": sweep.to_dict(), "columns": list(sweep.columns),
                                "plots": [str(p) for p in plots]}
    if result is not None:
        failed = len(result.errors())
        document.update(points=len(result), ok=len(result) - failed, errors=failed)
    return json.dumps(document, indent=1, allow_nan=False, default=str) + "\n"


# ---- the finished folder ---------------------------------------------------------------


def parquet_bytes(result: SweepResult) -> bytes | None:
    """The rows as a Parquet file (typed columns), or None when pyarrow is not installed."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return None
    sweep = result.sweep
    types = {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(),
             "str": pa.string(), "precision": pa.string()}
    arrays = {}
    for i, column in enumerate(sweep.columns):
        kind = (pa.float64() if column in METRICS else pa.int64() if column == "batch"
                else pa.string() if column in LABELS
                else types[value_kind(sweep.machine, column)])
        cells = [row[i] for row in result.values]
        if column in METRICS:  # every metric a double, as the CSV's readers would have it
            cells = [None if v is None else float(v) for v in cells]
        arrays[column] = pa.array(cells, type=kind)
    buffer = pa.BufferOutputStream()
    pq.write_table(pa.table(arrays), buffer)
    return bytes(buffer.getvalue().to_pybytes())


def write_sweep(result: SweepResult, out_dir: str | os.PathLike[str],
                pages: Pages | None = None, lines: dict[str, str] | None = None) -> Path:
    """The finished sweep's folder, replaced whole and at once: sweep.csv (the sweep's order),
    sweep.parquet (with pyarrow), sweep.json and the report `pages` when given; `lines` are
    the rows' CSV lines by point id where a store has them already. Everything is rendered
    before anything is written."""
    out = check_sweep_dir(out_dir)
    text = (csv_text(result.values, result.columns) if lines is None else
            csv_text((), result.columns) + "".join(lines[str(row[0])] for row in result.values))
    parquet = parquet_bytes(result)
    plots = () if pages is None else pages.plots
    manifest = _manifest_text(result.sweep, "complete", result, [name for name, _ in plots])

    def fill(folder: Path) -> None:
        (folder / CSV_FILE).write_text(text, "utf-8", newline="")
        if parquet is not None:
            (folder / PARQUET_FILE).write_bytes(parquet)
        (folder / MANIFEST_FILE).write_text(manifest, "utf-8")
        if pages is not None:
            (folder / PAGES[0]).write_text(pages.markdown, "utf-8")
            (folder / PAGES[1]).write_text(pages.html, "utf-8")
        for name, png in plots:
            (folder / f"{name}.png").write_bytes(png)

    write_folder(out, fill)
    return Path(out_dir)
