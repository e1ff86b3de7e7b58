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
  step a recurrent GEMM and a fused cell kernel instead (the standard algorithm, below).

The standard algorithm (CUDNN_RNN_ALGO_STANDARD; `rnn_algorithm` "standard", or "auto" where
the persistent kernel cannot run): the input projection of all steps as one GEMM (M =
batch·steps, K = input features, N = gates·hidden; none under CUDNN_SKIP_INPUT, as DeepBench
runs it), then per step
- the recurrent GEMM, gates·hidden rows of W_h times h_{t-1} (M = gates·hidden, K = hidden,
  N = batch): CTA tiles of 128 gate rows (`RECURRENT_TILE_ROWS`, cuDNN 7's `*_128x32` /
  `*_128x64` recurrent GEMMs; assumed), K whole in each CTA (a step's GEMM is not split),
  the fastest such tile timed by the SM model. Few CTAs walk all of K: at hidden 1,760 a
  vanilla RNN's step has 14 CTAs on 80 SMs, latency-bound at a third of the DRAM rate. On
  tensor cores each CTA streams its slice at most at `RECURRENT_BYTES_IN_FLIGHT` bytes per
  DRAM round trip: the V100's fp16 steps run at ~6 B/cycle per CTA, half what the SM model's
  register-staged tensor tile gives, and only 1.2-1.6x faster than fp32 (fitted, below);
- the point-wise kernel (`fused_<kind>_cell`): both gate halves in (the input's projection, or
  x_t itself, and the recurrent GEMM's), c in, h (and c) out; its cost from that traffic and
  the cell's instructions (elementwise.py). A GRU keeps h·W_hn apart and applies r to it
  here (cuDNN's linear-before-reset form), so its kernels are the same two per step.
A library caller (`library_seconds`, DeepBench) times the call back to back: the host issues
it (`library_call_host_s`) and each kernel (`library_launch_host_s`, a cuBLAS call or a
launch) while the device runs the kernels queued before; small steps (hidden 256-512) are
host-bound at ~28 µs a step.

Fitted constants of the standard algorithm, on DeepBench's V100 rows
(accelsim/measure/data/deepbench-v100.json, cuDNN 7.6, the even-indexed rows of each family
and precision; the odd rows held out, accelsim/validation/deepbench_rnn.py):
`RECURRENT_BYTES_IN_FLIGHT` = 2 KiB, `library_call_host_s` = 60 µs (the one-step GRU row,
88 µs, bounds it), `library_launch_host_s` = 14 µs. Median error on the held-out rows:
LSTM 17% / 16% (fp32 / fp16), GRU 8% / 21%, vanilla RNN 19% / 11%, none off by 2x.

Python step loop (`recurrent_step_loop` True, nn.LSTMCell called once per step): per step
two cuBLASLt addmm (the input's and the state's gates, biases fused) and PyTorch's fused cell
kernel; h0 and c0 filled first, the outputs stacked after the loop.
"""

from __future__ import annotations

import dataclasses
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
from accelsim.machines.gpu.gemm import KernelChoice, choose_kernel, tiled_kernel
from accelsim.machines.gpu.kernels import SIMT_MENU, TENSOR_MENU
from accelsim.machines.gpu.launches import FrameworkCall, Kernel
from accelsim.machines.gpu.runtime import PYTORCH_EAGER, GPURuntime
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
# The standard algorithm (module docstring): its recurrent GEMM's CTA tile covers 128 gate
# rows (cuDNN 7's recurrent GEMMs are the `*_128x32` / `*_128x64` kernels); assumed, not
# fitted.
RECURRENT_TILE_ROWS = 128
# Bytes of its weight slice one CTA of that GEMM keeps in flight: fitted (see the module
# docstring: DeepBench's V100 rows, even indices).
RECURRENT_BYTES_IN_FLIGHT = 2048


def _shape(rec: Recurrence) -> tuple[int, int, int, int]:
    """(batch, input features, hidden, gates) of a recurrent layer."""
    gemm = rec.gates
    return gemm.m, gemm.k - rec.hidden, rec.hidden, gemm.n // rec.hidden


def persistent_ctas(rec: Recurrence, precision: Precision, spec: GPUSpec,
                    runtime: GPURuntime = PYTORCH_EAGER) -> int:
    """CTAs of cuDNN's persistent kernel, or 0 where it cannot run (no grid-wide
    synchronization, or the weights do not fit on chip)."""
    _, _, hidden, gates = _shape(rec)
    ctas = math.ceil(hidden / HIDDEN_PER_CTA)
    slice_bytes = gates * min(hidden, HIDDEN_PER_CTA) * hidden * precision.bytes
    room = spec.registers_per_sm * REGISTER_BYTES * WEIGHT_REGISTER_SHARE
    fits = spec.has_grid_sync and slice_bytes <= room and ctas <= spec.sm_count
    if runtime.rnn_algorithm == "persistent" and not fits:
        raise AccelsimError(
            f"{spec.name}: rnn_algorithm = 'persistent' cannot run a {rec.kind.value} of "
            f"hidden {hidden}: " + ("the GPU has no grid-wide synchronization"
                                    if not spec.has_grid_sync else
                                    "its recurrent weights do not fit on chip")
            + "; use rnn_algorithm = 'auto' or 'standard'")
    return ctas if fits and runtime.rnn_algorithm != "standard" else 0


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


def _cell_kernel(rec: Recurrence, precision: Precision, spec: GPUSpec, name: str,
                 skip_input: bool = False) -> Kernel:
    """One fused cell kernel for one step: reads the gates' two halves (the input's
    projection, or x_t itself with `skip_input`, and the recurrent GEMM's; a GRU keeps
    h·W_hn apart and applies r to it here, cuDNN's linear-before-reset form) and c, writes h
    (and c)."""
    batch, _, hidden, gates = _shape(rec)
    cells = batch * hidden
    inputs = cells if skip_input else batch * gates * hidden
    moved = (inputs + batch * gates * hidden + (2 * _state_count(rec) - 1) * cells) * \
        precision.bytes
    alu = sum(ALU_OPS[v.kind] * v.elements for v in rec.cell) // rec.steps
    sfu = sum(SFU_OPS.get(v.kind, 0) * v.elements for v in rec.cell) // rec.steps
    return stream_launch(name, VECTORIZED, cells, moved, spec, sfu_ops=sfu, extra_alu_ops=alu)


def algorithm(rec: Recurrence, precision: Precision, spec: GPUSpec,
              runtime: GPURuntime = PYTORCH_EAGER) -> str:
    """The RNN algorithm cuDNN runs: `rnn_algorithm` when it names one; "auto" takes the
    persistent kernel wherever it can run (grid-wide synchronization, the weight slice on
    chip, a CTA per SM each), else the standard algorithm. The rule is the one the H200
    measurements show (PyTorch 2.11 / cuDNN 9: `RNN_blockPersist_fp_LSTM` for the char LSTM
    in fp32 and fp16); cuDNN's own heuristic is not published."""
    return "persistent" if persistent_ctas(rec, precision, spec, runtime) else "standard"


def cudnn_kernels(rec: Recurrence, precision: Precision, spec: GPUSpec,
                  runtime: GPURuntime = PYTORCH_EAGER) -> tuple[Kernel, ...]:
    """Every kernel one nn.LSTM / nn.RNN / nn.GRU call launches through cuDNN."""
    batch, features, hidden, gates = _shape(rec)
    prefix = (*_state_fills(rec, precision, spec), *time_major_copy(rec, precision, spec))
    if algorithm(rec, precision, spec, runtime) == "standard":
        return (*prefix, *standard_kernels(rec, precision, spec))
    projection = gemm_kernel(choose_kernel(batch * rec.steps, features, gates * hidden, spec,
                                           precision))
    return (*prefix, projection, *recurrence_kernels(rec, precision, spec, runtime))


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


def recurrence_kernels(rec: Recurrence, precision: Precision, spec: GPUSpec,
                       runtime: GPURuntime = PYTORCH_EAGER) -> tuple[Kernel, ...]:
    """The recurrence itself: the persistent kernel, or per step the recurrent GEMM and the
    point-wise kernel (the standard algorithm's steps)."""
    if persistent_ctas(rec, precision, spec, runtime):
        cycles = rec.steps * persistent_step_cycles(rec, precision, spec)
        seconds = spec.kernel_launch_s + spec.cold_start_s + cycles / spec.clock_hz
        name = f"RNN_blockPersist_fp_{rec.kind.value.upper()}"
        return (Kernel(name, seconds, Category.COMPUTE, _recurrent_bytes(rec, precision),
                       "latency"),)
    return standard_step_kernels(rec, precision, spec) * rec.steps


def recurrent_gemm(rec: Recurrence, precision: Precision, spec: GPUSpec) -> KernelChoice:
    """One step's recurrent GEMM in the standard algorithm: gates·H rows of W_h times the
    batch's h_{t-1} (M = gates·hidden, K = hidden, N = batch), as cuDNN issues it: CTA tiles
    of `RECURRENT_TILE_ROWS` gate rows, K whole in each CTA (no split), the fastest such
    tile of the menu timed by the SM model (gemm.py). On tensor cores, also no faster than
    each CTA can stream its weight slice with `RECURRENT_BYTES_IN_FLIGHT` bytes in flight
    per DRAM round trip (Little's law), CTAs beyond the SMs' resident slots in further
    rounds (module docstring)."""
    batch, _, hidden, gates = _shape(rec)
    m = gates * hidden
    menu = SIMT_MENU if precision is Precision.FP32 else TENSOR_MENU
    timed = [tiled_kernel(tile, 1, m, hidden, batch, spec, precision)
             for tile in menu if tile.bm == RECURRENT_TILE_ROWS]
    choice = min((c for c in timed if c is not None), key=lambda c: c.seconds, default=None)
    if choice is None:  # no 128-row tile fits this GPU's SM: the library's general choice
        return choose_kernel(m, hidden, batch, spec, precision)
    slice_bytes = RECURRENT_TILE_ROWS * hidden * precision.bytes
    rate = RECURRENT_BYTES_IN_FLIGHT / spec.dram_latency_cycles  # bytes per cycle per CTA
    rounds = math.ceil(choice.ctas / (spec.sm_count * choice.ctas_per_sm))
    stream = rounds * slice_bytes / rate / spec.clock_hz
    if precision is Precision.FP32 or stream <= choice.compute_seconds:
        return choice
    body = max(stream, choice.dram_seconds)
    seconds = choice.launch_seconds + spec.cold_start_s + body
    return dataclasses.replace(choice, seconds=seconds, compute_seconds=stream,
                               bound="latency" if stream >= choice.dram_seconds else "memory")


def standard_step_kernels(rec: Recurrence, precision: Precision, spec: GPUSpec,
                          skip_input: bool = False) -> tuple[Kernel, Kernel]:
    """One step of the standard algorithm: the recurrent GEMM, then the point-wise kernel."""
    cell = _cell_kernel(rec, precision, spec, f"fused_{rec.kind.value}_cell",
                        skip_input)
    return gemm_kernel(recurrent_gemm(rec, precision, spec)), cell


def standard_kernels(rec: Recurrence, precision: Precision, spec: GPUSpec,
                     skip_input: bool = False) -> tuple[Kernel, ...]:
    """cuDNN's standard algorithm (CUDNN_RNN_ALGO_STANDARD): the input projection of every
    step as one GEMM (M = batch·steps, K = input features, N = gates·hidden; none with
    `skip_input`, CUDNN_SKIP_INPUT, where x_t enters the point-wise kernel as it is), then
    per step the recurrent GEMM and the point-wise kernel."""
    batch, features, hidden, gates = _shape(rec)
    projection = () if skip_input else (gemm_kernel(choose_kernel(
        batch * rec.steps, features, gates * hidden, spec, precision)),)
    return (*projection, *standard_step_kernels(rec, precision, spec, skip_input) * rec.steps)


def library_seconds(rec: Recurrence, precision: Precision, spec: GPUSpec,
                    skip_input: bool = False, runtime: GPURuntime = PYTORCH_EAGER) -> float:
    """One cudnnRNNForward call of the standard algorithm as a caller times it back to back
    (DeepBench: 100 calls between two host clocks): the host issues the call
    (`library_call_host_s`) and each kernel (`library_launch_host_s`) while the device runs
    the kernels queued before; the slower of the two sets the pace."""
    kernels = standard_kernels(rec, precision, spec, skip_input)
    device = sum(k.seconds for k in kernels)
    host = runtime.library_call_host_s + \
        runtime.library_launch_host_s * sum(k.launches for k in kernels)
    return max(device, host)


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
