"""Text that cannot mislead (issue 21, item 5): columns that never run together, a breakdown
that reads as names, a published latency that says what it measured, a rerun that says
what happened, a kernel named for what it does, help on every argument, and a README whose
quickstart is the shipped file."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from accelsim.build import machine
from accelsim.cli import build_parser, main
from accelsim.ir import Pool, PoolKind
from accelsim.lower import lower
from accelsim.nn.loader import load_network
from accelsim.report.sweep_report import _facts
from accelsim.scenario.space import Sweep
from accelsim.scenario.sweep_result import SweepResult

ROOT = Path(__file__).resolve().parents[1]


def test_time_columns_stay_apart_when_ops_are_long(capsys):
    """ResNet-18 at batch 64 on an H100: ops reach 15 characters, µs four digits; every
    row still splits into its columns on the two-space gaps."""
    assert main(["time", "resnet18", "--machine", "gpu-h100", "--batch", "64"]) == 0
    out = capsys.readouterr().out
    table = out[out.index("\nop ") + 1:].splitlines()
    header = re.split(r"\s{2,}", table[0].strip())
    assert header == ["op", "kind", "cycles", "µs", "ops", "util", "bound", "kernel"]
    longest = 0
    for line in table[1:]:
        cells = re.split(r"\s{2,}", line.strip())
        assert len(cells) == len(header), line
        assert re.fullmatch(r"[\d,]+\.\d\d", cells[3]), cells[3]  # µs, thousands separated
        longest = max(longest, len(cells[4]))
    assert longest >= 14


def test_breakdown_prints_category_names_not_enum_reprs():
    r = machine("tpu-v1").run(load_network("lenet5", weights="none"), batch=2)
    text = repr(r.breakdown())
    assert "<Category" not in text and "'compute'" in text
    assert "<Category" not in repr(r.layers[1].breakdown())


def test_tpu_paper_latencies_say_they_are_99th_percentile_with_host_and_queueing():
    doc = tomllib.loads((ROOT / "scenarios" / "tpu-paper.toml").read_text(encoding="utf-8"))
    latencies = [ref for ref in doc["reference"] if ref["metric"] == "latency_ms"]
    assert len(latencies) == 5
    for ref in latencies:
        assert "99th-percentile" in ref["source"] and "host and queueing" in ref["source"], ref


@pytest.mark.parametrize(("evaluated", "resumed", "says", "never"), [
    (0, 12, "it had finished", "interrupted"),
    (5, 7, "read back from an earlier run", "it had finished"),
])
def test_sweep_rerun_says_whether_the_earlier_run_had_finished(evaluated, resumed, says,
                                                                never):
    sweep = Sweep.of("tpu-v1", "lenet5", {"batch": [1, 2]}, name="t")
    facts = " ".join(_facts(SweepResult(sweep, (), evaluated=evaluated, resumed=resumed)))
    assert says in facts and never not in facts


def test_gpu_average_pool_is_not_labelled_a_max_pool():
    net = load_network("resnet18", weights="none")
    pools = {op.name: op.kind for op in lower(net, batch=1).ops if isinstance(op, Pool)}
    assert PoolKind.AVG in pools.values() and PoolKind.MAX in pools.values()
    r = machine("gpu-h100").run(net, batch=1)
    kernels = {op.name: op.kernel for op in r.layers if op.name in pools}
    for name, kind in pools.items():
        assert ("max_pool" in kernels[name]) == (kind is PoolKind.MAX), (name, kernels[name])
        assert "avg" in kernels[name] or kind is PoolKind.MAX


@pytest.mark.parametrize("command", ["info", "time"])
def test_every_argument_of_info_and_time_has_help(command):
    sub = next(a for a in build_parser()._subparsers._group_actions
               if a.choices and command in a.choices).choices[command]
    for action in sub._actions:
        if action.dest != "help":
            assert action.help, f"accelsim {command}: {action.option_strings or action.dest}"


def test_readme_quickstart_is_the_shipped_file():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shipped = (ROOT / "scenarios" / "quickstart.toml").read_text(encoding="utf-8")
    after = readme[readme.index("The shipped `scenarios/quickstart.toml`"):]
    block = after[after.index("```toml\n") + len("```toml\n"):]
    assert block[:block.index("```")].strip() == shipped.strip()
