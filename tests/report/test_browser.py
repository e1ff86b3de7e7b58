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


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")
def test_the_html_report_renders_in_a_real_browser(tmp_path):
    import accelsim as ax

    path = tmp_path / "browser.toml"
    path.write_text(SCENARIO, encoding="utf-8")
    out = ax.run_scenario(path).write(tmp_path / "report")
    errors: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("requestfailed", lambda r: errors.append(f"failed: {r.url}"))
        page.goto((out / "index.html").as_uri())
        page.wait_for_load_state("load")
        images = page.evaluate("Array.from(document.images).map(i => "
                               "[i.complete, i.naturalWidth, i.alt])")
        tables = page.evaluate("document.querySelectorAll('table').length")
        text = page.inner_text("body")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        browser.close()
    assert images and all(done and width > 0 and alt for done, width, alt in images)
    assert tables >= 1
    assert "tpu-v1" in text and "gpu-h200" in text and "lenet5" in text
    assert errors == []
