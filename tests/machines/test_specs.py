"""Machine specs: one validator for every field and argument, and no field the model ignores."""

from __future__ import annotations

import dataclasses
import math
import re
from functools import cache
from typing import Any

import numpy as np
import pytest

import accelsim as ax
from accelsim.checks import check_count, check_number
from accelsim.energy import energy_from_counts, vector_ops_of
from accelsim.errors import AccelsimError, SpecError
from accelsim.ir import Workload
from accelsim.machines.base import Machine
from accelsim.machines.gpu.runtime import CONV_ALGORITHMS, FRAMEWORKS, RNN_ALGORITHMS
from accelsim.machines.tpu import SystolicArray
from accelsim.units import unit_of

PRESETS = [name for name in ax.presets() if name != "cpu-host"]
# One preset per spec class: the dead-field check perturbs every field of its spec.
FAMILIES = ["cpu-haswell-e5-2699v3", "gpu-h200", "tpu-v1"]
# Fields that label a spec rather than time it.
CHOICES = {"framework": FRAMEWORKS, "rnn_algorithm": RNN_ALGORITHMS,
           "conv_algorithm": CONV_ALGORITHMS}
DESCRIPTIVE = {
    "name": "what the machine is called",
    "source": "where its numbers come from",
    "numerics": "how the TPU computes int8 outputs (exact kernel or cycle-level engine; the "
                "outputs are identical, tests/machines/tpu)",
}
# Fields that bound what fits rather than how fast it runs: shrinking one turns work away.
LIMITS = {
    "l1_bytes_per_sm": "shared memory is carved out of the L1 SRAM",
    "dram_bytes": "device memory holds weights and live activations (capacity.py)",
    "memory_bytes": "main memory holds weights, activations and im2col (capacity.py)",
    "weight_memory_bytes": "the TPU's DDR3 holds every weight",
}
# Fields the machines' core.py (being rewritten) does not read yet: each test is a strict
# xfail, so it fails the day the field is wired in, and its entry is then removed here.
NOT_YET_WIRED = {
}
# Fields read only under another setting: perturbed with that setting in place.
CONTEXT = {"library_call_host_s": {"framework": "library"},
           "library_launch_host_s": {"framework": "library"},
           # MKL streams weights at it beyond L2: a 40 KiB L2 leaves the LSTM's read-out there
           "mkl_stream_cycles_per_weight": {"l2_bytes": 40 * 1024},
           # faults taken by several threads at once: outputs mapped fresh from 4 KiB up
           "page_fault_contention": {"fresh_output_bytes": 4096}}
# Shapes that reach every part of the models: GEMV, the CPU's one-thread threshold (64·100·64
# MACs), large GEMMs, outputs over and under the CPU's fresh_output_bytes, tall and skinny.
SHAPES = [(1, 4096, 4096), (64, 64, 64), (64, 100, 64), (512, 512, 512), (4096, 4096, 4096),
          (3000, 64, 2048), (4096, 256, 4096), (100_000, 25, 6)]
FACTORS = (2, 1 / 2, 8, 1 / 8)


@cache
def workloads() -> tuple[Workload, ...]:
    return (ax.lower(ax.network("lenet5"), batch=64), ax.lower(ax.network("lenet5"), batch=1024),
            ax.lower(ax.network("lstm-char"), batch=8))


def outputs(machine: Machine) -> list[Any]:
    """Everything a user sees of a machine's timing: precisions, peaks, both times and the
    energy (joules, share of TDP) of a few workloads and the time of a few GEMMs at every
    precision (errors included)."""
    seen: list[Any] = [sorted(p.value for p in machine.precisions)]
    for precision in sorted(machine.precisions):
        seen.append(machine.peak_ops_per_s(precision))
        for workload in workloads():
            try:
                timing = machine.time_workload(workload, precision)
                energy = energy_from_counts(
                    machine.spec, macs={precision: workload.macs},
                    vector_ops=vector_ops_of(workload),
                    sram_bytes=sum(r.onchip_bytes for r in timing.layers),
                    dram_bytes=sum(r.dram_bytes for r in timing.layers),
                    seconds=timing.seconds, batch=workload.batch)
                seen.append((timing.seconds, timing.device_seconds, energy.joules,
                             energy.tdp_fraction))
            except AccelsimError as err:
                seen.append(type(err).__name__)
        for shape in SHAPES:
            try:
                seen.append(machine.gemm(*shape, precision=precision).seconds)
            except AccelsimError as err:
                seen.append(type(err).__name__)
    return seen


# Fields whose 0 means "as another field" (mkl_fma_efficiency: as fma_efficiency): set.
UNSET = {"mkl_fma_efficiency": [0.3], "fma_bits": [32],  # 32 bits: a lane per pipe
         "mkl_stream_cycles_per_weight": [0.6]}


def perturbations(value: Any, field: str = "") -> list[Any]:
    if field in UNSET and not value:
        return UNSET[field]
    if field in CHOICES:  # a setting named from a list: every other choice
        return [choice for choice in CHOICES[field] if choice != value]
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [max(1, int(value * f)) for f in FACTORS]
    if isinstance(value, float):
        return [value * f for f in FACTORS]
    if isinstance(value, tuple):  # named rates
        return [tuple((name, rate * f) for name, rate in value) for f in FACTORS]
    return []


@cache
def baseline(preset: str) -> list[Any]:
    return outputs(ax.machine(preset))


def _fields(preset: str) -> list[str]:
    """Every field `ax.machine(preset, **overrides)` sets: the spec's, a GPU's runtime's."""
    return list(dict.fromkeys(f.name for setting in ax.machine(preset).settings()
                              for f in dataclasses.fields(setting)))


def _value(preset: str, field: str) -> Any:
    return next(getattr(s, field) for s in ax.machine(preset).settings() if hasattr(s, field))


def _field_cases() -> list[Any]:
    cases = []
    for preset in FAMILIES:
        for field in _fields(preset):
            marks = [pytest.mark.xfail(strict=True, reason=NOT_YET_WIRED[field])] \
                if field in NOT_YET_WIRED else []
            cases.append(pytest.param(preset, field, marks=marks, id=f"{preset}-{field}"))
    return cases


@pytest.mark.parametrize("preset,field", _field_cases())
def test_every_spec_field_is_used(preset: str, field: str) -> None:
    """Perturbing a field changes some timing, or (a limit) shrinking it turns work away, or
    it is one of the documented descriptive fields. A new field nothing reads fails here."""
    if field in DESCRIPTIVE:
        return
    if field in LIMITS:
        with pytest.raises(AccelsimError):
            machine = ax.machine(preset, **{field: 1})
            machine.time_workload(workloads()[0], machine.default_precision)
        return
    value = _value(preset, field)
    context = CONTEXT.get(field, {})
    reference = outputs(ax.machine(preset, **context)) if context else baseline(preset)
    tried = []
    for new in perturbations(value, field):
        try:
            machine = ax.machine(preset, **context, **{field: new})
        except SpecError:
            continue  # e.g. fma_efficiency × 2 > 1
        if outputs(machine) != reference:
            return
        tried.append(new)
    pytest.fail(f"{preset}: {field} = {value!r} changes no output when set to {tried}: use "
                "it in the model, or remove it")


def _numeric_fields(preset: str) -> list[tuple[str, str]]:
    spec = ax.machine(preset).spec
    return [(f.name, type(getattr(spec, f.name)).__name__) for f in dataclasses.fields(spec)
            if type(getattr(spec, f.name)) in (int, float)]


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, -1, True, "1e9", None])
def test_every_numeric_field_rejects_non_numbers(preset: str, bad: Any) -> None:
    for field, _ in _numeric_fields(preset):
        with pytest.raises(SpecError, match=rf"^{preset}: {field} = {re.escape(repr(bad))} "
                                            "must be a"):
            ax.machine(preset, **{field: bad})


@pytest.mark.parametrize("preset", PRESETS)
def test_counts_are_whole_and_zero_only_where_it_means_something(preset: str) -> None:
    spec = ax.machine(preset).spec
    may_be_zero = getattr(type(spec), "may_be_zero", frozenset())
    for field, kind in _numeric_fields(preset):
        if field in may_be_zero:
            zero = ax.machine(preset, **{field: 0})  # a what-if: the overhead removed
            assert zero.time_workload(workloads()[0], zero.default_precision).seconds > 0
        else:
            with pytest.raises(SpecError, match=f"{field} = 0 must be a"):
                ax.machine(preset, **{field: 0})
        if kind == "int":
            rule = "whole number ≥ 0" if field in may_be_zero else "positive integer"
            with pytest.raises(SpecError, match=rf"{field} = 2.5 must be a {rule}.*use 2 or 3"):
                ax.machine(preset, **{field: 2.5})
            value = getattr(spec, field)
            for same in (float(value), np.int64(value)):  # accepted, stored as int
                stored = getattr(ax.machine(preset, **{field: same}).spec, field)
                assert type(stored) is int and stored == value
        else:
            value = getattr(spec, field)  # a numpy float in the field's sane range
            stored = getattr(ax.machine(preset, **{field: np.float64(value)}).spec, field)
            assert type(stored) is float and stored == value


def test_messages_name_the_spec_the_field_the_value_and_the_fix() -> None:
    cases = {
        "sm_count=2.5": ({"sm_count": 2.5}, "gpu-h200: sm_count = 2.5 must be a positive "
                         "integer (a count of SMs); use 2 or 3"),
        "clock_hz=inf": ({"clock_hz": math.inf}, "gpu-h200: clock_hz = inf must be a finite "
                         "positive number (Hz); use a finite value"),
        "clock_hz=nan": ({"clock_hz": math.nan}, "gpu-h200: clock_hz = nan must be a finite "
                         "positive number (Hz); nan is not a number; give a value"),
        "clock_hz='1e9'": ({"clock_hz": "1e9"}, "gpu-h200: clock_hz = '1e9' must be a finite "
                           "positive number (Hz); write it as a number, without quotes: 1e9"),
    }
    for overrides, message in cases.values():
        with pytest.raises(SpecError) as err:
            ax.machine("gpu-h200", **overrides)
        assert str(err.value) == message


def test_bools_strings_and_rate_tables() -> None:
    with pytest.raises(SpecError, match="has_async_copy = 1 must be True or False"):
        ax.machine("gpu-h200", has_async_copy=1)
    with pytest.raises(SpecError, match="vnni = 'yes' must be True or False"):
        ax.machine("cpu-book-2017", vnni="yes")
    with pytest.raises(SpecError, match="source = 3 must be a string"):
        ax.machine("tpu-v1", source=3)
    with pytest.raises(SpecError, match=r"tensor_ops_per_cycle_per_sm\['fp16'\] = -1 must be "
                                        r"a finite positive number \(ops per cycle per SM\)"):
        ax.machine("gpu-h200", tensor_ops_per_cycle_per_sm={"fp16": -1})
    with pytest.raises(SpecError, match="tensor_ops_per_cycle_per_sm: unknown precision 'fp8'; "
                                        "choose one of fp32, fp16, bf16, int8"):
        ax.machine("gpu-h200", tensor_ops_per_cycle_per_sm={"fp8": 4096.0})
    with pytest.raises(SpecError, match="tensor_ops_per_cycle_per_sm names fp32, which tensor "
                                        "cores do not run; name fp16, bf16, int8"):
        ax.machine("gpu-h200", tensor_ops_per_cycle_per_sm={"fp32": 4096.0})
    with pytest.raises(SpecError, match=r"tensor_ops_per_cycle_per_sm\['int8'\] = nan"):
        ax.machine("gpu-h200", tensor_ops_per_cycle_per_sm=(("int8", math.nan),))
    halved = ax.machine("gpu-h200", tensor_ops_per_cycle_per_sm={"fp16": 2048})
    assert halved.spec.tensor_ops_per_cycle_per_sm == (("fp16", 2048.0),)
    assert halved.precisions == {ax.Precision.FP32, ax.Precision.FP16}


def test_cross_field_rules() -> None:
    with pytest.raises(SpecError, match="shared_memory_per_sm_bytes = 262144 must be at most "
                                        "l1_bytes_per_sm = 131072"):
        ax.machine("gpu-v100", shared_memory_per_sm_bytes=256 * 1024)
    assert ax.machine("gpu-v100", shared_memory_per_sm_bytes=256 * 1024,
                      l1_bytes_per_sm=256 * 1024).spec.shared_memory_per_sm_bytes == 262144
    with pytest.raises(SpecError, match=r"fma_efficiency = 1.5 must be a fraction of peak in "
                                        r"\(0, 1\]"):
        ax.machine("cpu-skylake-8180", fma_efficiency=1.5)
    with pytest.raises(SpecError, match="accumulator_rows = 1 must be at least 2"):
        ax.machine("tpu-v1", accumulator_rows=1)
    with pytest.raises(SpecError, match="numerics = 'exact' must be one of 'fast', 'cycle'"):
        ax.machine("tpu-v1", numerics="exact")


def test_arguments_share_the_message_shape() -> None:
    lenet = ax.network("lenet5")
    with pytest.raises(AccelsimError, match=r"^lenet5: batch = 2.5 must be a positive integer "
                                            r"\(samples\); use 2 or 3$"):
        ax.lower(lenet, batch=2.5)
    assert ax.lower(lenet, batch=np.int64(4)).batch == 4
    with pytest.raises(AccelsimError, match=r"^lstm-recall: seq_len = 0 must be a positive "
                                            r"integer \(time steps\); use 1 or more$"):
        ax.lower(ax.network("lstm-recall"), batch=1, seq_len=0)
    with pytest.raises(AccelsimError, match=r"^gpu-h200: gemm k = nan must be a positive "
                                            r"integer \(columns of A, rows of B\)"):
        ax.machine("gpu-h200").gemm(8, math.nan, 8)
    with pytest.raises(AccelsimError, match=r"^SystolicArray: rows = '8' must be a positive "
                                            r"integer \(PEs\); write it as a number"):
        SystolicArray(rows="8")


def test_check_number_directly() -> None:
    assert check_count(np.int32(7), "n") == 7 and type(check_count(7.0, "n")) is int
    assert check_number(0, "call_overhead_s", zero_ok=True) == 0.0
    with pytest.raises(AccelsimError, match=r"^x_s = -1 must be a finite number ≥ 0 "
                                            r"\(seconds\); use 0 or more$"):
        check_number(-1, "x_s", zero_ok=True)
    with pytest.raises(AccelsimError, match=r"use a finite value$"):
        check_number(10**400, "n")  # an int too large for a float
    assert unit_of("dram_bytes_per_s") == ("B/s", "bytes per second")
    assert unit_of("shared_bytes_per_cycle_per_sm").words == "bytes per cycle per SM"
    assert unit_of("max_registers_per_thread") == ("", "registers per thread")
    assert unit_of("tpu.clock_hz") == ("Hz", "Hz")
    assert unit_of("mr") == ("", "")
