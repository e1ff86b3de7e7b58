"""run_sweep: rows equal to the machines' own runs, the same rows from one process, a process
pool and a Dask LocalCluster, failing points recorded, resume after an interrupt, and the
folder it writes (CSV, Parquet, sweep.json, the report)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

import accelsim as ax
from accelsim.api import run_sweep
from accelsim.errors import AccelsimError, OutputError
from accelsim.sweep import METRICS, Range, Sweep, SweepResult
from accelsim.sweep import runner as runner_module
from accelsim.sweep.evaluate import evaluate_chunk, run_outcome
from accelsim.sweep.store import write_sweep

SIZES = [32, 64, 128, 256]  # an 8×8 array makes the reference LSTM run take seconds


def tpu_sweep(**more) -> Sweep:
    """80 TPU points: array shapes (square), DDR3 bandwidth ×0.25..×4, two batches, a 4 KiB
    Unified Buffer: LeNet-5 runs 1,000 images in passes (or spills); one char-LSTM sample
    (its 64 steps of 96 inputs alone) does not fit (CapacityError)."""
    axes = {"tpu.array_rows": SIZES, "tpu.array_cols": SIZES,
            "tpu.ddr_bytes_per_s": Range(8.5e9, 136e9, num=5, scale="log"),
            "tpu.unified_buffer_bytes": [2**12], "batch": [1, 1000], **more}
    return Sweep.of("tpu-v1", ["lenet5", "lstm-char"], axes,
                    constraints=["tpu.array_rows == tpu.array_cols"], name="tpu-test")


@pytest.fixture(scope="module")
def local() -> SweepResult:
    return run_sweep(tpu_sweep(), workers=1)


def reference(row: dict) -> tuple:
    overrides = {a.partition(".")[2]: row[a] for a in row if a.startswith("tpu.")}
    run = ax.machine("tpu-v1", **overrides).run(ax.network(row["network"], weights="none"),
                                                 batch=row["batch"])
    return run_outcome(run)[2:]


def test_rows_are_the_machines_own_runs_and_failures_carry_their_message(local):
    assert len(local) == 2 * 4 * 5 * 2 and local.evaluated == 80 and local.resumed == 0
    ok, failed = local.ok(), local.errors()
    assert len(ok) == 40 and all(r["network"] == "lenet5" for r in ok)
    for row in ok:
        assert tuple(row[m] for m in METRICS) == reference(row), row
    assert {r["network"] for r in failed} == {"lstm-char"} and len(failed) == 40
    assert all("Unified Buffer" in r["error"] and r["cycles"] is None for r in failed)
    assert local.error_counts()[0][1] == 40  # one message, whatever the array and batch


def test_a_gpu_sweep_runs_the_machine_and_records_a_missing_precision():
    s = Sweep.of("gpu-k80", "lenet5", {"gpu.sm_count": [4, 13], "precision": ["fp32", "bf16"],
                                       "batch": [1, 8]})
    result = run_sweep(s, workers=1)
    for row in result.rows:
        try:
            run = ax.machine("gpu-k80", sm_count=row["gpu.sm_count"]).run(
                ax.network("lenet5", weights="none"), batch=row["batch"],
                precision=row["precision"])
        except AccelsimError as err:
            assert row["status"] == "error" and row["error"] == " ".join(str(err).split())
            continue
        assert row["status"] == "ok" and tuple(row[m] for m in METRICS) == run_outcome(run)[2:]
    assert {r["precision"] for r in result.errors()} == {"bf16"}  # the K80 has no bf16


def test_cpu_host_sweeps_run_on_its_calibrated_spec():
    s = Sweep.of("cpu-host", "lstm-char", {"cpu.cores": [1, 2], "seq_len": [3]})
    rows = run_sweep(s, workers=1).rows
    assert s.columns[7:9] == ("cpu.cores", "seq_len")
    for row in rows:
        run = ax.machine("cpu-host", cores=row["cpu.cores"]).run(
            ax.network("lstm-char", weights="none"), seq_len=3)
        assert row["status"] == "ok" and tuple(row[m] for m in METRICS) == run_outcome(run)[2:]


def test_a_bad_spec_value_and_an_unexpected_exception_are_recorded(monkeypatch):
    s = Sweep.of("tpu-v1", "lenet5", {"tpu.array_rows": [0, 8], "batch": [1, 2]})
    result = run_sweep(s, workers=1)
    assert [r["status"] for r in result.rows] == ["error", "error", "ok", "ok"]
    assert "array_rows = 0 must be a positive integer" in result.rows[0]["error"]

    def broken(points):
        raise RuntimeError("kernel fault")

    monkeypatch.setattr("accelsim.sweep.fast_tpu.tpu_points", broken)
    monkeypatch.setattr("accelsim.sweep.fast_tpu.tpu_point",
                        lambda net, batch, *a, **k: broken([]) if batch == 2 else {})
    rows = run_sweep(s, workers=1).rows
    assert [r["error"] for r in rows] == ["", "RuntimeError: kernel fault"] * 2


def test_a_process_pool_gives_the_same_rows(local):
    heard: list[tuple[int, int]] = []
    pooled = run_sweep(tpu_sweep(), workers=2, chunk_size=7,
                       progress=lambda done, total: heard.append((done, total)))
    assert pooled.values == local.values
    assert heard[0] == (0, 80) and heard[-1] == (80, 80) and len(heard) == 1 + 12  # ⌈80/7⌉
    assert [d for d, _ in heard] == sorted(d for d, _ in heard)


def test_a_dask_local_cluster_gives_the_same_rows(local):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        by_address = run_sweep(tpu_sweep(), dask=cluster.scheduler_address, chunk_size=9)
        with distributed.Client(cluster) as client:
            by_client = run_sweep(tpu_sweep(), dask=client, chunk_size=30)
            assert client.status == "running"  # a client given is the caller's to close
    assert by_address.values == local.values and by_client.values == local.values


def test_dask_missing_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(AccelsimError, match=r"pip install 'accelsim\[sweep\]'"):
        run_sweep(tpu_sweep(), dask="tcp://127.0.0.1:8786")


def test_importing_accelsim_imports_neither_dask_nor_pyarrow():
    code = ("import sys, accelsim, accelsim.sweep\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('dask', 'distributed', 'pyarrow')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


# ---- the folder: streaming, resume ---------------------------------------------------------


class Stop(KeyboardInterrupt):
    """Ctrl-C, pressed after `after` chunks."""


def stop_after(after: int):
    def progress(done: int, total: int) -> None:
        if done >= after:
            raise Stop

    return progress


def counting(monkeypatch) -> list[str]:
    """Every point id evaluated from now on (in this process)."""
    seen: list[str] = []
    real = runner_module._chunk

    def spy(sweep, points):
        seen.extend(p.id for p in points)
        return real(sweep, points)

    monkeypatch.setattr(runner_module, "_chunk", spy)
    return seen


def csv_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(path.open(encoding="utf-8")))


def test_an_interrupted_sweep_resumes_without_redoing_a_point(tmp_path, monkeypatch, local):
    whole = tmp_path / "whole"
    run_sweep(tpu_sweep(), whole, workers=1, report=False)
    out = tmp_path / "out"
    seen = counting(monkeypatch)
    with pytest.raises(Stop):
        run_sweep(tpu_sweep(), out, workers=1, chunk_size=10, progress=stop_after(30),
                  report=False)
    streamed = csv_rows(out / "sweep.csv")
    assert len(streamed) == 1 + 30 and len(seen) == 30  # three chunks, each on disk
    assert not (out / "sweep.parquet").exists()  # written only when the sweep is done
    first = list(seen)
    result = run_sweep(tpu_sweep(), out, workers=1, chunk_size=10, report=False)
    again = seen[len(first):]
    assert (result.resumed, result.evaluated) == (30, 50) and not set(first) & set(again)
    assert sorted(first + again) == sorted(r["point"] for r in local.rows)
    assert result.values == local.values
    assert (out / "sweep.csv").read_bytes() == (whole / "sweep.csv").read_bytes()
    assert (out / "sweep.parquet").read_bytes() == (whole / "sweep.parquet").read_bytes()


def test_a_pool_interrupted_then_resumed_ends_with_every_point_once(tmp_path, local):
    out = tmp_path / "out"
    with pytest.raises(Stop):
        run_sweep(tpu_sweep(), out, workers=2, chunk_size=8, progress=stop_after(8),
                  report=False)
    ids = [row[0] for row in csv_rows(out / "sweep.csv")[1:]]
    assert len(ids) >= 8 and len(ids) == len(set(ids))
    result = run_sweep(tpu_sweep(), out, workers=2, chunk_size=8, report=False)
    assert result.resumed == len(ids) and result.evaluated == 80 - len(ids)
    assert result.values == local.values


def test_a_line_cut_short_by_a_kill_is_dropped_and_redone(tmp_path, local):
    out = tmp_path / "out"
    with pytest.raises(Stop):
        run_sweep(tpu_sweep(), out, workers=1, chunk_size=10, progress=stop_after(20),
                  report=False)
    data = (out / "sweep.csv").read_bytes()
    (out / "sweep.csv").write_bytes(data[:-40])  # the last row half written
    result = run_sweep(tpu_sweep(), out, workers=1, report=False)
    assert (result.resumed, result.evaluated) == (19, 61) and result.values == local.values


def test_another_sweeps_folder_is_refused_and_left_as_it_was(tmp_path):
    out = tmp_path / "out"
    run_sweep(tpu_sweep(), out, workers=1, report=False)
    before = (out / "sweep.csv").read_bytes()
    other = Sweep.of("tpu-v1", "lenet5", {"tpu.clock_hz": [7e8]})
    with pytest.raises(OutputError, match="holds another sweep's columns"):
        run_sweep(other, out, workers=1)
    assert (out / "sweep.csv").read_bytes() == before
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(OutputError, match=r"holds files that are not part of an accelsim "
                                          r"report \(notes.txt\)"):
        run_sweep(other, tmp_path / "mine", workers=1)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_the_finished_folder_holds_the_table_the_report_and_what_it_wrote(tmp_path, local):
    out = tmp_path / "out"
    result = run_sweep(tpu_sweep(), out, workers=1)
    manifest = json.loads((out / "sweep.json").read_text())
    assert manifest["state"] == "complete" and manifest["columns"] == list(result.columns)
    assert (manifest["points"], manifest["ok"], manifest["errors"]) == (80, 40, 40)
    files = {p.name for p in out.iterdir()}
    assert {"sweep.csv", "sweep.parquet", "sweep.json", "summary.md", "index.html"} <= files
    assert {f"{name}.png" for name in manifest["plots"]} <= files
    summary = (out / "summary.md").read_text()
    best = local.best("throughput_per_s", "lenet5")
    assert best is not None and best["point"] in summary
    assert "Unified Buffer" in summary  # the errors' table
    pq = pytest.importorskip("pyarrow.parquet")
    table = pq.read_table(out / "sweep.parquet")
    assert table.column_names == list(result.columns)
    assert table.column("cycles").to_pylist() == result.column("cycles")
    again = run_sweep(tpu_sweep(), out, workers=1)  # a finished folder: nothing left to do
    assert (again.resumed, again.evaluated) == (80, 0) and again.values == local.values


def test_without_pyarrow_the_sweep_writes_csv_only(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    out = tmp_path / "out"
    run_sweep(Sweep.of("tpu-v1", "lenet5", {"batch": [1, 2]}), out, workers=1, report=False)
    assert sorted(p.name for p in out.iterdir()) == [".accelsim-report", "sweep.csv",
                                                     "sweep.json"]


def test_a_result_in_memory_writes_the_same_table(tmp_path, local):
    write_sweep(local, tmp_path / "a")  # the rows alone, without the report pages
    run_sweep(tpu_sweep(), tmp_path / "b", workers=1, report=False)
    for name in ("sweep.csv", "sweep.parquet"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_bad_arguments_are_refused_before_any_work(tmp_path):
    with pytest.raises(AccelsimError, match="workers = 0 must be a positive integer"):
        run_sweep(tpu_sweep(), tmp_path / "out", workers=0)
    with pytest.raises(AccelsimError, match=r"has no \[sweep\] table"):
        run_sweep("quickstart")
    assert not (tmp_path / "out").exists()


def test_chunks_evaluate_alone_in_order():
    s = Sweep.of("tpu-v1", "lenet5", {"batch": [2, 1]})
    chunk = runner_module._chunk(s, list(s.iter_points()))
    outcomes = evaluate_chunk(chunk)
    assert [o[0] for o in outcomes] == ["ok", "ok"]
    assert outcomes[0][2:] == run_sweep(s, workers=1).values[0][-len(METRICS):]
