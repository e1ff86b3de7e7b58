"""Whole networks through PyTorch on this host's CPU: the reference the CPU model's network
times are held against (`accelsim validate cpu-host --networks`).

PyTorch is an optional extra (`pip install torch==2.13.0`, the CPU build); nothing in the
core package imports it. Method (the same as the recorded 16-core file's): the network is
rebuilt layer for layer as torch modules (nn.Conv2d, torch.relu, max_pool2d, nn.Linear,
nn.LSTM / nn.RNN with a linear read-out on every step, batch first), fp32, random weights
(timing does not depend on their values), `torch.inference_mode()`; each thread count is
timed FIRST in a fresh Python process (`python -m accelsim.measure.torch_networks`), before
any numpy BLAS work: OpenBLAS's threads keep spinning after numpy calls and steal the cores
PyTorch's threads need. Each figure is the median of `repeats` samples after warm-up calls;
a sample times enough back-to-back forwards to last at least `MIN_SAMPLE_S`.

On a shared virtual machine a whole process lands in a fast or a slow mode (on the 2-vCPU
development VM, LeNet-5 at batch 1 took 410 µs in some fresh processes and 650–780 µs in
others, with the clock measured the same before and after: a neighbour on the same physical
core, not a slower clock). `measure_rounds` therefore times each thread count in `ROUNDS`
fresh processes, interleaved, and keeps the fastest round: the least disturbed run, which is
what the model (an undisturbed machine) predicts. Every round is kept beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

from accelsim.errors import AccelsimError

BATCHES = {"lenet5": (1, 16, 64, 256, 1024), "lstm-char": (1, 16, 64, 256)}
MIN_SAMPLE_S = 0.02
WARMUP_CALLS = 3
REPEATS = 7
ROUNDS = 3


def torch_available() -> bool:
    """True when PyTorch can be imported (the optional validation extra)."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def _torch_model(network: str) -> tuple[Any, tuple[int, ...]]:
    """(module, one sample's shape) for a bundled or TOML network whose layers form a chain:
    its layers' torch modules (`torch_layer`) in an nn.Sequential."""
    from torch import nn

    from accelsim.nn.loader import load_network

    net = load_network(network, weights="none")
    modules = [torch_layer(layer, ins) for layer, ins, _ in net.layer_io()]
    return nn.Sequential(*modules).eval(), tuple(net.sample_shape())


def graph_module(network: str) -> tuple[Any, tuple[int, ...]]:
    """(module, one sample's shape): a bundled network as torch modules, layer for layer,
    each layer reading the layers it names (batch norm a module of its own, as eager
    PyTorch runs it). Each layer's output is dropped once the last layer reading it has run,
    as a hand-written module's forward drops its locals: glibc then reuses and trims the heap
    as it would for that module (machines/cpu/buffers.py)."""
    from torch import nn

    from accelsim.nn.loader import load_network

    net = load_network(network, weights="none")
    layers = [(layer.name, sources, torch_layer(layer, ins))
              for (layer, ins, _), sources in zip(net.layer_io(), net.sources, strict=True)]
    last_reader = {source: i for i, (_, sources, _) in enumerate(layers) for source in sources}

    class Graph(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.parts = nn.ModuleList(part for _, _, part in layers)

        def forward(self, x: Any) -> Any:
            values = {"input": x}
            for i, ((name, sources, _), part) in enumerate(zip(layers, self.parts,
                                                                strict=True)):
                values[name] = part(*(values[s] for s in sources))
                for source in sources:
                    if last_reader[source] == i and source != "input":
                        values.pop(source, None)
            return values[layers[-1][0]]

    return Graph().eval(), tuple(net.sample_shape())


def torch_layer(layer: Any, ins: tuple[tuple[int, ...], ...]) -> Any:
    """One layer as a torch module (`Apply` wraps functions)."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    class Apply(nn.Module):
        def __init__(self, fn: Any) -> None:
            super().__init__()
            self.fn = fn

        def forward(self, *xs: Any) -> Any:
            return self.fn(*xs)

    class Recurrent(nn.Module):
        def __init__(self, cell: nn.Module) -> None:
            super().__init__()
            self.cell = cell

        def forward(self, x: Any) -> Any:
            return self.cell(x)[0]

    kind, shape = layer.type_name, ins[0]
    if kind == "conv2d":
        top, left, bottom, right = layer.padding
        if (top, left) != (bottom, right):
            raise ValueError(f"{layer.name}: asymmetric padding has no nn.Conv2d equivalent")
        return nn.Conv2d(shape[0], layer.out_channels, layer.kernel_size, layer.stride,
                         (top, left), layer.dilation, layer.groups, bias=layer.bias)
    if kind == "batchnorm2d":
        return nn.BatchNorm2d(shape[0], layer.eps)
    if kind in ("maxpool2d", "avgpool2d"):
        pool = F.max_pool2d if kind == "maxpool2d" else F.avg_pool2d
        size, stride = layer.kernel_size, layer.stride or layer.kernel_size
        pad = layer.padding[:2]
        return Apply(lambda x, p=pool, k=size, s=stride, q=pad: p(x, k, s, q))
    if kind == "globalavgpool2d":
        return Apply(lambda x: F.adaptive_avg_pool2d(x, 1))
    if kind == "linear":
        return nn.Linear(shape[-1], layer.out_features, bias=layer.bias)
    if kind in ("lstm", "gru", "rnn"):
        cls = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[kind]
        return Recurrent(cls(shape[-1], layer.hidden_size, getattr(layer, "num_layers", 1),
                             batch_first=True, bidirectional=layer.bidirectional))
    functions = {"flatten": lambda x: x.flatten(1), "relu": torch.relu,
                 "relu6": F.relu6, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
                 "softmax": lambda x: torch.softmax(x, -1), "add": torch.add,
                 "concat": lambda *xs: torch.cat(xs, 1)}
    if kind not in functions:
        raise ValueError(f"{layer.name}: no PyTorch equivalent for layer type {kind!r}")
    return Apply(functions[kind])


def time_forward(module: Any, x: Any, repeats: int = REPEATS) -> float:
    """Median seconds of one forward, over `repeats` samples after warm-up calls."""
    import torch

    with torch.inference_mode():
        for _ in range(WARMUP_CALLS):
            module(x)
        start = time.perf_counter()
        module(x)
        once = time.perf_counter() - start
        calls = max(1, int(MIN_SAMPLE_S / max(once, 1e-7)))
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(calls):
                module(x)
            samples.append((time.perf_counter() - start) / calls)
    return statistics.median(samples)


def measure_here(networks: dict[str, Sequence[int]], threads: int,
                 repeats: int = REPEATS) -> list[dict[str, Any]]:
    """Time every network × batch in THIS process at `threads` PyTorch threads (call it first
    in a fresh process; `measure` does)."""
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    rows = []
    for network, batches in networks.items():
        module, sample = _torch_model(network)
        for batch in batches:
            x = torch.randn(batch, *sample)
            rows.append({"net": network, "batch": batch, "threads": threads,
                         "torch_us": round(time_forward(module, x, repeats) * 1e6, 2)})
    return rows


def layer_times_here(network: str, batch: int, threads: int,
                     repeats: int = REPEATS) -> dict[str, float]:
    """Microseconds of each torch module of `network` on its own input, timed one module at a
    time (the modules are the network's layers; a recurrent layer includes every step)."""
    import torch

    from accelsim.nn.loader import load_network

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    module, sample = _torch_model(network)
    names = [layer.name for layer in load_network(network, weights="none").layers]
    x = torch.randn(batch, *sample)
    times = {}
    with torch.inference_mode():
        for name, part in zip(names, module, strict=True):
            times[name] = round(time_forward(part, x, repeats) * 1e6, 2)
            x = part(x)
    return times


def measure(networks: dict[str, Sequence[int]], threads: int,
            repeats: int = REPEATS) -> list[dict[str, Any]]:
    """`measure_here` in a fresh Python process, so no earlier numpy/BLAS work in this one
    steals PyTorch's cores."""
    args = [sys.executable, "-m", "accelsim.measure.torch_networks", "--threads", str(threads),
            "--repeats", str(repeats), "--networks", json.dumps(networks)]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    done = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise AccelsimError(f"timing PyTorch failed: {done.stderr.strip()[-2000:]}")
    rows: list[dict[str, Any]] = json.loads(done.stdout)
    return rows


def measure_rounds(networks: dict[str, Sequence[int]], thread_counts: Sequence[int],
                   rounds: int = ROUNDS) -> list[dict[str, Any]]:
    """Every network × batch at each thread count in `rounds` fresh processes, interleaved
    (t1, tN, t1, tN, ...): one row per network × batch with `torch_us_tN`, the fastest round,
    and `torch_us_tN_rounds`, every round."""
    runs: dict[int, list[list[dict[str, Any]]]] = {t: [] for t in thread_counts}
    for _ in range(rounds):
        for threads in thread_counts:
            runs[threads].append(measure(networks, threads))
    first = runs[thread_counts[0]][0]
    rows = []
    for i, point in enumerate(first):
        row: dict[str, Any] = {"net": point["net"], "batch": point["batch"]}
        for threads in thread_counts:
            times = [run[i]["torch_us"] for run in runs[threads]]
            row[f"torch_us_t{threads}"] = min(times)
            row[f"torch_us_t{threads}_rounds"] = times
        rows.append(row)
    return rows


def _main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--networks", default=json.dumps(BATCHES))
    parser.add_argument("--layers", action="store_true",
                        help="time each layer of each network x batch on its own")
    args = parser.parse_args(argv)
    if args.layers:
        print(json.dumps([{"net": net, "batch": b, "threads": args.threads,
                           "layers_us": layer_times_here(net, b, args.threads, args.repeats)}
                          for net, batches in json.loads(args.networks).items()
                          for b in batches]))
        return
    print(json.dumps(measure_here(json.loads(args.networks), args.threads, args.repeats)))


if __name__ == "__main__":
    _main()
