"""`ax.plot`: the report's plots (accelsim.report.plots), each taking a Comparison or a
scenario's result and returning the matplotlib Axes; `quantization` and `sensitivity` take a
quantization study (`accelsim.quant.study.accuracy_study`) or a scenario's result holding one
(accelsim.report.quant_plots)."""

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
from accelsim.report.quant_plots import STUDY_PLOTS, quantization, sensitivity

__all__ = ["PLOTS", "STUDY_PLOTS", "NothingToPlot", "accuracy", "latency", "ops_vs_flops",
           "quantization", "roofline", "sensitivity", "throughput", "time", "utilization"]
