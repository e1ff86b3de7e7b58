"""The README's tables printed by examples/ scripts are what those scripts print today, each
whole and in one piece: a model change that moves a number must regenerate them
(`.venv/bin/python examples/NAME.py`), and a row pasted into the wrong table breaks its
table's block."""

from __future__ import annotations

import contextlib
import io
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def printed_tables(script: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The script's tables, each its consecutive '|' lines joined."""
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(str(ROOT / "examples" / script), run_name="__main__")
    tables, current = [], []
    for line in [*out.getvalue().splitlines(), ""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append("\n".join(current))
            current = []
    return tables


@pytest.mark.parametrize(("script", "count"), [("energy_table.py", 1),
                                               ("imagenet_table.py", 2)])
def test_readme_tables_are_what_the_scripts_print(script, count, monkeypatch):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    tables = printed_tables(script, monkeypatch)
    assert len(tables) == count and all(t.count("\n") >= 15 for t in tables)
    for table in tables:
        assert f"\n{table}\n" in readme, f"README.md's table is stale; rerun examples/{script}"
