"""Fast TPU design points against the reference: `accelsim.machine("tpu-v1", **overrides)
.run(net, batch=batch)` — the same columns, the same floats, the same errors."""

from __future__ import annotations

import random
from functools import cache

import pytest

import accelsim as ax
from accelsim.errors import AccelsimError, CapacityError, SpecError
from accelsim.nn.loader import load_network
from accelsim.sweep import TpuPoint, tpu_point, tpu_points
from accelsim.sweep.fast_tpu import COLUMNS, ENERGY_COLUMNS

SIZES = [8, 16, 32, 64, 128, 256, 512]


def label(point: TpuPoint) -> str:
    extras = [str(v) for v in (point.seq_len, point.precision) if v is not None]
    return " ".join([point.network, f"batch={point.batch!r}",
                     *(f"{k}={v!r}" for k, v in point.overrides.items()), *extras])


@cache
def network(name: str):
    return load_network(name, weights="none")


def reference(point: TpuPoint) -> dict[str, float]:
    """The columns as the machine's own run gives them."""
    run = ax.machine("tpu-v1", **point.overrides).run(network(point.network), batch=point.batch,
                                                      seq_len=point.seq_len,
                                                      precision=point.precision)
    return {"cycles": run.cycles, "seconds": run.seconds, "device_seconds": run.device_seconds,
            "throughput_per_s": run.throughput, "latency_s": run.seconds, "ops": run.ops,
            "dram_bytes": sum(r.dram_bytes for r in run.layers),
            "sram_bytes": sum(r.onchip_bytes for r in run.layers),
            "utilization_fraction": run.utilization,
            "joules_per_inference": run.joules_per_inference,
            "ops_per_joule": run.ops_per_joule, "average_watts": run.average_watts}


def reference_error(point: TpuPoint) -> AccelsimError:
    with pytest.raises(AccelsimError) as caught:
        reference(point)
    return caught.value


def random_points(seed: int, count: int) -> list[TpuPoint]:
    """LeNet-5 and the char LSTM (a few time steps, so small arrays stay quick for the
    reference) over array shapes, batches, clocks and bandwidths."""
    rng = random.Random(seed)
    points = []
    for _ in range(count):
        overrides = {"array_rows": rng.choice(SIZES), "array_cols": rng.choice(SIZES),
                     "clock_hz": 700e6 * rng.choice([0.5, 1, 1.3, 2, 4]),
                     "ddr_bytes_per_s": 34e9 * rng.uniform(0.25, 4),
                     "pcie_bytes_per_s": 14 * 2**30 * rng.choice([0.5, 1, 3]),
                     "weight_fifo_tiles": rng.choice([1, 2, 4, 6]),
                     "accumulator_rows": rng.choice([64, 1000, 4096])}
        if rng.random() < 0.3:  # the host's part, a runtime field: same terms, same order
            overrides["driver_call_s"] = rng.choice([0.0, 3e-6, 25e-6])
            overrides["pcie_transfer_latency_s"] = rng.choice([0.0, 0.8e-6, 5e-6])
        if rng.random() < 0.5:
            points.append(TpuPoint("lenet5", rng.choice([1, 3, 64, 256]), overrides))
        else:
            points.append(TpuPoint("lstm-char", rng.choice([1, 17, 256]), overrides,
                                   rng.choice([2, 5])))
    return points


def test_random_points_equal_the_machine_runs():
    points = random_points(seed=12, count=40)
    assert tpu_points(points) == [reference(p) for p in points]


def test_columns_are_the_documented_ones():
    assert tuple(tpu_point("lenet5", 64)) == COLUMNS + ENERGY_COLUMNS


@pytest.mark.parametrize("point", [
    TpuPoint("lstm-char", 64),  # its full 64 steps, the preset's spec
    TpuPoint("lstm-char", 256, {"array_rows": 512, "array_cols": 512}),
    TpuPoint("lenet5", 1, {"array_rows": 8, "array_cols": 8, "ddr_bytes_per_s": 8.5e9}),
    TpuPoint("lenet5", 64, {}, None, "int8"),
    TpuPoint("lenet5", 1, {"driver_call_s": 0.0, "pcie_transfer_latency_s": 0.0}),  # bare chip
    TpuPoint("lenet5", 1, {"driver_call_s": 1e-3, "clock_hz": 1.3e9}),
    TpuPoint("tpu-mlp0", 200, {"clock_hz": 2.8e9}),  # the paper's what-ifs, weights="none"
    TpuPoint("tpu-cnn0", 8, {"ddr_bytes_per_s": 136e9}),
    TpuPoint("tpu-lstm0", 64, {"array_rows": 512, "array_cols": 512}),
], ids=label)
def test_named_points_equal_the_machine_runs(point):
    assert tpu_point(point.network, point.batch, point.overrides, seq_len=point.seq_len,
                     precision=point.precision) == reference(point)


def test_a_batch_of_points_equals_the_points_one_at_a_time():
    """Grouping points by array shape (one kernel walk for many specs) changes nothing."""
    points = random_points(seed=3, count=30)
    shared = [p._replace(overrides={**p.overrides, "array_rows": 64, "array_cols": 32})
              for p in points]
    assert tpu_points(shared) == [tpu_point(p.network, p.batch, p.overrides, seq_len=p.seq_len)
                                  for p in shared]


def test_cached_workloads_take_each_points_own_clock_and_bandwidths():
    """Same network, batch and array shape: the cached workload is reused, but scaling the
    clock with both bandwidths keeps the cycles and halves the seconds exactly, while the
    clock alone changes the cycles (DDR3 bytes per cycle change). The host's part is fixed
    seconds (its cycles grow with the clock), so it is left out here."""
    base = {"array_rows": 64, "array_cols": 64, "driver_call_s": 0.0,
            "pcie_transfer_latency_s": 0.0}
    faster = {**base, "clock_hz": 1.4e9, "ddr_bytes_per_s": 68e9,
              "pcie_bytes_per_s": 28 * 2**30}
    clock_only = {**base, "clock_hz": 1.4e9}
    one, two, three = (tpu_point("lenet5", 64, o) for o in (base, faster, clock_only))
    assert two["cycles"] == one["cycles"]
    assert two["seconds"] == one["seconds"] / 2
    assert three["cycles"] > one["cycles"] and three["seconds"] < one["seconds"]
    assert [one, two, three] == [reference(TpuPoint("lenet5", 64, o))
                                 for o in (base, faster, clock_only)]


@pytest.mark.parametrize("point", [
    TpuPoint("lenet5", 64, {"array_rows": 0}),
    TpuPoint("lenet5", 64, {"array_row": 32}),  # did-you-mean
    TpuPoint("lenet5", 64, {"driver_call": 1e-6}),  # did-you-mean a runtime field
    TpuPoint("lenet5", 64, {"driver_call_s": -1e-6}),
    TpuPoint("lenet5", 64, {"array_rows": True}),  # after a cached array_rows=1
    TpuPoint("lenet5", 64, {"clock_hz": -1.0}),
    TpuPoint("lenet5", 64, {"accumulator_rows": 1}),
    TpuPoint("lenet5", 64, {"unified_buffer_bytes": 2**11}),  # not one sample fits
    TpuPoint("lenet5", 64, {"weight_memory_bytes": 1000}),
    TpuPoint("lenet5", 0),
    TpuPoint("lenet5", 2.5),
    TpuPoint("lenet5", True),
    TpuPoint("lenet5", 64, {}, 5),  # seq_len for a network without sequences
    TpuPoint("lstm-char", 64, {}, 0),
    TpuPoint("lenet5", 64, {}, None, "fp32"),
    TpuPoint("no-such-network", 64),
], ids=label)
def test_errors_equal_the_reference_errors(point):
    tpu_point("lenet5", 1, {"array_rows": 1})  # cache a spec the True override must not hit
    with pytest.raises(AccelsimError) as caught:
        tpu_point(point.network, point.batch, point.overrides, seq_len=point.seq_len,
                  precision=point.precision)
    expected = reference_error(point)
    assert (type(caught.value), str(caught.value)) == (type(expected), str(expected))


def test_a_failing_point_is_returned_in_place():
    points = [TpuPoint("lenet5", 64), TpuPoint("lenet5", 64, {"array_rows": 0}),
              TpuPoint("lenet5", 1, {"unified_buffer_bytes": 2**11}),
              TpuPoint("lstm-char", 4, {}, 3)]
    results = tpu_points(points)
    assert isinstance(results[1], SpecError) and isinstance(results[2], CapacityError)
    assert [results[0], results[3]] == [reference(points[0]), reference(points[3])]


@pytest.mark.parametrize("point", [
    TpuPoint("lenet5", 20_000),  # sub-batches of 11,439 and 8,561
    TpuPoint("lenet5", 3000, {"unified_buffer_bytes": 2**20, "array_rows": 64}),
    TpuPoint("resnet18", 64),
    TpuPoint("resnet18", 8, {"unified_buffer_bytes": 2**21, "pcie_bytes_per_s": 1e12}),  # spill
    TpuPoint("mobilenetv2", 1),  # depthwise layers packed block-diagonally
    TpuPoint("mobilenetv2", 2, {"array_rows": 64, "array_cols": 32}),
    TpuPoint("gru-char", 4),
], ids=label)
def test_batches_beyond_the_unified_buffer_equal_the_reference(point):
    assert tpu_point(point.network, point.batch, point.overrides) == reference(point)


def test_byte_counts_survive_every_batch_of_lanes():
    """Regression: the kernel's control record lived in a freed temporary, so some lane
    counts (5 here) returned a float's raw bits as dram_bytes."""
    for count in range(1, 9):
        rows = tpu_points([TpuPoint("lenet5", 1, {"ddr_bytes_per_s": 34e9 * (i + 1)})
                           for i in range(count)])
        assert {row["dram_bytes"] for row in rows} == {61984}
