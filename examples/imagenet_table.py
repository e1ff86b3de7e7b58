"""Print the README's ResNet-18 and MobileNetV2 tables: each network at 224×224 on every preset
at batch 1 and 64, each machine at its own precision (int8 on the TPU, fp32 elsewhere): end-to-end
time, utilization of the precision's peak, images per second and where batch 64's time goes.

`cpu-host` is the recorded 2-vCPU EPYC development VM (examples/energy_table.py's), so the tables
do not depend on the machine that prints them.

    .venv/bin/python examples/imagenet_table.py
"""

from __future__ import annotations

from energy_table import machine

import accelsim as ax
from accelsim.machines.results import RunResult
from accelsim.units import duration, share

NETWORKS = {"resnet18": "ResNet-18", "mobilenetv2": "MobileNetV2"}
SHOWN_SHARE = 0.05  # categories of batch 64's time shown: at least 5% of it


def where_time_goes(r: RunResult) -> str:
    """Batch 64's categories, largest first, and how the TPU met its Unified Buffer."""
    parts = sorted(r.time.fractions().items(), key=lambda part: -part[1])
    text = ", ".join(f"{c.value} {v:.0%}" for c, v in parts if v >= SHOWN_SHARE)
    strategy = getattr(r.detail, "strategy", "whole batch")
    return text if strategy == "whole batch" else f"{text} ({strategy})"


def main() -> None:
    for name, title in NETWORKS.items():
        net = ax.network(name, weights="none")
        print(f"**{title}**\n")
        print("| machine | precision | batch 1 | utilization | batch 64 | images/s | "
              "utilization | where batch 64's time goes |")
        print("|---|---|---|---|---|---|---|---|")
        for preset in ax.presets():
            m = machine(preset)
            one, many = m.run(net, batch=1), m.run(net, batch=64)
            print(f"| {preset} | {one.precision.value} | {duration(one.seconds)} | "
                  f"{share(one.utilization)} | {duration(many.seconds)} | "
                  f"{many.throughput:,.0f} | {share(many.utilization)} | "
                  f"{where_time_goes(many)} |")
        print()


if __name__ == "__main__":
    main()
