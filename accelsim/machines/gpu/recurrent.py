"""Recurrent layers on a GPU: nn.LSTM / nn.RNN through cuDNN, or a Python loop of cells.

cuDNN (`recurrent_step_loop` False), as the H200 kernel list of the char LSTM shows
(accelsim/measure/data/gpu-h200-network-2026-11-27.json, fp32 batch 64): fills of h0 (and
c0), the batch-first input copied time-major (PyTorch's `.contiguous()` of the transposed
input, a strided copy), the input projection of every step as one GEMM (M = batch·steps,
K = input features, N = gates·hidden), then ONE persistent kernel for the whole recurrence
(`RNN_blockPersist_fp_LSTM`, 160 µs for 64 steps at batch 64):

- its CTAs stay resident and keep their slice of the recurrent weights on chip: each CTA owns
  `HIDDEN_PER_CTA` hidden units (all their gates, so the cell update stays in the CTA), so
  ctas = ⌈hidden / 8⌉, one per SM;
- each step: a barrier — grid-wide (`grid_sync_cycles`) since every CTA needs all of h_{t−1}
  — then the step's work: the dependent chain of one hidden unit overlapped with the CTA's
  share of the recurrent GEMM (batch × gates·8 × hidden MACs on its SM's FP32 lanes or
  tensor cores). The chain: two memory round trips (the step's inputs — its input
  projection, computed before the loop, and h_{t−1} — then h_t's store, made visible to the
  other CTAs) at DRAM latency, and the unit's gates accumulated over K = hidden by one thread
  (gates × hidden dependent FMAs in fp32, gates × hidden / 16 MMAs on tensor cores). With
  L2 latency instead, the barrier fitted at batch 1-64 leaves less to overlap and the fp16
  step at batch 1,024 comes out 20% slow. One CTA alone (a hidden size up to 8) keeps the
  state in shared memory behind a CTA barrier instead.
  Time = steps × (barrier + max(chain, math)): linear in steps.
- `HIDDEN_PER_CTA` = 8 is fitted: the fp32 LSTM's step is flat from batch 1 to 64 (2.2-2.5 µs,
  barrier and chain) and then grows by ~18 ns per sample (batch 256 and 1,024 totals), the
  FP32 rate of 14-16 SMs for hidden 128; fp16's step stays at ~1.6 µs up to batch 1,024
  (tensor cores), as the shorter MMA chain and the same 16 CTAs give.
- Where the weight slice does not fit in half an SM's registers, or more CTAs than SMs would
  be needed, or the GPU has no grid-wide synchronization (`has_grid_sync`: cuDNN's persistent
  algorithms need compute capability 6.0; the K80 and the 8800 GTX lack it), cuDNN runs per
  step a recurrent GEMM (M = batch, K = hidden) and a fused cell kernel instead.

Python step loop (`recurrent_step_loop` True, nn.LSTMCell called once per step): per step
two cuBLASLt addmm (the input's and the state's gates, biases fused) and PyTorch's fused cell
kernel; h0 and c0 filled first, the outputs stacked after the loop.
"""

from __future__ import annotations

import math

from accelsim.errors import AccelsimError
from accelsim.ir import CellKind, Gemm, Recurrence
from accelsim.machines.gpu.blas import addmm_kernels, gemm_kernel
from accelsim.machines.gpu.elementwise import (
    ALU_OPS,
    BROADCAST,
    FILL,
    SFU_OPS,
    VECTORIZED,
    stream_launch,
)
from accelsim.machines.gpu.gemm import choose_kernel
from accelsim.machines.gpu.launches import FrameworkCall, Kernel
from accelsim.machines.gpu.spec import GPUSpec
from accelsim.machines.results import Category
from accelsim.precision import Precision

HIDDEN_PER_CTA = 8  # fitted on the network file's LSTM (see the module docstring)
MMA_K = 16  # a tensor-core MMA's K (PTX mma.m16n8k16 for fp16/bf16, sm80 on)
REGISTER_BYTES = 4
# The part of a CTA's registers its weight slice may hold, the rest left to the cell's
# state and addressing. Assumed (Diamos et al., "Persistent RNNs", ICML 2016, keep the
# weights in registers; the share is not published): no measured layer comes near it (the
# char LSTM's slice is 16 KiB of the H200's 256 KiB).
WEIGHT_REGISTER_SHARE = 0.5


def _shape(rec: Recurrence) -> tuple[int, int, int, int]:
    """(batch, input features, hidden, gates) of a recurrent layer."""
    gemm = rec.gates
    return gemm.m, gemm.k - rec.hidden, rec.hidden, gemm.n // rec.hidden


def persistent_ctas(rec: Recurrence, precision: Precision, spec: GPUSpec) -> int:
    """CTAs of cuDNN's persistent kernel, or 0 where it cannot run (no grid-wide
    synchronization, or the weights do not fit on chip)."""
    _, _, hidden, gates = _shape(rec)
    ctas = math.ceil(hidden / HIDDEN_PER_CTA)
    slice_bytes = gates * min(hidden, HIDDEN_PER_CTA) * hidden * precision.bytes
    room = spec.registers_per_sm * REGISTER_BYTES * WEIGHT_REGISTER_SHARE
    fits = spec.has_grid_sync and slice_bytes <= room and ctas <= spec.sm_count
    if spec.rnn_algorithm == "persistent" and not fits:
        raise AccelsimError(
            f"{spec.name}: rnn_algorithm = 'persistent' cannot run a {rec.kind.value} of "
            f"hidden {hidden}: " + ("the GPU has no grid-wide synchronization"
                                    if not spec.has_grid_sync else
                                    "its recurrent weights do not fit on chip")
            + "; use rnn_algorithm = 'auto' or 'standard'")
    return ctas if fits and spec.rnn_algorithm != "standard" else 0


def persistent_step_cycles(rec: Recurrence, precision: Precision, spec: GPUSpec) -> float:
    """One time step of the persistent kernel: the barrier, then max(the dependent chain of
    one hidden unit, the CTA's share of the recurrent GEMM)."""
    batch, _, hidden, gates = _shape(rec)
    ctas = persistent_ctas(rec, precision, spec)
    if ctas > 1:  # h_{t-1} comes from every CTA: through memory, after a grid barrier
        sync, trip = spec.grid_sync_cycles, spec.dram_latency_cycles
    else:  # one CTA keeps the state in shared memory
        sync, trip = spec.barrier_latency_cycles, spec.shared_latency_cycles
    if precision is Precision.FP32:
        macs_per_cycle, k_step = float(spec.fp32_lanes_per_sm), 1
    else:
        macs_per_cycle, k_step = spec.tensor_rate(precision) / 2, MMA_K
    dot_chain = gates * math.ceil(hidden / k_step) * spec.fma_latency_cycles
    chain = 2 * trip + dot_chain
    compute = batch * gates * min(hidden, HIDDEN_PER_CTA) * hidden / macs_per_cycle
    return sync + max(chain, compute)


def _state_count(rec: Recurrence) -> int:
    """States a cell carries between steps: h and c (LSTM), or h."""
    return 2 if rec.kind is CellKind.LSTM else 1


def _state_fills(rec: Recurrence, precision: Precision, spec: GPUSpec) -> tuple[Kernel, ...]:
    """h0 (and c0) filled with zeros, one FillFunctor kernel each."""
    batch, _, hidden, _ = _shape(rec)
    return tuple(stream_launch(f"FillFunctor ({s})", FILL, batch * hidden,
                               batch * hidden * precision.bytes, spec)
                 for s in ("h0", "c0")[:_state_count(rec)])


def _cell_kernel(rec: Recurrence, precision: Precision, spec: GPUSpec, name: str) -> Kernel:
    """One fused cell kernel for one step: reads the gates (and c), writes h (and c)."""
    batch, _, hidden, gates = _shape(rec)
    cells = batch * hidden
    moved = (2 * batch * gates * hidden + (2 * _state_count(rec) - 1) * cells) * \
        precision.bytes
    alu = sum(ALU_OPS[v.kind] * v.elements for v in rec.cell) // rec.steps
    sfu = sum(SFU_OPS.get(v.kind, 0) * v.elements for v in rec.cell) // rec.steps
    return stream_launch(name, VECTORIZED, cells, moved, spec, sfu_ops=sfu, extra_alu_ops=alu)


def cudnn_kernels(rec: Recurrence, precision: Precision, spec: GPUSpec) -> tuple[Kernel, ...]:
    """Every kernel one nn.LSTM / nn.RNN call launches through cuDNN."""
    batch, features, hidden, gates = _shape(rec)
    projection = gemm_kernel(choose_kernel(batch * rec.steps, features, gates * hidden, spec,
                                           precision))
    return (*_state_fills(rec, precision, spec), *time_major_copy(rec, precision, spec), projection,
            *recurrence_kernels(rec, precision, spec))


def time_major_copy(rec: Recurrence, precision: Precision, spec: GPUSpec
                    ) -> tuple[Kernel, ...]:
    """The batch-first input made time-major for cuDNN: a strided copy, none at batch 1
    (the transposed view of one sample is already contiguous)."""
    batch, features, _, _ = _shape(rec)
    if batch == 1:
        return ()
    elements = batch * rec.steps * features
    return (stream_launch(f"{BROADCAST.name} (direct_copy: input time-major)", BROADCAST,
                          elements, 2 * elements * precision.bytes, spec),)


def recurrence_kernels(rec: Recurrence, precision: Precision, spec: GPUSpec
                       ) -> tuple[Kernel, ...]:
    """The recurrence itself: the persistent kernel, or per step a GEMM and a cell kernel."""
    batch, _, hidden, gates = _shape(rec)
    if persistent_ctas(rec, precision, spec):
        cycles = rec.steps * persistent_step_cycles(rec, precision, spec)
        seconds = spec.kernel_launch_s + spec.cold_start_s + cycles / spec.clock_hz
        name = f"RNN_blockPersist_fp_{rec.kind.value.upper()}"
        return (Kernel(name, seconds, Category.COMPUTE, _recurrent_bytes(rec, precision),
                       "latency"),)
    step_gemm = gemm_kernel(choose_kernel(batch, hidden, gates * hidden, spec, precision))
    cell = _cell_kernel(rec, precision, spec, f"fused_{rec.kind.value}_cell")
    return (step_gemm, cell) * rec.steps


def _recurrent_bytes(rec: Recurrence, precision: Precision) -> int:
    """DRAM/L2 traffic of the persistent kernel: the projections read, the states written,
    the weights once."""
    batch, _, hidden, gates = _shape(rec)
    per_step = (batch * gates * hidden + 2 * batch * hidden) * precision.bytes
    return rec.steps * per_step + gates * hidden * hidden * precision.bytes


def step_loop_calls(rec: Recurrence, precision: Precision, spec: GPUSpec
                    ) -> tuple[FrameworkCall, ...]:
    """nn.LSTMCell (nn.RNNCell) called once per step from Python: state fills, per step two
    addmm and the fused cell kernel, then the outputs stacked."""
    batch, features, hidden, gates = _shape(rec)
    fills = tuple(FrameworkCall("op", (fill,)) for fill in _state_fills(rec, precision, spec))
    x_gates = Gemm("x gates", m=batch, k=features, n=gates * hidden)
    h_gates = Gemm("h gates", m=batch, k=hidden, n=gates * hidden)
    step = (*addmm_kernels(x_gates, precision, spec), *addmm_kernels(h_gates, precision, spec),
            _cell_kernel(rec, precision, spec, f"_thnn_fused_{rec.kind.value}_cell"))
    elements = batch * rec.steps * hidden
    stack = FrameworkCall("op", (stream_launch(f"{BROADCAST.name} (stack outputs)", BROADCAST,
                                               elements, 2 * elements * precision.bytes,
                                               spec),))
    return (*fills, *(FrameworkCall("cell", step),) * rec.steps, stack)
