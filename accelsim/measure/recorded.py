"""Recorded measurements bundled with the package (`accelsim/measure/data/`): real hosts' and
GPUs' timings, each CPU host with the spec its calibration produced there, so a replay
(`accelsim.validation`) is deterministic and runs anywhere, whatever host runs it.

Each file in `accelsim/measure/data/` named `cpu-*.json` that carries a spec is a recorded
host: `cpu_host_spec_as_detected` (or `spec`) holds `CPUSpec` fields, `gemm.rows` holds
`m, k, n, measured_us`. Sources are named in each file (`what`, `gemm.how`); the data folder's
README lists them.
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import json
import statistics
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from accelsim.machines.cpu.spec import CPUSpec
from accelsim.measure.host import fma_datapath_bits, mkl_efficiency, mkl_stream_rate, rederive

DATA = "accelsim.measure.data"


def data_files() -> list[str]:
    return sorted(p.name for p in importlib.resources.files(DATA).iterdir()
                  if p.name.endswith(".json"))


@lru_cache(maxsize=16)
def read(name: str) -> dict[str, Any]:
    """A recorded measurement file bundled with the package."""
    return json.loads(importlib.resources.files(DATA).joinpath(name).read_text("utf-8"))


def spec_of(doc: dict[str, Any]) -> CPUSpec | None:
    """The recorded host's spec as stored (None for files that carry timings only)."""
    values = stored_fields(doc)
    if not values:
        return None
    known = {f.name for f in dataclasses.fields(CPUSpec)}
    return CPUSpec(**{k: v for k, v in values.items() if k in known})


def stored_fields(doc: dict[str, Any]) -> dict[str, Any]:
    """The CPUSpec fields a recorded file stores (empty where it has no spec)."""
    return doc.get("cpu_host_spec_as_detected") or doc.get("spec") or {}


def lscpu_fma_bits(doc: dict[str, Any], spec: CPUSpec) -> int:
    """`CPUSpec.fma_bits` as today's detection (`host.fma_datapath_bits`) gives it for a
    recorded host whose spec predates the field, from the file's `lscpu` lines (vendor from
    the model name, the CPU family) and its vector width (16 lanes: AVX-512)."""
    lines = dict(line.split(": ", 1) for line in doc.get("lscpu", []) if ": " in line)
    vendor = "AuthenticAMD" if "AMD" in lines.get("Model name", "") else ""
    family = lines.get("CPU family", "")
    flags = {"avx512f"} if spec.simd_lanes >= 16 else set()
    return fma_datapath_bits(flags, (vendor, int(family) if family.isdigit() else 0))


def page_fault_contention_of(costs: Mapping[str, Any]) -> float | None:
    """`CPUSpec.page_fault_contention` from fresh pages filled by one thread and by N
    (`fresh_page_us_t1`, `fresh_page_us_tN`, as record_host.thread_costs writes them): N
    threads fault N / (1 + σ(N − 1)) times as fast as one, so σ = (N·p_N / p_1 − 1) / (N − 1),
    held to [0, 1]; None without both."""
    one = costs.get("fresh_page_us_t1")
    many = [(int(k.removeprefix("fresh_page_us_t")), v) for k, v in costs.items()
            if k.startswith("fresh_page_us_t") and k != "fresh_page_us_t1"]
    if not one or not many:
        return None
    threads, per_page = max(many)
    if threads < 2:
        return None
    return min(1.0, max(0.0, (threads * per_page / one - 1) / (threads - 1)))


FRAMEWORK_REFERENCE = "cpu-epyc-zen4-2vcpu-small-conv-2026-12-07.json"  # CPUSpec.framework_*


def case_key(row: Mapping[str, Any]) -> str:
    """A single-layer row's case (its fields less the timings), as one string."""
    return json.dumps({k: v for k, v in row.items() if not k.startswith(("us_", "spread_"))},
                      sort_keys=True)


def timed_calls(doc: Mapping[str, Any]) -> dict[str, float]:
    """A recording's timed framework-bound calls at one thread (µs) by name:
    `micro.dispatch_us` (or the older `networks.micro`'s `dispatch_us` and `lstm_us`), and
    its single-layer rows (`layers.rows`, or `micro.layer_retimes`: rows of another
    recording timed again) by case."""
    older = doc.get("networks", {}).get("micro", {})
    micro = doc.get("micro", {})
    layers = doc.get("layers", {})
    rows = [*(layers.get("rows", []) if isinstance(layers, dict) else []),
            *micro.get("layer_retimes", [])]
    return {**{case_key(r): r["us_t1"] for r in rows if "us_t1" in r},
            **older.get("dispatch_us", {}), **older.get("lstm_us", {}),
            **micro.get("dispatch_us", {})}


def framework_cycles_scale_of(doc: Mapping[str, Any], clock_hz: float) -> float | None:
    """`CPUSpec.framework_cycles_scale` of a recorded host whose framework-bound calls were
    timed (`timed_calls`): the median, over the calls both it and the reference host
    (`FRAMEWORK_REFERENCE`) timed, of its cycles (at `clock_hz`) over the reference's (the
    reference's own layer rows left out: they would compare with themselves); None where
    they share none."""
    reference = read(FRAMEWORK_REFERENCE)
    ours, theirs = timed_calls(doc), timed_calls(reference)
    own = {case_key(r) for r in reference["layers"]["rows"]}
    ratios = [ours[name] * clock_hz / (theirs[name] * reference["micro"]["clock_hz"])
              for name in sorted((ours.keys() & theirs.keys()) - own)]
    return statistics.median(ratios) if ratios else None


def replay_spec_of(doc: dict[str, Any]) -> CPUSpec | None:
    """The spec a replay runs: the stored one with today's calibration arithmetic re-run on
    the host's own stored GEMMs where it has them (`host.rederive`: its cost per worker
    thread and all-core FMA efficiency), so it means what a fresh calibration would give, and
    PyTorch's BLAS rates measured from its timed nn.Linear calls where it has them
    (`host.mkl_stream_rate` and `host.mkl_efficiency`, on the even rows: `fit_rows`), its
    page faults' contention where record_host timed them (`page_fault_contention_of`) and its
    framework code's speed where its small calls were timed (`framework_cycles_scale_of`)."""
    spec = spec_of(doc)
    gemm = doc.get("gemm")
    if spec is not None and "fma_bits" not in stored_fields(doc):
        spec = spec.replace(fma_bits=lscpu_fma_bits(doc, spec))
    rows = gemm.get("rows", []) if isinstance(gemm, dict) else []
    if spec is None:
        return None
    if rows:
        spec = rederive(spec, [(r["m"], r["k"], r["n"], r["measured_us"] * 1e-6) for r in rows])
    contention = page_fault_contention_of(doc.get("micro", {}).get("thread_costs_us", {}))
    if contention is not None:
        spec = spec.replace(page_fault_contention=contention)
    scale = framework_cycles_scale_of(doc, spec.clock_hz)
    if scale is not None:
        spec = spec.replace(framework_cycles_scale=scale)
    linears = [(r["batch"], r["in"], r["out"], r["us_t1"] * 1e-6)
               for r in fit_rows(doc, "linear") if "us_t1" in r]
    return mkl_efficiency(mkl_stream_rate(spec, linears), linears)


def fitted_flags(rows: Sequence[Mapping[str, Any]],
                 group: Callable[[Mapping[str, Any]], str]) -> list[bool]:
    """Which rows constants may be fitted on: the even rows of each group, in the file's
    order (validation/cpu_layers.py holds the model to the odd ones)."""
    seen: dict[str, int] = {}
    flags = []
    for row in rows:
        name = group(row)
        flags.append(seen.get(name, 0) % 2 == 0)
        seen[name] = seen.get(name, 0) + 1
    return flags


def fit_rows(doc: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """A recorded host's `layers.rows` of one kind that constants may be fitted on
    (`fitted_flags`, grouped by kind)."""
    layers = doc.get("layers")
    rows = [r for r in (layers.get("rows", []) if isinstance(layers, dict) else [])
            if r.get("kind") == kind]
    return [r for r, fitted in zip(rows, fitted_flags(rows, lambda r: kind), strict=True)
            if fitted]


def layer_hosts() -> list[str]:
    """Recorded CPU files with single-layer timings (`layers.rows`) and a spec to replay."""
    return [name for name in data_files() if name.startswith("cpu-")
            and spec_of(read(name)) is not None and "rows" in read(name).get("layers", {})]


def recorded_hosts() -> list[str]:
    """Recorded CPU files that can be replayed (they carry a spec and GEMM rows)."""
    return [name for name in data_files() if name.startswith("cpu-")
            and spec_of(read(name)) is not None and "rows" in read(name).get("gemm", {})]
