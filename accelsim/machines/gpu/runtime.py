"""How software drives a GPU: the runtime around the hardware of a `GPUSpec`.

A preset is hardware from datasheets (spec.py); this is the other half of a GPU machine, with
its own defaults: the framework that dispatches the work (eager PyTorch, a CUDA-graph replay,
or cuDNN / cuBLAS called directly), the library's algorithm choices (cuDNN's convolution
heuristic or benchmark, a forced algorithm, the RNN algorithm), the tensor layout, and the
host's costs around the device (dispatch, launches, copies). `ax.machine("gpu-v100",
cudnn_benchmark=True, channels_last=True, rnn_algorithm="standard")` sets either half by
field name; scenarios and sweeps do the same (`gpu.framework`, `gpu.host_copy_latency_s`).

The defaults are PyTorch 2.11 eager on CUDA 13 on the H200 system's host: its host costs come
from that system's measurements (mostly its whole-network file, accelsim/measure/data/
gpu-h200-network-2026-11-27.json, "the network file" below); each field says from what. Other
GPUs run with the same runtime: their hosts were not measured. The library-call costs come
from DeepBench's V100 RNN rows (validation/deepbench_rnn.py, fitted on the even rows).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from accelsim.checks import check_choice
from accelsim.errors import SpecError
from accelsim.machines.specs import SpecValue, check_spec, replace_spec

HOST_CALLS = ("op", "conv", "linear", "rnn", "cell", "copy")
FRAMEWORKS = ("eager", "graph", "library")
RNN_ALGORITHMS = ("auto", "standard", "persistent")
CONV_ALGORITHMS = ("auto", "implicit_gemm", "implicit_precomp_gemm", "gemm", "winograd", "fft",
                   "direct")


@dataclass(frozen=True)
class GPURuntime:
    """The software stack and host around a GPU (see the module)."""

    name: str = "pytorch-2.11-eager"
    # How a recurrent layer runs: False as nn.LSTM / nn.RNN through cuDNN (one persistent
    # kernel where the recurrent weights fit on chip, else a GEMM and a fused cell kernel per
    # step); True as nn.LSTMCell / nn.RNNCell called once per step from Python.
    recurrent_step_loop: bool = False
    # `framework`: "eager" (PyTorch eager: every call dispatched from the host, the end-to-end
    # time of `eager_seconds`), "graph" (a CUDA graph replayed: no host dispatch or launch, end
    # to end = the host copies and the kernels) or "library" (cuDNN / cuBLAS called directly,
    # as DeepBench does: each call and launch at the `library_*` host costs below).
    framework: str = "eager"
    # cuDNN's convolution algorithm: False the library's heuristic (PyTorch's default); True the
    # fastest measured (cudnnFind, torch.backends.cudnn.benchmark = True).
    cudnn_benchmark: bool = False
    # Tensors in NHWC (torch.channels_last): no layout transforms around tensor-core kernels.
    channels_last: bool = False
    # cuDNN's RNN algorithm: "auto" (persistent where it fits, as PyTorch gets it), "standard"
    # (the input GEMM for all steps, then per step a recurrent GEMM and a point-wise kernel)
    # or "persistent".
    rnn_algorithm: str = "auto"
    # cuDNN's convolution algorithm (conv_algorithms.py): "auto" (cudnn_benchmark decides: the
    # heuristic or the fastest) or one forced, as cudnnConvolutionForward given an algorithm.
    conv_algorithm: str = "auto"
    # Host time to dispatch one framework call, by kind (pytorch.py says which call is
    # which kind), before the kernels it launches: "op" an element-wise, pooling or cast op
    # (torch.relu, max_pool2d, .float()); "conv" nn.Conv2d through cuDNN, its bias add
    # included; "linear" nn.Linear through cuBLASLt (addmm, or matmul + add); "rnn" one
    # nn.LSTM / nn.RNN call through cuDNN (weight and descriptor checks, workspace); "cell"
    # one nn.LSTMCell step from Python; "copy" the tensor plumbing of a host copy
    # (from_numpy and .to, .cpu and .numpy). Fitted together with the other host_* fields
    # on the network file's 28 end-to-end times (least squares in log error): "rnn" there
    # is 370 µs, where the eager LSTM times (input already on the device) imply ~150 µs —
    # the end-to-end LSTM runs pay ~200 µs more host time that the copies' sizes do not
    # explain. "cell": the step loop's eager time at batch 1 (4.92 ms for 64 steps).
    host_dispatch_s: tuple[tuple[str, float], ...] = (
        ("op", 4.5e-6), ("conv", 30e-6), ("linear", 25e-6), ("rnn", 370e-6),
        ("cell", 62e-6), ("copy", 10e-6))
    # Host time of each kernel launch a call makes (cudaLaunchKernel through the library),
    # beyond its dispatch: fp16 LeNet-5's forward launches six more kernels than fp32's at
    # batch 1-256 and its eager time is ~40 µs longer; the fit above agrees (5 µs).
    host_kernel_launch_s: float = 5e-6
    # Host ↔ device copies from and to pageable numpy memory (not pinned) are synchronous and
    # staged by the driver through pinned buffers with a CPU memcpy; a float32 array sent in
    # a narrower format is first converted on the CPU (PyTorch converts blocking copies on
    # the source device), reading 4 and writing 2 bytes an element. Both are one CPU thread
    # streaming memory: it reads at the cached rate while the array fits in
    # `host_cache_bytes` (the harness reuses its input array, so a small one stays in the
    # CPU's caches), else at the memory rate, and writes fresh memory at the memory rate.
    # Fitted (above): LeNet-5's fp32 input copies ran at 11.3 GB/s for 17 MB and 6.5-7.8
    # GB/s for 67-268 MB; fp16 conversions of 67-268 MB at ~2.4e9 elements/s.
    host_memory_bytes_per_s: float = 16e9
    host_cached_bytes_per_s: float = 28e9
    host_cache_bytes: int = 28 * 2**20
    host_copy_latency_s: float = 12e-6  # a synchronous cudaMemcpy's fixed cost (fitted)
    # cudnnRNNForward called directly and timed back to back (DeepBench): host time of one
    # call before its kernels, and of each kernel it launches (a cuBLAS GEMM call or a
    # point-wise kernel, events between them). Fitted on DeepBench's V100 RNN rows, even
    # indices (validation/deepbench_rnn.py; the one-step GRU row, 88 µs, bounds the first).
    library_call_host_s: float = 60e-6
    library_launch_host_s: float = 14e-6

    # Overheads a what-if may remove entirely.
    may_be_zero: ClassVar[frozenset[str]] = frozenset(
        {"host_copy_latency_s", "host_kernel_launch_s", "library_call_host_s",
         "library_launch_host_s"})

    def __post_init__(self) -> None:
        check_spec(self)
        for name, _ in self.host_dispatch_s:
            check_choice(name, "host_dispatch_s name", HOST_CALLS, owner=self.name)
        missing = sorted(set(HOST_CALLS) - {name for name, _ in self.host_dispatch_s})
        if missing:
            raise SpecError(f"{self.name}: host_dispatch_s has no {', '.join(missing)}; give "
                            f"a host time for every kind of call: {', '.join(HOST_CALLS)}")
        check_choice(self.framework, "framework", FRAMEWORKS, owner=self.name)
        check_choice(self.rnn_algorithm, "rnn_algorithm", RNN_ALGORITHMS, owner=self.name)
        check_choice(self.conv_algorithm, "conv_algorithm", CONV_ALGORITHMS, owner=self.name)

    @property
    def eager(self) -> bool:
        """Every call dispatched from the host (PyTorch eager)."""
        return self.framework == "eager"

    def replace(self, **overrides: SpecValue) -> GPURuntime:
        return replace_spec(self, overrides)


PYTORCH_EAGER = GPURuntime()
RUNTIME_FIELDS = frozenset(f.name for f in dataclasses.fields(GPURuntime)) - {"name"}
