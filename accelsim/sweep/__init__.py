"""Design-space sweeps. `tpu_point` / `tpu_points`: timing-only TPU design points, equal to
the TPU machine's own runs (fast_tpu.py)."""

from accelsim.sweep.fast_tpu import TpuPoint, tpu_point, tpu_points

__all__ = ["TpuPoint", "tpu_point", "tpu_points"]
