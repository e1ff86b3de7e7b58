"""DeepBench's V100 convolutions (accelsim/measure/data/deepbench-v100.json, 94 layers per
precision: DeepSpeech, OCR, face recognition, vision, speaker ID and ResNet layers; cuDNN
7.6, one DGX-1 V100) against the GPU model, each layer run as DeepBench ran it:

- cuDNN called directly (`framework` = "library"): no framework around the kernels, no bias;
- fp32: NCHW tensors, the fastest algorithm cudnnFind measured (`cudnn_benchmark` = True);
- fp16: NHWC tensors (`channels_last` = True), tensor-op math, IMPLICIT_PRECOMP_GEMM forced
  (`conv_algorithm` = "implicit_precomp_gemm").

No constant of the convolution algorithms (machines/gpu/conv_algorithms.py) was fitted on
these rows. `half_rows` splits a sheet into its even- and odd-indexed rows, the halves a fit
would use as in-sample and out-of-sample sets (tests/validation/test_deepbench_conv.py
reports both).
"""

from __future__ import annotations

from accelsim.ir import ConvGeometry, Gemm
from accelsim.machines.gpu.conv import conv_kernels
from accelsim.machines.gpu.core import GPU
from accelsim.machines.gpu.runtime import GPURuntime
from accelsim.measure.recorded import read
from accelsim.precision import Precision
from accelsim.validation.gpu_recorded import Row

FILE = "deepbench-v100.json"


def deepbench_runtime(runtime: GPURuntime, precision: Precision) -> GPURuntime:
    """The software stack DeepBench's convolution benchmark used at `precision`."""
    if precision is Precision.FP32:
        return runtime.replace(framework="library", cudnn_benchmark=True, channels_last=False,
                               conv_algorithm="auto")
    return runtime.replace(framework="library", channels_last=True,
                           conv_algorithm="implicit_precomp_gemm")


def conv_op(layer: dict) -> Gemm:
    """One DeepBench layer as the lowering writes a convolution: the im2col GEMM with its
    geometry (W, H input; C channels; N images; K filters of R×S; pads and strides)."""
    h, w, r, s = layer["H"], layer["W"], layer["R"], layer["S"]
    ph, pw, sh, sw = layer["pad_h"], layer["pad_w"], layer["stride_h"], layer["stride_w"]
    out = ((h + 2 * ph - r) // sh + 1, (w + 2 * pw - s) // sw + 1)
    geometry = ConvGeometry(layer["C"], (h, w), (r, s), (sh, sw), (ph, pw, ph, pw), out)
    return Gemm(label(layer), m=layer["N"] * out[0] * out[1], k=layer["C"] * r * s,
                n=layer["K"], bias=False, conv=geometry)


def label(layer: dict) -> str:
    return (f"{layer['app']} {layer['W']}x{layer['H']}x{layer['C']} N{layer['N']} "
            f"K{layer['K']} {layer['R']}x{layer['S']}/{layer['stride_h']}")


def conv_rows(gpu: GPU, precision: Precision) -> list[Row]:
    """Every DeepBench convolution of one sheet against `gpu`'s model, run as DeepBench ran
    it; the row's kernel names the algorithm's kernels."""
    runtime = deepbench_runtime(gpu.runtime, precision)
    rows = []
    for layer in read(FILE)[precision.value]["conv"]:
        op = conv_op(layer)
        kernels = conv_kernels(op, layer["N"], precision, gpu.spec, runtime)
        predicted = sum(k.seconds for k in kernels)
        rows.append(Row(op.name, precision, layer["fwd_ms"] * 1e3, predicted * 1e6,
                        " + ".join(k.name for k in kernels)))
    return rows


def half_rows(rows: list[Row], half: str) -> list[Row]:
    """The even- ("even") or odd-indexed ("odd") rows of a sheet, in file order."""
    return rows[0::2] if half == "even" else rows[1::2]
