"""Predicted against measured on a real GPU: one NVIDIA H200 with PyTorch 2.11 / CUDA 13,
TF32 off.

- Kernels (`validate`): fp32 and fp16 GEMM times replayed in a CUDA graph
  (../shared/validation/gpu-h200-2026-11.json, copied as accelsim/measure/data/
  gpu-h200-2026-11.json), each against the kernel the model picks for it (`GPU.kernel_for`).
- Whole networks (`network_report`): LeNet-5 and the char LSTM (cuDNN nn.LSTM, and as a
  Python loop of nn.LSTMCell), and the book's tiny RNN, measured 2026-11-27
  (gpu-h200-network-2026-11-27.json): device time (the forward replayed in a CUDA graph)
  against `RunResult.device_seconds`, end to end (numpy in, `.to(cuda, dtype)`, forward,
  `.float().cpu().numpy()`) against `RunResult.seconds`.
"""

from __future__ import annotations

import importlib.resources
import json
from dataclasses import dataclass
from functools import lru_cache

from accelsim.machines.gpu.core import GPU
from accelsim.measure.comparison import (
    Compared,
    NetworkReport,
    NetworkRow,
    fraction_over_2x,
    median_ape,
)
from accelsim.nn.loader import load_network
from accelsim.precision import Precision

DATA_FILE = "gpu-h200-2026-11.json"
NETWORK_FILE = "gpu-h200-network-2026-11-27.json"
DTYPES = {"float32": Precision.FP32, "float16": Precision.FP16}
NETWORKS = {"lenet5": "lenet5", "lstm": "lstm-char", "rnn_hello": "rnn-hello"}
STEP_LOOP = "step-loop"


@dataclass(frozen=True)
class Row(Compared):
    label: str
    precision: Precision
    measured_us: float
    predicted_us: float
    kernel: str = ""


@dataclass(frozen=True)
class Report:
    """The GEMM kernels against their measured times (whole networks: `network_report`)."""

    machine: str
    gemm: tuple[Row, ...]

    def gemm_rows(self, precision: Precision = Precision.FP32) -> tuple[Row, ...]:
        return tuple(r for r in self.gemm if r.precision is precision)

    def median_ape(self, precision: Precision = Precision.FP32) -> float:
        return median_ape(self.gemm_rows(precision))

    def fraction_over_2x(self, precision: Precision = Precision.FP32) -> float:
        return fraction_over_2x(self.gemm_rows(precision))

    def text(self) -> str:
        lines = [f"{self.machine}: predicted vs measured (µs)", "", "GEMM"]
        lines += [f"  {r.label:<34}{r.precision.value:>5}{r.measured_us:>11.2f}"
                  f"{r.predicted_us:>11.2f}{r.error:>+9.1%}{' >2x' if r.off_by_2x else ''}"
                  f"  {r.kernel}" for r in self.gemm]
        for p in (Precision.FP32, Precision.FP16):
            lines.append(f"\nGEMM {p.value}: median absolute error {self.median_ape(p):.1%}, "
                         f"{self.fraction_over_2x(p):.0%} of shapes off by more than 2x")
        return "\n".join(lines)


def _read(name: str) -> dict:
    text = importlib.resources.files("accelsim.measure.data").joinpath(name).read_text()
    data: dict = json.loads(text)
    return data


@lru_cache(maxsize=1)
def measurements() -> dict:
    return _read(DATA_FILE)


@lru_cache(maxsize=1)
def network_measurements() -> dict:
    return _read(NETWORK_FILE)


def gemm_rows(gpu: GPU, data: dict) -> list[Row]:
    rows = []
    for g in data["gemm"]:
        p = DTYPES[g["dtype"]]
        choice = gpu.kernel_for(g["M"], g["K"], g["N"], p)
        rows.append(Row(f"{g['op']} {g['M']}x{g['K']}x{g['N']}", p, g["graph_us"],
                        choice.seconds * 1e6, choice.name))
    return rows


def validate(gpu: GPU) -> Report:
    """Every measured GEMM against the model's prediction."""
    return Report(gpu.name, tuple(gemm_rows(gpu, measurements())))


def network_rows(gpu: GPU, key: str, records: list[dict]) -> list[NetworkRow]:
    """Device and end-to-end rows for one network's records (nulls skipped); step-loop
    records are timed with the GPU's recurrent layers run as a Python loop of cells."""
    net = load_network(NETWORKS[key], weights="none")
    loop = GPU(gpu.spec.replace(recurrent_step_loop=True))
    rows = []
    for rec in records:
        step_loop = rec.get("impl") == STEP_LOOP
        p = DTYPES[rec.get("dtype", "float32")]
        run = (loop if step_loop else gpu).run(net, batch=rec["batch"], precision=p,
                                               seq_len=rec.get("seq"))
        note = STEP_LOOP if step_loop else ""
        for time, column, predicted in (("device", "graph_us", run.device_seconds),
                                        ("end to end", "e2e_us", run.seconds)):
            if rec.get(column) is not None:
                rows.append(NetworkRow(net.name, rec["batch"], p.value, time, rec[column],
                                       predicted * 1e6, note))
    return rows


def network_report(gpu: GPU) -> NetworkReport:
    """Every whole-network figure of the H200 network file against the model: LeNet-5 and
    the char LSTM (fp32, fp16; device and end to end), the LSTM as a step loop (device) and
    the tiny RNN (device)."""
    data = network_measurements()
    rows = [row for key in NETWORKS for row in network_rows(gpu, key, data[key])]
    return NetworkReport(gpu.name, f"accelsim/measure/data/{NETWORK_FILE} ({data['what']})",
                         tuple(rows))
