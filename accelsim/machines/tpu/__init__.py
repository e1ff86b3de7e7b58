"""The TPU v1 model: the systolic array (closed form and cycle-level engine) and the machine."""

from accelsim.machines.tpu.systolic import Dataflow, SystolicArray

__all__ = ["Dataflow", "SystolicArray"]
