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
    ("mobilenetv2", 1, 2, 2_320), ("resnet18", 1, 1, 0),
    ("lstm-char", 1, 1, 0), ("lstm-char", 16, 1, 0), ("lstm-char", 64, 1, 0)])
def test_heap_refaults_match_the_pages_measured(net, batch, cores, measured):
    assert heap_pages(net, batch, cores) == pytest.approx(measured, rel=0.05, abs=2)


def test_a_onednn_convolution_allocates_as_traced():
    """LeNet-5's conv1 (one input channel: oneDNN reads NCHW) allocates its blocked weights and
    its output blocked to 16 lanes, then the NCHW output; conv3 (16 channels) also its
    input's blocked copy, freed with the weights before the NCHW output is allocated."""
    conv1, _, conv3 = [op for op in workload("lenet5", 1024).ops
                       if isinstance(op, Gemm) and op.conv is not None]
    blocked = 1024 * 16 * 28 * 28 * 4  # six channels padded to one 16-lane vector
    assert buffers.op_events(SPEC, conv1, "out") == [
        heap.Alloc("out.weights", 16 * 1 * 5 * 5 * 4), heap.Alloc("out.dst", blocked),
        heap.Free("out.weights"), heap.Alloc("out", 1024 * 6 * 28 * 28 * 4),
        heap.Free("out.dst")]
    kinds = [(type(e).__name__, e.key) for e in buffers.op_events(SPEC, conv3, "o")]
    assert kinds == [("Alloc", "o.src"), ("Alloc", "o.weights"), ("Alloc", "o.dst"),
                     ("Free", "o.weights"), ("Free", "o.src"), ("Alloc", "o"), ("Free", "o.dst")]


def test_resnet18_at_batch_1_refaults_nothing_as_measured():
    assert heap_pages("resnet18", 1) == 0


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


@pytest.mark.parametrize("threads", [1, 2])
def test_the_layer_harness_process_refaults_what_it_measured(threads):
    """Every conv case of torch_layers.cases() timed in one process, as the harness does:
    ru_minflt per call after three warm-up calls measured 3,335 pages for the first case
    (DeepSpeech's 5×20 layer) and 12,512 for the 224² first layer, none for the 67 others, at
    1 and 2 threads. Each later case inherits the thresholds the bigger ones raised."""
    from accelsim.measure import torch_layers
    from accelsim.validation import cpu_layers

    rows = [c for c in torch_layers.cases() if c["kind"] == "conv"]
    spec = SPEC.replace(cores=threads)
    faults = buffers.harness_refault_bytes(spec, [cpu_layers.harness_case(r) for r in rows])
    pages = {i: size // heap.PAGE_BYTES for i, size in enumerate(faults) if size}
    assert pages.keys() == {0, 11}
    assert (rows[0]["app"], rows[11]["app"], rows[11]["h"]) == ("DeepSpeech", "Vision", 224)
    assert pages[0] == pytest.approx(3_335, abs=10) and pages[11] == pytest.approx(12_512, abs=10)
    alone = buffers.harness_refault_bytes(spec, [cpu_layers.harness_case(rows[12])])
    assert alone[0] > 0  # the case after it refaults when it runs first in a process


def test_an_lstm_refaults_its_reordered_weights_every_call():
    """nn.LSTM(512) over 16 steps at batch 1, alone in a process: 2,058 pages a call measured
    (ru_minflt; 7.2 ms a call against 4.8 ms with glibc's thresholds fixed), its two 4 MiB
    weight matrices reordered into buffers freed on return."""
    from pathlib import Path

    from accelsim.nn.loader import build_network

    doc = {"name": "one-layer", "input_shape": [512], "sequence": True, "seq_len": 16,
           "layers": [{"name": "r", "type": "lstm", "hidden_size": 512}]}
    lstm = lower(build_network(doc, Path("one-layer.toml")), batch=1)
    refaults = buffers.heap_refault_bytes(SPEC, lstm)
    assert set(refaults) == {"r"}
    assert refaults["r"] // heap.PAGE_BYTES == pytest.approx(2_058, rel=0.05)


@pytest.mark.parametrize("batch", [1, 2, 4, 8, 16, 64, 256])
def test_the_char_lstm_refaults_nothing_at_any_batch(batch):
    """The char LSTM's 196 and 256 KiB weight copies sit among the process's small blocks:
    none of its forwards at batch 1-256 refaulted a heap page (measured at 1, 2, 4, 16 and 64
    on one thread; its 6,214 pages at batch 256 are oneDNN's mapped workspace, not the heap).
    At batch 2 its 256 KiB workspace equals its recurrent weights, the tie a smaller tracking
    floor would turn into a trim."""
    assert heap_pages("lstm-char", batch) == 0
