"""`accelsim validate gpu-v100 --deepbench`: one line per DeepBench family and precision (rows,
median error, rows off by more than 2x), the worst rows, and families whose model does not
exist yet shown as such."""

from __future__ import annotations

import pytest

from accelsim.cli import main
from accelsim.validation import deepbench

FAMILIES = ("GEMM", "convolution", "LSTM", "GRU", "vanilla RNN")


def summary_lines(out: str) -> dict[tuple[str, str], str]:
    found = {}
    for line in out.splitlines():
        for family in FAMILIES:
            for precision in ("fp32", "fp16"):
                if line.startswith(f"{family} ") and f" {precision} " in line:
                    found[family, precision] = line
    return found


def test_every_family_and_precision_has_a_line(capsys):
    assert main(["validate", "gpu-v100", "--deepbench"]) == 0
    out = capsys.readouterr().out
    lines = summary_lines(out)
    assert set(lines) == {(f, p) for f in FAMILIES for p in ("fp32", "fp16")}
    gemm = lines["GEMM", "fp16"].split()
    assert gemm[2] == "160" and gemm[3].endswith("%")  # rows, median error, rows > 2x
    assert "worst GEMM fp16" in out and "worst GEMM fp32" in out


def test_a_family_without_its_module_is_not_modelled_yet(monkeypatch, capsys):
    real = deepbench.sources

    def without_rnn():
        return {name: (None if name in ("LSTM", "GRU", "vanilla RNN") else rows)
                for name, rows in real().items()}

    monkeypatch.setattr(deepbench, "sources", without_rnn)
    assert main(["validate", "gpu-v100", "--deepbench"]) == 0
    lines = summary_lines(capsys.readouterr().out)
    assert lines["GRU", "fp16"].endswith("not modelled yet")
    assert "not modelled" not in lines["GEMM", "fp32"]


def test_a_missing_module_is_absence_not_an_error():
    assert deepbench._elsewhere("no_such_module_here", "rows") is None
    assert deepbench._elsewhere("deepbench", "no_such_function") is None


@pytest.mark.parametrize("argv", [["validate", "gpu-h200", "--deepbench"],
                                  ["validate", "gpu-v100", "--deepbench", "--networks"],
                                  ["validate", "gpu-v100"]])
def test_bad_arguments_exit_2_with_one_line(argv, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1
    assert "--deepbench" in captured.err
