"""How the host drives a TPU: the driver and runtime around the hardware of a `TPUSpec`.

A preset is hardware (spec.py); this is the other half of a TPU machine, as `GPURuntime` is
a GPU's. Jouppi et al., ISCA 2017, section 2: the TPU is a coprocessor on PCIe; the host
server runs the application and sends the TPU its instructions through a user-space driver
(which sets up and controls each execution, reformats data into TPU order and turns API calls
into TPU instructions; the program image is compiled and cached on the first evaluation) and
a light kernel driver (memory management and interrupts). Table 5 gives the time the host CPU
spends interacting with the TPU as 11–76% of the TPU's execution time, app by app (from
performance counters); Table 4's response times include it. The paper gives no per-call or
per-transfer figure, so the two fields below are assumptions, each built from what it names:

- `pcie_transfer_latency_s`: each Read_Host_Memory / Write_Host_Memory is a DMA the driver
  sets up (a descriptor and a doorbell write), which the device starts by fetching the
  descriptor, whose first data arrive one round trip later, and whose completion the host
  sees (an interrupt or a poll): about three small-DMA round trips. Neugebauer et al.,
  "Understanding PCIe performance for end host networking", SIGCOMM 2018, measure a small
  DMA read's round trip on PCIe Gen3 hosts at roughly 0.5–1 µs; three of them give 1.5–3 µs,
  and we take 2 µs. The bytes themselves still move at `TPUSpec.pcie_bytes_per_s` in the
  program (executor.py); this is the fixed cost beside them.
- `driver_call_s`: one call into the user-space driver per program run (per batch, or per
  sub-batch when a batch runs in passes): TensorFlow's call into the driver, starting the
  cached program and waiting for its completion. Assumed 10 µs, of the order of the host
  costs measured on the H200 system for one synchronous call into a device runtime
  (`GPURuntime.host_copy_latency_s`, 12 µs; a PyTorch op's dispatch, 4.5 µs).

Timing: both are host time on the end-to-end path only, not overlapped with the device (the
driver issues a run's transfers and waits for each); `device_seconds` does not include them.
End to end = the program with its PCIe transfers + passes × (driver_call_s + transfers ×
pcie_transfer_latency_s), `host_cycles` below, in that order, for the machine and for
`accelsim.sweep.fast_tpu` alike. Not modelled: the host's reformatting of data (a share of
Table 5's figure that grows with the bytes), queueing, and the application's own host work.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from accelsim.machines.results import Breakdown, Category
from accelsim.machines.specs import SpecValue, check_spec, replace_spec


@dataclass(frozen=True)
class TPURuntime:
    """The host's driver and runtime around a TPU (see the module)."""

    name: str = "tpu-driver"
    driver_call_s: float = 10e-6  # per program run: one call into the user-space driver
    pcie_transfer_latency_s: float = 2e-6  # per host transfer: DMA setup and latency

    # Overheads a what-if may remove entirely (a bare chip: end to end = the program).
    may_be_zero: ClassVar[frozenset[str]] = frozenset(
        {"driver_call_s", "pcie_transfer_latency_s"})

    def __post_init__(self) -> None:
        check_spec(self)

    def host_seconds(self, transfers: int, passes: int) -> tuple[float, float]:
        """(transfer latency, driver calls) in seconds for `passes` program runs, each with
        `transfers` host transfers."""
        return (passes * transfers * self.pcie_transfer_latency_s,
                passes * self.driver_call_s)

    def host_cycles(self, transfers: int, passes: int, clock_hz: float) -> float:
        """The host's part of end to end, in cycles of `clock_hz` (added to the program's)."""
        latency, driver = self.host_seconds(transfers, passes)
        return (latency + driver) * clock_hz

    def host_time(self, transfers: int, passes: int) -> Breakdown:
        """The host's part as categories: transfer latency, and the driver as framework."""
        latency, driver = self.host_seconds(transfers, passes)
        return Breakdown.of({Category.HOST_TRANSFER: latency, Category.FRAMEWORK: driver})

    def replace(self, **overrides: SpecValue) -> TPURuntime:
        return replace_spec(self, overrides)


TPU_DRIVER = TPURuntime()
RUNTIME_FIELDS = frozenset(f.name for f in dataclasses.fields(TPURuntime)) - {"name"}
