"""DeepBench's published V100 kernel times (accelsim/measure/data/deepbench-v100.json: Baidu's
DeepBench, results/train/DeepBench_NV_V100.xlsx, one DGX-1 V100, CUDA 10.1, cuDNN 7.6) against
the `gpu-v100` model, which was fitted on none of them: an out-of-sample check.

GEMMs (`gemm_report`): cuBLAS C[M,N] = A[M,K]·B[K,N] in fp32 and fp16 (tensor cores allowed),
one call's average time, each against the kernel the model picks for the shape
(`GPU.kernel_for`). The file's transposes (ta, tb) are not modelled: a transposed operand is
read with the same tiles.
"""

from __future__ import annotations

from accelsim.machines.gpu.core import GPU
from accelsim.measure.recorded import read
from accelsim.precision import Precision
from accelsim.validation.gpu_recorded import Report, Row

FILE = "deepbench-v100.json"
SHEETS = {"fp32": Precision.FP32, "fp16": Precision.FP16}


def gemm_rows(gpu: GPU, precision: Precision) -> list[Row]:
    """Every DeepBench GEMM of one sheet against the model's kernel for its shape."""
    rows = []
    for g in read(FILE)[precision.value]["gemm"]:
        choice = gpu.kernel_for(g["M"], g["K"], g["N"], precision)
        rows.append(Row(f"{g['app']} {g['M']}x{g['K']}x{g['N']} {g['ta']}{g['tb']}", precision,
                        g["ms"] * 1e3, choice.seconds * 1e6, choice.name))
    return rows


def gemm_report(gpu: GPU) -> Report:
    """DeepBench's fp32 and fp16 GEMMs against `gpu`'s model."""
    return Report(f"{gpu.name} against DeepBench (V100)",
                  tuple(row for p in SHEETS.values() for row in gemm_rows(gpu, p)))
