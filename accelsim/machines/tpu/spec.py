"""TPU v1 specification (Jouppi et al., "In-Datacenter Performance Analysis of a Tensor
Processing Unit", ISCA 2017), as data. Units are in the field names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from accelsim.checks import check_choice
from accelsim.energy import Block, idle_watts_of, technology_factor, volts_ratio
from accelsim.errors import SpecError
from accelsim.machines.specs import SpecValue, check_spec, replace_spec

NUMERICS = ("fast", "cycle")

# Power: the TPU die's floor plan (Jouppi et al., ISCA 2017, Figure 2), share of the die's area
# by block; the weight FIFO at the Unified Buffer's share per byte (29% × 256 KiB / 24 MiB);
# the rest is what the figure leaves unlabelled. See TPUSpec's docstring.
_LABELLED = (("unified buffer", 0.29), ("matrix multiply unit", 0.24), ("accumulators", 0.06),
             ("activation pipeline", 0.06), ("DDR3 ports", 0.06), ("PCIe interface", 0.03),
             ("host interface", 0.02), ("control", 0.02), ("misc I/O", 0.01),
             ("weight FIFO", 0.29 * 4 * 2**16 / (24 * 2**20)))
FLOOR_PLAN: tuple[tuple[str, float], ...] = (
    *_LABELLED, ("rest", 1.0 - sum(share for _, share in _LABELLED)))
UNCLOCKED = frozenset({"DDR3 ports", "PCIe interface", "misc I/O"})  # I/O: their links' pace
# Share of a clocked block's idle power that is leakage (the rest is clock tree and idle
# switching, ∝ clock): an assumption, typical of a 28 nm high-performance logic process.
LEAKAGE_FRACTION = 0.3


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
    (`reference_idle_watts`), 75 W TDP; its 40 W measured busy is what tests/test_energy.py
    holds the energy model against. `idle_watts`, the static power, follows what the spec
    builds (`floor_plan`, `energy.idle_watts_of`): the paper's die floor plan (Figure 2 and
    section 2: "The 24 MiB Unified Buffer is almost a third of the die and the Matrix
    Multiply Unit is a quarter"; Unified Buffer 29%, Matrix Multiply Unit 24%, Accumulators
    6%, Activation Pipeline 6%, DDR3 ports 2 × 3%, PCIe interface 3%, Host interface 2%,
    Control 2%, Misc. I/O 1%, read off the figure) gives each block its share of the 28 W,
    scaled by the cells, bytes or bandwidth the spec builds over tpu-v1's; the weight FIFO,
    not drawn in the figure, takes the Unified Buffer's share per byte (0.3% for its four
    64 KiB tiles) out of the unlabelled rest (wires, clock spine, pads: fixed). Clocked
    blocks are `LEAKAGE_FRACTION` leakage (∝ supply) and the rest clock power (∝ supply² ×
    clock_hz); the DDR3 and PCIe interfaces scale with their bandwidth, not the core clock.
    The supply follows the clock above and below `nominal_clock_hz` (`energy.volts_ratio`:
    V ∝ f between 0.7 and 1.2 × nominal), so a clock what-if costs more per operation too.
    tpu-v1 itself draws exactly its measured 28 W; a 1024×1024 array 140 W, tpu-v1 at
    2.8 GHz 113 W (at the 1.2 × supply ceiling). `tdp_watts` scales the 75 W
    (`reference_tdp_watts`) over the floor plan alike, at the nominal clock: a clock above
    it gives no bigger package, so a run can exceed it (`Energy.tdp_fraction` > 1: TPU' at
    1050 MHz on CNN0 draws 78 W).
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
    # The clock the design's supply is nominal at (energy.volts_ratio): a `clock_hz` above it
    # raises the supply; a design built for another clock (a deeper pipeline) sets both.
    nominal_clock_hz: float = 700e6
    reference_idle_watts: float = 28.0
    reference_tdp_watts: float = 75.0
    numerics: str = "fast"
    source: str = "Jouppi et al., ISCA 2017 (TPU v1)"

    may_be_zero: ClassVar[frozenset[str]] = frozenset({"reference_idle_watts"})  # dynamic only

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

    def floor_plan(self) -> tuple[Block, ...]:
        """The die's blocks (see the class docstring), each scaled by what this spec builds
        over tpu-v1's."""
        v1 = TPU_V1
        cells = self.array_rows * self.array_cols / (v1.array_rows * v1.array_cols)
        fifo = self.weight_fifo_tiles * cells / v1.weight_fifo_tiles
        scales = {
            "unified buffer": self.unified_buffer_bytes / v1.unified_buffer_bytes,
            "matrix multiply unit": cells,
            "accumulators": self.accumulator_rows * self.array_cols
            / (v1.accumulator_rows * v1.array_cols),
            "activation pipeline": self.array_cols / v1.array_cols,
            "weight FIFO": fifo,
            "DDR3 ports": self.ddr_bytes_per_s / v1.ddr_bytes_per_s,
            "PCIe interface": self.pcie_bytes_per_s / v1.pcie_bytes_per_s}
        return tuple(Block(name, share, scales.get(name, 1.0), name not in UNCLOCKED)
                     for name, share in FLOOR_PLAN)

    def _floor_plan_watts(self, reference_watts: float, clock_hz: float) -> float:
        return idle_watts_of(self.floor_plan(), reference_watts,
                             clock_ratio=clock_hz / TPU_V1.clock_hz,
                             leakage_fraction=LEAKAGE_FRACTION,
                             node_ratio=technology_factor(self.process_nm)
                             / technology_factor(TPU_V1.process_nm),
                             volts_ratio=volts_ratio(clock_hz, self.nominal_clock_hz))

    @property
    def volts_ratio(self) -> float:
        """Supply over the node's nominal at `clock_hz` (`energy.volts_ratio`)."""
        return volts_ratio(self.clock_hz, self.nominal_clock_hz)

    @property
    def idle_watts(self) -> float:
        """Static power of this design: `reference_idle_watts` shared over the floor plan's
        blocks, scaled by what it builds, its clock and supply and its node
        (`energy.idle_watts_of`)."""
        return self._floor_plan_watts(self.reference_idle_watts, self.clock_hz)

    @property
    def tdp_watts(self) -> float:
        """The package's rating for this design: `reference_tdp_watts` scaled as the floor
        plan's idle power is, at the nominal clock and supply (what the design is built and
        packaged for); a `clock_hz` above `nominal_clock_hz` does not raise it."""
        return self._floor_plan_watts(self.reference_tdp_watts, self.nominal_clock_hz)

    def replace(self, **overrides: SpecValue) -> TPUSpec:
        return replace_spec(self, overrides)


TPU_V1 = TPUSpec()
