"""Whole networks on a CPU: the CPU model (machines/cpu/framework.py, PyTorch's eager runtime)
against PyTorch itself, end to end (`RunResult.seconds`), at one thread and at every core.

Two sources: a recorded host replayed with the spec its calibration produced there
(`recorded_report`: deterministic, runs anywhere; each `networks.rows` entry carries
`torch_us_tN`, PyTorch at N threads), or this host timed live (`live_report`: PyTorch in fresh
processes through `torch_networks.measure`; needs the optional `torch` extra).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from accelsim.errors import AccelsimError
from accelsim.machines.cpu.core import CPU
from accelsim.machines.cpu.spec import CPUSpec
from accelsim.measure import recorded, torch_networks
from accelsim.nn.loader import load_network
from accelsim.validation.comparison import NetworkReport, NetworkRow

BATCHES = torch_networks.BATCHES
THREADS_KEY = re.compile(r"torch_us_t(\d+)")
TIME = "end to end"


def predicted_us(spec: CPUSpec, network: str, batch: int, threads: int) -> float:
    """The model's end-to-end microseconds of one batch at `threads` PyTorch threads."""
    net = load_network(network, weights="none")  # timing reads shapes only
    return CPU(spec.replace(cores=threads)).run(net, batch=batch).seconds * 1e6


def row_for(spec: CPUSpec, network: str, batch: int, threads: int,
            measured_us: float) -> NetworkRow:
    return NetworkRow(network, batch, "fp32", TIME, measured_us,
                      predicted_us(spec, network, batch, threads), note=f"{threads} threads")


def recorded_rows(spec: CPUSpec, rows: Sequence[Mapping[str, Any]]) -> tuple[NetworkRow, ...]:
    """One row per recorded network × batch × thread count (`torch_us_tN` keys)."""
    out = []
    for row in rows:
        for key, value in row.items():
            match = THREADS_KEY.fullmatch(key)
            if match:
                out.append(row_for(spec, row["net"], row["batch"], int(match[1]), value))
    return tuple(out)


def recorded_report(name: str) -> NetworkReport:
    """A recorded host's PyTorch network timings (`networks.rows` of the data file `name`)
    against the model of the spec recorded with them."""
    doc = recorded.read(name)
    spec = recorded.replay_spec_of(doc)
    if spec is None or "rows" not in doc.get("networks", {}):
        have = [n for n in recorded.recorded_hosts()
                if "rows" in recorded.read(n).get("networks", {})]
        raise AccelsimError(f"{name} carries no spec with networks.rows to replay; use one "
                            f"of {', '.join(have)}")
    how = doc["networks"].get("how", "")
    return NetworkReport(f"{name.removesuffix('.json')} (recorded, {spec.cores} cores)",
                         f"accelsim/measure/data/{name}: {how}",
                         recorded_rows(spec, doc["networks"]["rows"]))


def live_report(cpu: CPU, networks: Mapping[str, Sequence[int]] = BATCHES,
                rounds: int = torch_networks.ROUNDS) -> NetworkReport:
    """PyTorch timed live on this host (fresh processes, 1 thread and `cpu.spec.cores`, the
    fastest of `rounds` interleaved rounds: see torch_networks) against the model of `cpu`."""
    if not torch_networks.torch_available():
        raise AccelsimError("timing networks live needs PyTorch, which is not installed; "
                            "install it with `pip install torch==2.13.0` (the CPU build)")
    counts = sorted({1, cpu.spec.cores})
    measured = torch_networks.measure_rounds(dict(networks), counts, rounds)
    return NetworkReport(cpu.name, f"live on this host: PyTorch CPU, fastest of {rounds} "
                         "fresh processes per thread count (accelsim.measure.torch_networks)",
                         recorded_rows(cpu.spec, measured))
