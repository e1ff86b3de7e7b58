"""Hostile numbers: every derived time, rate, energy and utilization of a run is finite and
positive, or the run is an `AccelsimError` naming the spec field and a usable range."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import accelsim as ax
from accelsim import Network
from accelsim.errors import AccelsimError, DataError, ModelFileError, SpecError
from accelsim.machines.run import check_finite
from accelsim.machines.specs import _field_kinds

PRESETS = [name for name in ax.presets() if name != "cpu-host"]


@pytest.fixture(scope="module")
def lenet5() -> Network:
    return ax.network("lenet5")


EXTREMES = [1e-300, 1e-12, 1e-6, 1e-3, 1, 1e3, 1e6, 1e9, 1e12, 1e16, 2.0**50, 1e300]


def _numeric_fields(preset: str) -> list[str]:
    return [f for spec in ax.machine(preset).settings() for f, kind in _field_kinds(type(spec))
            if kind in ("int", "float")]


def _check_run(preset: str, field: str, value: float, net: Network) -> None:
    try:
        machine = ax.machine(preset, **{field: value})
        r = machine.run(net, batch=1)
    except AccelsimError:
        return
    for v in (r.seconds, r.device_seconds, r.cycles, r.throughput, r.peak_ops_per_s,
              r.achieved_ops_per_s, r.utilization, r.joules_per_inference, r.average_watts):
        assert math.isfinite(v) and v > 0, (preset, field, value, r.summary())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_extreme_spec_values_error_or_give_finite_positive_results(data, lenet5):
    preset = data.draw(st.sampled_from(PRESETS))
    field = data.draw(st.sampled_from(_numeric_fields(preset)))
    value = data.draw(st.sampled_from(EXTREMES))
    _check_run(preset, field, value, lenet5)


@pytest.mark.parametrize(("preset", "field", "value", "words"), [
    ("gpu-h200", "l2_bytes_per_s", 1e-299, "1 MB/s to 10 PB/s"),
    ("gpu-h200", "dram_bytes_per_s", 1e-300, "1 MB/s to 10 PB/s"),
    ("tpu-v1", "clock_hz", 1e308, "1 kHz to 1 THz"),
    ("tpu-v1", "unified_buffer_bytes", 2**60, "1 B to 1 PiB"),
    ("cpu-skylake-8180", "cores", 100_000_000, "1 to 4,096"),
])
def test_out_of_range_spec_values_name_the_field_and_range(preset, field, value, words):
    with pytest.raises(SpecError, match=rf"{field} = .* outside the range .*{words}"):
        ax.machine(preset, **{field: value})


def test_the_run_path_refuses_a_non_finite_derived_number(lenet5):
    machine = ax.machine("gpu-h200")
    r = machine.run(lenet5, batch=1)
    check_finite(r, machine.spec)  # a sane run passes
    for field, value in (("seconds", math.inf), ("device_seconds", 0.0), ("cycles", math.nan)):
        with pytest.raises(SpecError, match=rf"{field} = .* not a finite positive.*clock_hz"):
            check_finite(dataclasses.replace(r, **{field: value}), machine.spec)


@pytest.mark.parametrize(("preset", "precision", "scale"), [
    ("gpu-h200", "fp32", 3e38), ("gpu-h200", "fp16", 1e5), ("cpu-skylake-8180", "fp32", 3e38)])
def test_outputs_overflowing_inside_a_network_name_the_layer(preset, precision, scale, lenet5):
    x, y = ax.datasets.load("digits", split="test")
    with np.errstate(all="ignore"), pytest.raises(DataError, match="layer 'conv1' output"):
        ax.machine(preset).run(lenet5, batch=4, precision=precision,
                               data=(x[:4] * scale, y[:4]))


def test_forward_of_huge_inputs_is_an_error_not_nan(lenet5):
    with np.errstate(all="ignore"), pytest.raises(DataError, match="overflow"):
        lenet5.forward(np.full((2, 1, 32, 32), 3e38, np.float32))


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_a_network_files_float_fields_must_be_finite(value, write_model):
    path = write_model(f"""
        name = "rnn"
        input_shape = [4, 3]
        sequence = true
        [[layers]]
        name = "lstm"
        type = "lstm"
        hidden_size = 4
        forget_bias = {value}
        """)
    with pytest.raises(ModelFileError, match=r"forget_bias = .* must be a finite number"):
        ax.network(path)


def test_a_lifted_capacity_limit_does_not_make_the_work_unbounded(lenet5):
    tpu = ax.machine("tpu-v1", unified_buffer_bytes=2**50, weight_memory_bytes=2**50)
    with pytest.raises(AccelsimError, match=r"batch = 100,000,000 is over the 1,000,000 "
                                            r"samples one run simulates; use batch ≤ 1,000,000"):
        tpu.run(lenet5, batch=10**8)
