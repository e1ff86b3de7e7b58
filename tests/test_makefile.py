"""`make demo` installs only what the demo needs and writes where git does not look (issue
21, item 6); `make test` still installs the test extra. Read from `make -n` (nothing runs)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("make") is None or shutil.which("git") is None,
                                reason="needs make and git")


def dry_run(target: str) -> list[str]:
    """The commands `make TARGET` would run from scratch (-B: as if nothing were built)."""
    out = subprocess.run(["make", "-n", "-B", target], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    return out.splitlines()


def installs(lines: list[str]) -> list[str]:
    return [line for line in lines if "pip install" in line and "-e" in line.split()]


def test_demo_installs_the_package_without_the_test_extra():
    (install,) = installs(dry_run("demo"))
    assert "[test" not in install and re.search(r"-e\s+\.(\s|$)", install), install


def test_test_still_installs_the_test_extra():
    assert any("'.[test]'" in line for line in installs(dry_run("test")))


def test_demo_writes_its_report_where_git_ignores_it():
    (run,) = [line for line in dry_run("demo") if "accelsim demo" in line]
    out = run.split("--out", 1)[1].split()[0]
    assert not out.rstrip("/").endswith("reports/quickstart")
    probe = Path(out) / "index.html"
    ignored = subprocess.run(["git", "check-ignore", "-q", str(probe)], cwd=ROOT, check=False)
    assert ignored.returncode == 0, f"{probe} is not ignored by git"
