"""glibc's main arena (heap.py): the dynamic mmap and trim thresholds, best fit, coalescing,
and the faults of a call repeated in steady state, on event sequences traced from PyTorch."""

from __future__ import annotations

from accelsim.machines.cpu import heap
from accelsim.machines.cpu.heap import Alloc, Free, MainArena, steady_state_faults

MIB = 2**20


def pages(n: int) -> int:
    return n // heap.PAGE_BYTES


def test_a_big_buffer_is_mapped_until_freeing_it_raises_the_threshold():
    arena = MainArena()
    assert arena.malloc("a", 4 * MIB) == heap.mapped_bytes(4 * MIB)
    arena.free("a")
    assert arena.mmap_threshold == heap.mapped_bytes(4 * MIB)
    assert arena.trim_threshold == 2 * arena.mmap_threshold
    assert arena.malloc("b", 4 * MIB) == heap.chunk_bytes(4 * MIB)  # now from the heap
    assert arena.live["b"][0] == "heap"


def test_buffers_above_32_mib_never_raise_the_threshold():
    arena = MainArena()
    arena.malloc("a", 40 * MIB)
    arena.free("a")
    assert arena.mmap_threshold == heap.MMAP_THRESHOLD_START
    assert arena.malloc("b", 40 * MIB) == heap.mapped_bytes(40 * MIB)


def test_best_fit_reuses_the_smallest_free_chunk_and_faults_nothing():
    arena = MainArena(mmap_threshold=64 * MIB, trim_threshold=10**12)
    for key, size in (("a", 3 * MIB), ("x", MIB), ("b", 2 * MIB), ("y", MIB)):
        arena.malloc(key, size)
    arena.free("a")
    arena.free("b")
    assert arena.malloc("c", 2 * MIB) == 0
    assert arena.live["c"][1] == heap.chunk_bytes(3 * MIB) + heap.chunk_bytes(MIB)


def test_freed_neighbours_coalesce_into_the_top():
    arena = MainArena(mmap_threshold=64 * MIB, trim_threshold=10**12)
    for key in "abc":
        arena.malloc(key, MIB)
    arena.free("b")
    arena.free("a")
    assert arena.free_chunks == [(0, 2 * heap.chunk_bytes(MIB))]
    arena.free("c")
    assert arena.top == 0 and arena.free_chunks == []


def test_a_call_whose_buffers_reach_twice_its_largest_refaults_them_every_call():
    """Two equal buffers freed together reach the trim threshold (twice the largest mapped
    chunk, plus the top's pad); one of them alone never does."""
    two = [Alloc("a", 8 * MIB), Alloc("b", 8 * MIB), Free("a"), Free("b")]
    faults = steady_state_faults(two)
    assert faults.mapped_bytes == 0
    assert faults.heap_bytes == 2 * heap.chunk_bytes(8 * MIB) - heap.TOP_PAD  # the pad stays
    one = [Alloc("a", 8 * MIB), Free("a"), Alloc("b", 4 * MIB), Free("b")]
    assert steady_state_faults(one).heap_bytes == 0


def test_lenet5_batch_1024_as_traced_faults_what_it_measured():
    """LeNet-5 at batch 1,024 as an nn.Sequential (PyTorch 2.13, 1 thread; the allocations of
    64 KiB and more of one forward, traced with an LD_PRELOAD malloc logger): 21,921 pages a
    forward measured (ru_minflt), its 49 MiB blocked conv1 output mapped and conv1's and
    ReLU's 18.4 MiB outputs refaulted from the trimmed heap."""
    sizes = {"blocked1": 51380224, "conv1": 19267584, "relu1": 19267584, "pool1": 4816896,
             "idx1": 9633792, "conv2": 6553600, "blocked2": 6553600, "relu2": 6553600,
             "pool2": 1638400, "idx2": 3276800}
    a = {k: Alloc(k, v) for k, v in sizes.items()}
    forward = [a["blocked1"], a["conv1"], Free("blocked1"), a["relu1"], Free("conv1"),
               a["pool1"], a["idx1"], Free("idx1"), Free("relu1"), a["blocked2"], a["conv2"],
               Free("blocked2"), Free("pool1"), a["relu2"], Free("conv2"), a["pool2"],
               a["idx2"], Free("idx2"), Free("relu2"), Free("pool2")]
    faults = steady_state_faults(forward, [Alloc("input", 4 * MIB)])
    assert pages(faults.mapped_bytes) + pages(faults.heap_bytes) in range(21_900, 21_930)
    assert set(faults.heap) >= {"conv1", "relu1"} and not faults.mapped.keys() - {"blocked1"}
