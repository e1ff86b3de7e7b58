"""TPU v1 specification (Jouppi et al., "In-Datacenter Performance Analysis of a Tensor
Processing Unit", ISCA 2017), as data. Units are in the field names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from accelsim.checks import check_choice
from accelsim.errors import SpecError
from accelsim.machines.specs import SpecValue, check_spec, replace_spec

NUMERICS = ("fast", "cycle")


@dataclass(frozen=True)
class TPUSpec:
    """One TPU: a weight-stationary systolic array fed by DDR3 through a weight FIFO.

    array_rows × array_cols int8 MACs at clock_hz; weights stream from weight_memory_bytes of
    DDR3 at ddr_bytes_per_s into a weight_fifo_tiles-deep FIFO, then shift into the array's
    shadow buffer one row per cycle; activations live in the Unified Buffer; results collect
    in accumulator_rows × array_cols 32-bit accumulators (half of them per buffer, so the
    compiler can double-buffer); the activation unit drains one accumulator row per cycle;
    PCIe connects the host. `numerics` picks how int8 GEMMs are computed: "fast" (an exact
    integer kernel) or "cycle" (the cycle-level systolic engine); outputs are identical.

    Power (accelsim/energy.py): the paper's Table 2 per die — 28 nm, 28 W measured idle
    (`idle_watts`, the static power), 75 W TDP; its 40 W measured busy is what
    tests/test_energy.py holds the energy model against.
    """

    name: str = "tpu-v1"
    array_rows: int = 256
    array_cols: int = 256
    clock_hz: float = 700e6
    ddr_bytes_per_s: float = 34e9
    weight_memory_bytes: int = 8 * 2**30
    weight_fifo_tiles: int = 4
    unified_buffer_bytes: int = 24 * 2**20
    accumulator_rows: int = 4096
    pcie_bytes_per_s: float = 14 * 2**30
    process_nm: float = 28.0
    idle_watts: float = 28.0
    tdp_watts: float = 75.0
    numerics: str = "fast"
    source: str = "Jouppi et al., ISCA 2017 (TPU v1)"

    may_be_zero: ClassVar[frozenset[str]] = frozenset({"idle_watts"})  # dynamic energy only

    def __post_init__(self) -> None:
        check_spec(self)
        if self.accumulator_rows < 2:
            raise SpecError(f"{self.name}: accumulator_rows = {self.accumulator_rows} must be "
                            "at least 2 (two buffers); use 2 or more")
        check_choice(self.numerics, "numerics", NUMERICS, owner=self.name)

    @property
    def memory_bytes_per_s(self) -> float:
        """Main memory's bandwidth (`ddr_bytes_per_s`): the roofline's slope."""
        return self.ddr_bytes_per_s

    @property
    def macs_per_cycle(self) -> int:
        return self.array_rows * self.array_cols

    @property
    def peak_ops_per_s(self) -> float:
        """2 ops per MAC: 256 × 256 × 700 MHz × 2 = 91.75e12 (the paper's 92 TOPS)."""
        return 2.0 * self.macs_per_cycle * self.clock_hz

    @property
    def tile_bytes(self) -> int:
        return self.array_rows * self.array_cols

    @property
    def ddr_bytes_per_cycle(self) -> float:
        return self.ddr_bytes_per_s / self.clock_hz

    @property
    def pcie_bytes_per_cycle(self) -> float:
        return self.pcie_bytes_per_s / self.clock_hz

    @property
    def accumulator_buffer_rows(self) -> int:
        """Rows one of the two accumulator buffers holds (the paper's 2048)."""
        return self.accumulator_rows // 2

    @property
    def ridge_macs_per_weight_byte(self) -> float:
        """Roofline knee: peak MAC/s over weight bandwidth (~1350 for TPU v1)."""
        return self.macs_per_cycle * self.clock_hz / self.ddr_bytes_per_s

    def replace(self, **overrides: SpecValue) -> TPUSpec:
        return replace_spec(self, overrides)


TPU_V1 = TPUSpec()
