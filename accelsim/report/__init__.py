"""Reports: plots (`accelsim.report.plots`, also `ax.plot`) and `write`, which puts a
scenario's result (or a comparison) into a folder as JSON, CSV, Markdown, self-contained HTML
and PNG, atomically. Reports read results; they never simulate."""

from __future__ import annotations

from accelsim.report.writers import FORMATS, write

__all__ = ["FORMATS", "write"]
