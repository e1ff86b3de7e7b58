"""A lowered workload as PyTorch (eager, CUDA) runs it: the framework calls in order, each with
its host dispatch kind and the kernels it launches.

The network as the reference measurements ran it (accelsim/measure/data/
gpu-h200-network-2026-11-27.json): `torch.from_numpy(x).to(cuda, dtype)` (blocking: a float32
array is converted on the CPU, then copied), the layers as nn.Conv2d, torch.relu,
torch.max_pool2d, flatten, nn.Linear, nn.LSTM / nn.RNN (batch first), then
`.float().cpu().numpy()` (the cast on the device for a narrower dtype, a synchronous copy).

Per workload op, its calls:
- convolution (a Gemm with conv geometry): "conv", cuDNN's kernels and the bias add (conv.py);
- linear: "linear", cuBLASLt's addmm (blas.py), or matmul + bias add when its input is a
  batch-first cuDNN RNN's output, a non-contiguous view beyond batch 1;
- element-wise and pooling ops: "op", one kernel each (elementwise.py);
- a recurrent layer (its Recurrence): "rnn", the cuDNN call's kernels on the layer's gate op,
  the cell's ops fused into them (a bidirectional layer's reverse recurrence joins the same
  call; each layer of a stack is its own call, where nn.GRU(num_layers=2) would make one);
  or, as a step loop, one "cell" call per step (recurrent.py);
- a residual add, a concat (torch.cat), a clip (ReLU6) and a batch norm: "op", one
  element-wise kernel each — eager PyTorch fuses none of them into the convolution (a batch
  norm is its own kernel even where a compiler would fold it, `LayerOps.folds_into`);
- global average pooling: "op", the pooling kernel over one whole-map window;
- the input and output transfers: "copy" calls with the CPU conversion and the copy, and
  for a narrow dtype an "op" call before the output's copy (`.float()` on the device).
A flatten is a view and is left out (it launches nothing; its dispatch is small).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from accelsim.ir import (
    REVERSE_SUFFIX,
    Direction,
    Gemm,
    LayerOps,
    Op,
    Pool,
    PoolKind,
    Transfer,
    Vector,
    Workload,
)
from accelsim.machines.gpu.blas import addmm_kernels, matmul_add_kernels
from accelsim.machines.gpu.conv import conv_kernels
from accelsim.machines.gpu.elementwise import (
    FLOAT_BYTES,
    VECTORIZED,
    cast_seconds,
    copy_seconds,
    pool_cost,
    stream_launch,
    vector_cost,
)
from accelsim.machines.gpu.launches import FrameworkCall, Kernel
from accelsim.machines.gpu.recurrent import cudnn_kernels, step_loop_calls
from accelsim.machines.gpu.runtime import PYTORCH_EAGER, GPURuntime
from accelsim.machines.gpu.spec import GPUSpec
from accelsim.machines.results import Category
from accelsim.precision import Precision


@dataclass(frozen=True)
class OpCalls:
    """A workload op and the framework calls that run it (none for an op fused into
    another's kernels: `fused_into` names that op)."""

    op: Op
    calls: tuple[FrameworkCall, ...]
    fused_into: str = ""


def framework_calls(workload: Workload, precision: Precision, spec: GPUSpec,
                    runtime: GPURuntime = PYTORCH_EAGER) -> tuple[OpCalls, ...]:
    """Every op of the workload, in order, with the calls PyTorch makes for it (the
    library's choices and the host's copies as `runtime` describes them)."""
    out: list[OpCalls] = []
    previous: LayerOps | None = None
    for layer in workload.layers:
        calls = _layer_calls(layer, previous, workload.batch, precision, spec, runtime)
        if previous is not None and layer.name == previous.name + REVERSE_SUFFIX:
            calls = _joined_to_forward(out, len(previous.ops), calls)
        out.extend(calls)
        previous = layer
    return tuple(out)


def _joined_to_forward(out: list[OpCalls], forward_ops: int,
                       reverse: list[OpCalls]) -> list[OpCalls]:
    """A bidirectional layer is one nn.GRU / nn.LSTM call: the reverse direction's kernels
    join the forward direction's call (one dispatch), its ops fused into that call's op."""
    first = out[-forward_ops]
    if len(first.calls) != 1 or len(reverse[0].calls) != 1:  # a step loop: calls apart
        return reverse
    (call,), (extra,) = first.calls, reverse[0].calls
    joined = dataclasses.replace(call, kernels=call.kernels + extra.kernels)
    out[-forward_ops] = dataclasses.replace(first, calls=(joined,))
    return [OpCalls(item.op, (), first.op.name) for item in reverse]


def _layer_calls(layer: LayerOps, previous: LayerOps | None, batch: int,
                 precision: Precision, spec: GPUSpec, runtime: GPURuntime) -> list[OpCalls]:
    rec = layer.recurrence
    if rec is not None:
        calls = step_loop_calls(rec, precision, spec) if runtime.recurrent_step_loop else \
            (FrameworkCall("rnn", cudnn_kernels(rec, precision, spec, runtime)),)
        first, *rest = layer.ops
        return [OpCalls(first, calls), *(OpCalls(op, (), first.name) for op in rest)]
    # A batch-first cuDNN RNN's output is a transposed view: contiguous only at batch 1.
    strided = previous is not None and previous.recurrence is not None and \
        not runtime.recurrent_step_loop and batch > 1
    return [OpCalls(op, _op_calls(op, batch, precision, spec, runtime, strided))
            for op in layer.ops]


def _op_calls(op: Op, batch: int, precision: Precision, spec: GPUSpec, runtime: GPURuntime,
              strided_input: bool) -> tuple[FrameworkCall, ...]:
    if isinstance(op, Transfer):
        return transfer_calls(op, precision, spec, runtime)
    if isinstance(op, Gemm) and op.conv is not None:
        return (FrameworkCall("conv", conv_kernels(op, batch, precision, spec, runtime)),)
    if isinstance(op, Gemm):
        kernels = matmul_add_kernels(op, precision, spec) if strided_input else \
            addmm_kernels(op, precision, spec)
        return (FrameworkCall("linear", kernels),)
    if isinstance(op, Vector):
        cost = vector_cost(op, precision, spec)
        name = f"{VECTORIZED.name} ({op.kind.value})"
        once = Kernel(name, cost.seconds / op.count, Category.ELEMENTWISE,
                      cost.bytes_moved // op.count, cost.bound)
        return (FrameworkCall("op", (once,) * op.count),)
    assert isinstance(op, Pool)
    cost = pool_cost(op, precision, spec)
    name = "max_pool_forward_nchw" if op.kind is PoolKind.MAX else "avg_pool2d_out_cuda_frame"
    return (FrameworkCall("op", (Kernel(name, cost.seconds, Category.ELEMENTWISE,
                                        cost.bytes_moved, cost.bound),)),)


def transfer_calls(op: Transfer, precision: Precision, spec: GPUSpec,
                   runtime: GPURuntime = PYTORCH_EAGER) -> tuple[FrameworkCall, ...]:
    """In: the float32 array converted on the CPU (a narrower dtype), then copied. Out: a
    narrower result cast to float32 on the device, then copied back as float32."""
    narrow = precision is not Precision.FP32
    if op.direction is Direction.TO_DEVICE:
        cast = cast_seconds(op.elements, precision, runtime) if narrow else 0.0
        return (FrameworkCall("copy", host_work_s=cast,
                              copy_s=copy_seconds(op.bytes(precision), runtime)),)
    back = FrameworkCall("copy", copy_s=copy_seconds(op.elements * FLOAT_BYTES, runtime))
    if not narrow:
        return (back,)
    moved = op.elements * (precision.bytes + FLOAT_BYTES)
    to_float = stream_launch(f"{VECTORIZED.name} (.float())", VECTORIZED, op.elements, moved,
                             spec)
    return FrameworkCall("op", (to_float,)), back
