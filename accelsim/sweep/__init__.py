"""Design-space sweeps, executed: every point of a `Sweep` (declared in `accelsim.scenario`:
a machine preset's spec fields and run parameters varied over grids or explicit points)
evaluated on this machine's cores or a Dask cluster, streamed into a folder that an
interrupted sweep resumes from. The report pages are the report layer's
(`accelsim.report.write`; `accelsim.run_sweep` writes both).

    from accelsim.sweep import Range, Sweep, run_sweep
    sweep = Sweep.of("tpu-v1", ["lenet5", "lstm-char"],
                     {"tpu.array_rows": Range(8, 512, step=2, scale="log"),
                      "tpu.array_cols": [8, 16, 32, 64, 128, 256, 512], "batch": [1, 64]},
                     constraints=["tpu.array_rows == tpu.array_cols"])
    result = run_sweep(sweep, "reports/my-sweep", workers=2)   # or dask="tcp://host:8786"
    result.best("throughput_per_s", "lenet5"); result.ok(); result.to_records()

`tpu_point` / `tpu_points`: timing-only TPU design points, equal to the TPU machine's own runs
(fast_tpu.py); the runner uses them for every tpu-v1 point.
"""

from accelsim.scenario.axes import Range
from accelsim.scenario.space import METRICS, Point, Sweep
from accelsim.scenario.sweep_result import OBJECTIVES, SweepResult
from accelsim.sweep.fast_tpu import TpuPoint, tpu_point, tpu_points
from accelsim.sweep.runner import run_sweep

__all__ = ["METRICS", "OBJECTIVES", "Point", "Range", "Sweep", "SweepResult", "TpuPoint",
           "run_sweep", "tpu_point", "tpu_points"]
