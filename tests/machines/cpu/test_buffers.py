"""A forward's buffers as PyTorch allocates them (buffers.py), and the heap pages each forward
faults in again, against ru_minflt counts measured on the 2-vCPU EPYC Zen 4 host (module
docstring of buffers.py)."""

from __future__ import annotations

import pytest

from accelsim.ir import Gemm
from accelsim.lower import lower
from accelsim.machines.cpu import buffers, heap
from accelsim.machines.cpu.core import CPU
from accelsim.machines.results import Category
from accelsim.measure.recorded import read, spec_of
from accelsim.nn.loader import load_network
from accelsim.precision import Precision

# the host the counts were measured on, as recorded (16 lanes: AVX-512)
SPEC = spec_of(read("cpu-epyc-zen4-2vcpu-2026-12-07.json")).replace(cores=1)


def workload(net: str, batch: int):
    return lower(load_network(net, weights="none"), batch)


def heap_pages(net: str, batch: int, cores: int = 1) -> int:
    spec = SPEC.replace(cores=cores)
    return sum(buffers.heap_refault_bytes(spec, workload(net, batch)).values()) \
        // heap.PAGE_BYTES


@pytest.mark.parametrize(("net", "batch", "cores", "measured"), [
    ("lenet5", 1024, 1, 21_921 - 12_545),  # all faults less the mapped 49 MiB conv1 output
    ("lenet5", 256, 1, 0), ("lenet5", 64, 1, 0),
    ("resnet-digits", 16, 1, 480), ("resnet-digits", 1, 1, 0),
    ("mobilenetv2", 1, 2, 2_320)])
def test_heap_refaults_match_the_pages_measured(net, batch, cores, measured):
    assert heap_pages(net, batch, cores) == pytest.approx(measured, rel=0.05, abs=2)


def test_a_onednn_convolution_allocates_its_blocked_output_then_the_plain_one():
    conv = next(op for op in workload("lenet5", 1024).ops
                if isinstance(op, Gemm) and op.conv is not None)
    temps, out = buffers.op_buffers(SPEC, conv)
    assert out == 1024 * 6 * 28 * 28 * 4
    assert temps == (1024 * 16 * 28 * 28 * 4,)  # six channels padded to one 16-lane vector


def test_events_free_every_buffer_but_the_input_once_its_last_reader_ran():
    events, input_bytes = buffers.forward_events(SPEC, workload("resnet-digits", 4))
    allocated = [e.key for e in events if isinstance(e, heap.Alloc)]
    freed = [e.key for e in events if isinstance(e, heap.Free)]
    assert sorted(allocated) == sorted(freed) and len(set(freed)) == len(freed)
    assert input_bytes == 4 * 32 * 32 * 4
    # the pooling's output is read by block1_conv1 and, later, by block1_add
    assert events.index(heap.Free("pool#0")) > events.index(heap.Alloc("block1_add#0",
                                                                       4 * 16 * 16 * 16 * 4))


def test_the_forward_charges_the_refaults_to_the_layers_that_touch_them():
    lenet = workload("lenet5", 1024)
    refaults = buffers.heap_refault_bytes(SPEC, lenet)
    assert {layer for layer, size in refaults.items() if size} == {"conv1", "relu1"}
    with_heap = CPU(SPEC).time_workload(lenet, Precision.FP32)
    by_layer = {r.layer: r for r in with_heap.layers}
    for layer in ("conv1", "relu1"):
        extra = buffers.refault_s(SPEC, refaults[layer], by_layer[layer].detail.threads)
        assert by_layer[layer].time[Category.MEMORY_STALL] >= extra > 0


def test_a_view_keeps_its_source_alive_until_the_view_is_read_too():
    """resnet-digits' flatten is a view of the pooled output: the buffer is freed once, after
    fc has read the view."""
    events, _ = buffers.forward_events(SPEC, workload("resnet-digits", 4))
    frees = [e.key for e in events if isinstance(e, heap.Free)]
    assert frees.count("gap#0") == 1
    assert events.index(heap.Free("gap#0")) > events.index(heap.Alloc("fc#0", 4 * 10 * 4))
