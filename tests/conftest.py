"""Shared fixtures. `FixedRateMachine` is a placeholder for testing the run path only: it is
defined here, in the tests, and never offered to users."""

from __future__ import annotations

import dataclasses
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from accelsim.ir import Gemm, Op
from accelsim.machines.base import Machine
from accelsim.machines.results import Bound, OpResult
from accelsim.measure import calibration, host
from accelsim.measure.recorded import read, spec_of
from accelsim.precision import Precision

RECORDED_HOST = "cpu-intel-16core-2026-11-27.json"


@pytest.fixture(scope="session", autouse=True)
def recorded_host(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`cpu-host` in tests is a recorded host, never this machine measured live: the per-user
    cache points into a temporary folder holding a calibration with this host's fingerprint
    and a recorded spec, so runs do not depend on the machine's speed or load (and never
    write into the user's cache). Live checks carry the `host` marker."""
    cache = tmp_path_factory.mktemp("xdg-cache")
    spec = dataclasses.replace(spec_of(read(RECORDED_HOST)), source="recorded for the tests")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(cache))
        path = calibration.default_path()
        calibration.save(spec, path)
        assert calibration.read(path)["host"] == host.fingerprint()
        yield path


@dataclass(frozen=True)
class FixedRateSpec:
    clock_hz: float = 1e9
    macs_per_cycle: int = 100
    elements_per_cycle: int = 10
    memory_bytes_per_s: float = 1e10
    name: str = "test-fixed-rate"
    source: str = "a test double"


class FixedRateMachine(Machine):
    """Test double: a GEMM takes ceil(macs / macs_per_cycle) cycles, anything else
    ceil(elements / elements_per_cycle)."""

    name = "test-fixed-rate"

    def __init__(self, spec: FixedRateSpec | None = None) -> None:
        self.spec = spec or FixedRateSpec()

    @property
    def clock_hz(self) -> float:
        return self.spec.clock_hz

    @property
    def precisions(self) -> frozenset[Precision]:
        return frozenset({Precision.FP32, Precision.FP16})

    def peak_ops_per_s(self, precision: Precision | str) -> float:
        return 2 * self.spec.macs_per_cycle * self.spec.clock_hz

    def time_op(self, op: Op, precision: Precision) -> OpResult:
        if isinstance(op, Gemm):
            cycles, ops = -(-op.macs // self.spec.macs_per_cycle), op.ops
        else:
            elements = getattr(op, "total_elements", getattr(op, "elements", 0))
            cycles, ops = -(-elements // self.spec.elements_per_cycle), 0
        util = ops / (cycles * 2 * self.spec.macs_per_cycle) if cycles else 0.0
        return OpResult(op.name, type(op).__name__.lower(), cycles, cycles / self.clock_hz, ops,
                        precision, 0, 0, util, Bound.COMPUTE)


@pytest.fixture
def fixed_machine() -> FixedRateMachine:
    return FixedRateMachine()


@pytest.fixture
def huge_toml() -> str:
    """A network whose first layer has 10^12 outputs (16·10^12 weights): timed from its
    shapes or refused, never allocated."""
    return """
name = "huge"
input_shape = [16]
[[layers]]
name = "wide"
type = "linear"
out_features = 1000000000000
[[layers]]
name = "out"
type = "linear"
out_features = 10
"""


@pytest.fixture
def write_model(tmp_path: Path):
    """Write a TOML network file from a dedented string; returns its path."""

    def write(body: str, name: str = "net.toml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(body), encoding="utf-8")
        return path

    return write


class WideInputs:
    """Stand-in for a quantized network's shape side: a float network plus the
    `gemm_input_bits` ({layer: 8 or 16}) that `lower` reads."""

    def __init__(self, net: object, bits: dict[str, int]) -> None:
        self.network = net
        self.gemm_input_bits = bits

    def __getattr__(self, name: str) -> object:
        return getattr(self.network, name)


@pytest.fixture
def wide_inputs():
    """Wrap a network so the given layers' GEMMs read 16-bit (or 8-bit) activations."""
    return WideInputs
