"""The `accelsim` command. Every subcommand calls the same functions a notebook would.

User errors print one line naming the bad value and exit with status 2 (no traceback).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from accelsim.errors import AccelsimError


def _cmd_train(args: argparse.Namespace) -> int:
    from accelsim.training import train_and_save

    log = None if args.quiet else (lambda line: print(f"  {line}", flush=True))
    report = train_and_save(args.network, seed=args.seed, epochs=args.epochs,
                            out_dir=Path(args.out_dir) if args.out_dir else None, log=log)
    print(report)
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from accelsim.lower import lower
    from accelsim.nn.loader import load_network

    net = load_network(args.network, weights="init" if args.untrained else "trained")
    print(net.description)
    print(net.summary(args.seq_len))
    print()
    print(lower(net, args.batch, args.seq_len).summary())
    return 0


def parse_overrides(pairs: list[str]) -> dict[str, object]:
    """['array_rows=32', 'numerics=cycle'] → {'array_rows': 32, 'numerics': 'cycle'}."""
    out: dict[str, object] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise AccelsimError(f"--set {pair!r} must look like field=value, e.g. array_rows=32")
        for convert in (int, float):
            try:
                out[key] = convert(text)
                break
            except ValueError:
                continue
        else:
            out[key] = text
    return out


def _cmd_time(args: argparse.Namespace) -> int:
    from accelsim.machines.presets import build
    from accelsim.nn.loader import load_network

    machine = build(args.machine, **parse_overrides(args.set))
    net = load_network(args.network, weights="init")
    result = machine.run(net, batch=args.batch, precision=args.precision, seq_len=args.seq_len)
    print(result.summary())
    shares = result.breakdown_line()
    if shares:
        print(f"  cycles: {shares}")
    print()
    print(result.table())
    if args.program and result.program is not None:
        print()
        print(result.program)
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from accelsim.validation import validate_machine

    report = validate_machine(args.machine)
    print(report.text())
    return 0


def _cmd_networks(args: argparse.Namespace) -> int:
    from accelsim.nn.loader import available_networks

    print("\n".join(available_networks()))
    return 0


def _cmd_presets(args: argparse.Namespace) -> int:
    from accelsim.machines.presets import preset_names

    names = preset_names()
    print("\n".join(names) if names else "(no machine models are implemented yet)")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from accelsim.demo import demo

    demo(print)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="accelsim", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run LeNet-5 and the LSTMs on every machine model")
    demo.set_defaults(func=_cmd_demo)
    train = sub.add_parser("train", help="train a network; writes NETWORK-DATASET.npz and a "
                                         "model card in MODELS.md")
    train.add_argument("network", help="bundled network name or path to a .toml file")
    train.add_argument("--seed", type=int, default=0, help="seed for weights and data order")
    train.add_argument("--epochs", type=int, default=None, help="override [training] epochs")
    train.add_argument("--out-dir", default=None,
                       help="where weights and MODELS.md go (default: beside the .toml)")
    train.add_argument("--quiet", action="store_true", help="no per-epoch log")
    train.set_defaults(func=_cmd_train)
    info = sub.add_parser("info", help="layers, parameters and the lowered workload")
    info.add_argument("network")
    info.add_argument("--batch", type=int, default=1)
    info.add_argument("--seq-len", type=int, default=None)
    info.add_argument("--untrained", action="store_true", help="do not load weights")
    info.set_defaults(func=_cmd_info)
    timing = sub.add_parser("time", help="time one batch of a network on a machine")
    timing.add_argument("network", help="bundled network name or path to a .toml file")
    timing.add_argument("--machine", required=True, help="machine preset (accelsim presets)")
    timing.add_argument("--batch", type=int, default=1)
    timing.add_argument("--precision", default=None,
                        help="fp32, fp16, bf16 or int8 (default: the machine's own)")
    timing.add_argument("--seq-len", type=int, default=None)
    timing.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override a spec field, e.g. --set array_rows=32")
    timing.add_argument("--program", action="store_true",
                        help="print the compiled program (TPU)")
    timing.set_defaults(func=_cmd_time)
    check = sub.add_parser("validate", help="predicted vs measured for a machine with "
                                            "reference measurements (gpu-h200)")
    check.add_argument("machine")
    check.set_defaults(func=_cmd_validate)
    sub.add_parser("networks", help="list bundled networks").set_defaults(func=_cmd_networks)
    sub.add_parser("presets", help="list machine presets").set_defaults(func=_cmd_presets)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except AccelsimError as err:
        print(f"accelsim: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
