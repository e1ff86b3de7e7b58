"""A set-associative LRU cache hierarchy, simulated access by access (numba), and the address
trace of the blocked GEMM loop nest, to check blis.traffic() on small shapes.

The trace follows blis.py's loops with its blocking: packing B and A (reads of the source,
writes of the packed buffer), then every micro-kernel call (its A and B micro-panels, one
vector of each per k, and its C tile read and written back). Each level counts the cache
lines it had to fetch from the level below. The twin of the numba simulation, written
separately with an OrderedDict per set, is `simulate_hierarchy_reference` in
tests/machines/cpu/test_cachesim_reference.py; the tests assert the two agree.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from accelsim.machines.cpu.blis import FLOAT, LINE, Blocking, blocking
from accelsim.machines.cpu.spec import CPUSpec

A_BASE, B_BASE, C_BASE, PA_BASE, PB_BASE = (i << 32 for i in range(1, 6))


@numba.njit(cache=True)
def simulate_hierarchy(lines: np.ndarray, sets: np.ndarray, ways: np.ndarray) -> np.ndarray:
    """Line fills per level for an access stream of line numbers: an access walks down the
    LRU levels until one hits, each level that missed filling the line (no back-invalidation
    when a lower level evicts)."""
    levels = sets.shape[0]
    max_sets, max_ways = sets.max(), ways.max()
    tags = np.full((levels, max_sets, max_ways), -1, np.int64)
    stamp = np.zeros((levels, max_sets, max_ways), np.int64)
    fills = np.zeros(levels, np.int64)
    for t in range(lines.shape[0]):
        line = lines[t]
        for lv in range(levels):
            s = line % sets[lv]
            hit = -1
            for w in range(ways[lv]):
                if tags[lv, s, w] == line:
                    hit = w
                    break
            if hit >= 0:
                stamp[lv, s, hit] = t + 1
                break
            fills[lv] += 1
            victim = 0
            for w in range(1, ways[lv]):
                if stamp[lv, s, w] < stamp[lv, s, victim]:
                    victim = w
            tags[lv, s, victim] = line
            stamp[lv, s, victim] = t + 1
    return fills


def _pack_trace(out: list, spec: CPUSpec, m: int, k: int, n: int, blk: Blocking) -> None:
    """Addresses of one full run of the loop nest, appended to `out` (byte addresses)."""
    for jc in range(0, n, blk.nc):
        nc = min(blk.nc, n - jc)
        for pc in range(0, k, blk.kc):
            kc = min(blk.kc, k - pc)
            rows = np.arange(pc, pc + kc)[:, None]
            cols = np.arange(jc, jc + nc)[None, :]
            out.append((B_BASE + (rows * n + cols) * FLOAT).ravel())
            out.append(PB_BASE + np.arange(kc * nc) * FLOAT)
            for ic in range(0, m, blk.mc):
                mc = min(blk.mc, m - ic)
                rows_a = np.arange(ic, ic + mc)[:, None]
                cols_a = np.arange(pc, pc + kc)[None, :]
                out.append((A_BASE + (rows_a * k + cols_a) * FLOAT).ravel())
                out.append(PA_BASE + np.arange(mc * kc) * FLOAT)
                _kernel_trace(out, spec, ic, jc, mc, nc, kc, n)


def _kernel_trace(out: list, spec: CPUSpec, ic: int, jc: int, mc: int, nc: int, kc: int,
                  n: int) -> None:
    mr, nr = spec.mr, spec.nr
    for jr in range(0, nc, nr):
        for ir in range(0, mc, mr):
            steps = np.arange(kc)[:, None]
            a_rows = PA_BASE + (ir * kc + steps * mr) * FLOAT  # mr values of A per k step
            b_rows = PB_BASE + (jr * kc + steps * nr) * FLOAT  # nr values of B per k step
            a_parts = a_rows + np.arange(0, mr * FLOAT, LINE)[None, :]
            b_parts = b_rows + np.array([0, nr * FLOAT - FLOAT])[None, :]
            out.append(np.concatenate([a_parts, b_parts], axis=1).ravel())
            rows = np.arange(ic + ir, min(ic + ir + mr, ic + mc))[:, None]
            cols = np.arange(jc + jr, min(jc + jr + nr, jc + nc))[None, :]
            c_tile = (C_BASE + (rows * n + cols) * FLOAT).ravel()
            out.extend([c_tile, c_tile])


def gemm_trace(spec: CPUSpec, m: int, k: int, n: int) -> np.ndarray:
    """Cache-line numbers touched by the blocked GEMM, in program order (duplicates of
    consecutive accesses to the same line removed)."""
    out: list[np.ndarray] = []
    _pack_trace(out, spec, m, k, n, blocking(spec, m, k, n))
    lines = np.concatenate(out) // LINE
    keep = np.ones(len(lines), bool)
    keep[1:] = lines[1:] != lines[:-1]
    return lines[keep].astype(np.int64)


def hierarchy_shape(spec: CPUSpec) -> tuple[np.ndarray, np.ndarray]:
    """(sets, ways) of L1, L2, L3 with 8-, 8- and 16-way associativity."""
    ways = np.array([8, 8, 16], np.int64)
    sizes = np.array([spec.l1_bytes, spec.l2_bytes, spec.l3_bytes // spec.cores], np.int64)
    return np.maximum(sizes // (LINE * ways), 1), ways


def simulated_traffic(spec: CPUSpec, m: int, k: int, n: int) -> dict[str, int]:
    """Bytes filled into L1, L2 and L3 (from the level below) for one single-thread GEMM."""
    sets, ways = hierarchy_shape(spec)
    fills = simulate_hierarchy(gemm_trace(spec, m, k, n), sets, ways)
    return {name: int(f) * LINE for name, f in zip(("l1", "l2", "l3"), fills, strict=True)}


def analytical_traffic(spec: CPUSpec, m: int, k: int, n: int) -> dict[str, int]:
    """The same fills estimated from the blocking, under blis.py's residency assumptions.

    L1: the packed A block stays in L1 when it fits in 80% of it, else every micro-kernel
    call streams its A panel from L2; each B micro-panel arrives once per ic block; each C
    tile's rows arrive once per kc block; packing streams the source and the buffer.
    L2: the packed A block once, the B panel once (once per ic block when it does not fit in
    L2 beside the A block), C once per kc block, and the
    packing's source. L3: compulsory lines of A, B, C and the two (reused) packed buffers; a
    level that holds all of those sees only those compulsory fills.
    """
    blk = blocking(spec, m, k, n)
    tiles_m, tiles_n = math.ceil(m / spec.mr), math.ceil(n / spec.nr)
    k_blocks, col_blocks = math.ceil(k / blk.kc), math.ceil(n / blk.nc)
    row_blocks = math.ceil(m / blk.mc)
    a_bytes, b_bytes = m * k * FLOAT, k * n * FLOAT
    c_bytes = m * math.ceil(n * FLOAT / LINE) * LINE
    a_stays = blk.mc * blk.kc * FLOAT <= 0.8 * spec.l1_bytes
    a_l1 = a_bytes * col_blocks if a_stays else tiles_m * spec.mr * k * FLOAT * tiles_n
    lines_per_row = (spec.nr * FLOAT + LINE - FLOAT) / LINE  # a row of a C tile spans lines
    l1 = (a_l1 + row_blocks * tiles_n * spec.nr * k * FLOAT
          + tiles_m * tiles_n * spec.mr * lines_per_row * LINE * k_blocks
          + 2 * (a_bytes * col_blocks + b_bytes))
    b_stays = (blk.mc + blk.nc) * blk.kc * FLOAT <= spec.l2_bytes  # B panel kept in L2
    l2 = 2 * a_bytes * col_blocks + (2 if b_stays else row_blocks + 1) * b_bytes \
        + c_bytes * k_blocks
    buffers = (min(blk.mc, m) + min(blk.nc, n)) * min(blk.kc, k) * FLOAT
    footprint = a_bytes + b_bytes + c_bytes + buffers  # compulsory: every line once
    if footprint <= 0.8 * spec.l1_bytes:
        l1 = footprint
    if footprint <= 0.8 * spec.l2_bytes:
        l2 = footprint
    return {"l1": int(l1), "l2": int(l2), "l3": int(footprint)}
