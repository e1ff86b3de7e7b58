"""Whole networks: the CPU model (PyTorch's eager runtime, framework.py) against PyTorch CPU
timings recorded on real hosts, replayed with each host's spec (deterministic, no torch
needed), and against PyTorch live on this host (behind the `host` marker; needs torch).

In-sample: the 2-vCPU AMD EPYC (Zen 3) development host, whose LeNet-5 and LSTM layers the
framework's constants were fitted on (framework.py names each fit). Out-of-sample: the 16-core
Intel host, which no constant was fitted on.

Targets per host and thread count: median absolute error ≤ 25% and no row off by more than
2×. One recorded row is off by more: LeNet-5 at batch 1 on 16 threads on the 16-core host
(1,212 µs measured, slower than batch 16's 553 µs on the same threads); the model's per-region
fork/join cost would have to be ~15 µs at 16 threads to reach it, which the same host's LSTM
at batch 1 (64 regions, 766 µs at 16 threads, 809 µs at 1) rules out. It is kept as a strict
expected failure so that it cannot be fitted away unnoticed.

Replays run the spec re-derived from the host's own GEMM rows (`recorded.replay_spec_of`).
On the 16-core host that raises the all-core FMA efficiency from the old calibration's floor
(0.2) to 0.57 (its 512³ GEMM on 16 threads), and the 16-thread PyTorch rows then run 2-3×
slower than the model at large batches (LSTM at batch 64 and 256, LeNet-5 at 1,024): the
networks were timed on a second VM of the same kind whose all-core rate was never calibrated,
and the old floor was standing in for it. The char LSTM there ran only 1.06×, 4.1× and 4.2×
faster on 16 threads than on 1 at batch 1, 64 and 256, where oneDNN's source splits each step
into 16 and 64 work items (brgemm.py; the model: 1.5×, 10× and 14×). The 16-thread group is a
strict expected failure of the 25% target, held to today's figures meanwhile."""

from __future__ import annotations

import re

import pytest

from accelsim.errors import AccelsimError
from accelsim.measure import clock, host, torch_networks
from accelsim.measure.recorded import read, recorded_hosts
from accelsim.validation import cpu_networks
from accelsim.validation.comparison import median_ape

HOSTS = [n for n in recorded_hosts() if "rows" in read(n).get("networks", {})]
SIXTEEN = "cpu-intel-16core-2026-11-27.json"  # out of sample
DEVELOPMENT = "cpu-epyc-zen3-2vcpu-2026-11-27.json"  # in sample: the framework's fits
OUTLIER = ("lenet5", 1, "16 threads")


def by_threads(report):
    groups = {}
    for row in report.of("end to end"):
        groups.setdefault(row.note, []).append(row)
    return groups


def test_both_recorded_hosts_carry_network_rows():
    assert set(HOSTS) == {SIXTEEN, DEVELOPMENT}


def test_recorded_networks_within_25_percent_in_sample():
    report = cpu_networks.recorded_report(DEVELOPMENT)
    groups = by_threads(report)
    assert "1 threads" in groups and len(groups) == 2, report.text()
    for rows in groups.values():
        assert median_ape(rows) <= 0.25, report.text()
    assert not [r for r in report.rows if r.off_by_2x], report.text()


def test_sixteen_core_host_one_thread_within_25_percent_out_of_sample():
    report = cpu_networks.recorded_report(SIXTEEN)
    rows = by_threads(report)["1 threads"]
    assert median_ape(rows) <= 0.25, report.text()
    assert not [r for r in rows if r.off_by_2x], report.text()


@pytest.mark.xfail(strict=True, reason="16 threads on the 16-core host with its re-derived "
                                       "spec: 48% median; see the module docstring")
def test_sixteen_core_host_all_threads_within_25_percent_out_of_sample():
    rows = by_threads(cpu_networks.recorded_report(SIXTEEN))["16 threads"]
    assert median_ape(rows) <= 0.25


def test_sixteen_core_host_all_threads_stays_within_todays_bounds():
    report = cpu_networks.recorded_report(SIXTEEN)
    rows = by_threads(report)["16 threads"]
    assert median_ape(rows) <= 0.50, report.text()
    off = {(r.network, r.batch) for r in rows if r.off_by_2x}
    assert off <= {OUTLIER[:2], ("lenet5", 1024), ("lstm-char", 64), ("lstm-char", 256)}, \
        report.text()


@pytest.mark.xfail(strict=True, reason="LeNet-5 batch 1 on 16 threads: 1,212 µs measured, "
                                       "slower than batch 16; see the module docstring")
def test_sixteen_core_host_has_no_row_off_by_2x_out_of_sample():
    report = cpu_networks.recorded_report(SIXTEEN)
    assert not [r for r in report.rows if r.off_by_2x], report.text()


def test_replays_time_nothing_here_and_cover_every_recorded_timing(monkeypatch):
    """A replay runs anywhere: nothing of the host running it is detected or timed; and each
    recorded PyTorch timing (`torch_us_tN`, not its `_rounds`) is one compared row."""
    def refuse(*args, **kwargs):
        raise AssertionError("a recorded replay measured the host running it")

    for module, name in ((host, "detect_host"), (host, "gemm_seconds"),
                         (clock, "measure_clock_hz"), (torch_networks, "measure"),
                         (torch_networks, "measure_rounds")):
        monkeypatch.setattr(module, name, refuse)
    for name in HOSTS:
        timings = sorted((row["net"], row["batch"], int(key.removeprefix("torch_us_t")), value)
                         for row in read(name)["networks"]["rows"]
                         for key, value in row.items() if re.fullmatch(r"torch_us_t\d+", key))
        report = cpu_networks.recorded_report(name)
        compared = sorted((r.network, r.batch, int(r.note.split()[0]), r.measured_us)
                          for r in report.rows)
        assert compared == timings and len(compared) >= 16
        assert all(r.time == "end to end" and r.precision == "fp32" for r in report.rows)


def test_a_file_without_network_rows_is_refused():
    with pytest.raises(AccelsimError, match=r"networks\.rows"):
        cpu_networks.recorded_report("cpu-epyc-zen4-2vcpu-2026-11.json")


def test_live_report_needs_torch(monkeypatch):
    import accelsim as ax

    monkeypatch.setattr(torch_networks, "torch_available", lambda: False)
    with pytest.raises(AccelsimError, match=r"pip install torch==2\.13\.0"):
        cpu_networks.live_report(ax.machine("cpu-haswell-e5-2699v3"))


@pytest.mark.host
@pytest.mark.skipif(not torch_networks.torch_available(), reason="needs torch (the CPU build)")
def test_live_networks_on_this_host(tmp_path):
    import accelsim as ax
    from accelsim.measure import calibration

    _, path = calibration.calibrate(tmp_path / "cpu-host.json", note=print)
    cpu = ax.machine("cpu-host", calibration=path)  # this host, not the tests' recorded one
    report = cpu_networks.live_report(cpu, {"lenet5": (1, 64), "lstm-char": (1, 16)})
    print(report.text())
    assert len(report.rows) == 4 * len({1, cpu.spec.cores})
    assert median_ape(report.rows) <= 0.5, report.text()
    assert not [r for r in report.rows if r.off_by_2x], report.text()
