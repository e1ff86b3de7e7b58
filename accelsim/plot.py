"""`ax.plot`: the report's plots (accelsim.report.plots), each taking a Comparison or a
scenario's result and returning the matplotlib Axes."""

from __future__ import annotations

from accelsim.report.plots import (
    PLOTS,
    NothingToPlot,
    accuracy,
    latency,
    ops_vs_flops,
    roofline,
    throughput,
    time,
    utilization,
)

__all__ = ["PLOTS", "NothingToPlot", "accuracy", "latency", "ops_vs_flops", "roofline",
           "throughput", "time", "utilization"]
