"""Single layers and graph networks through PyTorch on this host's CPU: the measurements the
CPU model's layer mechanisms (machines/cpu/framework.py) are fitted on and held to
(`python -m accelsim.measure.torch_layers --record FILE`).

PyTorch is an optional extra, imported inside functions only. Method, the same as
torch_networks' for whole networks: fp32, random values, `torch.inference_mode()`, each thread
count timed in a fresh Python process with `torch.set_num_threads`, before any numpy BLAS
work; per case `torch_networks.time_forward` (the median of `REPEATS` samples after warm-up,
each sample ≥ 20 ms of back-to-back calls); `ROUNDS` fresh processes per thread count,
interleaved, and the fastest round kept (a shared VM lands a whole process in a fast or a slow
mode), every round kept beside it.

Cases (`cases()`):
- `conv`: `F.conv2d` without bias on every distinct geometry of DeepBench's convolutions
  (data file deepbench-v100.json, fp32 `conv`), scaled to fit a 2-core host: the batch set
  by the layer's work (4 below 20 MFLOP, 2 below 200 MFLOP, else 1) and the image shrunk
  (both sides by the same factor, never below the filter) until one call is at most
  `CONV_MAX_FLOPS`; plus 1×1 convolutions of several sizes and batches (`ONE_BY_ONE`);
  apart, small convolutions whose time is mostly ideep's per-call setup (`SMALL_CONVS`,
  `--small-convs`).
- `rnn`: nn.LSTM / nn.GRU / nn.RNN, one layer, batch first (`RNNS`).
- `linear`: nn.Linear with bias (`LINEARS`).
- `net`: bundled networks as graphs of torch modules (`NETWORKS`).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from accelsim.errors import AccelsimError
from accelsim.measure import recorded
from accelsim.measure.torch_networks import REPEATS, graph_module, time_forward

ROUNDS = 3
CONV_MAX_FLOPS = 1.5e9
# 1×1 convolutions: (in channels, out channels, image side, stride, batch)
ONE_BY_ONE = ((64, 64, 112, 1, 1), (64, 64, 56, 1, 1), (64, 256, 56, 1, 1),
              (256, 64, 56, 1, 1), (128, 512, 28, 1, 1), (512, 128, 28, 1, 2),
              (256, 1024, 14, 1, 4), (1024, 256, 14, 1, 4), (512, 2048, 7, 1, 4),
              (64, 256, 56, 2, 1), (32, 32, 28, 1, 16), (16, 16, 32, 1, 1),
              (256, 256, 14, 1, 1), (128, 128, 28, 1, 8))
# Small convolutions through oneDNN, whose calls are mostly ideep's per-call setup: (batch,
# in channels, image side, out channels, filter side, stride), two reading NCHW directly
# (fewer input channels than 16 lanes), then two reading a blocked copy of the input, so
# that the even rows (fitted) and the odd (held out) have both
SMALL_CONVS = ((1, 1, 32, 6, 5, 1), (1, 6, 14, 16, 5, 1), (1, 16, 5, 120, 5, 1),
               (2, 16, 8, 16, 3, 1), (2, 3, 16, 16, 3, 1), (1, 3, 12, 32, 5, 1),
               (2, 32, 4, 32, 3, 1), (1, 64, 6, 64, 5, 1), (2, 1, 28, 8, 3, 1),
               (1, 8, 10, 8, 5, 1), (2, 64, 4, 64, 3, 1), (2, 32, 8, 64, 3, 1),
               (2, 4, 8, 64, 3, 1), (1, 12, 9, 24, 5, 1), (1, 128, 5, 32, 5, 1),
               (2, 16, 6, 48, 3, 1), (1, 3, 32, 16, 5, 2), (2, 16, 8, 32, 3, 2))
# Convolution weights (out, in, filter side) and the image side they are applied to, whose
# per-call reorder into oneDNN's blocked layout is timed (`conv_weight_reorder_micro`)
CONV_WEIGHT_REORDERS = ((16, 6, 5, 14), (64, 64, 3, 4), (120, 16, 5, 5), (32, 128, 5, 5),
                        (64, 64, 5, 6), (128, 128, 3, 8), (256, 256, 3, 4), (512, 256, 3, 4),
                        (512, 512, 3, 4), (1024, 512, 3, 3))
# nn.Conv2d against F.conv2d: (in channels, out channels, image side), 5×5 filters
CONV_MODULES = ((1, 6, 32), (6, 16, 14), (16, 120, 5), (64, 64, 6), (3, 32, 12), (32, 32, 9))
# recurrent layers: (kind, input features, hidden, batch, steps)
RNNS = tuple((kind, *shape) for kind in ("lstm", "gru", "rnn")
             for shape in ((64, 64, 1, 32), (128, 128, 1, 64), (256, 256, 4, 32),
                           (512, 512, 1, 16), (128, 128, 16, 64), (1024, 1024, 4, 8)))
# nn.Linear: (batch, in features, out features)
LINEARS = ((1, 784, 256), (64, 784, 256), (1, 4096, 1024), (16, 1024, 1024),
           (256, 512, 512), (1, 128, 96), (64, 120, 84), (512, 2048, 1000),
           (1024, 256, 10), (4, 2048, 2048))
# MKL's addmm over rows × weight shapes (in features, out features): the grid PyTorch's BLAS
# constants are fitted on (machines/cpu/mkl.py), apart from the LINEARS they are held to
MKL_GRID_ROWS = (1, 2, 3, 4, 8, 16, 32, 64, 128)
MKL_GRID_WEIGHTS = ((256, 256), (512, 512), (1024, 1024), (2048, 2048), (4096, 1024))
# nn.LSTM(h, h) hidden sizes whose per-call weight reorders oneDNN's verbose mode times
RNN_REORDER_HIDDEN = (64, 128, 256, 512, 1024)
# glibc tunables that keep freed memory in the heap (no dynamic trim or mmap threshold): a
# call then faults no fresh page, and verbose times show the reorder alone
NO_TRIM_ENV = {"MALLOC_TRIM_THRESHOLD_": str(2**34), "MALLOC_MMAP_THRESHOLD_": str(2**25)}
# nn.BatchNorm2d microbenchmark planes (channels, side), batch 1: framework.py's batch norm
BATCH_NORM_PLANES = ((16, 8), (32, 28), (64, 56), (32, 112), (96, 112), (64, 224))
NETWORKS = {"resnet-digits": (1, 16, 64), "gru-char": (1, 16), "mobilenetv2": (1,),
            "resnet18": (1,)}


def conv_flops(c: dict[str, int]) -> int:
    oh = (c["h"] + 2 * c["pad"] - c["r"]) // c["stride"] + 1
    ow = (c["w"] + 2 * c["pad"] - c["s"]) // c["stride"] + 1
    return 2 * c["n"] * c["k"] * c["c"] * c["r"] * c["s"] * oh * ow


def deepbench_convs() -> list[dict[str, int]]:
    """Every distinct DeepBench convolution geometry, scaled to fit (module docstring)."""
    seen, out = set(), []
    for row in recorded.read("deepbench-v100.json")["fp32"]["conv"]:
        geo = (row["C"], row["H"], row["W"], row["K"], row["R"], row["S"], row["pad_h"],
               row["stride_h"])
        if geo in seen:
            continue
        seen.add(geo)
        case = {"n": 1, "c": row["C"], "h": row["H"], "w": row["W"], "k": row["K"],
                "r": row["R"], "s": row["S"], "pad": row["pad_h"], "stride": row["stride_h"]}
        per_image = conv_flops(case)
        case["n"] = 4 if per_image < 2e7 else 2 if per_image < 2e8 else 1
        scale = min(1.0, math.sqrt(CONV_MAX_FLOPS / conv_flops(case)))
        case["h"] = max(case["r"], round(case["h"] * scale))
        case["w"] = max(case["s"], round(case["w"] * scale))
        out.append({"app": row["app"], **case})
    return out


def cases() -> list[dict[str, Any]]:
    """Every case, as the rows of the recorded file hold them (without timings)."""
    convs = [{"kind": "conv", **c} for c in deepbench_convs()]
    convs += [{"kind": "conv", "app": "1x1", "n": n, "c": c, "h": hw, "w": hw, "k": k,
               "r": 1, "s": 1, "pad": 0, "stride": stride}
              for c, k, hw, stride, n in ONE_BY_ONE]
    rnns = [{"kind": kind, "input": i, "hidden": h, "batch": b, "steps": t}
            for kind, i, h, b, t in RNNS]
    linears = [{"kind": "linear", "batch": b, "in": i, "out": o} for b, i, o in LINEARS]
    nets = [{"kind": "net", "net": net, "batch": b}
            for net, batches in NETWORKS.items() for b in batches]
    return convs + rnns + linears + nets


def small_conv_cases() -> list[dict[str, Any]]:
    """`SMALL_CONVS` as conv rows (no padding)."""
    return [{"kind": "conv", "app": "small", "n": n, "c": c, "h": side, "w": side, "k": k,
             "r": r, "s": r, "pad": 0, "stride": stride}
            for n, c, side, k, r, stride in SMALL_CONVS]


def family(case: Mapping[str, Any]) -> str:
    """A case's family: conv, rnn (nn.LSTM, nn.GRU, nn.RNN), linear or net."""
    return "rnn" if case["kind"] in ("lstm", "gru", "rnn") else case["kind"]


def mkl_grid_cases() -> list[dict[str, Any]]:
    """nn.Linear over `MKL_GRID_ROWS` × `MKL_GRID_WEIGHTS` (the `linear` kind's rows)."""
    return [{"kind": "linear", "batch": m, "in": k, "out": n}
            for k, n in MKL_GRID_WEIGHTS for m in MKL_GRID_ROWS]


def best_call_us(call: Any, elements: int) -> float:
    """Microseconds of `call()`: 10 warm-up calls, then the best of 7 samples of
    max(20, 2e6 / elements) back-to-back calls."""
    import time

    calls = max(20, int(2e6 / elements))
    for _ in range(10):
        call()
    best = math.inf
    for _ in range(7):
        started = time.perf_counter()
        for _ in range(calls):
            call()
        best = min(best, (time.perf_counter() - started) / calls)
    return round(best * 1e6, 3)


def batch_norm_micro() -> list[dict[str, Any]]:
    """nn.BatchNorm2d(c) in eval mode and nn.ReLU() on each of `BATCH_NORM_PLANES` at one
    thread, in this process (`best_call_us`, microseconds)."""
    import torch
    from torch import nn

    torch.set_num_threads(1)
    rows = []
    with torch.inference_mode():
        for channels, side in BATCH_NORM_PLANES:
            x = torch.randn(1, channels, side, side)
            bn, relu = nn.BatchNorm2d(channels).eval(), nn.ReLU()
            rows.append({"channels": channels, "side": side,
                         "batch_norm_us": best_call_us(partial(bn, x), x.numel()),
                         "relu_module_us": best_call_us(partial(relu, x), x.numel())})
    return rows


def conv_module_micro() -> list[dict[str, Any]]:
    """One convolution three ways at one thread, in this process (`best_call_us`,
    microseconds), for each of `CONV_MODULES` (in, out channels, image side; 5×5 filters,
    batch 1): F.conv2d without and with a bias, and the nn.Conv2d module (with its bias):
    the bias's and the module's Python's share of a call."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    torch.set_num_threads(1)
    rows = []
    with torch.inference_mode():
        for c, k, side in CONV_MODULES:
            x, module = torch.randn(1, c, side, side), nn.Conv2d(c, k, 5).eval()
            w, b = module.weight, module.bias
            rows.append({"in": c, "out": k, "side": side,
                         "f_conv2d_us": best_call_us(partial(F.conv2d, x, w), x.numel()),
                         "f_conv2d_bias_us": best_call_us(partial(F.conv2d, x, w, b),
                                                          x.numel()),
                         "module_us": best_call_us(partial(module, x), x.numel())})
    return rows


def best_timed_us(call: Any) -> float:
    """Microseconds of `call()`: 10 warm-up calls, then the best of 7 samples, each ≥ 20 ms of
    back-to-back calls (for calls whose cost is not set by their elements)."""
    import time

    for _ in range(10):
        call()
    best = math.inf
    for _ in range(7):
        calls, started = 0, time.perf_counter()
        while time.perf_counter() - started < 0.02:
            call()
            calls += 1
        best = min(best, (time.perf_counter() - started) / calls)
    return round(best * 1e6, 3)


def dispatch_micro() -> dict[str, float]:
    """The framework's host costs on small calls, one thread, in this process (`best_timed_us`,
    microseconds), under the names the Zen 3 host's recorded `networks.micro.dispatch_us` and
    `networks.micro.lstm_us` use: torch.relu on 16 elements, a Sequential of 10 identity modules,
    nn.Linear(120, 80) at batch 1, F.conv2d of LeNet-5's three convolutions and of 6 filters
    of 5×5 over one 5×5 image at batch 1, nn.LSTM(8, 8) and nn.RNN(8, 8) at batch 1 over 1
    and 64 steps."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    torch.set_num_threads(1)
    lenet = {"lenet_conv1": (1, 6, 32), "lenet_conv2": (6, 16, 14), "lenet_conv3": (16, 120, 5)}
    identities = nn.Sequential(*[nn.Identity() for _ in range(10)])
    with torch.inference_mode():
        out = {"torch_relu_16_elements_min": best_timed_us(partial(torch.relu, torch.randn(16))),
               "sequential_of_10_identity_modules_min": best_timed_us(
                   partial(identities, torch.randn(16))),
               "nn_linear_120_to_80_batch1_min": best_timed_us(
                   partial(nn.Linear(120, 80).eval(), torch.randn(1, 120))),
               "f_conv2d_1x1x5x5_input_6_filters_5x5_batch1_min": best_timed_us(
                   partial(F.conv2d, torch.randn(1, 1, 5, 5), torch.randn(6, 1, 5, 5)))}
        for name, (c, k, side) in lenet.items():
            x, w = torch.randn(1, c, side, side), torch.randn(k, c, 5, 5)
            out[f"f_conv2d_{name}_batch1_min"] = best_timed_us(partial(F.conv2d, x, w))
        for kind in ("lstm", "rnn"):
            module = {"lstm": nn.LSTM, "rnn": nn.RNN}[kind](8, 8, batch_first=True).eval()
            for steps in (1, 64):
                out[f"nn_{kind}_8_8_batch1_steps{steps}_min"] = best_timed_us(
                    partial(module, torch.randn(1, steps, 8)))
    return out


def reorder_micro() -> list[dict[str, Any]]:
    """oneDNN's reorders between PyTorch's plain NCHW and its blocked layout (nChw16c) at one
    thread, in this process: `Tensor.to_mkldnn()` and back `to_dense()` of a 1 × c × side ×
    side plane for each of `BATCH_NORM_PLANES` (`best_call_us`, microseconds)."""
    import torch

    torch.set_num_threads(1)
    rows = []
    with torch.inference_mode():
        for channels, side in BATCH_NORM_PLANES:
            x = torch.randn(1, channels, side, side)
            blocked = x.to_mkldnn()
            rows.append({"channels": channels, "side": side, "elements": x.numel(),
                         "to_blocked_us": best_call_us(x.to_mkldnn, x.numel()),
                         "to_plain_us": best_call_us(blocked.to_dense, x.numel())})
    return rows


def rnn_reorder_micro(calls: int = 6) -> list[dict[str, Any]]:
    """The per-call weight reorders of nn.LSTM(h, h) at batch 1, one step, one thread, for
    each h of `RNN_REORDER_HIDDEN`: oneDNN's own times (ONEDNN_VERBOSE=1, its `exec` lines'
    last field, ms), in a fresh process with `NO_TRIM_ENV`; per h the median over the calls
    after the first and over the two reorders a call makes (layer and recurrent weights)."""
    script = ("import sys, torch\n"
              "torch.set_num_threads(1)\n"
              "with torch.inference_mode():\n"
              f"    for h in {RNN_REORDER_HIDDEN!r}:\n"
              "        m, x = torch.nn.LSTM(h, h, batch_first=True).eval(), torch.randn(1, 1, h)\n"
              "        print('CASE', h, flush=True)\n"
              f"        for _ in range({calls}): m(x)\n")
    env = {**os.environ, **NO_TRIM_ENV, "ONEDNN_VERBOSE": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, check=False)
    if done.returncode != 0:
        raise AccelsimError(f"timing PyTorch failed: {done.stderr.strip()[-2000:]}")
    times: dict[int, list[float]] = {}
    hidden = 0
    for line in done.stdout.splitlines():
        if line.startswith("CASE"):
            hidden = int(line.split()[1])
        elif ",exec,cpu,reorder," in line:
            times.setdefault(hidden, []).append(float(line.rsplit(",", 1)[1]))
    rows = []
    for h in RNN_REORDER_HIDDEN:
        later = times.get(h, [])[2:]  # the first call's two reorders create the primitives
        rows.append({"hidden": h, "elements": 4 * h * h,
                     "reorder_ms": round(float(statistics.median(later)), 5) if later else None,
                     "reorder_ms_all": later})
    return rows


def conv_weight_reorder_micro(calls: int = 12) -> list[dict[str, Any]]:
    """The per-call reorder of F.conv2d's weights into oneDNN's blocked layout (out, in,
    filter side, image side of `CONV_WEIGHT_REORDERS`; batch 2, one thread): oneDNN's own
    times (ONEDNN_VERBOSE=1, the `exec` lines of the reorder whose dims are the weights'), in
    a fresh process; per shape the median over the calls after the first two."""
    script = ("import torch, torch.nn.functional as F\n"
              "torch.set_num_threads(1)\n"
              "with torch.inference_mode():\n"
              f"    for k, c, r, side in {CONV_WEIGHT_REORDERS!r}:\n"
              "        x, w = torch.randn(2, c, side, side), torch.randn(k, c, r, r)\n"
              "        print('CASE', f'{k}x{c}x{r}x{r}', flush=True)\n"
              f"        for _ in range({calls}): F.conv2d(x, w)\n")
    env = {**os.environ, "ONEDNN_VERBOSE": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, check=False)
    if done.returncode != 0:
        raise AccelsimError(f"timing PyTorch failed: {done.stderr.strip()[-2000:]}")
    times: dict[str, list[float]] = {}
    dims = ""
    for line in done.stdout.splitlines():
        if line.startswith("CASE"):
            dims = line.split()[1]
        elif ",exec,cpu,reorder," in line and line.rsplit(",", 2)[1] == dims:
            times.setdefault(dims, []).append(float(line.rsplit(",", 1)[1]))
    rows = []
    for k, c, r, _ in CONV_WEIGHT_REORDERS:
        later = times.get(f"{k}x{c}x{r}x{r}", [])[2:]  # the first calls create the primitives
        rows.append({"weights": [k, c, r, r], "elements": k * c * r * r,
                     "reorder_ms": round(float(statistics.median(later)), 5) if later else None,
                     "reorder_ms_all": later})
    return rows


def _runner(case: dict[str, Any]) -> tuple[Any, Any]:
    """(callable module, its input) for one case."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    kind = case["kind"]
    if kind == "conv":
        x = torch.randn(case["n"], case["c"], case["h"], case["w"])
        w = torch.randn(case["k"], case["c"], case["r"], case["s"])
        stride, pad = case["stride"], case["pad"]
        return (lambda v: F.conv2d(v, w, None, stride, pad)), x
    if kind in ("lstm", "gru", "rnn"):
        cls = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[kind]
        module = cls(case["input"], case["hidden"], batch_first=True).eval()
        return module, torch.randn(case["batch"], case["steps"], case["input"])
    if kind == "linear":
        module = nn.Linear(case["in"], case["out"]).eval()
        return module, torch.randn(case["batch"], case["in"])
    module, sample = graph_module(case["net"])
    return module, torch.randn(case["batch"], *sample)


def measure_here(rows: Sequence[dict[str, Any]], threads: int,
                 repeats: int = REPEATS) -> list[float]:
    """Microseconds of each case in THIS process at `threads` (call it first in a fresh
    process; `measure` does)."""
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    times = []
    for case in rows:
        module, x = _runner(case)
        times.append(round(time_forward(module, x, repeats) * 1e6, 2))
    return times


def measure(rows: Sequence[dict[str, Any]], threads: int) -> list[float]:
    """`measure_here` in a fresh Python process."""
    args = [sys.executable, "-m", "accelsim.measure.torch_layers", "--threads", str(threads),
            "--cases", json.dumps(list(rows))]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    done = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise AccelsimError(f"timing PyTorch failed: {done.stderr.strip()[-2000:]}")
    times: list[float] = json.loads(done.stdout)
    return times


def measure_rounds(rows: Sequence[dict[str, Any]], thread_counts: Sequence[int],
                   rounds: int = ROUNDS) -> list[dict[str, Any]]:
    """Each case at each thread count in `rounds` fresh processes, interleaved: per row
    `us_tN` (the fastest round's median) and `us_tN_rounds` (every round's)."""
    runs: dict[int, list[list[float]]] = {t: [] for t in thread_counts}
    for _ in range(rounds):
        for threads in thread_counts:
            runs[threads].append(measure(rows, threads))
    out = []
    for i, case in enumerate(rows):
        row = dict(case)
        for threads in thread_counts:
            times = [run[i] for run in runs[threads]]
            row[f"us_t{threads}"] = min(times)
            row[f"us_t{threads}_rounds"] = times
        out.append(row)
    return out


def _main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int)
    parser.add_argument("--cases")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--record", help="time every case at each thread count, write rows")
    parser.add_argument("--thread-counts", type=int, nargs="+", default=[1, 2],
                        help="with --record: the thread counts (default 1 2)")
    parser.add_argument("--families", nargs="+", choices=("conv", "rnn", "linear", "net"),
                        help="with --record: only these families of cases")
    parser.add_argument("--mkl-grid", action="store_true",
                        help="with --record: time the MKL grid (mkl_grid_cases) instead")
    parser.add_argument("--small-convs", action="store_true",
                        help="with --record: time the small convolutions (SMALL_CONVS) instead")
    micros = {"batch_norm": (batch_norm_micro, "the batch norm microbenchmark"),
              "rnn_reorders": (rnn_reorder_micro, "nn.LSTM's weight reorders"),
              "reorders": (reorder_micro, "plain <-> blocked reorders"),
              "conv_weight_reorders": (conv_weight_reorder_micro,
                                       "F.conv2d's weight reorders"),
              "conv_modules": (conv_module_micro, "nn.Conv2d against F.conv2d"),
              "dispatch": (dispatch_micro, "the framework's host costs on small calls")}
    for name, (_, what) in micros.items():
        parser.add_argument(f"--{name.replace('_', '-')}", action="store_true",
                            help=f"with --record: time {what} instead")
    args = parser.parse_args(argv)
    timers = [run for name, (run, _) in micros.items() if getattr(args, name)]
    if args.record and timers:
        micro = timers[0]()
        with open(args.record, "w", encoding="utf-8") as f:
            json.dump(micro, f, indent=1)
        return
    if args.record:
        chosen = (mkl_grid_cases() if args.mkl_grid
                  else small_conv_cases() if args.small_convs else cases())
        if args.families:
            chosen = [c for c in chosen if family(c) in args.families]
        rows = measure_rounds(chosen, sorted(set(args.thread_counts)), args.rounds)
        with open(args.record, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=1)
        return
    print(json.dumps(measure_here(json.loads(args.cases), args.threads)))


if __name__ == "__main__":
    _main()
