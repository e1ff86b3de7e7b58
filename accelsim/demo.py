"""`make demo` / `accelsim demo`: the bundled networks on their data, then on every machine.

Prints what it finds: accuracy of the trained networks at fp32, at the reduced float
precisions (emulated) and in int8 (post-training quantization calibrated on 256 training
samples), the lowered work per inference, and a timed run of LeNet-5 and the character LSTM on
each machine preset (int8 machines run the quantized network); then the quickstart scenario
and its report (reports/quickstart/ by default).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from accelsim.api import run_scenario
from accelsim.build import machine as build
from accelsim.engine import CALIBRATION_SAMPLES
from accelsim.errors import AccelsimError
from accelsim.lower import lower
from accelsim.machines.presets import preset_names
from accelsim.nn.datasets import network_data
from accelsim.nn.generate import example_for
from accelsim.nn.loader import load_network
from accelsim.nn.network import Network
from accelsim.precision import Precision
from accelsim.quant import QuantizedNetwork, quantize

Printer = Callable[[str], None]
DEMO_NETWORKS = ("lenet5", "lstm-char", "lstm-recall", "rnn-recall")
MACHINE_BATCH = 64


def describe_network(net: Network, qnet: QuantizedNetwork, data: tuple, say: Printer) -> None:
    """Accuracy per precision and the work of one input."""
    x, y = data
    scores = ", ".join(f"{p.value} {net.accuracy(x, y, p):.2%}"
                       for p in (Precision.FP32, Precision.FP16, Precision.BF16))
    scores += f", int8 {qnet.accuracy(x, y):.2%}"
    wl = lower(net, 1)
    per_layer = " · ".join(f"{k} {v:,}" for k, v in wl.macs_by_layer().items())
    say(f"{net.name} ({net.num_params:,} parameters, {len(x):,} test samples of "
        f"{net.training['dataset']})")
    say(f"  accuracy: {scores}")
    say(f"  one inference: {wl.macs:,} MACs = {wl.total_ops:,} ops ({per_layer})")
    example = example_for(net, net.training["dataset"])
    if example:
        say(f"  example: {example}")


def run_on_machines(nets: dict[str, tuple[Network, QuantizedNetwork, tuple]],
                    say: Printer) -> None:
    """One line per machine and network: time per batch, throughput, use of the peak,
    accuracy at the machine's own precision, energy per inference, and where the time went."""
    say(f"{'machine':<22}{'network':<11}{'prec':<6}{'µs/batch':>11}{'inf/s':>12}"
        f"{'of peak':>9}{'accuracy':>10}{'µJ/inf':>10}  time goes to")
    for name in preset_names():
        machine = build(name)
        precision = machine.default_precision
        for net, qnet, data in nets.values():
            model = qnet if precision is Precision.INT8 else net
            try:
                r = machine.run(model, batch=MACHINE_BATCH, precision=precision, data=data)
            except AccelsimError as err:
                say(f"{name:<22}{net.name:<11}skipped: {err}")
                continue
            energy = f"{r.joules_per_inference * 1e6:>10,.1f}" if r.energy else f"{'-':>10}"
            say(f"{name:<22}{net.name:<11}{precision.value:<6}{r.seconds * 1e6:>11,.1f}"
                f"{r.throughput:>12,.0f}{r.utilization:>9.1%}{r.accuracy:>10.2%}{energy}  "
                f"{r.breakdown_line()}")


def quickstart_report(out_dir: Path, say: Printer) -> None:
    """The quickstart scenario (LeNet-5 and the char LSTM on tpu-v1, gpu-h200 and cpu-host)
    and its report, as `accelsim run quickstart --out OUT_DIR` writes it."""
    result = run_scenario("quickstart")
    written = result.write(out_dir)
    say(f"Quickstart scenario ({result.scenario.path}): {len(result.comparison.entries)} "
        f"runs, report in {written}")
    for r in result.comparison.select(batch=64):
        acc = "" if r.accuracy is None else f", accuracy {r.accuracy:.2%}"
        say(f"  {r.machine:<10}{r.network:<11}{r.precision.value:<6}"
            f"{r.throughput:>12,.0f} inferences/s{acc}")
    say(f"\nReport: {Path(written) / 'index.html'}")


def demo(say: Printer = print, report_dir: Path | None = None) -> None:
    say("accelsim demo: the bundled networks, their numerics, and every machine model\n")
    nets = {}
    for name in DEMO_NETWORKS:
        net = load_network(name)
        calibration = network_data(net, "train")[0][:CALIBRATION_SAMPLES]
        nets[name] = (net, quantize(net, calibration), network_data(net, "test"))
        describe_network(*nets[name], say)
        say("")
    say(f"Machines (batch {MACHINE_BATCH})")
    run_on_machines({k: v for k, v in nets.items() if k in ("lenet5", "lstm-char")}, say)
    if report_dir is not None:
        say("")
        quickstart_report(report_dir, say)
