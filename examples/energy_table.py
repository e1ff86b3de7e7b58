"""Print the README's energy table: LeNet-5 on every preset at batch 1 and 64, each machine at
its own precision (int8 on the TPU, fp32 elsewhere), priced by accelsim/energy.py.

`cpu-host` is the recorded 2-vCPU EPYC development VM (its calibrated spec, bundled in
accelsim/measure/data), so the table does not depend on the machine that prints it.

    .venv/bin/python examples/energy_table.py
"""

from __future__ import annotations

import accelsim as ax
from accelsim.machines.presets import HOST, build_host
from accelsim.machines.results import RunResult
from accelsim.measure.recorded import read, spec_of

RECORDED_HOST = "cpu-epyc-zen3-2vcpu-2026-11-27.json"
BATCHES = (1, 64)


def machine(name: str) -> ax.Machine:
    if name == HOST:
        spec = spec_of(read(RECORDED_HOST))
        assert spec is not None
        return build_host(spec, {})
    return ax.machine(name)


def cells(r: RunResult) -> list[str]:
    e = r.energy
    assert e is not None
    return [f"{e.joules_per_inference * 1e6:,.1f}", f"{e.average_watts:,.1f}",
            f"{e.static_joules / e.joules:.0%}"]


def main() -> None:
    net = ax.network("lenet5", weights="none")
    head = ["machine", "precision", "node (nm)", "idle W"]
    for b in BATCHES:
        head += [f"µJ/inference (batch {b})", f"average W ({b})", f"static share ({b})"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for name in ax.presets():
        m = machine(name)
        runs = [m.run(net, batch=b) for b in BATCHES]
        row = [name, runs[0].precision.value, f"{m.spec.process_nm:g}",
               f"{m.spec.idle_watts:,.1f}"]
        for r in runs:
            row += cells(r)
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
