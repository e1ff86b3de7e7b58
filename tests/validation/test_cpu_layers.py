"""Single PyTorch CPU layers recorded on the 2-vCPU EPYC Zen 4 host (2026-12-07), replayed with
the spec calibrated there: deterministic, no torch needed. SLOW_CONV_CYCLES is fitted on an
even conv row and DIRECT_CONV_EFFICIENCY on all even conv rows, the ATen RNN loop's three
constants on the even gru and rnn rows, GEMV_CYCLES_PER_WEIGHT on an even linear row and the
host's MKL rates on the even linear rows (measure/recorded.py); these checks are on the odd
(held-out) rows of each family. The MKL grid (the other file) has its packing constant fitted
on its even rows and is held to its odd ones. The bounds sit a
little above what the model reaches today (it does not yet meet the ≤ 25%, none > 2× goal on
every family): they catch regressions and record where it stands."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.validation import cpu_layers
from accelsim.validation.comparison import median_ape

ZEN4 = "cpu-epyc-zen4-2vcpu-2026-12-07.json"
GRID = "cpu-epyc-zen4-2vcpu-mkl-grid-2026-12-07.json"
NETS = "cpu-epyc-zen4-2vcpu-nets-2026-12-07.json"
SMALL = "cpu-epyc-zen4-2vcpu-small-conv-2026-12-07.json"
BOUNDS = {"conv": (0.09, 0), "rnn": (0.17, 0), "linear": (0.14, 0), "net": (0.12, 0)}


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


def test_the_mkl_grid_s_held_out_rows_stay_within_todays_bounds():
    grid = cpu_layers.recorded_report(GRID)
    rows = grid.held_out("linear")
    assert len(rows) == 2 * 22
    assert median_ape(rows) <= 0.08, grid.text()
    assert not any(r.off_by_2x for r in rows), grid.text()


def test_the_aten_rnn_constants_are_the_fit_on_the_even_rows():
    """RNN_FORWARD_CYCLES and ATEN_CPP_OP_CYCLES are `fit_aten_rnn`'s non-negative least
    squares on the even gru and rnn rows (ATEN_VIEW_OP_CYCLES held), within rounding; and the
    fit recovers constants the model itself timed rows with."""
    from accelsim.machines.cpu import framework
    from accelsim.measure import recorded

    doc = recorded.read(ZEN4)
    spec = recorded.replay_spec_of(doc)
    rows = doc["layers"]["rows"]
    even = [r for r, fitted in zip(rows, cpu_layers.in_fit(rows), strict=True) if fitted]
    forward, cpp, view = cpu_layers.fit_aten_rnn(spec, even, framework.ATEN_VIEW_OP_CYCLES)
    assert forward == pytest.approx(framework.RNN_FORWARD_CYCLES, rel=0.01)
    assert cpp == pytest.approx(framework.ATEN_CPP_OP_CYCLES, rel=0.01)
    assert view == framework.ATEN_VIEW_OP_CYCLES
    timed = [{**r, **{f"us_t{t}": cpu_layers.predicted_us(spec, r, t) for t in (1, 2)}}
             for r in even if r["kind"] in ("gru", "rnn")]
    assert cpu_layers.fit_aten_rnn(spec, timed) == pytest.approx(
        (framework.RNN_FORWARD_CYCLES, framework.ATEN_CPP_OP_CYCLES,
         framework.ATEN_VIEW_OP_CYCLES), rel=1e-6)


def test_the_onednn_lstm_constants_are_the_fit_on_the_even_rows(report):
    """BRGEMM_EFFICIENCY and ONEDNN_REGION_CYCLES are `fit_onednn_lstm`'s best on the even lstm
    rows with the step's cost held at its own fit (RNN_STEP_CYCLES, `fit_dispatch`), within
    rounding; the fit recovers constants the model itself timed rows with, the step free or
    held; and the odd lstm rows, held out, stay within 18% (median), none off by more than a
    third. That session's VM ran nn.LSTM's host-bound calls 1.4× slower than the reference
    VM, beyond its framework scale of 1.18, so its rows lean slow (with the step fitted on
    them instead, 5,410 cycles against 1,064 timed: 5.2% here, but the reference's own
    LSTM(8, 8) over 64 steps +80% and the LSTM file 8.3% against 6.1%)."""
    from accelsim.machines.cpu import framework
    from accelsim.measure import recorded

    doc = recorded.read(ZEN4)
    spec = cpu_layers.replay_spec(doc)
    rows = doc["layers"]["rows"]
    even = [r for r, fitted in zip(rows, cpu_layers.in_fit(rows), strict=True) if fitted]
    efficiency, step, region = cpu_layers.fit_onednn_lstm(spec, even,
                                                          framework.RNN_STEP_CYCLES)
    assert efficiency == framework.BRGEMM_EFFICIENCY
    assert step == framework.RNN_STEP_CYCLES
    assert region == pytest.approx(framework.ONEDNN_REGION_CYCLES, rel=0.01)
    chosen = (0.6, 2_000.0, 3_000.0)
    timed = [{**r, **{f"us_t{t}": cpu_layers.onednn_lstm_us(spec, r, t, chosen)
                      for t in (1, 2)}} for r in even if r["kind"] == "lstm"]
    assert cpu_layers.fit_onednn_lstm(spec, timed) == pytest.approx(chosen, rel=1e-6)
    assert cpu_layers.fit_onednn_lstm(spec, timed, 2_000.0) == pytest.approx(chosen, rel=1e-6)
    held_out = [r for r in report.held_out("rnn") if r.case.startswith("lstm")]
    assert len(held_out) == 6
    assert median_ape(held_out) <= 0.18, report.text()
    assert max(abs(r.error) for r in held_out) <= 1 / 3, report.text()


def test_the_framework_host_constants_are_the_fits_on_the_reference_hosts_small_calls():
    """MODULE_CALL_CYCLES, ATEN_OP_CYCLES, LINEAR_EXTRA_CYCLES, RNN_SETUP_CYCLES and
    RNN_STEP_CYCLES are `fit_dispatch`'s on the small-conv file's timed calls,
    CONV_MODULE_CYCLES and CONV_BIAS_CYCLES `fit_conv_module`'s, CONV_WEIGHTS_REORDER_CYCLES
    `fit_conv_weights_reorder`'s (about twice an activation's reorder), within rounding."""
    from accelsim.machines.cpu import framework as fw
    from accelsim.measure import recorded

    doc = recorded.read(SMALL)
    micro = doc["micro"]
    spec = recorded.replay_spec_of(doc).replace(clock_hz=micro["clock_hz"])
    fitted = cpu_layers.fit_dispatch(spec, micro["dispatch_us"])
    assert fitted == pytest.approx((fw.MODULE_CALL_CYCLES, fw.ATEN_OP_CYCLES,
                                    fw.LINEAR_EXTRA_CYCLES, fw.RNN_SETUP_CYCLES,
                                    fw.RNN_STEP_CYCLES), rel=0.01)
    # the Zen 3 host's same calls, at its framework scale, give the same host costs within
    # 20% (its nn.Linear's 8,780 cycles the farthest)
    zen3 = recorded.read("cpu-epyc-zen3-2vcpu-2026-11-27.json")
    theirs = cpu_layers.fit_dispatch(recorded.replay_spec_of(zen3), recorded.timed_calls(zen3))
    assert [t / f for t, f in zip(theirs, fitted, strict=True)] == pytest.approx(
        [1.19, 0.98, 0.80, 1.03, 0.91], abs=0.01)
    assert cpu_layers.fit_conv_module(micro["clock_hz"], micro["conv_modules"]) == \
        pytest.approx((fw.CONV_MODULE_CYCLES, fw.CONV_BIAS_CYCLES), rel=0.01)
    reorder = cpu_layers.fit_conv_weights_reorder(spec, micro["conv_weight_reorders"])
    assert reorder == pytest.approx(fw.CONV_WEIGHTS_REORDER_CYCLES, abs=0.005)
    assert 1.5 < reorder / fw.REORDER_CYCLES_PER_ELEMENT < 2.5


def test_the_convolution_setup_is_the_fit_on_the_even_small_convolutions():
    """CONV_SETUP_CYCLES, CONV_BLOCKED_INPUT_SETUP_CYCLES and CONV_REGION_CYCLES are
    `fit_conv_setup`'s on the even small convolutions (both kinds of input among them), within
    rounding; the odd ones, held out, land within 7% (median), none beyond 15%; a fit on the
    odd rows alone gives the same costs within 35%."""
    from accelsim.machines.cpu import framework as fw
    from accelsim.measure import recorded

    doc = recorded.read(SMALL)
    spec = cpu_layers.replay_spec(doc)
    rows = doc["layers"]["rows"]
    even, odd = rows[0::2], rows[1::2]
    assert {r["c"] < spec.simd_lanes for r in even} == {True, False}
    fitted = cpu_layers.fit_conv_setup(spec, even)
    constants = (fw.CONV_SETUP_CYCLES, fw.CONV_BLOCKED_INPUT_SETUP_CYCLES,
                 fw.CONV_REGION_CYCLES)
    assert fitted == pytest.approx(constants, rel=0.02)
    assert cpu_layers.fit_conv_setup(spec, odd) == pytest.approx(constants, rel=0.35)
    report = cpu_layers.recorded_report(SMALL)
    held = report.held_out("conv")
    assert len(held) == 18 and median_ape(held) < 0.07, report.text()
    assert max(abs(r.error) for r in held) < 0.15, report.text()


def test_each_recording_replays_its_framework_speed_against_the_reference():
    """The Zen 3 host's small calls took 1.44× the reference host's cycles (median of 11),
    the Zen 4 layer file's session its re-timed host-bound rows 1.18×; the other recordings
    share no timed call with the reference and keep 1."""
    from accelsim.measure import recorded

    def scale(name):
        return recorded.replay_spec_of(recorded.read(name)).framework_cycles_scale

    assert scale("cpu-epyc-zen3-2vcpu-2026-11-27.json") == pytest.approx(1.44, abs=0.01)
    assert scale(ZEN4) == pytest.approx(1.18, abs=0.01)
    assert scale(SMALL) == 1.0
    assert scale(NETS) == scale("cpu-intel-16core-2026-11-27.json") == 1.0


def test_a_replayed_spec_that_predates_fma_bits_takes_them_from_its_lscpu():
    """The Zen 4 layer file's spec was stored before `fma_bits` existed: its lscpu (AMD, family
    25) and 16 lanes make it a Zen 4, whose 512-bit FMAs run at one a cycle."""
    from accelsim.measure import recorded

    doc = recorded.read(ZEN4)
    assert "fma_bits" not in recorded.stored_fields(doc)
    assert recorded.replay_spec_of(doc).vector_fmas_per_cycle == 1.0
    intel = recorded.read("cpu-intel-16core-2026-11-27.json")
    assert recorded.replay_spec_of(intel).fma_bits == 0
    zen3 = recorded.read("cpu-epyc-zen3-2vcpu-2026-11-27.json")  # no lscpu: as stored
    assert recorded.replay_spec_of(zen3).fma_bits == 0


def test_the_batch_norm_constants_are_the_fit_on_the_recorded_microbenchmarks():
    """BATCH_NORM_EXTRA_CYCLES and BATCH_NORM_CYCLES_PER_VECTOR are `fit_batch_norm`'s best
    on the grid file's timed nn.BatchNorm2d calls, at the clock calibrated with them; no row
    is off by more than a third (the 12 MiB plane streams from beyond L3: -30%)."""
    from accelsim.machines.cpu import framework
    from accelsim.measure import recorded

    doc = recorded.read(GRID)
    spec = recorded.replay_spec_of(doc).replace(clock_hz=doc["micro"]["clock_hz"], cores=1)
    rows = doc["micro"]["batch_norm"]
    assert cpu_layers.fit_batch_norm(spec, rows) == (framework.BATCH_NORM_EXTRA_CYCLES,
                                                     framework.BATCH_NORM_CYCLES_PER_VECTOR)
    errors = [cpu_layers.batch_norm_us(spec, r) / r["batch_norm_us"] - 1 for r in rows]
    assert max(map(abs, errors)) < 1 / 3
    # a batch norm costs more than a ReLU over the same plane: its dispatch and its loop
    relu = framework.elementwise(spec, framework.Vector("r", framework.VectorKind.RELU, 200_704),
                                 framework.Precision.FP32)
    assert cpu_layers.batch_norm_us(spec, {"channels": 64, "side": 56}) > 1.5 * relu.seconds * 1e6


def test_the_reorder_constants_are_the_fits_on_the_recorded_microbenchmarks():
    """REORDER_CYCLES_PER_ELEMENT (plain ↔ blocked planes) and the two LSTM weight reorder
    constants are `fit_reorder`'s and `fit_rnn_weights_reorder`'s results on the grid file's
    timed reorders, within rounding; a transposed matrix beyond L2 costs ~3× one within."""
    from accelsim.machines.cpu import framework
    from accelsim.measure import recorded

    doc = recorded.read(GRID)
    spec = recorded.replay_spec_of(doc).replace(clock_hz=doc["micro"]["clock_hz"], cores=1)
    assert cpu_layers.fit_reorder(spec, doc["micro"]["reorders"]) == pytest.approx(
        framework.REORDER_CYCLES_PER_ELEMENT, abs=0.005)
    within, beyond = cpu_layers.fit_rnn_weights_reorder(spec, doc["micro"]["rnn_reorders"])
    assert within == pytest.approx(framework.RNN_WEIGHTS_REORDER_CYCLES, abs=0.005)
    assert beyond == pytest.approx(framework.RNN_WEIGHTS_REORDER_BEYOND_L2_CYCLES, abs=0.005)
    assert 2.5 < beyond / within < 4


def test_the_page_fault_contention_is_the_fit_on_the_recorded_fills():
    """CPUSpec.page_fault_contention's default is `fit_page_fault_contention` on the grid
    file's timed fills of fresh pages (8 processes): two threads fault 1.5× as fast as one,
    not 2×."""
    from accelsim.machines.cpu.spec import CPUSpec
    from accelsim.measure import recorded

    runs = recorded.read(GRID)["micro"]["page_faults"]["runs"]
    sigma = cpu_layers.fit_page_fault_contention(runs)
    assert sigma == pytest.approx(CPUSpec.page_fault_contention, abs=0.005)
    assert 1.4 < 2 / (1 + sigma) < 1.6


def test_page_fault_contention_of_a_recording_reads_its_widest_thread_count():
    """σ = (N·p_N / p_1 − 1) / (N − 1) from the widest count record_host timed; held to
    [0, 1]; None without a one-thread time or a wider one."""
    from accelsim.measure.recorded import page_fault_contention_of

    assert page_fault_contention_of({"fresh_page_us_t1": 1.6, "fresh_page_us_t2": 1.0,
                                     "fresh_page_us_t16": 0.4}) == pytest.approx(0.2)
    assert page_fault_contention_of({"fresh_page_us_t1": 1.0, "fresh_page_us_t2": 0.4}) == 0.0
    assert page_fault_contention_of({"fresh_page_us_t1": 1.0, "fresh_page_us_t4": 2.0}) == 1.0
    assert page_fault_contention_of({"fresh_page_us_t2": 1.0}) is None
    assert page_fault_contention_of({"fresh_page_us_t1": 1.0}) is None


def test_the_direct_convolution_efficiencies_are_the_fits_on_the_even_rows(report):
    """Each DIRECT_CONV_EFFICIENCY is `fit_direct_conv`'s best on its kernel's even rows: the
    AVX-512 kernel's on the layer file's conv rows (which it brings within 7%, median), the
    AVX2 kernel's on the rows timed with oneDNN held to AVX2 (`conv_avx2` of the grid file,
    replayed as an 8-lane host), whose odd oneDNN rows it holds within 12%."""
    from accelsim.machines.cpu import framework
    from accelsim.measure import recorded

    doc = recorded.read(ZEN4)
    rows = doc["layers"]["rows"]
    assert cpu_layers.fit_direct_conv(recorded.replay_spec_of(doc), rows,
                                      cpu_layers.in_fit(rows)) == \
        framework.DIRECT_CONV_EFFICIENCY["jit:avx512_core"]
    assert median_ape(report.of("conv", fitted=True)) < 0.07
    grid = recorded.read(GRID)
    avx2 = recorded.replay_spec_of(grid).replace(clock_hz=grid["conv_avx2"]["clock_hz"],
                                                 simd_lanes=8)
    rows = grid["conv_avx2"]["rows"]
    flags = cpu_layers.in_fit(rows)
    assert cpu_layers.fit_direct_conv(avx2, rows, flags) == \
        framework.DIRECT_CONV_EFFICIENCY["jit:avx2"]
    refaults = {t: cpu_layers.harness_refaults_us(avx2, rows, t) for t in (1, 2)}
    held = []
    for i, (row, fitted) in enumerate(zip(rows, flags, strict=True)):
        op = cpu_layers.conv_gemm(row)
        held += [(cpu_layers.predicted_us(avx2, row, t) + refaults[t][i]) / us - 1
                 for t, us in cpu_layers.measured_threads(row)
                 if not fitted and framework.uses_onednn(op, op.conv, t)]
    assert float(np.median(np.abs(held))) < 0.12


def test_nonnegative_least_squares_keeps_every_unknown_at_or_above_zero():
    import numpy as np

    a = np.array([[1.0, 1.0], [1.0, 2.0], [1.0, 3.0]])
    assert cpu_layers.nonnegative_least_squares(a, np.array([3.0, 5.0, 7.0])) == \
        pytest.approx([1.0, 2.0])
    # the free solution has a negative slope: the best with the slope at zero is the mean
    assert cpu_layers.nonnegative_least_squares(a, np.array([3.0, 2.0, 1.0])) == \
        pytest.approx([2.0, 0.0])


def test_every_row_is_compared_at_both_thread_counts(report):
    assert {r.threads for r in report.rows} == {1, 2}
    assert len(report.of(threads=1)) == len(report.of(threads=2))


def test_the_replayed_spec_carries_the_mkl_rate_its_own_linear_rows_give(report):
    from accelsim.measure import recorded

    spec = recorded.replay_spec_of(recorded.read(ZEN4))
    assert 0.40 < spec.mkl_fma_efficiency < 0.52  # MKL's AVX2 path: below OpenBLAS's
    assert spec.mkl_fma_efficiency < spec.fma_efficiency


def test_live_report_times_the_held_out_cases_only(monkeypatch):
    """Live, only the cases no constant was fitted on are timed (at 1 thread and every
    core), and each timing lands on its own case: timings made 10% above the model's own
    prediction come back as -9.1% on every row."""
    import accelsim as ax
    from accelsim.measure import torch_layers, torch_networks

    cpu = ax.machine("cpu-haswell-e5-2699v3", cores=2)
    asked: list[dict] = []

    def fake(rows, thread_counts, rounds):
        asked.extend(rows)
        return [{**row, **{f"us_t{t}": 1.1 * cpu_layers.predicted_us(cpu.spec, row, t)
                           for t in thread_counts}} for row in rows]

    monkeypatch.setattr(torch_networks, "torch_available", lambda: True)
    monkeypatch.setattr(torch_layers, "measure_rounds", fake)
    report = cpu_layers.live_report(cpu, families=("rnn", "linear"))
    cases = torch_layers.cases()
    held = [c for c, fitted in zip(cases, cpu_layers.in_fit(cases), strict=True)
            if not fitted and cpu_layers.family_of(c) in ("rnn", "linear")]
    assert asked == held and len(held) == 14
    assert len(report.rows) == 2 * len(held) and not report.of(fitted=True)
    assert all(r.error == pytest.approx(1 / 1.1 - 1) for r in report.rows)


def test_live_report_needs_torch(monkeypatch):
    import accelsim as ax
    from accelsim.errors import AccelsimError
    from accelsim.measure import torch_networks

    monkeypatch.setattr(torch_networks, "torch_available", lambda: False)
    with pytest.raises(AccelsimError, match=r"pip install torch==2\.13\.0"):
        cpu_layers.live_report(ax.machine("cpu-haswell-e5-2699v3"))


def test_validate_layers_replays_a_recorded_host_and_names_the_others():
    from accelsim.errors import AccelsimError
    from accelsim.validation.validate import names, validate_machine

    report = validate_machine(ZEN4.removesuffix(".json"), layers=True)
    assert isinstance(report, cpu_layers.LayerReport) and len(report.held_out("conv")) == 68
    assert ZEN4.removesuffix(".json") in names()
    with pytest.raises(AccelsimError, match="cpu-host \\(live\\), cpu-epyc-zen4-2vcpu"):
        validate_machine("gpu-h200", layers=True)
    with pytest.raises(AccelsimError, match="choose one of"):
        validate_machine("cpu-host", networks=True, layers=True)
    for networks in (False, True):  # a layer file has no GEMM or network rows to replay
        with pytest.raises(AccelsimError, match="single-layer timings only; use `accelsim "
                                                "validate cpu-epyc-zen4-2vcpu-lstm-2026-12-07 "
                                                "--layers`"):
            validate_machine("cpu-epyc-zen4-2vcpu-lstm-2026-12-07", networks=networks)


def test_heap_refaults_bring_the_faulting_convolutions_within_2x(monkeypatch):
    """The grid file's conv_avx2 rows, replayed with its spec (its page faults timed on 4 KiB
    pages, 1.75 µs): DeepSpeech's 5×20 layer and the 224² first layer fault their heap pages in
    again on every call in the harness's process (buffers.harness_refault_bytes). With those
    faults charged all four of their rows are within 2× (−12% to −28%); without, all four are
    2.9-5.6× too fast."""
    from accelsim.machines.cpu import buffers
    from accelsim.measure import recorded

    grid = recorded.read(GRID)
    avx2 = recorded.replay_spec_of(grid).replace(clock_hz=grid["conv_avx2"]["clock_hz"],
                                                 simd_lanes=8)
    rows = grid["conv_avx2"]["rows"]
    faulting = {cpu_layers.case_name(rows[i]) for i in (0, 11)}

    def errors():
        return [r.predicted_us / r.measured_us - 1 for r in cpu_layers.compare(avx2, rows)
                if r.case in faulting]

    with_faults = errors()
    assert len(with_faults) == 4 and all(-0.45 < e < -0.1 for e in with_faults)
    monkeypatch.setattr(buffers, "harness_refault_bytes", lambda spec, cases: [0] * len(cases))
    assert all(e < -0.64 for e in errors())


def test_networks_dropping_their_outputs_are_held_by_the_heap_refaults(monkeypatch):
    """The graph networks recorded with each output dropped after its last reader (the nets
    file, a spec whose page faults were timed on 4 KiB pages; no constant fitted on it): 17.5%
    median over 14 rows with the heap's refaults charged, none beyond 2×; without them more
    than 25%. (10.6% before the framework's host constants were refitted on the faster VM
    session of the small-conv file: this session's VM was slower, its numpy call overhead
    1.9× the reference's.)"""
    from accelsim.machines.cpu import core

    def median_error():
        report = cpu_layers.recorded_report(NETS)
        assert len(report.rows) == 14
        assert report.held_out() == report.rows
        assert not [r for r in report.rows if r.off_by_2x], report.text()
        return median_ape(report.rows)

    with_refaults = median_error()
    assert with_refaults < 0.18
    monkeypatch.setattr(core, "heap_refault_bytes", lambda spec, workload: {})
    assert median_error() > 0.25


def test_the_layer_file_s_fault_cost_is_re_derived_from_its_own_faulting_rows(report):
    """The Zen 4 layer file's spec timed page faults on huge pages (0.41 µs). Its fitted rows
    whose calls refault (DeepSpeech's 5×20 layer, 3,335 pages a call) put a fault at 2.21 µs
    (faults on two threads contended as the spec's `page_fault_contention` says); the
    held-out 224² first layer (12,512 pages a call) then lands within 15% at both thread
    counts, where the stored cost left it 3-6× too fast."""
    from accelsim.measure import recorded

    doc = recorded.read(ZEN4)
    assert recorded.replay_spec_of(doc).page_fault_s == pytest.approx(0.41e-6, rel=0.01)
    assert cpu_layers.replay_spec(doc).page_fault_s == pytest.approx(2.21e-6, rel=0.01)
    first_layer = [r for r in report.rows if r.case == "Vision n2 c3 224x224 k64 3x3/1"]
    assert len(first_layer) == 2 and not any(r.fitted for r in first_layer)
    assert all(abs(r.predicted_us / r.measured_us - 1) < 0.15 for r in first_layer)


def test_slow_conv2d_s_mkl_share_is_the_fit_on_the_even_rows():
    """SLOW_CONV_MKL_SHARE is `fit_slow_conv_mkl_share`'s best on the even convolution rows
    ATen's slow_conv2d runs; the odd ones, held out, come within 8% (median; 24% at the full
    Linear rate)."""
    from accelsim.machines.cpu import framework
    from accelsim.measure import recorded

    doc = recorded.read(ZEN4)
    spec = cpu_layers.replay_spec(doc)
    rows = doc["layers"]["rows"]
    flags = cpu_layers.in_fit(rows)
    assert cpu_layers.fit_slow_conv_mkl_share(spec, rows, flags) == \
        framework.SLOW_CONV_MKL_SHARE
    held = []
    for row, fitted in zip(rows, flags, strict=True):
        if row["kind"] != "conv" or fitted:
            continue
        op = cpu_layers.conv_gemm(row)
        held += [cpu_layers.predicted_us(spec, row, t) / us - 1
                 for t, us in cpu_layers.measured_threads(row)
                 if not framework.uses_onednn(op, op.conv, t)]
    assert len(held) >= 10 and float(np.median(np.abs(held))) < 0.08


def test_lstms_over_batches_never_fitted_on_stay_within_todays_bounds():
    """The LSTM file (no constant fitted on it; its spec calibrated seconds before the rows):
    four shapes over batches 1-256 at 1 and 2 threads, 6.1% median over 26 rows, none off by
    more than half (the worst, LSTM(512) at batch 2 on one thread, +26%)."""
    report = cpu_layers.recorded_report("cpu-epyc-zen4-2vcpu-lstm-2026-12-07.json")
    assert len(report.rows) == 26
    assert report.held_out() == report.rows  # `layers.held_out`: every row reported held out
    assert median_ape(report.rows) <= 0.07, report.text()
    assert max(abs(r.error) for r in report.rows) < 0.5, report.text()


def test_lstms_with_onednn_held_to_avx2_follow_its_avx2_blocking():
    """The ISA file (no constant fitted on it): the same LSTMs with oneDNN held to AVX2 (16-
    column blocks, 6-row register blocks, two full-rate 256-bit pipes) and free (AVX-512),
    replayed with 8 and 16 lanes: 8.9% and 15.6% median over 18 rows each, the one fit serving
    both kernels. Its worst rows are the weight-bound shapes (512→512 at batch 4, 1024→1024 at
    batch 16), which the two ISAs ran 1.4-1.7× apart in opposite directions."""
    from accelsim.measure import recorded

    groups = cpu_layers.lstm_isa_rows(recorded.read(cpu_layers.LSTM_ISA_FILE))
    assert [spec.simd_lanes for spec, _ in groups] == [8, 16]
    for (spec, rows), limit in zip(groups, (0.10, 0.16), strict=True):
        errors = [cpu_layers.predicted_us(spec, row, t) / row[f"us_t{t}"] - 1
                  for row in rows for t in (1, 2)]
        assert len(errors) == 18
        assert float(np.median(np.abs(errors))) <= limit
        assert all(0.5 < 1 + e < 2 for e in errors)  # none off by 2x
