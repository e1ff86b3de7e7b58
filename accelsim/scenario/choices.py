"""A scenario's choices of machines and networks: what the file names, and the machine built or
the network loaded from it.

A parsed scenario carries what it built and loaded, so nothing downstream builds or loads them
again. A choice made by hand may leave them out (`machine`, `network` None); `built()` and
`loaded()` then make them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from accelsim.build import machine_with
from accelsim.machines.base import Machine
from accelsim.machines.specs import SpecValue
from accelsim.nn.loader import load_network
from accelsim.nn.network import Network


@dataclass(frozen=True)
class MachineChoice:
    """A preset, the spec fields it overrides (`name` relabels it) and the machine built
    from them (None for a choice made by hand: `built()` builds it)."""

    preset: str
    overrides: tuple[tuple[str, SpecValue], ...] = ()
    machine: Machine | None = field(default=None, compare=False, repr=False)

    @property
    def name(self) -> str:
        """The machine's name in results: the `name` override, else the preset."""
        return str(dict(self.overrides).get("name", self.preset))

    def built(self) -> Machine:
        """The machine: as parsed, or built now from the preset and overrides."""
        if self.machine is not None:
            return self.machine
        return machine_with(self.preset, dict(self.overrides))


@dataclass(frozen=True)
class NetworkChoice:
    """A network as the scenario names it (a bundled name, or a TOML file's absolute path),
    and the network loaded from it (trained weights where the scenario scores it; None for
    a choice made by hand: `loaded()` loads it)."""

    spec: str
    network: Network | None = field(default=None, compare=False, repr=False)

    def loaded(self, weights: str = "none") -> Network:
        """The network: as parsed, or loaded now with `weights`."""
        return self.network if self.network is not None else load_network(self.spec,
                                                                          weights=weights)
