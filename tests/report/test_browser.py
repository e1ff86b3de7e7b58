"""The HTML report in a real headless browser (Debian's chromium, driven by Playwright):
every image loads, the tables are there, nothing logs an error. The screenshot is kept as a
test artifact (build/test-artifacts/report.png) for a person to look at."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "test-artifacts"
SCENARIO = """
[scenario]
name = "browser"
latency_limit_ms = 1.0
[[machines]]
preset = "tpu-v1"
[[machines]]
preset = "gpu-h200"
[[machines]]
preset = "cpu-haswell-e5-2699v3"
[run]
networks = ["lenet5", "lstm-char"]
batch = [1, 16, 64]
"""
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


STUDY = """
[scenario]
name = "browser-study"
[quantization]
networks = ["lenet5", "rnn-hello"]
[[quantization.variants]]
precision = "fp32"
[[quantization.variants]]
precision = "int8"
"""


def _open(index: Path, screenshot: str) -> tuple[list, int, str, list[str]]:
    """(images as [complete, width, alt], table count, body text, errors) of a page."""
    errors: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("requestfailed", lambda r: errors.append(f"failed: {r.url}"))
        page.goto(index.as_uri())
        page.wait_for_load_state("load")
        images = page.evaluate("Array.from(document.images).map(i => "
                               "[i.complete, i.naturalWidth, i.alt])")
        tables = page.evaluate("document.querySelectorAll('table').length")
        text = page.inner_text("body")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / screenshot), full_page=True)
        browser.close()
    return images, tables, text, errors


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")
def test_the_html_report_renders_in_a_real_browser(tmp_path):
    import accelsim as ax

    path = tmp_path / "browser.toml"
    path.write_text(SCENARIO, encoding="utf-8")
    out = ax.run_scenario(path).write(tmp_path / "report")
    images, tables, text, errors = _open(out / "index.html", "report.png")
    assert images and all(done and width > 0 and alt for done, width, alt in images)
    assert tables >= 1
    assert "tpu-v1" in text and "gpu-h200" in text and "lenet5" in text
    assert errors == []


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")
def test_a_quantization_study_report_renders_in_a_real_browser(tmp_path):
    import accelsim as ax

    path = tmp_path / "study.toml"
    path.write_text(STUDY, encoding="utf-8")
    out = ax.run_scenario(path).write(tmp_path / "report")
    images, tables, text, errors = _open(out / "index.html", "quantization-report.png")
    assert len(images) == 2 and all(done and width > 0 and alt for done, width, alt in images)
    assert tables == 3  # accuracy, per-layer sensitivity, the mixed-precision suggestion
    assert "per_tensor/symmetric/max" in text and "rnn-hello" in text and "99.16%" in text
    assert errors == []
