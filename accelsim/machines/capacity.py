"""Capacity: does the work fit the machine? Pure functions of a workload (or one GEMM), a
precision and a capacity in bytes; no file system, no machine state.

Memory (a GPU's device memory, `GPUSpec.dram_bytes`; a CPU's main memory,
`CPUSpec.memory_bytes`; the TPU checks its Unified Buffer in tpu/compiler.py):

    need = every weight and bias once (biases 32-bit, as `Gemm.weight_bytes` counts them)
         + the largest live set of one op: its input and its output at the precision
           (a convolution's input is its feature map; on a CPU, a convolution with a kernel
           larger than 1×1 also holds its im2col matrix, M × K values, beside them;
           a GEMM's 16-bit int activations, `Gemm.activation_bits`, count 2 bytes each)

Inference frees each activation once the next op has read it, so two neighbouring
activations are the most that is ever live. Recurrent GEMMs count every step's operands (the
IR's byte counts). Activations grow in proportion to the batch and weights do not, so the need
is affine in batch and an error names the largest batch that fits.

A lone GEMM (`Machine.gemm`) needs A, B and C: (m·k + k·n)·b + m·n·c bytes, b the precision's
bytes and c = 4 for int8 (int32 results, as gpu/gemm.py writes them), else b. Only A and C
grow with m, so an error names the largest m that fits.

GPU kernels: `kernel_fit_error` explains why no kernel of a GPU's menu fits on one SM
(registers per thread, registers per SM, shared memory, warps); gpu/gemm.py raises it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from accelsim.errors import CapacityError, SpecError
from accelsim.ir import Gemm, Op, Transfer, Workload
from accelsim.precision import Precision

if TYPE_CHECKING:
    from accelsim.machines.gpu.kernels import TileConfig
    from accelsim.machines.gpu.spec import GPUSpec


def size_text(n_bytes: float) -> str:
    """Bytes in binary units with three significant digits: 805306368 → '768 MiB'."""
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(n_bytes) >= scale:
            return f"{n_bytes / scale:.3g} {unit}"
    return f"{n_bytes:.0f} B"


@dataclass(frozen=True)
class MemoryNeed:
    """What one batch of a workload holds in memory at its peak."""

    network: str
    batch: int
    weight_bytes: int  # every weight and bias once
    activation_bytes: int  # the largest live set of one op at this batch
    peak_op: str  # the op where the live set is largest

    @property
    def total_bytes(self) -> int:
        return self.weight_bytes + self.activation_bytes

    def largest_batch(self, capacity_bytes: int) -> int:
        """The largest batch whose need fits `capacity_bytes` (0: not even one sample)."""
        room = capacity_bytes - self.weight_bytes
        if room < 0:
            return 0
        return room * self.batch // max(self.activation_bytes, 1)


def op_live_bytes(op: Op, precision: Precision, im2col: bool = False) -> int:
    """Bytes live while `op` runs: its input and output (+ the im2col matrix, see above)."""
    if isinstance(op, Transfer):
        return op.bytes(precision)
    if isinstance(op, Gemm) and op.conv is not None:
        geometry = op.conv
        images = op.m // (geometry.out_hw[0] * geometry.out_hw[1])
        feature_map = images * geometry.in_channels * geometry.in_hw[0] * geometry.in_hw[1]
        workspace = op.m * op.k if im2col and geometry.kernel != (1, 1) else 0
        return (feature_map + workspace) * op.activation_element_bytes(precision) \
            + op.output_bytes(precision)
    return op.input_bytes(precision) + op.output_bytes(precision)


def workload_need(workload: Workload, precision: Precision | str,
                  im2col: bool = False) -> MemoryNeed:
    """Weights once plus the largest live set of one op (im2col: count convolution
    workspaces, as a CPU builds them)."""
    p = Precision.parse(precision)
    live = [(op_live_bytes(op, p, im2col), op.name) for op in workload.ops]
    activation, peak = max(live, default=(0, ""))
    return MemoryNeed(workload.network, workload.batch, workload.weight_bytes(p), activation,
                      peak)


def check_workload_fits(workload: Workload, capacity_bytes: int, precision: Precision | str,
                        machine_name: str, im2col: bool = False) -> MemoryNeed:
    """The workload's memory need, or a `CapacityError` naming the largest batch that fits."""
    p = Precision.parse(precision)
    need = workload_need(workload, p, im2col)
    if need.total_bytes <= capacity_bytes:
        return need
    fits = need.largest_batch(capacity_bytes)
    if need.weight_bytes > capacity_bytes:
        advice = "the weights alone do not fit: use a machine with more memory"
    elif fits < 1:
        advice = "even one sample does not fit: use a machine with more memory"
    else:
        advice = f"use batch ≤ {fits}"
    raise CapacityError(
        f"{workload.network} at batch {workload.batch} needs {size_text(need.total_bytes)} of "
        f"memory at {p.value} ({size_text(need.weight_bytes)} of weights + "
        f"{size_text(need.activation_bytes)} live at {need.peak_op}); {machine_name} has "
        f"{size_text(capacity_bytes)}: {advice}")


def gemm_need_bytes(m: int, k: int, n: int, precision: Precision | str) -> int:
    """A, B and C of one GEMM in memory (int8 results are int32)."""
    p = Precision.parse(precision)
    out = 4 if p is Precision.INT8 else p.bytes
    return (m * k + k * n) * p.bytes + m * n * out


def check_gemm_fits(m: int, k: int, n: int, precision: Precision | str, capacity_bytes: int,
                    machine_name: str) -> int:
    """Bytes one GEMM needs, or a `CapacityError` naming the largest m that fits."""
    p = Precision.parse(precision)
    need = gemm_need_bytes(m, k, n, p)
    if need <= capacity_bytes:
        return need
    fixed = k * n * p.bytes  # B
    per_row = gemm_need_bytes(1, k, n, p) - fixed  # a row of A and a row of C
    fits = (capacity_bytes - fixed) // per_row if capacity_bytes >= fixed else 0
    if fits >= 1:
        advice = f"use m ≤ {fits}"
    elif fixed > capacity_bytes:
        advice = f"B alone (k × n = {k} × {n}) needs {size_text(fixed)}: reduce k or n"
    else:
        advice = "even m = 1 does not fit: reduce k or n"
    raise CapacityError(
        f"gemm m={m} k={k} n={n} at {p.value} needs {size_text(need)} for A, B and C; "
        f"{machine_name} has {size_text(capacity_bytes)}: {advice}")


def kernel_needs(tile: TileConfig, spec: GPUSpec,
                  precision: Precision) -> dict[str, tuple[int, str]]:
    """What one CTA of `tile` needs of each per-SM limit: field → (need, how it adds up).
    Registers are allocated per warp in units of `register_alloc_unit`. These are the limits
    gpu/gemm.py's `occupancy` applies (tests/machines/test_capacity.py checks they agree)."""
    per_warp = math.ceil(tile.registers_per_thread * spec.warp_size / spec.register_alloc_unit) \
        * spec.register_alloc_unit
    shared = tile.shared_bytes(precision.bytes, spec.has_async_copy)
    per_stage = (tile.bm + tile.bn) * tile.bk * precision.bytes
    return {
        "max_registers_per_thread": (tile.registers_per_thread, "registers per thread"),
        "registers_per_sm": (per_warp * tile.warps,
                             f"{tile.warps} warps × {per_warp} registers: "
                             f"{tile.registers_per_thread} per thread × {spec.warp_size} "
                             f"threads in units of {spec.register_alloc_unit}"),
        "shared_memory_per_sm_bytes": (shared, f"{shared // per_stage} stages of ({tile.bm} + "
                                               f"{tile.bn}) × {tile.bk} × {precision.bytes} B"),
        "max_warps_per_sm": (tile.warps, "warps per CTA"),
    }


def kernel_fit_error(spec: GPUSpec, precision: Precision,
                     menu: Sequence[TileConfig]) -> SpecError:
    """Why no kernel of `menu` fits on one SM of `spec`: for each limit that every kernel
    exceeds, the least any kernel needs; otherwise the nearest kernel's shortfalls."""
    needs = {tile.name: kernel_needs(tile, spec, precision) for tile in menu}

    def short(tile: str) -> list[str]:
        return [field for field, (need, _) in needs[tile].items() if need > getattr(spec, field)]

    def least(field: str) -> TileConfig:
        """The first kernel of `menu` that needs the least of `field`."""
        return min(menu, key=lambda t: needs[t.name][field][0])

    blocking = [field for field in needs[menu[0].name]
                if all(field in short(tile.name) for tile in menu)]
    if blocking:
        parts = []
        for field in blocking:
            tile = least(field)
            need, how = needs[tile.name][field]
            parts.append(f"{field} = {getattr(spec, field)}, but the least any kernel needs is "
                         f"{need} ({tile.name}: {how})")
        fix = ", ".join(f"{field} ≥ {min(needs[t.name][field][0] for t in menu)}"
                        for field in blocking)
    else:
        tile = min(menu, key=lambda t: len(short(t.name)))
        parts = [f"{field} = {getattr(spec, field)} < {needs[tile.name][field][0]} "
                 f"({needs[tile.name][field][1]})" for field in short(tile.name)]
        parts[0] = f"the nearest kernel, {tile.name}, needs more: {parts[0]}"
        fix = ", ".join(f"{field} ≥ {needs[tile.name][field][0]}" for field in short(tile.name))
    return SpecError(f"{spec.name}: no {precision.value} GEMM kernel of the menu fits on one SM: "
                     f"{'; '.join(parts)}; use {fix}")
