"""The host's calibration, measured once and saved: `cpu-host` is the same in every process.

`accelsim calibrate` (or the first use of `cpu-host`) measures the host (`host.detect_host`)
and saves the spec as JSON in a per-user cache file (`$XDG_CACHE_HOME/accelsim/cpu-host.json`,
by default `~/.cache/accelsim/cpu-host.json`), written atomically. Later processes load it,
so the same command prints the same timings. A file saved on another host (another CPU model,
core count, vector extensions or BLAS) is not reused: the host is measured again. Floats are
stored with `repr`, which round-trips exactly.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from accelsim.errors import AccelsimError
from accelsim.machines.cpu.spec import CPUSpec
from accelsim.measure import host

# 2: thread_sync_s measured per worker thread; 3: page_fault_s on 4 KiB pages and PyTorch's
# BLAS rate (mkl_fma_efficiency) where PyTorch is installed; 4: fma_bits (Zen 4's half-width
# pipes) and threaded GEMMs at the all-core rate; 5: MKL's streaming rate beyond L2
# (mkl_stream_cycles_per_weight); 6: mkl_fma_efficiency fitted with the packed kernel's rows
# and outputs streamed (mkl.rows_cycles) (older files are measured again)
SCHEMA = 6
FILE_NAME = "cpu-host.json"
Note = Callable[[str], None]


class CalibrationError(AccelsimError):
    """A calibration file is missing, unreadable or invalid."""


def default_path() -> Path:
    """The per-user cache file for this host's calibration."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "accelsim" / FILE_NAME


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def calibrate(path: Path | None = None, note: Note = _stderr) -> tuple[CPUSpec, Path]:
    """Measure this host and save the spec; returns it and where it was saved."""
    target = Path(path) if path is not None else default_path()
    started = time.perf_counter()
    spec = host.detect_host()
    memory = host.memory_bytes()
    if memory:
        spec = spec.replace(memory_bytes=memory)
    save(spec, target)
    note(f"accelsim: calibrated cpu-host in {time.perf_counter() - started:.1f} s; saved to "
         f"{target} (`accelsim calibrate` measures again)")
    return load(target), target


def save(spec: CPUSpec, path: Path) -> None:
    """Write the spec and this host's fingerprint atomically (temp file, then rename)."""
    doc = {"schema": SCHEMA, "measured": datetime.date.today().isoformat(),
           "host": host.fingerprint(), "spec": dataclasses.asdict(spec)}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent,
                                         prefix=f".{path.name}.", delete=False) as out:
            json.dump(doc, out, indent=1)
        os.replace(out.name, path)
    except OSError as err:
        raise CalibrationError(f"cannot write the calibration to {path}: {err.strerror}; "
                               "pass calibration=PATH (or --calibration) to a writable "
                               "place") from None


def read(path: Path) -> dict[str, Any]:
    """The calibration document, or an error naming the file and what is wrong."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CalibrationError(f"calibration file {path} does not exist; run `accelsim "
                               "calibrate` to make it") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CalibrationError(f"calibration file {path} is unreadable ({err}); delete it or "
                               "run `accelsim calibrate` to measure again") from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA or \
            not isinstance(doc.get("spec"), dict):
        raise CalibrationError(f"calibration file {path} is not an accelsim calibration "
                               f"(schema {SCHEMA}); run `accelsim calibrate` to measure again")
    return doc


def load(path: Path) -> CPUSpec:
    """The spec saved in a calibration file, named as where it came from."""
    doc = read(path)
    fields = {f.name for f in dataclasses.fields(CPUSpec)}
    values = dict(doc["spec"])
    unknown = sorted(set(values) - fields)
    if unknown:
        raise CalibrationError(f"calibration file {path} has unknown field(s) "
                               f"{', '.join(unknown)}; run `accelsim calibrate` again")
    values["name"] = "cpu-host"
    measured = doc.get("measured", "an unknown date")
    values["source"] = f"{values.get('source', '')}; calibrated {measured}, loaded from {path}"
    try:
        return CPUSpec(**values)
    except TypeError as err:
        raise CalibrationError(f"calibration file {path}: {err}; run `accelsim calibrate` "
                               "again") from None
    except AccelsimError as err:
        raise CalibrationError(f"calibration file {path}: {err}") from None


def host_spec(path: Path | None = None, note: Note = _stderr) -> CPUSpec:
    """`cpu-host`'s spec: from `path` when given (it must exist), else from the per-user
    cache when it was saved on this host, else measured now and saved there."""
    if path is not None:
        return load(Path(path))
    cached = default_path()
    if cached.exists():
        try:
            same_host = read(cached).get("host") == host.fingerprint()
        except CalibrationError:
            same_host = False
        if same_host:
            return load(cached)
        note(f"accelsim: {cached} was calibrated on another host (or is damaged); "
             "measuring this one")
    return calibrate(cached, note)[0]
