"""Report and sweep folders are recognised by the marker accelsim writes, not by file names:
a folder holding the user's own files is never replaced, whatever they are called; a
symlinked output folder is followed; reports written before the marker stay rewritable."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accelsim.cli import main
from accelsim.errors import OutputError
from accelsim.files import MARKER, marked_files
from accelsim.report import write
from accelsim.report.writers import REPORT_FILES, check_report_dir
from accelsim.sweep.store import check_sweep_dir
from accelsim.version import VERSION

REPO = Path(__file__).resolve().parents[2]
SWEEP_FILES = ("sweep.csv", "sweep.json", "sweep.parquet", "summary.md", "index.html")
RUN = """
[scenario]
name = "marker-run"
[[machines]]
preset = "tpu-v1"
[run]
networks = ["lenet5"]
"""
SWEEP = """
[scenario]
name = "marker-sweep"
[sweep]
machine = "tpu-v1"
networks = ["lenet5"]
[sweep.axes]
batch = [1, 2]
"""


def _user_folder(folder: Path, names: list[str]) -> dict[str, str]:
    folder.mkdir()
    for name in names:
        (folder / name).write_text(f"the user's own {name}", encoding="utf-8")
    return {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir()}


def _contents(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir()}


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.sets(st.sampled_from([*REPORT_FILES, *SWEEP_FILES, "latency.png",
                                      "throughput.png"]), min_size=1))
def test_the_users_files_named_as_a_report_or_a_sweep_writes_them_are_refused(tmp_path_factory,
                                                                             names):
    folder = tmp_path_factory.mktemp("u") / "site"
    before = _user_folder(folder, sorted(names))
    for check in (check_report_dir, check_sweep_dir):
        with pytest.raises(OutputError, match="not part of an accelsim report") as caught:
            check(folder)
        assert str(folder) in str(caught.value) and MARKER in str(caught.value)
    assert _contents(folder) == before


def test_run_and_write_refuse_a_folder_holding_the_users_index_html(tmp_path, capsys,
                                                                    scenario_result):
    site = tmp_path / "site"
    before = _user_folder(site, ["index.html"])
    (tmp_path / "s.toml").write_text(RUN)
    assert main(["run", str(tmp_path / "s.toml"), "--out", str(site)]) == 2
    err = capsys.readouterr().err
    assert f"{site} holds files that are not part of an accelsim report (index.html)" in err
    assert "a new or empty one, or move those files away" in err
    with pytest.raises(OutputError, match=r"\(index\.html\)"):
        dataclasses.replace(scenario_result, writer=write).write(site)
    with pytest.raises(OutputError, match=r"\(index\.html\)"):
        write(scenario_result, site, formats=["json"])
    assert _contents(site) == before


def test_sweep_refuses_a_folder_of_the_users_summary_and_results(tmp_path, capsys):
    out = tmp_path / "mine"
    before = _user_folder(out, ["summary.md", "results.csv"])
    (tmp_path / "s.toml").write_text(SWEEP)
    assert main(["sweep", str(tmp_path / "s.toml"), "--out", str(out)]) == 2
    assert f"{out} holds files that are not part of an accelsim report" in \
        capsys.readouterr().err
    assert _contents(out) == before


def test_a_marked_report_is_replaced_but_not_once_the_user_adds_a_file(tmp_path,
                                                                      scenario_result):
    out = tmp_path / "r"
    write(scenario_result, out, formats=["json", "md"])
    assert marked_files(out) == {"results.json", "summary.md"}
    assert json.loads((out / MARKER).read_text())["accelsim"] == VERSION
    write(scenario_result, out, formats=["json"])  # its own folder: replaced whole
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "results.json"]
    (out / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match=r"\(notes.txt\)"):
        write(scenario_result, out, formats=["json"])
    assert (out / "notes.txt").read_text() == "mine"


def test_a_marker_that_is_a_link_or_not_accelsims_json_marks_nothing(tmp_path):
    for n, body in enumerate(("", "[]", '{"files": ["index.html"]}', "not json")):
        folder = tmp_path / f"f{n}"
        _user_folder(folder, ["index.html"])
        (folder / MARKER).write_text(body)
        with pytest.raises(OutputError):
            check_report_dir(folder)
    real = tmp_path / "real-marker"
    real.write_text(json.dumps({"accelsim": VERSION, "files": ["index.html"]}))
    linked = tmp_path / "linked"
    _user_folder(linked, ["index.html"])
    (linked / MARKER).symlink_to(real)
    with pytest.raises(OutputError):
        check_report_dir(linked)


def test_a_symlinked_out_is_followed_and_stays_a_link(tmp_path, scenario_result):
    target = tmp_path / "target"
    link = tmp_path / "link"
    link.symlink_to(target, target_is_directory=True)  # dangling: the report creates it
    write(scenario_result, link, formats=["json"])
    write(scenario_result, link, formats=["json", "md"])  # and replaces it through the link
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert sorted(p.name for p in target.iterdir()) == [MARKER, "results.json", "summary.md"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "target"]  # nothing stray
    mine = tmp_path / "mine"
    _user_folder(mine, ["index.html"])
    (tmp_path / "to-mine").symlink_to(mine, target_is_directory=True)
    with pytest.raises(OutputError, match=re.escape(str(mine))):
        write(scenario_result, tmp_path / "to-mine", formats=["json"])


def test_the_committed_quickstart_report_from_before_the_marker_is_rewritable(
        tmp_path, scenario_result):
    old = tmp_path / "quickstart"
    shutil.copytree(REPO / "reports" / "quickstart", old)
    assert not (old / MARKER).exists()
    assert check_report_dir(old) == old
    write(scenario_result, old, formats=["json"])
    assert sorted(p.name for p in old.iterdir()) == [MARKER, "results.json"]


def test_an_unmarked_report_needs_only_report_files_and_a_versioned_results_json(tmp_path):
    def folder(name: str, files: dict[str, str]) -> Path:
        path = tmp_path / name
        path.mkdir()
        for file, text in files.items():
            (path / file).write_text(text)
        return path

    versioned = json.dumps({"accelsim": "0.0.1"})
    assert check_report_dir(folder("ok", {"results.json": versioned, "summary.md": "x"}))
    for name, files in (("no-version", {"results.json": "{}", "summary.md": "x"}),
                        ("not-json", {"results.json": "<html>"}),
                        ("no-json", {"summary.md": "x", "results.csv": "a"}),
                        ("extra", {"results.json": versioned, "notes.txt": "x"})):
        with pytest.raises(OutputError):
            check_report_dir(folder(name, files))


def test_a_sweep_folder_from_before_the_marker_resumes(tmp_path, capsys):
    (tmp_path / "s.toml").write_text(SWEEP)
    out = tmp_path / "sw"
    assert main(["sweep", str(tmp_path / "s.toml"), "--out", str(out)]) == 0
    (out / MARKER).unlink()  # as an earlier accelsim left it
    assert main(["sweep", str(tmp_path / "s.toml"), "--out", str(out)]) == 0
    capsys.readouterr()
    assert MARKER in {p.name for p in out.iterdir()}
