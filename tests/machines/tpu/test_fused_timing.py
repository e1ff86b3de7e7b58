"""The fused compile-and-time kernel against its independent twin: `compile_workload` then
`execute`, on random workloads (GEMMs of 8- and 16-bit activations, recurrent layers with
fused cells, element-wise and pooling layers, host transfers) and random specs."""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import accelsim as ax
from accelsim.ir import (
    CellKind,
    Direction,
    Gemm,
    LayerOps,
    Pool,
    PoolKind,
    Recurrence,
    Transfer,
    Vector,
    VectorKind,
    Workload,
)
from accelsim.machines.tpu.compiler import compile_workload
from accelsim.machines.tpu.executor import execute
from accelsim.machines.tpu.fused_timing import LANE, encode_items, program_cycles
from accelsim.machines.tpu.spec import TPU_V1, TPUSpec
from accelsim.nn.loader import load_network

UNLIMITED = {"unified_buffer_bytes": 2**50, "weight_memory_bytes": 2**50}


def lanes_of(specs: list[TPUSpec]) -> np.ndarray:
    """Two lanes per spec: end to end, then device-only."""
    return np.array([(s.ddr_bytes_per_cycle, s.pcie_bytes_per_cycle, s.weight_fifo_tiles, host)
                     for s in specs for host in (True, False)], LANE)


def fused(workload: Workload, spec: TPUSpec) -> tuple[float, float, int, int]:
    cycles, offchip, onchip = program_cycles(encode_items(workload), spec.array_rows,
                                             spec.array_cols, spec.accumulator_buffer_rows,
                                             lanes_of([spec]))
    return float(cycles[0]), float(cycles[1]), offchip, onchip


def reference(workload: Workload, spec: TPUSpec) -> tuple[float, float, int, int]:
    program = compile_workload(workload, spec)
    run = execute(program, spec)
    return (run.cycles, execute(program, spec, host_io=False).cycles,
            sum(off for off, _ in run.op_traffic), sum(on for _, on in run.op_traffic))


@st.composite
def gemm_layers(draw, index: int) -> LayerOps:
    """A GEMM layer, maybe recurrent, maybe with element-wise ops fused in its layer."""
    m, k, n = (draw(st.integers(1, top)) for top in (70, 90, 90))
    steps = draw(st.sampled_from([1, 1, 2, 3]))
    name = f"g{index}"
    gemm = Gemm(name, m=m, k=k, n=n, count=steps, layer=name,
                activation_bits=draw(st.sampled_from([8, 8, 16])))
    cell = tuple(Vector(f"{name}.v{j}", kind, draw(st.integers(0, 4 * m * n)), steps, name)
                 for j, kind in enumerate(draw(st.lists(st.sampled_from(
                     [VectorKind.SIGMOID, VectorKind.MUL, VectorKind.RELU]), max_size=3))))
    recurrence = Recurrence(CellKind.LSTM, steps, n, gemm, cell) if steps > 1 else None
    return LayerOps(name, "lstm" if recurrence else "linear", (gemm, *cell), recurrence)


@st.composite
def other_layers(draw, index: int) -> LayerOps:
    """An element-wise or pooling layer, or a host transfer in the middle of the network."""
    name = f"e{index}"
    choice = draw(st.sampled_from(["vector", "pool", "transfer"]))
    if choice == "vector":
        op = Vector(name, VectorKind.TANH, draw(st.integers(1, 5000)))
    elif choice == "pool":
        out = draw(st.integers(1, 12))
        op = Pool(name, PoolKind.MAX, (2, 2), (2, 2), draw(st.integers(1, 4)),
                  draw(st.integers(1, 8)), (2 * out, 2 * out), (out, out))
    else:
        return LayerOps(name, "output", (Transfer(name, draw(st.sampled_from(list(Direction))),
                                                  draw(st.integers(1, 4000))),))
    return LayerOps(name, choice, (op,))


@st.composite
def workloads(draw) -> Workload:
    layers = [LayerOps("input", "input", (Transfer("input", Direction.TO_DEVICE,
                                                   draw(st.integers(1, 5000))),))]
    for index in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["gemm", "gemm", "other"]))
        layers.append(draw(gemm_layers(index) if kind == "gemm" else other_layers(index)))
    if draw(st.booleans()):
        layers.append(LayerOps("softmax", "softmax", (Vector("softmax", VectorKind.SOFTMAX,
                                                             10),)))
    layers.append(LayerOps("output", "output", (Transfer("output", Direction.TO_HOST,
                                                         draw(st.integers(1, 500))),)))
    return Workload("random", 1, tuple(layers))


@st.composite
def specs(draw) -> TPUSpec:
    rate = st.floats(0.05, 50.0)
    return TPU_V1.replace(
        array_rows=draw(st.integers(1, 40)), array_cols=draw(st.integers(1, 40)),
        accumulator_rows=draw(st.integers(2, 160)), weight_fifo_tiles=draw(st.integers(1, 9)),
        clock_hz=draw(st.floats(1e8, 2e9)), ddr_bytes_per_s=draw(rate) * 1e9,
        pcie_bytes_per_s=draw(rate) * 1e9, **UNLIMITED)


def matrix_multiplies(workload: Workload, spec: TPUSpec) -> int:
    """How many MatrixMultiply instructions the program has (to keep the twin quick)."""
    return sum(-(-g.k // spec.array_rows) * -(-g.n // spec.array_cols)
               * -(-g.m // spec.accumulator_buffer_rows) * g.count for g in workload.gemms)


@settings(max_examples=150, deadline=None)
@given(workload=workloads(), spec=specs())
def test_random_workloads_and_specs_time_exactly_as_the_program(workload, spec):
    assume(matrix_multiplies(workload, spec) <= 1500)
    assert fused(workload, spec) == reference(workload, spec)


@settings(max_examples=10, deadline=None)
@given(workload=workloads(), spec_list=st.lists(specs(), min_size=2, max_size=5))
def test_lanes_are_independent(workload, spec_list):
    """Specs sharing the array's shape timed in one walk equal each timed alone."""
    shaped = [s.replace(array_rows=spec_list[0].array_rows, array_cols=spec_list[0].array_cols,
                        accumulator_rows=spec_list[0].accumulator_rows) for s in spec_list]
    first = shaped[0]
    together, _, _ = program_cycles(encode_items(workload), first.array_rows,
                                    first.array_cols, first.accumulator_buffer_rows,
                                    lanes_of(shaped))
    alone = [cycles for s in shaped for cycles in fused(workload, s)[:2]]
    assert together.tolist() == alone


def test_bundled_networks_and_the_paper_apps():
    """LeNet-5, the char LSTM and the TPU paper's MLP0, CNN0 and LSTM0 across array shapes,
    accumulator sizes, FIFO depths (one beyond every tile the program reads) and rates."""
    cases = [("lenet5", 64, dict(array_rows=8, array_cols=8)),
             ("lenet5", 64, dict(array_rows=16, array_cols=8, weight_fifo_tiles=10**6)),
             ("lenet5", 256, dict(array_rows=512, array_cols=16, accumulator_rows=66)),
             ("lstm-char", 16, dict(array_rows=32, array_cols=64, weight_fifo_tiles=1)),
             ("lstm-char", 256, dict(accumulator_rows=130, ddr_bytes_per_s=3.3e9)),
             ("tpu-mlp0", 200, dict(array_rows=512, array_cols=512, clock_hz=2.8e9)),
             ("tpu-cnn0", 8, dict(weight_fifo_tiles=2, pcie_bytes_per_s=1e9)),
             ("tpu-lstm0", 64, dict(array_rows=512, array_cols=256))]
    for name, batch, overrides in cases:
        workload = ax.lower(load_network(name, weights="none"), batch)
        spec = TPU_V1.replace(**overrides, **UNLIMITED)
        assert fused(workload, spec) == reference(workload, spec), (name, batch, overrides)
