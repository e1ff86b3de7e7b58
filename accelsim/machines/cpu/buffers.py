"""The buffers eager PyTorch allocates and frees, in order, and the pages of them glibc's heap
gives back and faults in again on every call (heap.py): in a network's forward
(`heap_refault_bytes`) and in a process timing single layers one after another
(`harness_refault_bytes`, as measure/torch_layers.py does).

Each op allocates what PyTorch 2.13 allocates for it, as an LD_PRELOAD malloc logger traced it
on the 2-vCPU EPYC Zen 4 host (`op_events`):
- a oneDNN convolution: the input's blocked copy (none where the kernel reads NCHW: fewer input
  channels than lanes), the blocked weights, the output blocked to whole vectors of channels;
  then frees the weights and the input copy, allocates the NCHW output and frees the blocked one;
- ATen's slow_conv2d: its columns buffer for the batch (none for an unpadded, unstrided 1×1),
  then its output;
- a max pooling: its output and the int64 argmax indices, freed at once;
- everything else: its output.

A layer's output is freed once the last layer reading it (or a view of it) has run, as Python
drops the tensor; the network's result when the caller drops it; the input never. A layer
without ops (a flatten) is a view of its input. A recurrent layer allocates its output
sequence, an LSTM also an input copy, its two reordered weight matrices and a workspace of
gates for the call (`recurrent_events`).

Checked against ru_minflt on that host, per forward in steady state, every output freed after
its last reader:

| forward | model | measured |
|---|---|---|
| LeNet-5 b1,024 | 9,376 heap pages + the mapped 49 MiB | 21,921 in all |
| resnet-digits b16 | 480 | 480 |
| resnet-digits b1; LeNet-5 b64, b256 | 0 | 0 |
| ResNet-18 b1 | 0 | 0 |
| MobileNetV2 b1, 2 threads | 2,418 | 2,320 |
| char LSTM b1, b16, b64 | 0 | 0 |
| nn.LSTM(512), 16 steps, b1, alone | 2,016 | 2,058 |

Per call, for every conv case of torch_layers.cases() timed in one process: 3,335 and 12,512
pages for the two cases that fault (DeepSpeech's 5×20 layer, the 224² first layer), none for
the other 67; measured the same.

What the model cannot know is the rest of the process. Freed holes and small blocks stop a trim:
- resnet-digits b64: the model says 2,016 pages; measured none in most processes, 2,016 in
  others;
- MobileNetV2 on one thread: the model says 2,320; measured 2,600–4,400 in one process, none
  in another.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Iterator, Sequence

from accelsim.ir import (
    CellKind,
    Gemm,
    LayerOps,
    Pool,
    PoolKind,
    Recurrence,
    Transfer,
    Vector,
    Workload,
)
from accelsim.machines.cpu import heap
from accelsim.machines.cpu.blis import FLOAT
from accelsim.machines.cpu.framework import (
    TorchOpDetail,
    lstm_scratchpad_bytes,
    pages_s,
    reads_nchw,
    uses_onednn,
)
from accelsim.machines.cpu.spec import CPUSpec
from accelsim.machines.results import Breakdown, Category, OpResult
from accelsim.precision import Precision

INDEX_BYTES = 8  # max pooling's argmax indices are int64


def op_events(spec: CPUSpec, op: Gemm | Vector | Pool, out: str) -> list[heap.Event]:
    """One op's allocations and frees in order (module docstring), its output allocated under
    the key `out` and left allocated."""
    result = op_output_bytes(op)
    if isinstance(op, Gemm) and op.conv is not None:
        g = op.conv
        if uses_onednn(op, g, spec.cores):
            return onednn_conv_events(spec, op, out)
        direct = g.kernel == (1, 1) and g.stride == (1, 1) and not any(g.padding)
        if not direct:  # slow_conv2d's columns for the batch
            return [heap.Alloc(f"{out}.columns", op.m * op.k * FLOAT), heap.Alloc(out, result),
                    heap.Free(f"{out}.columns")]
    if isinstance(op, Pool) and op.kind is PoolKind.MAX:
        return [heap.Alloc(out, result), heap.Alloc(f"{out}.indices", op.elements * INDEX_BYTES),
                heap.Free(f"{out}.indices")]
    return [heap.Alloc(out, result)]


def op_output_bytes(op: Gemm | Vector | Pool) -> int:
    if isinstance(op, Gemm):
        return op.m * op.n * op.groups * FLOAT
    return op.elements * FLOAT


def onednn_conv_events(spec: CPUSpec, op: Gemm, out: str) -> list[heap.Event]:
    """mkldnn_convolution as traced: the input's blocked copy (unless the kernel reads NCHW:
    fewer input channels than lanes), the blocked weights, the blocked output; the weights and
    input copies freed; then the NCHW output, and the blocked output freed."""
    g, lanes = op.conv, spec.simd_lanes
    assert g is not None
    vectors = math.ceil(op.n * op.groups / lanes) if g.depthwise \
        else math.ceil(op.n / lanes) * op.groups
    batch = op.m // (g.out_hw[0] * g.out_hw[1])
    flat = reads_nchw(spec, g)
    copies = [] if flat else [heap.Alloc(f"{out}.src", batch * math.ceil(g.in_channels / lanes)
                                         * lanes * g.in_hw[0] * g.in_hw[1] * FLOAT)]
    weights = vectors * lanes * g.in_channels_per_group * g.kernel[0] * g.kernel[1] * FLOAT
    copies.append(heap.Alloc(f"{out}.weights", weights))
    return [*copies, heap.Alloc(f"{out}.dst", op.m * vectors * lanes * FLOAT),
            *(heap.Free(c.key) for c in reversed(copies)),
            heap.Alloc(out, op_output_bytes(op)), heap.Free(f"{out}.dst")]


def recurrent_events(rec: Recurrence, out: str) -> list[heap.Event]:
    """A recurrent layer's allocations, its output sequence under `out` left allocated. An
    LSTM runs oneDNN's RNN primitive, which (traced) takes a time-major copy of the input, then
    the output, its layer and recurrent weights reordered into buffers of its own, and its
    scratchpad (framework.lstm_scratchpad_bytes; mapped fresh above 32 MiB, its touched pages
    then charged by framework.lstm_scratchpad_fault_s), all but the output freed when it
    returns: nn.LSTM(512)
    over 16 steps at batch 1, alone in a process, faults its two 4 MiB weight buffers in again
    on every call (2,058 pages measured, 2,016 modelled); the char LSTM's 8 MiB workspace at
    batch 64 keeps its 0.4 MiB of weights from ever being trimmed (0 measured and modelled)."""
    output = heap.Alloc(out, rec.gates.m * rec.steps * rec.hidden * FLOAT)
    if rec.kind is not CellKind.LSTM:
        return [output]
    batch, gates, inputs = rec.gates.m, rec.gates.n, rec.gates.k - rec.hidden
    allocations = [heap.Alloc(f"{out}.input", rec.steps * batch * inputs * FLOAT), output,
                   heap.Alloc(f"{out}.layer_weights", inputs * gates * FLOAT),
                   heap.Alloc(f"{out}.recurrent_weights", rec.hidden * gates * FLOAT),
                   heap.Alloc(f"{out}.workspace", lstm_scratchpad_bytes(rec))]
    return [*allocations,
            *(heap.Free(a.key) for a in reversed(allocations) if a is not output)]


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
        holder[layer.name] = f"{layer.name}#0"
        yield from recurrent_events(layer.recurrence, holder[layer.name])
        return
    ops = [op for op in layer.ops if not isinstance(op, Transfer)]
    if not ops:  # a view of its input
        holder[layer.name] = holder.get(layer.inputs[0], "input") if layer.inputs else "input"
        return
    previous = ""
    for i, op in enumerate(ops):
        key = f"{layer.name}#{i}"
        yield from op_events(spec, op, key)
        if previous:
            yield heap.Free(previous)
        previous = key
    holder[layer.name] = previous


refault_s = pages_s  # heap pages faulted in again, by the threads that write them


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


def harness_refault_bytes(spec: CPUSpec,
                          cases: Sequence[tuple[tuple[int, ...], Gemm | None]]) -> list[int]:
    """Heap bytes each case faults in again per call when one process times `cases` one after
    another, as measure/torch_layers.py does: each case's tensors (`held`: its input, its
    weights) allocated, then the previous case's freed, then the op called back to back (a
    case whose op is None holds its tensors only). A case inherits the thresholds every bigger
    case before it raised: the 224² first convolution refaults its two 24.5 MiB outputs on
    every call wherever it runs, the OCR layer after it none."""
    arena = heap.MainArena()
    out = []
    for i, (held, op) in enumerate(cases):
        heap.run(arena, [heap.Alloc(f"case{i}.held{j}", size) for j, size in enumerate(held)])
        if i:
            heap.run(arena, [heap.Free(f"case{i - 1}.held{j}")
                             for j in range(len(cases[i - 1][0]))])
        if op is None:
            out.append(0)
            continue
        call = [*op_events(spec, op, f"case{i}"), heap.Free(f"case{i}")]
        for _ in range(heap.WARMUP_CALLS):
            heap.run(arena, call)
        out.append(heap.run(arena, call).heap_bytes)
    return out
