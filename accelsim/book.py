"""The book's figures, each computed by accelsim's models beside the value the book states.

Every `Figure` comes from a model, not from a number typed in beside it: LeNet-5's map sizes
from the network file's layer shapes, the neuron example from the fp32 reference layer, the
peaks from the machine presets' specs (`peak_ops_per_s`), the CPU growth from `book_speedup`,
a GPU/CPU ratio from the GEMM timing models, the multiplier area from the cell count of an
array multiplier, and the multiplier's energy and area at 45 nm from the energy model's table
(Horowitz, ISSCC 2014; accelsim/energy.py). Where a figure needs a part accelsim has no preset
for, the note says what stands in for it: Xavier's 20 TOPS is the book's own figure; a TPU v2
chip is the TPU v1 model with two 128 × 128 arrays. Where the model and the book disagree,
`note` says by how much and why. `book_figures()` builds them all (`[book] figures = true` in
a scenario lists them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from accelsim.energy import AREA_45NM_UM2, ENERGY_45NM
from accelsim.machines.cpu.core import book_speedup
from accelsim.machines.cpu.spec import CPU_SPECS
from accelsim.machines.gpu.spec import GPU_SPECS
from accelsim.machines.presets import build
from accelsim.nn.dense import Linear, relu
from accelsim.nn.loader import load_network
from accelsim.nn.numerics import EXACT

XAVIER_OPS_PER_S = 20e12  # the book's NVIDIA Xavier figure; no Xavier preset exists
# TPU v2 (Jouppi et al., "A Domain-Specific Supercomputer for Training Deep Neural Networks",
# CACM 2020): two TensorCores per chip, each with one 128 × 128 matrix unit at 700 MHz.
TPU_V2_CORES, TPU_V2_ARRAY, TPU_V2_CLOCK_HZ = 2, 128, 700e6
CHIPS_PER_BOARD, BOARDS_PER_POD, V3_OVER_V2_POD = 4, 64, 8  # the book's pod arithmetic
GV100_SMS = 84  # the full GV100 die (NVIDIA Volta whitepaper); the V100 product enables 80
SGEMM_SIZE = 4096  # a square fp32 GEMM large enough to reach each machine's sustained rate


@dataclass(frozen=True)
class Figure:
    """A figure the book states and the value accelsim's models give for it."""

    name: str  # "TPU v1 peak"
    book: str  # the book's statement, e.g. "92 TOPS"
    book_value: float  # 92e12
    model_value: float  # what accelsim computes
    unit: str  # "OP/s"
    note: str = ""  # where and why the model disagrees, if it does

    @property
    def ratio(self) -> float:
        """Model over book (1.0 where they agree)."""
        return self.model_value / self.book_value


def book_figures() -> tuple[Figure, ...]:
    """Every figure of the book that accelsim's models can compute, in the book's order."""
    return (*_lenet5(), _neuron(), *_tpu(), *_cpu(), *_gpu(), _multiplier(),
            *_multiplier_45nm())


LENET5_MAPS = (  # layer, the book's name for its output, what the book draws, value, unit
    ("conv1", "C1 feature maps", "6@28×28", 28, "pixels per side"),
    ("pool1", "S2 feature maps", "6@14×14", 14, "pixels per side"),
    ("conv2", "C3 feature maps", "16@10×10", 10, "pixels per side"),
    ("pool2", "S4 feature maps", "16@5×5", 5, "pixels per side"),
    ("conv3", "C5 layer", "120@1×1", 120, "maps"),
    ("fc1", "F6 layer", "80 units", 80, "units"),
    ("fc2", "output layer", "10 units", 10, "units"),
)


def _lenet5() -> list[Figure]:
    """LeNet-5's map sizes as the network file's layers compute them from a 32 × 32 input."""
    net = load_network("lenet5", weights="none")
    shapes = {layer.name: out for layer, _, out in net.layer_shapes()}
    figures = []
    for layer, label, book, value, unit in LENET5_MAPS:
        out = shapes[layer]
        model = out[1] if len(out) == 3 and out[1] > 1 else out[0]
        note = ("LeCun et al. 1998 have 84 units here (lenet5-classic); the book draws 80"
                if layer == "fc1" else "")
        figures.append(Figure(f"LeNet-5 {label}", book, value, float(model), unit, note))
    return figures


def _neuron() -> Figure:
    """The book's neuron: inputs (2, 5, 8), weights (2, −1, 0.5), no bias, then ReLU."""
    layer = Linear("neuron", out_features=1, bias=False)
    params = {"weight": np.array([[2.0], [-1.0], [0.5]])}
    y, _ = layer.forward(params, np.array([[2.0, 5.0, 8.0]]), EXACT)
    return Figure("Neuron example output", "2·2 + 5·(−1) + 8·0.5 = 3, ReLU(3) = 3", 3.0,
                  float(relu(y)[0, 0]), "")


def _tpu_v2_chip_ops_per_s() -> float:
    """A TPU v2 chip's peak: the TPU v1 timing model with one 128 × 128 array per core."""
    core = build("tpu-v1", array_rows=TPU_V2_ARRAY, array_cols=TPU_V2_ARRAY,
                 clock_hz=TPU_V2_CLOCK_HZ)
    return TPU_V2_CORES * core.peak_ops_per_s("int8")


def _tpu() -> list[Figure]:
    v1 = build("tpu-v1").peak_ops_per_s("int8")
    v2_chip = _tpu_v2_chip_ops_per_s()
    pod = V3_OVER_V2_POD * BOARDS_PER_POD * CHIPS_PER_BOARD * v2_chip
    v2_note = (f"2 cores × 128 × 128 MACs × 2 × 700 MHz = {v2_chip / 1e12:.1f} TFLOPS; the "
               "book rounds down to 45. Computed with the TPU v1 model's arrays resized (TPU "
               "v2's units are bf16, which the TPU v1 model does not run: the same MACs per "
               "cycle, counted as int8)")
    return [
        Figure("TPU v1 peak", "92 TOPS", 92e12, v1, "OP/s",
               "256 × 256 MACs × 2 ops × 700 MHz = 91.75 TOPS; the book rounds to 92"),
        Figure("TPU v1 over Xavier", "4.6×", 4.6, v1 / XAVIER_OPS_PER_S, "×",
               "Xavier is not a preset: the model's TPU v1 int8 peak over the book's own "
               "20 TOPS for Xavier"),
        Figure("TPU v2 chip peak", "45 TFLOPS", 45e12, v2_chip, "FLOP/s", v2_note),
        Figure("TPU v2 board peak", "180 TFLOPS (4 chips)", 180e12,
               CHIPS_PER_BOARD * v2_chip, "FLOP/s",
               f"4 × the {v2_chip / 1e12:.1f} TFLOPS chip above"),
        Figure("TPU v3 pod peak", "92,160 TFLOPS", 92_160e12, pod, "FLOP/s",
               "The book's arithmetic: a TPU v2 pod of 64 boards × 4 chips × 45 TFLOPS = "
               "11,520 TFLOPS, times the announced \"8× TPU v2\" per pod. It assumes the 8× "
               f"is all peak FLOPS; the model's {v2_chip / 1e12:.1f} TFLOPS chip gives "
               f"{pod / 1e12:,.0f} ({pod / 92_160e12 - 1:+.0%}). The TPU "
               "v3 pod as built (Jouppi et al., CACM 2020) is 1,024 chips of 123 TFLOPS, "
               "about 126,000 TFLOPS"),
    ]


def _cpu() -> list[Figure]:
    cores, width, both = book_speedup(CPU_SPECS["cpu-book-2006"], CPU_SPECS["cpu-book-2017"])
    return [
        Figure("CPU cores, 2006 → 2017", "4 → 28 cores: 7×", 7.0, cores, "×"),
        Figure("CPU SIMD width, 2006 → 2017", "2 → 16 single-precision values: 8×", 8.0,
               width, "×"),
        Figure("CPU peak growth, 2006 → 2017", "7 × 8 = 56×", 56.0, both, "×"),
    ]


def _peak_fp32(name: str) -> float:
    return build(name).peak_ops_per_s("fp32")


def _sgemm_speedup(gpu: str, cpu: str) -> float:
    """CPU time over GPU time for one square fp32 GEMM, each as its timing model runs it."""
    n = SGEMM_SIZE
    return build(cpu).gemm(n, n, n, "fp32").seconds / build(gpu).gemm(n, n, n, "fp32").seconds


def _gpu() -> list[Figure]:
    gtx, v100 = GPU_SPECS["gpu-8800gtx"], GPU_SPECS["gpu-v100"]
    range_note = "The book gives a range; book_value is its middle"
    skylake, book_2017 = _peak_fp32("cpu-skylake-8180"), _peak_fp32("cpu-book-2017")
    return [
        Figure("GeForce 8800 GTX cores", "128 cores", 128, gtx.sm_count * gtx.fp32_lanes_per_sm,
               "cores", "16 SMs × 8 lanes"),
        Figure("GeForce 8800 GTX peak", "~500 GFLOPS", 500e9, _peak_fp32("gpu-8800gtx"),
               "FLOP/s", "128 lanes × 1.35 GHz × 3 FLOP (a MAD and a co-issued MUL) = 518 "
               "GFLOPS, the book's \"about 500\""),
        Figure("GV100 cores", "5,376 cores", 5376, GV100_SMS * v100.fp32_lanes_per_sm, "cores",
               "The full die: 84 SMs × 64 lanes. gpu-v100 models the V100 product, whose 80 "
               "SMs have 5,120"),
        Figure("GPU/CPU peak, 2006", "10–15×", 12.5,
               _peak_fp32("gpu-8800gtx") / _peak_fp32("cpu-book-2006"), "×",
               f"8800 GTX over the book's 2006 CPU, fp32 peaks. {range_note}"),
        Figure("GPU/CPU peak, 2017", "10–15×", 12.5, _peak_fp32("gpu-v100") / book_2017, "×",
               f"V100 over the book's 2017 CPU, fp32 peaks. {range_note}"),
        Figure("GPU/CPU 4096³ SGEMM, 2017", "10–15×", 12.5,
               _sgemm_speedup("gpu-v100", "cpu-skylake-8180"), "×",
               f"Below the book's range: the models time a {SGEMM_SIZE}³ fp32 GEMM on gpu-v100 "
               "and on cpu-skylake-8180. That Xeon has two AVX-512 FMA units per core "
               f"({skylake / 1e12:.1f} TFLOPS, {_peak_fp32('gpu-v100') / skylake:.1f}× below "
               f"the V100's peak); the book's 2017 CPU counts one ({book_2017 / 1e12:.1f} "
               f"TFLOPS). {range_note}"),
    ]


def array_multiplier_cells(bits: int) -> tuple[int, int, int]:
    """(AND gates, full adders, half adders) of an unsigned bits × bits array multiplier.

    bits² AND gates make the partial-product bits; each full adder turns 3 bits into 2, so
    summing bits² bits into the 2·bits of the product takes bits² − 2·bits of them; the array
    adds bits half adders (the textbook array multiplier: a 4 × 4 has 16 AND gates, 8 full
    adders and 4 half adders).
    """
    return bits * bits, bits * bits - 2 * bits, bits


def _multiplier() -> Figure:
    wide, narrow = sum(array_multiplier_cells(32)), sum(array_multiplier_cells(8))
    return Figure("8-bit vs 32-bit multiplier area", "~16× smaller: (32 / 8)²", 16.0,
                  wide / narrow, "×",
                  "Area as the cell count of an array multiplier (AND gates, full and half "
                  "adders, one cell each): 2,016 cells at 32 bits, 120 at 8 bits. The "
                  "partial-product AND array alone is exactly (32 / 8)² = 16×; the adders, "
                  "bits² − 2·bits, grow slightly faster")


def _over_int8(table: Mapping[str, float]) -> dict[str, float]:
    """Each multiplier of a Horowitz table over the int8 multiplier."""
    return {kind: table[f"{kind} mult"] / table["int8 mult"] for kind in ("int32", "fp32", "fp16")}


def _multiplier_45nm() -> list[Figure]:
    """The book's "8-bit multiplier ~16× smaller" against Horowitz's 45 nm energy and area:
    the 32-bit integer multiplier's energy is the comparison that matches."""
    energy, area = _over_int8(ENERGY_45NM), _over_int8(AREA_45NM_UM2)
    mult = {k: ENERGY_45NM[f"{k} mult"] for k in ("int8", "int32", "fp32", "fp16")}
    return [
        Figure("8-bit vs 32-bit multiplier energy (45 nm)", "~16× smaller: (32 / 8)²", 16.0,
               energy["int32"], "×",
               f"Horowitz's 45 nm table: int32 multiply {mult['int32']} pJ over int8 "
               f"{mult['int8']} pJ = {energy['int32']:.1f}×, the comparison the book's 16× "
               f"matches. Against other multipliers: fp32 ({mult['fp32']} pJ) "
               f"{energy['fp32']:.1f}×, fp16 ({mult['fp16']} pJ) {energy['fp16']:.1f}×"),
        Figure("8-bit vs 32-bit multiplier area (45 nm)", "~16× smaller: (32 / 8)²", 16.0,
               area["int32"], "×",
               f"Horowitz's 45 nm areas: int32 multiplier {AREA_45NM_UM2['int32 mult']:,.0f} "
               f"µm² over int8 {AREA_45NM_UM2['int8 mult']:,.0f} µm² = {area['int32']:.1f}×, "
               f"below the book's 16× (fp32's {AREA_45NM_UM2['fp32 mult']:,.0f} µm² is "
               f"{area['fp32']:.1f}×); the energy ratio, {energy['int32']:.1f}×, is the "
               "one that matches"),
    ]
