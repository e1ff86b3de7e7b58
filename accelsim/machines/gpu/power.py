"""What a GPU run spends beyond its arithmetic: the warp instructions, register-file bytes and
shared-memory/L1 and L2 bytes its kernels move, and the power of its SMs running un-gated.

Counts come from the GEMM model's own instruction mix (kernels.py `warp_program`): a kernel's
CTA tile is read off its name (`tile_of`: the menu's tile of that BM×BN×BK, or one of 2×2
warps; a kernel whose name gives no tile, cuDNN's legacy and persistent kernels, as the
32×32×8 legacy tile, the most operand traffic per MAC), and each main-loop iteration of each
warp issues `global_loads` copies, `shared_stores` stores, `loop_overhead` integer ops and,
per inner k step, `shared_loads` LDS.128 and `math` FFMA (or MMA) instructions. Per MAC:

    warp instructions  = warps · iteration's instructions / (BM·BN·BK)
    register bytes     = warp_size · 16 B per lane instruction (3 source reads and a write of
                         32 bits); an MMA reads its A and B fragments and reads and writes
                         its fp32 accumulators
    shared / L1 bytes  = LDS bytes per k step · BK + the slice written by the copies
    L2 bytes           = the slice the copies bring from L2, (BM + BN) · BK · element bytes

(set-up and epilogue instructions, under 1% of a CTA's at a K of a few hundred, are left
out). A GEMV (one warp per output) issues per lane MAC an FMA and two loads, both operands
through L1 and L2. An element-wise or pooling op is `ELEMENTWISE_LANE_INSTRUCTIONS` lane
instructions per element (PyTorch's vectorized kernel, elementwise.py) and moves its DRAM
bytes through L2 and L1 once; host transfers run on the copy engines and count nothing here.

Prices (`EventCosts`, 45 nm, scaled by the node and the supply like arithmetic): a warp
instruction's fetch, decode and scheduling is one instruction of Horowitz's RISC core
(ISSCC 2014: ~70 pJ less its register access and its add), paid once for 32 lanes — SIMT's
saving (Keckler et al., "GPUs and the future of parallel computing", IEEE Micro 2011);
register-file bytes at his 8 KB SRAM figure (an SM's register file is banks of that order),
shared memory and L1 at his 32 KB figure, L2 at his 1 MB figure.

Active power: while kernels run (`device_seconds`) the SMs' clocks, pipeline registers and
schedulers are un-gated. A GPU under a full arithmetic load runs at its board power limit
(NVIDIA's boost holds it there: an assumption, the K80's 150 W per die), so the power that
is neither idle nor events is `tdp − idle − events at the fp32 peak` (`nominal_active_watts`,
the events of the menu's largest SIMT tile at every lane's FMA each cycle, at the nominal
clock). A run draws its clock network's share of it whatever it issues and the rest in
proportion to its utilization (`energy.active_watts_at`), and a clock what-if scales it as
C·V²·f (`energy.clock_power_ratio`). The TDP is the board's datasheet figure whatever the
spec builds, while idle power and the peak's events follow the design (spec.py's floor plan),
so a what-if that builds more (a T4 with twice its SMs: 18.7 W idle and 52 W of events at
the peak against its 70 W board) can leave nothing over: the active power is then clamped
at 0 rather than scaled, and such a run shows `Energy.tdp_fraction` above 1 (the board could
not hold its clock; its times are optimistic), as a TPU clocked past its package does.

Static power (`floor_plan_of`, `idle_watts_from`): each preset's idle figure
(`reference_idle_watts`, spec.py) at its own design, shared over the die's floor plan
(`FLOOR_PLAN`, shares of its area; one plan for every preset, an assumption for the older,
smaller dies). NVIDIA publishes no area breakdown. Annotated die shots (GP100's, shown at
Hot Chips 28; GA100's, GA102's and GH100's, annotated by others) show the SM array as most
of a big data-centre die, the L2 slices as a band across its middle and the HBM or GDDR
PHYs, NVLink and PCIe along its edges, a small part of it; the shares are the commonly
quoted round figures for such a die, taken as assumptions: SMs 60%, L2 10%, memory
interface (controllers and PHYs) 12%, PCIe, NVLink and the host interface 6%, and 12% that
no spec field scales (crossbar and GPC front ends 8%; video, display and misc I/O 4%). The
SM array is split by what a spec says of an SM. Its SRAM — the register file
(`registers_per_sm` × 4 bytes) and the L1/shared-memory SRAM (`l1_bytes_per_sm`) — is 18%
of the die (30% of an SM; an assumption), scaled by `sm_count` × those bytes. The rest of
the SM (FP32, INT32 and FP64 lanes, tensor cores, schedulers, load/store and texture units:
42%) is scaled by `sm_count` × `fp32_lanes_per_sm`, taken as the SM's width: its other units
are assumed to grow with it, and a what-if on `tensor_ops_per_cycle_per_sm` alone leaves
idle power as it is. L2 scales with `l2_bytes`, the memory interface with
`dram_bytes_per_s`; no GPU spec field gives the host or NVLink bandwidth (the runtime's
host_* rates are the software path's), so that block is fixed. Each block's scale is what
the spec builds over its reference design (`GPUSpec.design` over the `reference_*` fields).
Clocked blocks are `LEAKAGE_FRACTION` leakage (∝ supply) and the rest clock power
(∝ supply² × clock, from `reference_clock_hz`); the memory, host and misc I/O interfaces run
at their links' pace; the node scales the whole as it does dynamic energy
(`energy.technology_factor`), as the TPU's (energy.py's module docstring).
"""

from __future__ import annotations

import re
from typing import Protocol

from accelsim.energy import (
    ActiveRun,
    Activity,
    Block,
    ClockedSpec,
    EventCosts,
    active_watts_at,
    clock_power_ratio,
    idle_watts_of,
    mac_pj,
    technology_factor,
    volts_ratio,
)
from accelsim.machines.gpu.kernels import SIMT_MENU, TENSOR_MENU, TileConfig, warp_program
from accelsim.precision import Precision


class GPUSpec(ClockedSpec, Protocol):
    """What the GPU's power model reads of its spec (machines/gpu/spec.py's GPUSpec; a
    protocol, so that the spec may import this module), besides its clocks and power."""

    @property
    def sm_count(self) -> int: ...

    @property
    def fp32_lanes_per_sm(self) -> int: ...

    @property
    def warp_size(self) -> int: ...

    @property
    def reference_clock_hz(self) -> float: ...

    @property
    def reference_idle_watts(self) -> float: ...

    @property
    def reference_process_nm(self) -> float: ...

    def design(self) -> dict[str, float]: ...


GPU_COSTS = EventCosts()  # the module docstring's prices
LANE_REGISTER_BYTES = 16  # three 32-bit source operands read, one result written
ELEMENTWISE_LANE_INSTRUCTIONS = 4.0  # elementwise.py's VECTORIZED family: 4 an element
GEMV_LANE_INSTRUCTIONS = 3  # an FMA and the two operands' loads per MAC
MMA_SHAPE = (16, 8, 16)  # m16n8k16, as kernels.py's tensor-core warp program
LEGACY_TILE = TileConfig("legacy 32x32x8", 32, 32, 8, 1, 2, 2, 80)
_DIMS = re.compile(r"(\d+)x(\d+)x(\d+)")

# The die's floor plan, share of its area by block (module docstring: assumed round figures
# for a big data-centre GPU; no published breakdown), and the `GPUSpec.design` quantity each
# scaled block follows.
FLOOR_PLAN: tuple[tuple[str, float], ...] = (
    ("SM register files and L1", 0.18), ("SM lanes and control", 0.42), ("L2", 0.10),
    ("memory interface", 0.12), ("PCIe, NVLink and host interface", 0.06),
    ("crossbar and front end", 0.08), ("video and misc I/O", 0.04))
UNCLOCKED = frozenset({"memory interface", "PCIe, NVLink and host interface",
                       "video and misc I/O"})  # I/O: their links' pace
SCALED_BY = {"SM register files and L1": "sm_sram_bytes", "SM lanes and control": "fp32_lanes",
             "L2": "l2_bytes", "memory interface": "dram_bytes_per_s"}
# Share of a clocked block's idle power that is leakage (the rest is clock tree and idle
# switching, ∝ clock): an assumption, the TPU's (machines/tpu/spec.py), at every node.
LEAKAGE_FRACTION = 0.3


class _Op(Protocol):
    @property
    def kind(self) -> str: ...

    @property
    def ops(self) -> int: ...

    @property
    def precision(self) -> Precision: ...

    @property
    def kernel(self) -> str: ...

    @property
    def dram_bytes(self) -> int: ...


Run = ActiveRun[_Op]  # what `activity_of` reads of a `RunResult`


def tile_of(kernel: str) -> TileConfig | None:
    """The CTA tile a kernel's name gives (module docstring); None for a GEMV."""
    if kernel.startswith("gemv"):
        return None
    found = _DIMS.search(kernel)
    if found is None:
        return LEGACY_TILE
    bm, bn, bk = map(int, found.groups())
    menu = [t for t in (*SIMT_MENU, *TENSOR_MENU) if (t.bm, t.bn, t.bk) == (bm, bn, bk)]
    return menu[0] if menu else TileConfig(kernel, bm, bn, bk, 2, 2, 3, 128, tensor=bk >= 32)


def events_per_mac(tile: TileConfig | None, precision: Precision,
                   warp_size: int) -> tuple[float, float, float, float]:
    """(warp instructions, register bytes, shared/L1 bytes, L2 bytes) per MAC of `tile`'s
    main loop at `precision` (module docstring); a GEMV for None."""
    ebytes = precision.bytes
    if tile is None:
        return (GEMV_LANE_INSTRUCTIONS / warp_size,
                GEMV_LANE_INSTRUCTIONS * LANE_REGISTER_BYTES, 2.0 * ebytes, 2.0 * ebytes)
    prog = warp_program(tile, precision, 1.0, 1.0, True, warp_size, async_copy=True)
    step = prog.shared_loads + prog.math
    per_warp = prog.global_loads + prog.loop_overhead + prog.inner_steps * step
    macs = tile.bm * tile.bn * tile.bk
    copied = prog.global_loads * prog.load_bytes * tile.warps
    if tile.tensor:
        m, n, k = MMA_SHAPE
        mma_bytes = (m * k + k * n) * ebytes + 2 * m * n * 4
        others = per_warp - prog.inner_steps * prog.math
        registers = tile.warps * (others * warp_size * LANE_REGISTER_BYTES
                                  + prog.inner_steps * prog.math * mma_bytes)
    else:
        registers = tile.warps * per_warp * warp_size * LANE_REGISTER_BYTES
    shared = tile.warps * prog.inner_steps * prog.shared_loads * prog.shared_load_bytes
    return (tile.warps * per_warp / macs, registers / macs, (shared + copied) / macs,
            copied / macs)


def _op_events(op: _Op, warp_size: int) -> tuple[float, float, float, float]:
    macs = op.ops // 2
    if macs:
        per_mac = events_per_mac(tile_of(op.kernel), op.precision, warp_size)
        return tuple(macs * e for e in per_mac)  # type: ignore[return-value]
    through = 0.0 if op.kind == "transfer" else float(op.dram_bytes)
    return (0.0, 0.0, through, through)


def activity_of(spec: GPUSpec, result: Run) -> Activity:
    """The run's events (module docstring) and its active power over its device time."""
    totals = [sum(col) for col in zip(*(_op_events(op, spec.warp_size) for op in result.layers),
                                      strict=True)] or [0.0] * 4
    lanes = result.vector_ops * ELEMENTWISE_LANE_INSTRUCTIONS
    return Activity(GPU_COSTS, instructions=totals[0] + lanes / spec.warp_size,
                    register_bytes=totals[1] + lanes * LANE_REGISTER_BYTES,
                    l1_bytes=totals[2], l2_bytes=totals[3],
                    active_seconds=float(result.device_seconds),
                    active_watts=active_watts_at(nominal_active_watts(spec),
                                                 result.utilization,
                                                 clock_power_ratio(spec.clock_hz,
                                                                   spec.nominal_clock_hz)))


def peak_event_watts(spec: GPUSpec) -> float:
    """Arithmetic and events at the fp32 peak, nominal clock and supply: every lane's FMA
    each cycle in the menu's largest SIMT tile."""
    fmas_per_s = spec.sm_count * spec.fp32_lanes_per_sm * spec.nominal_clock_hz
    inst, regs, l1, l2 = events_per_mac(SIMT_MENU[0], Precision.FP32, spec.warp_size)
    c = GPU_COSTS
    pj = mac_pj(Precision.FP32) + inst * c.instruction_pj + regs * c.register_pj_per_byte \
        + l1 * c.l1_pj_per_byte + l2 * c.l2_pj_per_byte
    return fmas_per_s * pj * technology_factor(spec.process_nm) * 1e-12


def nominal_active_watts(spec: GPUSpec) -> float:
    """Un-gated SM power at the nominal clock: what the TDP leaves over idle and the peak's
    events (module docstring), clamped at 0 where a what-if's idle and events exceed it."""
    return max(spec.tdp_watts - spec.idle_watts - peak_event_watts(spec), 0.0)



def floor_plan_of(spec: GPUSpec) -> tuple[Block, ...]:
    """The die's blocks (module docstring), each scaled by what `spec` builds over its
    reference design."""
    design = spec.design()
    scales = {block: design[q] / getattr(spec, f"reference_{q}") for block, q in SCALED_BY.items()}
    return tuple(Block(name, share, scales.get(name, 1.0), name not in UNCLOCKED)
                 for name, share in FLOOR_PLAN)


def idle_watts_from(spec: GPUSpec) -> float:
    """`spec`'s static power: its `reference_idle_watts` over its floor plan at its clock,
    supply and node (`energy.idle_watts_of`)."""
    return idle_watts_of(floor_plan_of(spec), spec.reference_idle_watts,
                         clock_ratio=spec.clock_hz / spec.reference_clock_hz,
                         leakage_fraction=LEAKAGE_FRACTION,
                         node_ratio=technology_factor(spec.process_nm)
                         / technology_factor(spec.reference_process_nm),
                         volts_ratio=volts_ratio(spec.clock_hz, spec.nominal_clock_hz))
