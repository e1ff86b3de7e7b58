"""glibc malloc's main arena as a call repeated call after call sees it: which bytes of the
call's big buffers land on pages the kernel must fault in (and zero) again on every call.

PyTorch's CPU allocator takes every tensor from glibc's malloc (posix_memalign, 64-byte
aligned). glibc (malloc/malloc.c, 2.26 onwards; the 2.36 of the development host) serves a
request

- at or above the mmap threshold from a fresh anonymous mapping, unmapped again on free: all its
  pages fault on first touch, every call. The threshold starts at 128 KiB and is dynamic:
  freeing a mapped chunk larger than the threshold (and at most `MMAP_THRESHOLD_MAX`, 32 MiB on
  64-bit) raises it to that chunk's size, and the trim threshold to twice that;
- below it from the heap: the smallest free chunk that fits (split, the rest stays free), else
  the top of the heap, which grows by the request plus `TOP_PAD`.

A freed heap chunk coalesces with free neighbours, and into the top where it borders it; once
the top reaches the trim threshold, glibc gives all of it but `TOP_PAD` back to the kernel
(systrim). Pages given back fault in again when a later call's buffers reach them.

So a call whose buffers, all freed by its end, add up to twice its largest one refaults them all
on every call, while one buffer more or less keeps the top below the threshold and faults
nothing. Measured on the 2-vCPU EPYC Zen 4 host with glibc 2.36 (PyTorch 2.13, ru_minflt per
forward, steady state): LeNet-5 at batch 1,024 as an nn.Sequential faults 21,921 pages a
forward, its 49 MiB blocked conv1 output (mapped every call) and the 36.6 MiB of conv1's and
ReLU's outputs (the trimmed heap); with `MALLOC_TRIM_THRESHOLD_` and `MALLOC_MMAP_THRESHOLD_`
fixed, none. What this model leaves out: buffers below `TRACKED_BYTES` and whatever else the
process holds, whose place in the heap turns on its history (a small block left at the top
stops every trim: MobileNetV2 at batch 1 on one thread faults 2,600-4,400 pages a forward in
one process and none in another).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

PAGE_BYTES = 4096
MMAP_THRESHOLD_START = 128 * 1024  # DEFAULT_MMAP_THRESHOLD_MIN
MMAP_THRESHOLD_MAX = 32 * 2**20  # DEFAULT_MMAP_THRESHOLD_MAX, 64-bit
TOP_PAD = 128 * 1024  # DEFAULT_TOP_PAD
CHUNK_OVERHEAD = 16  # a chunk's size field and the alignment of its size
ALIGNMENT_SLACK = 64  # posix_memalign(64) asks malloc for this much more
# Buffers below this come and go among the process's small blocks, which the model does not
# follow (it treats them as living elsewhere). Chosen from the counts buffers.py is checked on:
# at 64 KiB the char LSTM at batch 1 refaults 112 pages a forward, at 256 KiB at batch 2 96
# pages, where both measure none (their 196 and 256 KiB weight copies sit among small blocks);
# from 512 KiB to 1 MiB every count is the same but MobileNetV2's on two threads (2,418 below
# 1 MiB, 2,320 at 1 MiB; measured 2,320), and 1 MiB would sit on resnet-digits' 1 MiB outputs.
TRACKED_BYTES = 512 * 1024
WARMUP_CALLS = 3  # calls before the one whose faults count: thresholds settle in two


@dataclass(frozen=True)
class Alloc:
    """A buffer of `size` bytes, named `key`, allocated and then written whole."""

    key: str
    size: int


@dataclass(frozen=True)
class Free:
    key: str


Event = Alloc | Free


def round_up(n: int, to: int) -> int:
    return -(-n // to) * to


def chunk_bytes(size: int) -> int:
    """The heap chunk glibc carves for a 64-byte-aligned request of `size` bytes."""
    return round_up(size + ALIGNMENT_SLACK + CHUNK_OVERHEAD, 16)


def mapped_bytes(size: int) -> int:
    """The mapping glibc makes for a request at or above the mmap threshold."""
    return round_up(size + ALIGNMENT_SLACK + CHUNK_OVERHEAD, PAGE_BYTES)


@dataclass
class MainArena:
    """The main arena's heap (addresses from 0 up), its free chunks, the top chunk and the
    dynamic thresholds; `resident` is the end of the pages touched and not given back."""

    mmap_threshold: int = MMAP_THRESHOLD_START
    trim_threshold: int = MMAP_THRESHOLD_START
    top: int = 0  # the top chunk starts here
    brk: int = 0  # and ends here
    resident: int = 0
    free_chunks: list[tuple[int, int]] = field(default_factory=list)  # (address, bytes)
    live: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # key: where, at, bytes

    def malloc(self, key: str, size: int) -> int:
        """Allocate and write `size` bytes; return the bytes that faulted."""
        if size + ALIGNMENT_SLACK + CHUNK_OVERHEAD >= self.mmap_threshold:
            mapped = mapped_bytes(size)
            self.live[key] = ("mmap", 0, mapped)
            return mapped
        chunk = chunk_bytes(size)
        address = self._best_fit(chunk)
        if address is None:
            address = self.top
            if self.brk - self.top < chunk:
                self.brk = round_up(self.top + chunk + TOP_PAD, PAGE_BYTES)
            self.top += chunk
        self.live[key] = ("heap", address, chunk)
        fresh = max(0, address + chunk - max(address, self.resident))
        self.resident = max(self.resident, address + chunk)
        return fresh

    def free(self, key: str) -> None:
        where, address, chunk = self.live.pop(key)
        if where == "small":
            return
        if where == "mmap":
            if self.mmap_threshold < chunk <= MMAP_THRESHOLD_MAX:
                self.mmap_threshold = chunk
                self.trim_threshold = 2 * chunk
            return
        address, chunk = self._coalesce(address, chunk)
        if address + chunk == self.top:
            self.top = address
        else:
            bisect.insort(self.free_chunks, (address, chunk))
        if self.brk - self.top >= self.trim_threshold:
            self.brk = self.top + round_up(TOP_PAD, PAGE_BYTES)
            self.resident = min(self.resident, self.brk)

    def _best_fit(self, chunk: int) -> int | None:
        fits = [(size, address) for address, size in self.free_chunks if size >= chunk]
        if not fits:
            return None
        size, address = min(fits)
        self.free_chunks.remove((address, size))
        if size > chunk:
            bisect.insort(self.free_chunks, (address + chunk, size - chunk))
        return address

    def _coalesce(self, address: int, chunk: int) -> tuple[int, int]:
        i = bisect.bisect_left(self.free_chunks, (address, 0))
        if i < len(self.free_chunks) and self.free_chunks[i][0] == address + chunk:
            chunk += self.free_chunks.pop(i)[1]
        if i > 0 and sum(self.free_chunks[i - 1]) == address:
            before, size = self.free_chunks.pop(i - 1)
            address, chunk = before, chunk + size
        return address, chunk


@dataclass(frozen=True)
class CallFaults:
    """Bytes each allocation of one steady-state call faulted: `mapped` (a fresh mapping every
    call) and `heap` (heap pages given back by a trim and touched again)."""

    mapped: dict[str, int]
    heap: dict[str, int]

    @property
    def heap_bytes(self) -> int:
        return sum(self.heap.values())

    @property
    def mapped_bytes(self) -> int:
        return sum(self.mapped.values())


def steady_state_faults(call: Sequence[Event], held: Iterable[Alloc] = (),
                        warmup_calls: int = WARMUP_CALLS) -> CallFaults:
    """The faults of `call` (its events in order; every buffer it allocates it frees, the
    result included, as a caller dropping it does) after `warmup_calls` calls of it, in a
    process that first allocated `held` (the input, kept) and nothing else of note."""
    arena = MainArena()
    for buffer in held:
        arena.malloc(buffer.key, buffer.size)
    for _ in range(warmup_calls):
        run(arena, call)
    return run(arena, call)


def run(arena: MainArena, call: Sequence[Event]) -> CallFaults:
    """One call on `arena`; its faults."""
    mapped: dict[str, int] = {}
    heap: dict[str, int] = {}
    for event in call:
        if isinstance(event, Free):
            arena.free(event.key)
        elif event.size >= TRACKED_BYTES:
            fresh = arena.malloc(event.key, event.size)
            (mapped if arena.live[event.key][0] == "mmap" else heap)[event.key] = fresh
        else:
            arena.live[event.key] = ("small", 0, 0)
    return CallFaults(mapped, heap)
