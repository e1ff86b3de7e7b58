"""Recording a host in one command (measure/record_host.py): the file it writes is a recorded
host the validators replay, whole or not at all; bad input exits 2 with the fix. Nothing here
times anything: the measurements are stand-ins."""

from __future__ import annotations

import dataclasses
import json

import pytest

from accelsim.machines.cpu.spec import SKYLAKE
from accelsim.measure import gemm_timing, host, record_host, recorded, torch_layers, torch_networks
from accelsim.validation import cpu_layers, cpu_networks

LSCPU = """Architecture:                x86_64
CPU(s):                      16
Model name:                  Intel(R) Xeon(R) Processor
CPU family:                  6
Model:                       143
Thread(s) per core:          1
Flags:                       fpu vme avx512f
L2 cache:                    32 MiB (16 instances)
L3 cache:                    105 MiB (1 instance)
"""


def test_lscpu_keeps_the_lines_a_recorded_file_reads():
    assert record_host.lscpu_lines(LSCPU) == [
        "CPU(s): 16", "Model name: Intel(R) Xeon(R) Processor", "CPU family: 6", "Model: 143",
        "Thread(s) per core: 1", "L2 cache: 32 MiB (16 instances)",
        "L3 cache: 105 MiB (1 instance)"]


@pytest.fixture
def stand_ins(monkeypatch):
    """Every measurement replaced: PyTorch rows at 1.1× the model's own prediction."""
    spec = SKYLAKE.replace(name="cpu-host", cores=4)

    def networks(batches, counts, rounds):
        return [{"net": net, "batch": b, **{
            f"torch_us_t{t}": 1.1 * cpu_networks.predicted_us(spec, net, b, t)
            for t in counts}} for net, bs in batches.items() for b in bs]

    def layers(cases, counts, rounds):
        return [{**c, **{f"us_t{t}": 1.1 * cpu_layers.predicted_us(spec, c, t)
                         for t in counts}} for c in cases]

    monkeypatch.setattr(torch_networks, "torch_available", lambda: True)
    monkeypatch.setattr(torch_networks, "measure_rounds", networks)
    monkeypatch.setattr(torch_layers, "measure_rounds", layers)
    monkeypatch.setattr(torch_networks, "BATCHES", {"lenet5": (1, 16), "lstm-char": (4,)})
    monkeypatch.setattr(record_host, "thread_costs", lambda threads: {
        "aten_region_us": 3.0, "fresh_page_us_t1": 1.6, "fresh_page_us_t4": 0.8})
    reference = recorded.read(recorded.FRAMEWORK_REFERENCE)["micro"]
    monkeypatch.setattr(record_host, "dispatch_calls", lambda: {  # 1.5× the reference's cycles
        k: 1.5 * us * reference["clock_hz"] / spec.clock_hz
        for k, us in reference["dispatch_us"].items()})
    monkeypatch.setattr(record_host, "run_lscpu", lambda: record_host.lscpu_lines(LSCPU))
    monkeypatch.setattr(record_host, "torch_version", lambda: "2.13.0+cpu")
    monkeypatch.setattr(host, "detect_host", lambda: spec)
    monkeypatch.setattr(host, "memory_bytes", lambda: 64 * 2**30)
    monkeypatch.setattr(gemm_timing, "record", lambda: {"gemm": {"how": "stand-in", "rows": [
        {"m": 64, "k": 64, "n": 64, "measured_us": 5.0}]}})
    return spec


def test_the_recorded_file_replays_as_a_recorded_host(stand_ins, tmp_path):
    path = tmp_path / "cpu-test-2026-12-07.json"
    assert record_host._main([str(path), "--thread-counts", "1", "4", "--families", "rnn",
                              "--rounds", "1"]) == 0
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert path.stat().st_mode & 0o777 == 0o644
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind
    assert recorded.spec_of(doc) == stand_ins.replace(memory_bytes=64 * 2**30)
    assert doc["gemm"]["rows"][0]["measured_us"] == 5.0
    assert {(r["net"], r["batch"]) for r in doc["networks"]["rows"]} == \
        {("lenet5", 1), ("lenet5", 16), ("lstm-char", 4)}
    assert len(doc["layers"]["rows"]) == len(torch_layers.RNNS)
    assert doc["micro"]["thread_costs_us"]["aten_region_us"] == 3.0
    # its own fills and small calls set its page faults' contention and framework speed
    replayed = recorded.replay_spec_of(doc)
    assert replayed.page_fault_contention == pytest.approx((4 * 0.8 / 1.6 - 1) / 3)
    assert replayed.framework_cycles_scale == pytest.approx(1.5)
    # the network and layer rows replay against the stored spec: -9.1% each (1 / 1.1 - 1)
    spec = recorded.spec_of(doc)
    rows = cpu_networks.recorded_rows(spec, doc["networks"]["rows"])
    assert len(rows) == 6 and all(r.error == pytest.approx(-1 / 11) for r in rows)
    compared = cpu_layers.compare(spec, doc["layers"]["rows"], ("rnn",))
    assert len(compared) == 2 * len(torch_layers.RNNS)
    assert all(r.error == pytest.approx(-1 / 11) for r in compared)
    assert dataclasses.asdict(spec)["cores"] == 4


def test_bad_input_exits_2_and_writes_nothing(stand_ins, tmp_path, capsys, monkeypatch):
    path = tmp_path / "out.json"
    assert record_host._main([str(path), "--thread-counts", "0", "4"]) == 2
    assert "--thread-counts [0, 4]" in capsys.readouterr().err
    assert record_host._main([str(path), "--rounds", "0"]) == 2
    assert "--rounds 0" in capsys.readouterr().err
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert record_host._main([str(blocker / "out.json")]) == 2  # its folder is a file
    assert "cannot write" in capsys.readouterr().err
    assert record_host._main([str(tmp_path)]) == 2
    assert "it is a folder" in capsys.readouterr().err
    monkeypatch.setattr(torch_networks, "torch_available", lambda: False)
    assert record_host._main([str(path)]) == 2
    assert "pip install torch==2.13.0" in capsys.readouterr().err
    assert not path.exists()
    with pytest.raises(SystemExit) as exit_:
        record_host._main([])
    assert exit_.value.code == 2
