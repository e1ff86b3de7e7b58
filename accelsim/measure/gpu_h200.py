"""Predicted against measured on a real GPU (../shared/validation/gpu-h200-2026-11.json,
copied into the package as accelsim/measure/data/gpu-h200-2026-11.json; measured on one
NVIDIA H200 with PyTorch 2.11 / CUDA 13, TF32 off, medians of CUDA-event timings).

The reference for GEMMs and LeNet-5 is device time (`graph_us`: calls replayed in a CUDA
graph, no host launch path). The LSTM figures exist only as eager timings (one nn.LSTM call
from Python), so the model adds the measured host cost of one eager call (`host_launch_s`)
to its device time there; those rows are indicative.
"""

from __future__ import annotations

import importlib.resources
import json
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from accelsim.lower import lower
from accelsim.machines.gpu.core import GPU
from accelsim.measure.comparison import Compared, fraction_over_2x, median_ape
from accelsim.nn.loader import load_network, parse_network
from accelsim.precision import Precision

DATA_FILE = "gpu-h200-2026-11.json"
DTYPES = {"float32": Precision.FP32, "float16": Precision.FP16}
LSTM_TOML = """
name = "lstm-bench"
input_shape = [{hidden}]
sequence = true
seq_len = {seq}
[[layers]]
name = "lstm"
type = "lstm"
hidden_size = {hidden}
"""


@dataclass(frozen=True)
class Row(Compared):
    label: str
    precision: Precision
    measured_us: float
    predicted_us: float
    kernel: str = ""


@dataclass(frozen=True)
class Report:
    machine: str
    gemm: tuple[Row, ...]
    lenet: tuple[Row, ...]
    lstm: tuple[Row, ...]

    def gemm_rows(self, precision: Precision = Precision.FP32) -> tuple[Row, ...]:
        return tuple(r for r in self.gemm if r.precision is precision)

    def median_ape(self, precision: Precision = Precision.FP32) -> float:
        return median_ape(self.gemm_rows(precision))

    def fraction_over_2x(self, precision: Precision = Precision.FP32) -> float:
        return fraction_over_2x(self.gemm_rows(precision))

    def text(self) -> str:
        lines = [f"{self.machine}: predicted vs measured (µs)"]
        for title, rows in (("GEMM", self.gemm), ("LeNet-5 inference", self.lenet),
                            ("LSTM (eager)", self.lstm)):
            lines.append(f"\n{title}")
            lines += [f"  {r.label:<34}{r.precision.value:>5}{r.measured_us:>11.2f}"
                      f"{r.predicted_us:>11.2f}{r.error:>+9.1%}{' >2x' if r.off_by_2x else ''}"
                      f"  {r.kernel}" for r in rows]
        for p in (Precision.FP32, Precision.FP16):
            lines.append(f"\nGEMM {p.value}: median absolute error {self.median_ape(p):.1%}, "
                         f"{self.fraction_over_2x(p):.0%} of shapes off by more than 2x")
        return "\n".join(lines)


@lru_cache(maxsize=1)
def measurements() -> dict:
    text = importlib.resources.files("accelsim.measure.data").joinpath(DATA_FILE).read_text()
    return json.loads(text)


def gemm_rows(gpu: GPU, data: dict) -> list[Row]:
    rows = []
    for g in data["gemm"]:
        p = DTYPES[g["dtype"]]
        choice = gpu.kernel_for(g["M"], g["K"], g["N"], p)
        rows.append(Row(f"{g['op']} {g['M']}x{g['K']}x{g['N']}", p, g["graph_us"],
                        choice.seconds * 1e6, choice.name))
    return rows


def lenet_rows(gpu: GPU, data: dict) -> list[Row]:
    net = load_network("lenet5", weights="init")
    rows = []
    for rec in data["lenet5"]:
        if rec["graph_us"] is None:
            continue
        p = DTYPES[rec["dtype"]]
        timing = gpu.time_workload(lower(net, rec["batch"]), p)
        rows.append(Row(f"lenet5 batch {rec['batch']}", p, rec["graph_us"],
                        timing.device_seconds * 1e6))
    return rows


def lstm_rows(gpu: GPU, data: dict) -> list[Row]:
    rows = []
    for rec in data["lstm"]:
        doc = tomllib.loads(LSTM_TOML.format(hidden=rec["hidden"], seq=rec["seq"]))
        net = parse_network(doc, Path("lstm-bench.toml"))
        timing = gpu.time_workload(lower(net, rec["batch"]), Precision.FP32)
        device = timing.device_seconds
        rows.append(Row(f"lstm h{rec['hidden']} batch {rec['batch']} seq {rec['seq']}",
                        Precision.FP32, rec["eager_us"],
                        (device + gpu.spec.host_launch_s) * 1e6))
    return rows


def validate(gpu: GPU) -> Report:
    """Every measured GEMM, LeNet-5 and LSTM figure against the model's prediction."""
    data = measurements()
    return Report(gpu.name, tuple(gemm_rows(gpu, data)), tuple(lenet_rows(gpu, data)),
                  tuple(lstm_rows(gpu, data)))
