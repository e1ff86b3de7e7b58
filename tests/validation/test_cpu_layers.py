"""Single PyTorch CPU layers recorded on the 2-vCPU EPYC Zen 4 host (2026-12-07), replayed with
the spec calibrated there: deterministic, no torch needed. SLOW_CONV_CYCLES is fitted on an
even conv row and DIRECT_CONV_EFFICIENCY on all even conv rows, the ATen RNN loop's three
constants on the even gru and rnn rows, GEMV_CYCLES_PER_WEIGHT on an even linear row and the
host's MKL rate on the even linear rows (measure/recorded.py); these checks are on the odd
(held-out) rows of each family. The bounds sit a
little above what the model reaches today (it does not yet meet the ≤ 25%, none > 2× goal on
every family): they catch regressions and record where it stands."""

from __future__ import annotations

import pytest

from accelsim.validation import cpu_layers
from accelsim.validation.comparison import median_ape

ZEN4 = "cpu-epyc-zen4-2vcpu-2026-12-07.json"
BOUNDS = {"conv": (0.17, 3), "rnn": (0.18, 0), "linear": (0.16, 0), "net": (0.30, 0)}


@pytest.fixture(scope="module")
def report():
    return cpu_layers.recorded_report(ZEN4)


@pytest.mark.parametrize("family", sorted(BOUNDS))
def test_held_out_rows_stay_within_todays_bounds(report, family):
    rows = report.held_out(family)
    limit, over = BOUNDS[family]
    assert len(rows) >= 6
    assert median_ape(rows) <= limit, report.text()
    assert sum(r.off_by_2x for r in rows) <= over, report.text()


def test_every_row_is_compared_at_both_thread_counts(report):
    assert {r.threads for r in report.rows} == {1, 2}
    assert len(report.of(threads=1)) == len(report.of(threads=2))


def test_the_replayed_spec_carries_the_mkl_rate_its_own_linear_rows_give(report):
    from accelsim.measure import recorded

    spec = recorded.replay_spec_of(recorded.read(ZEN4))
    assert 0.40 < spec.mkl_fma_efficiency < 0.52  # MKL's AVX2 path: below OpenBLAS's
    assert spec.mkl_fma_efficiency < spec.fma_efficiency
