"""The buffers one eager PyTorch forward allocates and frees, in order, and the pages of them
glibc's heap gives back and faults in again on every forward (heap.py).

Each layer's op allocates what PyTorch allocates for it (traced with an LD_PRELOAD malloc
logger on PyTorch 2.13, 2-vCPU EPYC Zen 4 host): a oneDNN convolution its output blocked to
whole vectors of channels, then the NCHW output, freeing the blocked one; ATen's slow_conv2d
its columns buffer for the batch (none for an unpadded, unstrided 1×1) and its output; a max
pooling its output and the int64 argmax indices, freed at once; everything else its output. A
layer's output is freed once the last layer reading it has run (Python drops the tensor), the
network's result when the caller drops it, the input never. A layer without ops (a flatten)
hands on its input's buffer. Recurrent layers allocate their output sequence only (their
oneDNN workspaces are not modelled).

Checked against ru_minflt per steady-state forward on that host, every layer's output freed
after its last reader: resnet-digits 480 pages at batch 16 (measured 480), LeNet-5 at batch
1,024 9,377 heap pages besides its mapped 49 MiB blocked conv1 output (measured 21,921 in all),
MobileNetV2 at batch 1 on two threads 2,320 (measured 2,320; on one thread 2,600-4,400 in one
process, none in another).
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Iterator

from accelsim.ir import Gemm, LayerOps, Pool, PoolKind, Transfer, Vector, Workload
from accelsim.machines.cpu import heap
from accelsim.machines.cpu.blis import FLOAT
from accelsim.machines.cpu.framework import TorchOpDetail, uses_onednn
from accelsim.machines.cpu.spec import CPUSpec
from accelsim.machines.results import Breakdown, Category, OpResult
from accelsim.precision import Precision

INDEX_BYTES = 8  # max pooling's argmax indices are int64


def op_buffers(spec: CPUSpec, op: Gemm | Vector | Pool) -> tuple[tuple[int, ...], int]:
    """(bytes of the transient buffers, bytes of the output) of one op (module docstring)."""
    if isinstance(op, Gemm):
        out = op.m * op.n * op.groups * FLOAT
        g = op.conv
        if g is None:
            return (), out
        if uses_onednn(op, g, spec.cores):
            lanes = spec.simd_lanes
            vectors = math.ceil(op.n * op.groups / lanes) if g.depthwise \
                else math.ceil(op.n / lanes) * op.groups
            return (op.m * vectors * lanes * FLOAT,), out
        direct = g.kernel == (1, 1) and g.stride == (1, 1) and not any(g.padding)
        return ((), out) if direct else ((op.m * op.k * FLOAT,), out)
    if isinstance(op, Pool):
        out = op.elements * FLOAT
        return ((op.elements * INDEX_BYTES,), out) if op.kind is PoolKind.MAX else ((), out)
    return (), op.elements * FLOAT


def layer_output_bytes(layer: LayerOps) -> int:
    rec = layer.recurrence
    assert rec is not None
    return rec.gates.m * rec.steps * rec.hidden * FLOAT


def forward_events(spec: CPUSpec, workload: Workload) -> tuple[list[heap.Event], int]:
    """(the forward's allocations and frees in order, the held input's bytes)."""
    readers = Counter(name for layer in workload.layers for name in layer.inputs)
    holder: dict[str, str] = {}  # layer name -> key of the buffer holding its output
    pending: Counter[str] = Counter()  # buffer key -> reads still to come (views included)
    events: list[heap.Event] = []
    input_bytes = 0
    for layer in workload.layers:
        if layer.transfer:
            if not layer.inputs:  # the input transfer: the caller's tensor, held
                input_bytes = sum(op.bytes(Precision.FP32) for op in layer.ops
                                  if isinstance(op, Transfer))
                holder[layer.name] = "input"
            continue
        events += list(layer_events(spec, layer, holder))
        pending[holder[layer.name]] += readers[layer.name]
        for name in layer.inputs:
            key = holder.get(name, "input")
            pending[key] -= 1
            if pending[key] == 0 and key != "input":
                events.append(heap.Free(key))
    last = workload.layers[-1]
    result = holder.get(last.inputs[0] if last.transfer and last.inputs else last.name)
    if result and result != "input" and not any(
            isinstance(e, heap.Free) and e.key == result for e in events):
        events.append(heap.Free(result))
    return events, input_bytes


def layer_events(spec: CPUSpec, layer: LayerOps,
                 holder: dict[str, str]) -> Iterator[heap.Event]:
    """One layer's allocations and frees; records the key of its output's buffer."""
    if layer.recurrence is not None:
        holder[layer.name] = layer.name
        yield heap.Alloc(layer.name, layer_output_bytes(layer))
        return
    ops = [op for op in layer.ops if not isinstance(op, Transfer)]
    if not ops:  # a view of its input
        holder[layer.name] = holder.get(layer.inputs[0], "input") if layer.inputs else "input"
        return
    previous = ""
    for i, op in enumerate(ops):
        temps, out = op_buffers(spec, op)
        keys = [f"{layer.name}#{i}.temp{j}" for j in range(len(temps))]
        yield from (heap.Alloc(k, size) for k, size in zip(keys, temps, strict=True))
        key = f"{layer.name}#{i}"
        yield heap.Alloc(key, out)
        yield from (heap.Free(k) for k in keys)
        if previous:
            yield heap.Free(previous)
        previous = key
    holder[layer.name] = previous


def call_refault_bytes(spec: CPUSpec, op: Gemm | Vector | Pool) -> int:
    """Bytes one op called back to back (its result dropped each time) faults in from the heap
    on every call, in a process that has run nothing else of its size."""
    temps, out = op_buffers(spec, op)
    keys = [f"temp{j}" for j in range(len(temps))]
    events: list[heap.Event] = [heap.Alloc(k, size) for k, size in zip(keys, temps, strict=True)]
    events += [heap.Alloc("out", out), *(heap.Free(k) for k in keys), heap.Free("out")]
    return heap.steady_state_faults(events).heap_bytes


def refault_s(spec: CPUSpec, size_bytes: float, threads: int) -> float:
    """Heap pages faulted in again, by the threads that write them."""
    return size_bytes / heap.PAGE_BYTES * spec.page_fault_s / max(threads, 1)


def with_refaults(spec: CPUSpec, result: OpResult, size_bytes: int) -> OpResult:
    """`result` with its heap refaults' seconds (`refault_s`) added as memory stall."""
    if size_bytes <= 0:
        return result
    threads = result.detail.threads if isinstance(result.detail, TorchOpDetail) else 1
    extra = refault_s(spec, size_bytes, threads)
    time = Breakdown.total_of([result.time, Breakdown.of({Category.MEMORY_STALL: extra})])
    seconds = result.seconds + extra
    return dataclasses.replace(result, seconds=seconds, cycles=seconds * spec.clock_hz,
                               time=time)


def heap_refault_bytes(spec: CPUSpec, workload: Workload) -> dict[str, int]:
    """Bytes each layer's buffers fault in from the heap on every forward of `workload` run
    back to back (heap.steady_state_faults), by layer name; mapped buffers are left to
    framework.fault_s, which charges them per op."""
    events, input_bytes = forward_events(spec, workload)
    held = [heap.Alloc("input", input_bytes)] if input_bytes else []
    faults = heap.steady_state_faults(events, held)
    by_layer: dict[str, int] = {}
    for key, size in faults.heap.items():
        layer = key.rsplit("#", 1)[0]
        by_layer[layer] = by_layer.get(layer, 0) + size
    return by_layer
