"""Predicted against measured on real GPUs, from recorded files in accelsim/measure/data/:
`<preset>-<date>.json` (kernels) and `<preset>-network-<date>.json` (whole networks) for a GPU
preset (`gpu-h200` today: one NVIDIA H200 with PyTorch 2.11 / CUDA 13, TF32 off). A file of
the same layout measured on another GPU and named after its preset (`gpu-h100-network-...`)
is validated the same way, with no code change: `accelsim validate gpu-h100 --networks`.

- Kernels (`validate`): fp32 and fp16 GEMM times replayed in a CUDA graph
  (accelsim/measure/data/gpu-h200-2026-11.json), each against the kernel the model picks for
  it (`GPU.kernel_for`).
- Whole networks (`network_report`): LeNet-5 and the char LSTM (cuDNN nn.LSTM, and as a
  Python loop of nn.LSTMCell), and the book's tiny RNN, measured 2026-11-27
  (gpu-h200-network-2026-11-27.json): device time (the forward replayed in a CUDA graph)
  against `RunResult.device_seconds`, end to end (numpy in, `.to(cuda, dtype)`, forward,
  `.float().cpu().numpy()`) against `RunResult.seconds`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from accelsim.errors import AccelsimError
from accelsim.machines.gpu.core import GPU
from accelsim.machines.gpu.spec import GPU_SPECS
from accelsim.measure.recorded import data_files, read
from accelsim.nn.loader import load_network
from accelsim.precision import Precision
from accelsim.validation.comparison import (
    Compared,
    NetworkReport,
    NetworkRow,
    fraction_over_2x,
    median_ape,
)

NETWORK_TAG = "-network-"
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


def recorded_files(preset: str) -> tuple[str | None, str | None]:
    """(kernel file, network file) recorded for a GPU preset: the newest of each, by name
    (`<preset>-<date>.json`, `<preset>-network-<date>.json`); None where there is none."""
    names = [n for n in data_files() if n.startswith(f"{preset}-")]
    networks = [n for n in names if n.startswith(f"{preset}{NETWORK_TAG}")]
    kernels = [n for n in names if n not in networks and n[len(preset) + 1:][:1].isdigit()]
    return (kernels[-1] if kernels else None), (networks[-1] if networks else None)


def recorded_gpus() -> list[str]:
    """GPU presets with recorded measurements (kernels or networks)."""
    return [name for name in GPU_SPECS if any(recorded_files(name))]


def _file(preset: str, networks: bool) -> str:
    kernels, nets = recorded_files(preset)
    found = nets if networks else kernels
    if found is None:
        what = "whole-network" if networks else "kernel"
        raise AccelsimError(f"no recorded {what} measurements for {preset}; GPUs with "
                            f"measurements: {', '.join(recorded_gpus())}")
    return found


@lru_cache(maxsize=8)
def measurements(preset: str = "gpu-h200") -> dict:
    """The recorded kernel (GEMM) measurements of a GPU preset."""
    return read(_file(preset, networks=False))


@lru_cache(maxsize=8)
def network_measurements(preset: str = "gpu-h200") -> dict:
    """The recorded whole-network measurements of a GPU preset."""
    return read(_file(preset, networks=True))


def gemm_rows(gpu: GPU, data: dict) -> list[Row]:
    rows = []
    for g in data["gemm"]:
        p = DTYPES[g["dtype"]]
        choice = gpu.kernel_for(g["M"], g["K"], g["N"], p)
        rows.append(Row(f"{g['op']} {g['M']}x{g['K']}x{g['N']}", p, g["graph_us"],
                        choice.seconds * 1e6, choice.name))
    return rows


def validate(gpu: GPU, preset: str | None = None) -> Report:
    """Every GEMM measured on the GPU `preset` (default: the one `gpu` is named after)
    against the model's prediction."""
    return Report(gpu.name, tuple(gemm_rows(gpu, measurements(preset or gpu.name))))


def network_rows(gpu: GPU, key: str, records: list[dict]) -> list[NetworkRow]:
    """Device and end-to-end rows for one network's records (nulls skipped); step-loop
    records are timed with the GPU's recurrent layers run as a Python loop of cells."""
    net = load_network(NETWORKS[key], weights="none")
    loop = gpu.with_runtime(recurrent_step_loop=True)
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


def network_report(gpu: GPU, preset: str | None = None) -> NetworkReport:
    """Every whole-network figure recorded on the GPU `preset` (default: the one `gpu` is
    named after) against the model: LeNet-5 and the char LSTM (fp32, fp16; device and end
    to end), the LSTM as a step loop (device) and the tiny RNN (device), as far as the file
    has them."""
    name = _file(preset or gpu.name, networks=True)
    data = network_measurements(preset or gpu.name)
    rows = [row for key in NETWORKS if key in data
            for row in network_rows(gpu, key, data[key])]
    return NetworkReport(gpu.name, f"accelsim/measure/data/{name} ({data['what']})",
                         tuple(rows))
