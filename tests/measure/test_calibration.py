"""cpu-host's calibration: measured once, saved atomically, reused; the same command prints
the same timings in two processes; damaged or foreign files are handled."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import accelsim as ax
from accelsim.machines.cpu.blis import gemm_threads, partition, predict
from accelsim.machines.cpu.spec import HASWELL
from accelsim.measure import calibration, host


@pytest.fixture
def fake_measurement(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """detect_host replaced by a fixed spec; counts the measurements taken."""
    calls: list[int] = []

    def measured():
        calls.append(1)
        return HASWELL.replace(name="cpu-host", cores=3, source="fake measurement")

    monkeypatch.setattr(host, "detect_host", measured)
    return calls


def test_saved_spec_round_trips_exactly(tmp_path: Path):
    spec = HASWELL.replace(name="cpu-host", clock_hz=2_271_760_225.7044086,
                           fma_efficiency=0.5637821647169462)
    calibration.save(spec, tmp_path / "c.json")
    loaded = calibration.load(tmp_path / "c.json")
    assert loaded.clock_hz == spec.clock_hz and loaded.fma_efficiency == spec.fma_efficiency
    assert str(tmp_path / "c.json") in loaded.source
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left


def test_first_use_measures_once_then_reuses(tmp_path, monkeypatch, fake_measurement, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = ax.machine("cpu-host")
    note = capsys.readouterr().err
    assert "calibrated cpu-host" in note and str(calibration.default_path()) in note
    second = ax.machine("cpu-host")
    assert len(fake_measurement) == 1 and capsys.readouterr().err == ""
    assert first.spec == second.spec and first.spec.cores == 3


def test_a_calibration_from_another_host_is_measured_again(tmp_path, monkeypatch,
                                                           fake_measurement, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    calibration.save(HASWELL.replace(name="cpu-host"), calibration.default_path())
    doc = json.loads(calibration.default_path().read_text())
    doc["host"]["cpu"] = "some other CPU"
    calibration.default_path().write_text(json.dumps(doc))
    assert ax.machine("cpu-host").spec.cores == 3 and len(fake_measurement) == 1
    assert "another host" in capsys.readouterr().err


def test_a_calibration_by_an_older_method_is_measured_again(tmp_path, monkeypatch,
                                                           fake_measurement, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    calibration.save(HASWELL.replace(name="cpu-host"), calibration.default_path())
    doc = json.loads(calibration.default_path().read_text())
    doc["schema"] = calibration.SCHEMA - 1
    calibration.default_path().write_text(json.dumps(doc))
    assert ax.machine("cpu-host").spec.cores == 3 and len(fake_measurement) == 1
    assert json.loads(calibration.default_path().read_text())["schema"] == calibration.SCHEMA


@pytest.mark.parametrize("content, message", [
    (b"", "unreadable"), (b"\xff\xfe not utf-8", "unreadable"), (b"{\"schema\": 1}", "not an"),
    (b"[1, 2]", "not an"),
    (f'{{"schema": {calibration.SCHEMA}, "spec": {{"cores": 2.5}}}}'.encode(), "calibration file"),
    (f'{{"schema": {calibration.SCHEMA}, "spec": {{"warp_count": 3}}}}'.encode(), "unknown field"),
])
def test_damaged_calibration_files_are_named(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(calibration.CalibrationError, match=message) as err:
        ax.machine("cpu-host", calibration=path)
    assert str(path) in str(err.value)


def test_missing_calibration_file_says_how_to_make_one(tmp_path):
    with pytest.raises(calibration.CalibrationError, match="accelsim calibrate"):
        ax.machine("cpu-host", calibration=tmp_path / "none.json")


def test_calibration_applies_to_cpu_host_only(tmp_path):
    with pytest.raises(ax.AccelsimError, match="cpu-host only"):
        ax.machine("gpu-h200", calibration=tmp_path / "c.json")


def test_two_processes_print_identical_timings(recorded_host: Path):
    env = {**os.environ, "XDG_CACHE_HOME": str(recorded_host.parent.parent)}
    command = [sys.executable, "-m", "accelsim.cli", "time", "lenet5", "--machine", "cpu-host",
               "--batch", "64"]
    runs = [subprocess.run(command, capture_output=True, env=env, check=True, timeout=300)
            for _ in range(2)]
    assert runs[0].stdout == runs[1].stdout and b"lenet5 on cpu-host" in runs[0].stdout
    assert runs[0].stderr == runs[1].stderr == b""


def test_show_names_where_the_host_spec_came_from(recorded_host: Path, capsys):
    from accelsim.cli import main

    assert main(["show", "cpu-host"]) == 0
    out = capsys.readouterr().out
    assert str(recorded_host) in out and "fp32" in out and "cores" in out


def test_thread_sync_shape_spreads_over_every_core_in_row_bands():
    for cores, lanes in ((2, 8), (3, 8), (16, 16), (16, 8), (64, 16)):
        spec = HASWELL.replace(cores=cores, simd_lanes=lanes)
        m, k, n = host.thread_sync_shape(cores)
        grid = partition(spec, m, n, gemm_threads(spec, m, k, n))
        assert (grid.col_threads, grid.row_threads) == (1, cores)  # no piece is shared


def test_thread_sync_inverts_the_model():
    truth = HASWELL.replace(name="cpu-host", cores=8, thread_sync_s=2.5e-6)
    measured = predict(truth, *host.thread_sync_shape(8)).seconds
    assert host.thread_sync(truth.replace(thread_sync_s=9e-6), measured) == \
        pytest.approx(2.5e-6)
    one_core = truth.replace(cores=1)
    assert host.thread_sync(one_core, 1.0) == one_core.thread_sync_s  # no worker to time


def test_calibrate_blas_recovers_the_rates_from_given_timings():
    """Timings made by a model whose cores slow down when all are busy (all-thread efficiency
    0.5 against 0.7 alone) give back both rates and the workers' cost: the two threaded
    GEMMs each depend on the other's rate, and `settle_threads` alternates until they agree."""
    truth = HASWELL.replace(name="cpu-host", cores=4, fma_efficiency=0.7,
                            fma_efficiency_all_cores=0.5, thread_sync_s=3e-6)
    one = predict(truth.replace(cores=1), *host.CALIBRATION_GEMM).seconds
    everyone = predict(truth, *host.CALIBRATION_GEMM).seconds
    threaded = predict(truth, *host.thread_sync_shape(4)).seconds
    start = truth.replace(fma_efficiency=0.9, fma_efficiency_all_cores=0.3, thread_sync_s=0.0)
    got = host.calibrate_blas(start, one, everyone, threaded)
    assert got.fma_efficiency == pytest.approx(0.7, rel=0.05)
    assert got.thread_sync_s == pytest.approx(3e-6, rel=0.05)
    assert got.fma_efficiency_all_cores == pytest.approx(0.5, rel=0.03)
    # a host whose cores keep their pace: the all-thread figure matches the one-thread one
    steady = truth.replace(fma_efficiency_all_cores=0.7)
    got = host.calibrate_blas(start, one, predict(steady, *host.CALIBRATION_GEMM).seconds,
                              predict(steady, *host.thread_sync_shape(4)).seconds)
    assert got.fma_efficiency_all_cores == pytest.approx(got.fma_efficiency, rel=0.02)


def test_rederive_recovers_a_hosts_rates_from_its_own_gemm_timings():
    """A recorded host's GEMM rows, timed by a model with known thread cost and all-core
    efficiency, give them back through today's calibration arithmetic (`host.rederive`),
    whatever stale values the stored spec carried."""
    from accelsim.measure.gemm_timing import SHAPES

    truth = HASWELL.replace(cores=16, fma_efficiency=0.6, fma_efficiency_all_cores=0.45,
                            thread_sync_s=3e-6)
    rows = [(m, k, n, predict(truth, m, k, n).seconds) for m, k, n in SHAPES]
    stale = truth.replace(thread_sync_s=9e-6, fma_efficiency_all_cores=0.2)
    got = host.rederive(stale, rows)
    assert got.thread_sync_s == pytest.approx(3e-6, rel=0.02)
    # the arithmetic prices the GEMM's packing at the ideal rate: within 3% of the truth
    assert got.fma_efficiency_all_cores == pytest.approx(0.45, rel=0.03)
    assert got.fma_efficiency == stale.fma_efficiency
    assert host.rederive(stale, []) == stale


def test_cpuinfo_reads_the_first_processor(tmp_path: Path):
    path = tmp_path / "cpuinfo"
    path.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\n"
                    "model name\t: AMD EPYC 9R14\nflags\t\t: fpu avx2 avx512f\n\n"
                    "processor\t: 1\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n")
    fields = host.cpuinfo(path)
    assert fields["model name"] == "AMD EPYC 9R14" and fields["flags"] == "fpu avx2 avx512f"
    assert host.cpu_family(fields) == ("AuthenticAMD", 25)
    assert host.cpu_family({}) == ("", 0)
    assert host.cpuinfo(tmp_path / "missing") == {}


def test_zen4_pipes_are_half_a_vector_wide():
    """AMD's family 19h with AVX-512 (Zen 4) runs a 512-bit FMA as two 256-bit halves; Zen 3
    (no AVX-512), Intel and Zen 5 (family 1Ah) retire whole vectors."""
    avx512 = {"avx2", "fma", "avx512f"}
    assert host.fma_datapath_bits(avx512, ("AuthenticAMD", 25)) == 256
    assert host.fma_datapath_bits({"avx2", "fma"}, ("AuthenticAMD", 25)) == 0
    assert host.fma_datapath_bits(avx512, ("GenuineIntel", 6)) == 0
    assert host.fma_datapath_bits(avx512, ("AuthenticAMD", 26)) == 0


def test_without_pytorch_the_mkl_rate_is_left_to_the_openblas_one(monkeypatch):
    """`measure_mkl` times nn.Linear only where PyTorch is installed; otherwise the spec is
    returned as it was (mkl_fma_efficiency 0: as fma_efficiency)."""
    import importlib.util

    from accelsim.machines.cpu.spec import HASWELL
    from accelsim.measure import host

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "torch" else real(name, *a))
    assert host.measure_mkl(HASWELL) is HASWELL
    assert HASWELL.mkl_efficiency == HASWELL.fma_efficiency
