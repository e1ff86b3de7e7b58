"""The SIMT GPU machine: a network as PyTorch runs it on the GPU, kernel by kernel.

Device time (`device_seconds`, what a CUDA-graph replay measures): the kernels PyTorch and its
libraries launch, back to back, each paying the device-side launch cost of a trivial kernel
in a graph (`kernel_launch_s`) plus its body (pytorch.py says which kernels):
- convolutions: the implicit-GEMM kernel cuDNN's heuristic picks (conv.py, a table from the
  H200 kernel lists), timed by the SM-level GEMM model (gemm.py, sm_sim.py), then a bias add;
- linear layers: cuBLASLt's addmm (blas.py): a split-K GEMM with memset, scal and bias
  epilogue kernels for 33 to 1,024 rows and at most 128 columns, else one GEMM with the bias
  fused (a GEMV at one row); after a batch-first cuDNN RNN, a GEMM and a bias add;
- element-wise and pooling: PyTorch's kernels as streaming kernels with a latency floor
  (elementwise.py);
- recurrent layers: cuDNN's persistent kernel (recurrent.py), or per step a GEMM and a fused
  cell kernel, or a Python loop of cells (`recurrent_step_loop`).
End to end (`seconds`): eager PyTorch (launches.py): each framework call costs host dispatch
time (`host_dispatch_s`) and each kernel it launches `host_kernel_launch_s`; kernels queue
and overlap the host's later work; the input is converted on the CPU if narrower than
float32 and copied synchronously from pageable memory at the host's memory bandwidth
(`host_memory_bytes_per_s`, `host_cached_bytes_per_s`), the output cast on the device and
copied back.

A single op timed alone (`time_op`, `gemm`) is the kernel a library would pick as fastest for
it (gemm.py), as the GEMM measurements of `accelsim validate gpu-h200` hold it.
Sources: see spec.py and each module's docstring; validation: `accelsim validate gpu-h200`
(kernels) and `--networks` (whole networks, both times).

Numerics: fp32; fp16 and bf16 (rounded storage, fp32 accumulation as tensor cores do); int8
(int32 accumulation, via a quantized network). A precision the GPU lacks is an error.
"""

from __future__ import annotations

from dataclasses import dataclass

from accelsim.ir import Gemm, Op, Pool, Transfer, Vector, Workload
from accelsim.machines.base import SpecMachine, WorkloadTiming
from accelsim.machines.capacity import check_gemm_fits, check_workload_fits
from accelsim.machines.gpu.elementwise import (
    StreamCost,
    pool_cost,
    transfer_cost,
    vector_cost,
)
from accelsim.machines.gpu.gemm import KernelChoice, choose_kernel
from accelsim.machines.gpu.launches import FrameworkCall, Kernel, eager_seconds, replay_seconds
from accelsim.machines.gpu.pytorch import OpCalls, framework_calls
from accelsim.machines.gpu.runtime import (
    HOST_CALLS,
    PYTORCH_EAGER,
    RUNTIME_FIELDS,
    GPURuntime,
)
from accelsim.machines.gpu.spec import GPU_SPECS, GPUSpec
from accelsim.machines.results import Bound, Breakdown, Category, OpResult
from accelsim.machines.specs import SpecValue, replace_spec
from accelsim.precision import Precision


@dataclass(frozen=True)
class GpuKernelDetail:
    """The kernels an op launched (over all its repetitions), in order (`kernels`, with
    their device seconds in `kernel_seconds`), and its main GEMM kernel's grid (CTAs,
    resident CTAs per SM, waves, split of K), if it has one."""

    launches: int
    ctas: int = 0
    ctas_per_sm: int = 0
    waves: float = 0.0
    split_k: int = 1
    launch_s: float = 0.0
    reduce_s: float = 0.0
    kernels: tuple[str, ...] = ()
    kernel_seconds: tuple[float, ...] = ()


@dataclass(frozen=True)
class GpuRunDetail:
    kernels: int  # kernel launches of one batch's forward (device time)
    framework_calls: int  # calls the host dispatched end to end (copies included)


class GPU(SpecMachine):
    """A GPU: its hardware (`GPUSpec`) and the software that drives it (`GPURuntime`)."""

    spec: GPUSpec
    runtime: GPURuntime

    def __init__(self, spec: GPUSpec, runtime: GPURuntime = PYTORCH_EAGER) -> None:
        super().__init__(spec)
        self.runtime = runtime

    def settings(self) -> tuple[GPUSpec, GPURuntime]:
        return self.spec, self.runtime

    def with_runtime(self, **overrides: SpecValue) -> GPU:
        """The same GPU driven by other software (runtime fields replaced)."""
        return GPU(self.spec, self.runtime.replace(**overrides))

    def kernel_for(self, m: int, k: int, n: int, precision: Precision) -> KernelChoice:
        """The kernel the model picks for a GEMM, with its predicted time."""
        return choose_kernel(int(m), int(k), int(n), self.spec, precision)

    def time_op(self, op: Op, precision: Precision) -> OpResult:
        """One op as a kernel of its own: a GEMM the fastest menu kernel, element-wise and
        pooling ops PyTorch's kernels, a transfer one synchronous copy."""
        precision = self.check_precision(precision)
        if isinstance(op, Gemm):
            return self._gemm_result(op, precision)
        if isinstance(op, Vector):
            cost = vector_cost(op, precision, self.spec)
            return self._stream_result(op, cost, precision, launches=op.count)
        if isinstance(op, Pool):
            return self._stream_result(op, pool_cost(op, precision, self.spec), precision)
        return self._stream_result(op, transfer_cost(op, precision, self.runtime), precision)

    def _gemm_result(self, op: Gemm, precision: Precision) -> OpResult:
        check_gemm_fits(op.m, op.k, op.n, precision, self.spec.dram_bytes, self.name)
        choice = self.kernel_for(op.m, op.k, op.n, precision)
        seconds = choice.seconds * op.count
        launches = op.count * (2 if choice.split_k > 1 else 1)
        detail = GpuKernelDetail(launches, choice.ctas, choice.ctas_per_sm, choice.waves,
                                 choice.split_k, choice.launch_seconds * op.count,
                                 choice.reduce_seconds * op.count)
        return OpResult(op.name, "gemm", seconds * self.clock_hz, seconds, op.ops, precision,
                        choice.dram_bytes * op.count, 0,
                        op.ops / (seconds * self.peak_ops_per_s(precision)),
                        Bound(choice.bound), self._gemm_time(choice).scaled(op.count), detail,
                        choice.name, op.layer)

    def _gemm_time(self, choice: KernelChoice) -> Breakdown:
        """Launches, the cold start, the math (up to the body's length) and the memory wait
        beyond it, and the split-K reduction's work."""
        spec = self.spec
        launches = spec.kernel_launch_s * (2 if choice.split_k > 1 else 1)
        reduce_work = max(choice.reduce_seconds - spec.kernel_launch_s, 0.0) \
            if choice.split_k > 1 else 0.0
        body = choice.seconds - choice.launch_seconds - spec.cold_start_s - \
            choice.reduce_seconds
        compute = min(choice.compute_seconds, body)
        return Breakdown.of({Category.LAUNCH: launches, Category.LATENCY: spec.cold_start_s,
                             Category.COMPUTE: compute + reduce_work,
                             Category.MEMORY_STALL: max(body - compute, 0.0)})

    def _stream_result(self, op: Op, cost: StreamCost, precision: Precision,
                       launches: int = 1) -> OpResult:
        """`cost` covers the whole op (every repetition)."""
        name = "memcpy" if isinstance(op, Transfer) else type(op).__name__.lower()
        per_launch = cost.seconds / max(launches, 1)
        bound = Bound.LATENCY if per_launch < 2 * self.spec.kernel_launch_s else \
            Bound(cost.bound)
        if isinstance(op, Transfer):
            time = Breakdown.of({Category.HOST_TRANSFER: cost.seconds})
            detail = None
        else:
            launch = self.spec.kernel_launch_s * launches
            time = Breakdown.of({Category.LAUNCH: launch,
                                 Category.ELEMENTWISE: cost.seconds - launch})
            detail = GpuKernelDetail(launches)
        return OpResult(op.name, type(op).__name__.lower(), cost.seconds * self.clock_hz,
                        cost.seconds, 0, precision, cost.bytes_moved, 0, 0.0, bound, time,
                        detail, name, getattr(op, "layer", ""))

    def framework_calls(self, workload: Workload, precision: Precision | str
                        ) -> tuple[OpCalls, ...]:
        """The calls PyTorch makes for the workload, op by op, with their kernels."""
        return framework_calls(workload, self.check_precision(precision), self.spec,
                               self.runtime)

    def _end_to_end(self, calls: list[FrameworkCall]) -> float:
        """The calls as the runtime issues them: PyTorch eager (each call's dispatch and
        launches on the host, overlapping the device), the library called directly (each
        call `library_call_host_s`, each launch `library_launch_host_s`), or a CUDA graph
        replayed (no host work but the copies)."""
        runtime = self.runtime
        if runtime.framework == "graph":
            return replay_seconds(calls)
        if runtime.framework == "library":
            dispatch = dict.fromkeys(HOST_CALLS, runtime.library_call_host_s)
            return eager_seconds(calls, dispatch, runtime.library_launch_host_s)
        return eager_seconds(calls, dict(runtime.host_dispatch_s), runtime.host_kernel_launch_s)

    def time_workload(self, workload: Workload, precision: Precision) -> WorkloadTiming:
        """The forward's kernels back to back (device time) and the eager run around them
        (end to end). The work must fit the device memory."""
        check_workload_fits(workload, self.spec.dram_bytes, precision, self.name)
        per_op = framework_calls(workload, precision, self.spec, self.runtime)
        layers = tuple(self._op_result(item, precision) for item in per_op)
        forward = [c for item in per_op if not isinstance(item.op, Transfer)
                   for c in item.calls]
        device = sum(c.device_seconds for c in forward)
        calls = [c for item in per_op for c in item.calls]
        seconds = self._end_to_end(calls)
        kernels = sum(c.launches for c in forward)
        framework = max(seconds - sum(r.seconds for r in layers), 0.0)
        time = Breakdown.total_of([*(r.time for r in layers),
                                   Breakdown.of({Category.FRAMEWORK: framework})])
        return WorkloadTiming(layers, seconds * self.clock_hz, seconds, device, time, None,
                              GpuRunDetail(kernels, len(calls)))

    def _op_result(self, item: OpCalls, precision: Precision) -> OpResult:
        op, calls = item.op, item.calls
        kernels = [k for c in calls for k in c.kernels]
        layer = getattr(op, "layer", "")
        if not calls:
            return OpResult(op.name, type(op).__name__.lower(), 0.0, 0.0, 0, precision, 0, 0,
                            0.0, Bound.LATENCY, kernel=f"fused into {item.fused_into}",
                            layer=layer)
        host = sum(c.copy_s + c.host_work_s for c in calls)
        seconds = host + sum(k.seconds for k in kernels)
        ops = op.ops if isinstance(op, Gemm) else 0
        main = max(kernels, key=lambda k: (k.category is Category.COMPUTE, k.seconds),
                   default=None)
        time = Breakdown.total_of([Breakdown.of({Category.HOST_TRANSFER: host}),
                                   *(self._kernel_time(k) for k in kernels)])
        utilization = ops / (seconds * self.peak_ops_per_s(precision)) if ops else 0.0
        bound = Bound.MEMORY if main is None or isinstance(op, Transfer) else \
            Bound(main.bound) if main.seconds >= 2 * self.spec.kernel_launch_s \
            else Bound.LATENCY
        return OpResult(op.name, type(op).__name__.lower(), seconds * self.clock_hz, seconds,
                        ops, precision, sum(k.dram_bytes for k in kernels), 0, utilization,
                        bound, time, self._detail(kernels, main), kernel_label(op, kernels),
                        layer)

    def _kernel_time(self, kernel: Kernel) -> Breakdown:
        if kernel.gemm is not None and kernel.category is Category.COMPUTE:
            scale = kernel.seconds / kernel.gemm.seconds
            return self._gemm_time(kernel.gemm).scaled(scale)
        launch = min(self.spec.kernel_launch_s * kernel.launches, kernel.seconds)
        return Breakdown.of({Category.LAUNCH: launch,
                             kernel.category: kernel.seconds - launch})

    def _detail(self, kernels: list[Kernel], main: Kernel | None) -> GpuKernelDetail | None:
        if not kernels:
            return None
        names = tuple(k.name for k in kernels)
        seconds = tuple(k.seconds for k in kernels)
        launches = sum(k.launches for k in kernels)
        launch = self.spec.kernel_launch_s * launches
        choice = main.gemm if main is not None else None
        if choice is None:
            return GpuKernelDetail(launches, launch_s=launch, kernels=names,
                                   kernel_seconds=seconds)
        return GpuKernelDetail(launches, choice.ctas, choice.ctas_per_sm, choice.waves,
                               choice.split_k, launch, choice.reduce_seconds, names, seconds)

    def __repr__(self) -> str:
        return f"GPU({self.spec.name!r}, {self.spec.sm_count} SMs)"


def kernel_label(op: Op, kernels: list[Kernel]) -> str:
    """The op's kernels in launch order, each name once ('a + b + c'), with the launch
    count when kernels repeat (a per-step loop); a transfer ends in its memcpy."""
    names = list(dict.fromkeys(k.name for k in kernels))
    if isinstance(op, Transfer):
        names.append("memcpy")
    label = " + ".join(names)
    return label if len(set(kernels)) == len(kernels) else \
        f"{label} ({len(kernels)} launches)"


def gpu_preset(name: str, /, **overrides: SpecValue) -> GPU:
    """A preset's hardware with the default runtime, each override replacing the field of
    that name in whichever of the two has it."""
    spec, runtime = GPU_SPECS[name], PYTORCH_EAGER
    software = {key: value for key, value in overrides.items() if key in RUNTIME_FIELDS}
    hardware = {key: value for key, value in overrides.items() if key not in RUNTIME_FIELDS}
    return GPU(replace_spec(spec, hardware, also=RUNTIME_FIELDS),
               runtime.replace(**software) if software else runtime)
