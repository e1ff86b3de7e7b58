"""The TPU paper's what-ifs (Jouppi et al., ISCA 2017, section 7) beside accelsim's TPU model:
the model's ratios as measured, which of the paper's claims they meet, the reasons given for
the ones they miss, and the shipped scenario sweeping the same designs."""

from __future__ import annotations

import pytest

import accelsim as ax
from accelsim.machines.tpu.spec import TPU_V1
from accelsim.sweep.design_space import (
    APPS,
    CLAIMS,
    GDDR5_BYTES_PER_S,
    GEOMETRIC,
    WEIGHTED,
    WhatIf,
    geometric_mean,
    paper_what_ifs,
    weighted_mean,
)

# (what-if, app): (the model's ratio, measured with tpu-v1 at each app's Table 1 batch, and
# the verdict against the paper's words)
MEASURED = {
    ("memory ×4", "tpu-mlp0"): (3.9679, "model higher"),
    ("memory ×4", "tpu-lstm0"): (3.9511, "model higher"),
    ("memory ×4", "tpu-cnn0"): (1.0026, "agrees"),
    ("memory ×4", WEIGHTED): (3.8067, "model higher"),
    ("clock ×4", "tpu-mlp0"): (1.0020, "agrees"),
    ("clock ×4", "tpu-lstm0"): (1.0004, "agrees"),
    ("clock ×4", "tpu-cnn0"): (1.1540, "model lower"),
    ("clock ×4", WEIGHTED): (1.0095, "agrees"),
    ("clock+ ×4 (4× accumulators)", "tpu-mlp0"): (1.0020, "agrees"),
    ("clock+ ×4 (4× accumulators)", "tpu-lstm0"): (1.0004, "agrees"),
    ("clock+ ×4 (4× accumulators)", "tpu-cnn0"): (2.2710, "agrees"),
    ("clock+ ×4 (4× accumulators)", WEIGHTED): (1.0683, "agrees"),
    ("matrix 512×512 (accumulators kept at 4 MiB)", "tpu-mlp0"): (0.9982, "agrees"),
    ("matrix 512×512 (accumulators kept at 4 MiB)", "tpu-lstm0"): (1.0000, "agrees"),
    ("matrix 512×512 (accumulators kept at 4 MiB)", "tpu-cnn0"): (0.7564, "agrees"),
    ("matrix 512×512 (accumulators kept at 4 MiB)", WEIGHTED): (0.9860, "agrees"),
    ("matrix+ 512×512 (4× accumulators, 16 MiB)", "tpu-mlp0"): (0.9982, "agrees"),
    ("matrix+ 512×512 (4× accumulators, 16 MiB)", "tpu-lstm0"): (1.0000, "agrees"),
    ("matrix+ 512×512 (4× accumulators, 16 MiB)", "tpu-cnn0"): (1.4322, "model higher"),
    ("matrix+ 512×512 (4× accumulators, 16 MiB)", WEIGHTED): (1.0216, "model higher"),
    ("TPU' GDDR5 weight memory", WEIGHTED): (4.8278, "model higher"),
    ("TPU' GDDR5 weight memory", GEOMETRIC): (2.9400, "model higher"),
    ("TPU' GDDR5, host time included", WEIGHTED): (3.8202, "model higher"),
    ("TPU' GDDR5, host time included", GEOMETRIC): (2.5851, "model higher"),
    ("TPU' clock 1050 MHz", WEIGHTED): (1.0079, "agrees"),
    ("TPU' GDDR5 and 1050 MHz", GEOMETRIC): (3.5096, "model higher"),
    ("TPU' GDDR5 and 1050 MHz", WEIGHTED): (5.1588, "model higher"),
}


@pytest.fixture(scope="module")
def what_ifs() -> dict[tuple[str, str], WhatIf]:
    return {(w.what_if, w.app): w for w in paper_what_ifs()}


def test_the_models_ratios_and_verdicts_are_as_measured(what_ifs):
    assert list(what_ifs) == list(MEASURED)  # every claim once, in the paper's order
    for key, (ratio, verdict) in MEASURED.items():
        assert what_ifs[key].model_ratio == pytest.approx(ratio, abs=1e-4), key
        assert what_ifs[key].verdict == verdict, key


def test_the_papers_numbers_as_transcribed(what_ifs):
    stated = {key: w.paper_ratio for key, w in what_ifs.items()}
    assert stated["memory ×4", WEIGHTED] == 3.0  # "performance improves 3X on average"
    assert stated["clock ×4", "tpu-cnn0"] == 2.0  # "improves performance of CNNs by about 2X"
    assert stated["TPU' GDDR5 weight memory", WEIGHTED] == 3.9
    assert stated["TPU' GDDR5 weight memory", GEOMETRIC] == 2.6
    assert stated["TPU' GDDR5, host time included", WEIGHTED] == 3.2
    assert stated["TPU' GDDR5, host time included", GEOMETRIC] == 1.9
    assert stated["TPU' GDDR5 and 1050 MHz", GEOMETRIC] == 2.9
    for w in what_ifs.values():
        low, high = w.paper_range
        assert w.paper_ratio is None or low <= w.paper_ratio <= high
        assert w.note.startswith(("agrees", "higher", "lower"))
        assert w.note.split(":")[0].split(",")[0] == w.verdict.removeprefix("model ")


def test_the_paper_agrees_on_what_bounds_each_app(what_ifs):
    """The paper's reason ("MLPs and LSTMs are memory bound but only the CNNs are compute
    bound") holds in the model: bandwidth moves MLP0 and LSTM0, the clock moves CNN0 once
    its tiles are read once."""
    for app in ("tpu-mlp0", "tpu-lstm0"):
        assert what_ifs["memory ×4", app].model_ratio > 3.5
        assert what_ifs["clock ×4", app].model_ratio < 1.01
    assert what_ifs["memory ×4", "tpu-cnn0"].model_ratio < 1.01
    assert what_ifs["clock+ ×4 (4× accumulators)", "tpu-cnn0"].model_ratio > 2.0


def test_gddr5_bandwidth_puts_the_ridge_point_at_250():
    """TPU': "shifting its roofline ridge point from 1350 to 250"."""
    assert TPU_V1.ridge_macs_per_weight_byte == pytest.approx(1350, rel=1e-3)
    gddr5 = TPU_V1.replace(ddr_bytes_per_s=GDDR5_BYTES_PER_S)
    assert gddr5.ridge_macs_per_weight_byte == pytest.approx(250, rel=1e-3)
    assert round(GDDR5_BYTES_PER_S) == 183_600_000_000


def test_means_weigh_table_1s_deployment_shares():
    assert [(a.network, a.batch, a.share) for a in APPS] == [
        ("tpu-mlp0", 200, 0.61), ("tpu-lstm0", 64, 0.29), ("tpu-cnn0", 8, 0.05)]
    ratios = {"tpu-mlp0": 1.0, "tpu-lstm0": 2.0, "tpu-cnn0": 4.0}
    assert weighted_mean(ratios) == pytest.approx((0.61 + 0.58 + 0.20) / 0.95)
    assert geometric_mean(ratios) == pytest.approx(2.0)


def test_cnn0_reads_its_weights_twice_unless_its_rows_fit_one_accumulator_buffer():
    """The reason given for clock ×4 on CNN0: 2,888 rows exceed a 2,048-row buffer, so each
    weight tile is read once per row chunk; 4× the accumulators read each once."""
    net = ax.network("tpu-cnn0", weights="none")
    weights = sum(g.k * g.n for g in ax.lower(net, batch=8).gemms)

    def dram(**overrides):
        run = ax.machine("tpu-v1", **overrides).run(net, batch=8)
        return sum(op.dram_bytes for op in run.layers)

    assert 8 * 19 * 19 == 2888 > TPU_V1.accumulator_buffer_rows == 2048
    assert dram() == pytest.approx(2 * weights, rel=0.01)
    assert dram(accumulator_rows=16384) == pytest.approx(weights, rel=0.02)
    assert dram(array_rows=512, array_cols=512, accumulator_rows=2048) == \
        pytest.approx(3 * weights, rel=0.01)


def test_verdict_reads_the_papers_range():
    def verdict(ratio):
        return WhatIf("w", "a", 3.0, ratio, "", "", "", (2.5, 3.5)).verdict

    assert [verdict(r) for r in (2.4, 2.5, 3.5, 3.6)] == [
        "model lower", "agrees", "agrees", "model higher"]


def test_the_scenario_sweeps_every_design_of_the_claims():
    sweep = ax.load_scenario("tpu-design-space").sweep
    axes = dict(sweep.axes)
    assert sweep.machine == "tpu-v1"
    assert {(a.network, a.batch) for a in APPS} <= {(n, b) for n in sweep.network_names
                                                    for b in axes["batch"]}
    for claim in CLAIMS:
        for field, value in claim.design.overrides:
            assert value in axes[f"tpu.{field}"], (claim.design.name, field, value)
