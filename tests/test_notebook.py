"""The example notebook runs from top to bottom in a real kernel, so it stays true."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        parts.append(out.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


@pytest.mark.slow  # CI runs it (.ci/run: make test-slow)
def test_the_quickstart_notebook_runs_and_shows_results():
    nb = nbformat.read(EXAMPLES / "quickstart.ipynb", as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(EXAMPLES)}})
    client.execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not any(o.get("output_type") == "error" for o in c.outputs) for c in code)
    comparison = next(c for c in code if c.source.startswith("cmp = ax.compare"))
    html = comparison.outputs[0]["data"]["text/html"]
    assert "<table>" in html and "tpu-v1" in html and "gpu-h200" in html
    labels = next(c for c in code if "get_xlabel" in c.source)
    assert "batch" in _text(labels)
    written = next(c for c in code if "res.write" in c.source)
    assert "index.html" in _text(written) and "results.json" in _text(written)
