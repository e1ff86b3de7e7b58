"""GEMM kernels as a library ships them: a menu of CTA tiles modelled on cuBLAS/CUTLASS SIMT
sgemm kernels (the kernel names in the H200 Nsight Compute records: sm80_xmma_gemm_f32f32
tilesize{BM}x{BN}x8_stage3_warpsize{wm}x{wn}, cutlass_80_simt_sgemm_{BM}x{BN}_8x5) and their
tensor-core counterparts, and the per-warp instruction mix of one main-loop iteration.

A CTA computes a BM×BN block of C, stepping through K in slices of BK: each slice is copied
from global to shared memory asynchronously (`stages` slices in flight), then every thread
loads its fragments from shared memory and issues tm·tn·BK FFMAs for its tm×tn outputs.

A GPU without asynchronous copies (`GPUSpec.has_async_copy`, Volta and older) runs the same
tiles as CUTLASS's SIMT sm50/sm70 `MmaPipelined` kernels do: each thread loads its share of a
slice into registers (LDG) and stores it to shared memory (one STS per LDG), with two stages
in shared memory and one more slice in flight in registers (sm_sim.py times it). The menu's
register counts are kept: the registers that hold the slice in flight ((BM+BN)·BK / threads
per thread, e.g. 8 for 128×128×8 fp32) are an assumption left uncharged, taken to replace
the multistage kernel's per-stage addressing.

Warp-wide quantities (lanes per warp, bytes per warp instruction, the thread-tile layout)
follow the GPU's `warp_size`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from accelsim.precision import Precision

FLOAT_BYTES = 4
SETUP_OPS = 120  # dependent address and predicate arithmetic before the main loop
VECTOR_BYTES = 16  # LDGSTS.128 / LDS.128 / STG.128
# Without async copies (CUTLASS MmaPipelined): two stages in shared memory, one more slice in
# flight in registers.
STAGED_SHARED_STAGES = 2
STAGED_PIPELINE_DEPTH = STAGED_SHARED_STAGES + 1


@dataclass(frozen=True)
class TileConfig:
    """One kernel of the menu: CTA tile, warp layout, pipeline depth, register use."""

    name: str
    bm: int
    bn: int
    bk: int
    warps_m: int
    warps_n: int
    stages: int
    registers_per_thread: int
    tensor: bool = False  # tensor-core MMA instead of FFMA (fp16/bf16/int8)
    # Issue slots each math instruction takes: 1 for a GEMM's main loop; 2 where other
    # instructions are interleaved one for one with the math (see conv.py: cuDNN's
    # implicit-GEMM fprop kernels). The math pipe's occupancy is unchanged.
    math_issue_slots: int = 1
    # K slices from a copy's issue to their last use in the register-staged main loop (no
    # asynchronous copies): CUTLASS's MmaPipelined keeps 3 (two shared-memory stages and
    # one in registers); an older single-buffer kernel keeps 2 (blas.py).
    staged_depth: int = STAGED_PIPELINE_DEPTH

    @property
    def warps(self) -> int:
        return self.warps_m * self.warps_n

    def threads(self, warp_size: int) -> int:
        return warp_size * self.warps

    def thread_tile(self, warp_size: int) -> tuple[int, int]:
        """(tm, tn): outputs per thread, from the most square lane layout of a warp (lanes
        split as a power of two by the rest)."""
        warp_m, warp_n = self.bm // self.warps_m, self.bn // self.warps_n
        best = None
        for lanes_m in (2**i for i in range(warp_size.bit_length()) if warp_size % 2**i == 0):
            lanes_n = warp_size // lanes_m
            if warp_m % lanes_m or warp_n % lanes_n:
                continue
            tm, tn = warp_m // lanes_m, warp_n // lanes_n
            if best is None or abs(tm - tn) < abs(best[0] - best[1]):
                best = (tm, tn)
        return best or (max(1, warp_m * warp_n // warp_size), 1)

    def pipeline_depth(self, async_copy: bool) -> int:
        """K slices from the issue of their copy to their last use: `stages` with
        asynchronous copies, else the register-staged (MmaPipelined) mainloop's."""
        return self.stages if async_copy else self.staged_depth

    def shared_bytes(self, element_bytes: int, async_copy: bool) -> int:
        stages = self.stages if async_copy else STAGED_SHARED_STAGES
        return stages * (self.bm + self.bn) * self.bk * element_bytes


@dataclass(frozen=True)
class WarpProgram:
    """Warp-instruction counts of one CTA's kernel (per main-loop iteration where noted)."""

    setup: int  # address and predicate arithmetic before the loop
    global_loads: int  # LDGSTS (async copies to shared memory) or LDG per iteration
    shared_stores: int  # STS per iteration of the LDG registers (0 with async copies)
    shared_loads: int  # LDS.128 per inner k step (bk of them per iteration)
    math: int  # FFMA (or MMA) issue slots per inner k step (`math_issue_slots` each)
    inner_steps: int  # bk (SIMT) or bk / mma_k (tensor cores)
    loop_overhead: int  # integer ops and the branch per iteration
    stores: int  # STG in the epilogue
    epilogue: int  # epilogue arithmetic (alpha scaling, addresses) before the stores
    math_cycles: float  # pipe cycles one math instruction occupies on its scheduler
    load_bytes: int  # bytes one global-load (and its STS, if any) moves (per warp)
    store_bytes: int
    shared_load_bytes: int  # bytes one LDS.128 moves (per warp)


# SIMT fp32 menu: (BM, BN, warps_m, warps_n, stages, registers) as in the Nsight records.
SIMT_MENU = (
    TileConfig("simt_256x128x8_stage3", 256, 128, 8, 4, 2, 3, 254),
    TileConfig("simt_128x128x8_stage3", 128, 128, 8, 2, 4, 3, 254),
    TileConfig("simt_128x64x8_stage3", 128, 64, 8, 2, 2, 3, 224),
    TileConfig("simt_64x64x8_stage3", 64, 64, 8, 1, 4, 3, 121),
    TileConfig("simt_128x32x8_stage3", 128, 32, 8, 2, 2, 3, 118),
    TileConfig("simt_64x32x8_stage3", 64, 32, 8, 1, 2, 3, 121),
    TileConfig("simt_32x32x8_stage3", 32, 32, 8, 1, 2, 3, 80),
)
# Tensor-core menu (fp16/bf16/int8 operands, fp32/int32 accumulators): mma tiles of 16×8×16.
TENSOR_MENU = (
    TileConfig("tc_256x128x32_stage3", 256, 128, 32, 4, 2, 3, 232, tensor=True),
    TileConfig("tc_128x128x32_stage4", 128, 128, 32, 2, 2, 4, 168, tensor=True),
    TileConfig("tc_128x64x32_stage4", 128, 64, 32, 2, 2, 4, 128, tensor=True),
    TileConfig("tc_64x64x32_stage5", 64, 64, 32, 2, 2, 5, 96, tensor=True),
    TileConfig("tc_64x32x32_stage6", 64, 32, 32, 2, 1, 6, 96, tensor=True),
)


def element_bytes(precision: Precision) -> int:
    return precision.bytes


def warp_program(tile: TileConfig, precision: Precision, lanes_per_scheduler: float,
                 tensor_ops_per_cycle_per_scheduler: float, aligned: bool, warp_size: int,
                 async_copy: bool) -> WarpProgram:
    """The instruction mix of one warp of `tile` at `precision`."""
    ebytes = element_bytes(precision)
    tm, tn = tile.thread_tile(warp_size)
    slice_bytes = (tile.bm + tile.bn) * tile.bk * ebytes
    copy_bytes = VECTOR_BYTES if aligned else ebytes
    global_loads = math.ceil(slice_bytes / (tile.threads(warp_size) * copy_bytes))
    shared_stores = 0 if async_copy else global_loads
    outputs = tm * tn
    out_bytes = FLOAT_BYTES if precision.is_float and precision is Precision.FP32 else ebytes
    stores = math.ceil(outputs * out_bytes / (VECTOR_BYTES if aligned else out_bytes))
    if tile.tensor:
        mma_k = 16
        steps = tile.bk // mma_k
        warp_tile = (tile.bm // tile.warps_m) * (tile.bn // tile.warps_n)
        mmas = warp_tile // (16 * 8)  # m16n8k16 per warp
        ops_per_mma = 2 * 16 * 8 * mma_k
        frag_loads = math.ceil(((tile.bm // tile.warps_m) + (tile.bn // tile.warps_n)) * mma_k
                               * ebytes / (warp_size * VECTOR_BYTES))
        slots = tile.math_issue_slots
        return WarpProgram(setup=SETUP_OPS, global_loads=global_loads,
                           shared_stores=shared_stores, shared_loads=frag_loads,
                           math=mmas * slots, inner_steps=steps, loop_overhead=4,
                           stores=stores, epilogue=outputs + 20,
                           math_cycles=ops_per_mma / tensor_ops_per_cycle_per_scheduler / slots,
                           load_bytes=warp_size * copy_bytes,
                           store_bytes=warp_size * VECTOR_BYTES,
                           shared_load_bytes=warp_size * VECTOR_BYTES)
    shared = math.ceil(tm / 4) + math.ceil(tn / 4)
    return WarpProgram(setup=SETUP_OPS, global_loads=global_loads, shared_stores=shared_stores,
                       shared_loads=shared, math=tm * tn * tile.math_issue_slots,
                       inner_steps=tile.bk, loop_overhead=4, stores=stores,
                       epilogue=outputs + 20,
                       math_cycles=warp_size / lanes_per_scheduler / tile.math_issue_slots,
                       load_bytes=warp_size * copy_bytes,
                       store_bytes=warp_size * (VECTOR_BYTES if aligned else out_bytes),
                       shared_load_bytes=warp_size * VECTOR_BYTES)
