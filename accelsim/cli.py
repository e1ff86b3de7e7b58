"""The `accelsim` command. Every subcommand calls the same functions a notebook would.

User errors print one line naming the bad value and exit with status 2 (no traceback);
output cut short by a closed pipe (`accelsim presets | head -1`) ends quietly with 141.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import NoReturn

from accelsim.errors import AccelsimError, UsageError
from accelsim.version import VERSION

MAX_COUNT = 2**31 - 1  # the largest --batch, --seq-len or --epochs: sizes stay in int64
BATCH_HELP = "samples in one batch (default: 1)"
SEQ_LEN_HELP = ("sequence models: time steps per sample (default: the network's "
                "seq_len)")
MAX_SEED = 2**63 - 1  # numpy seeds are 64-bit
SIGPIPE_STATUS = 141  # 128 + SIGPIPE: what a shell reports for `accelsim ... | head`


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

    net = load_network(args.network, weights="none" if args.untrained else "trained")
    print(net.description)
    print(net.summary(args.seq_len))
    print()
    print(lower(net, args.batch, args.seq_len).summary())
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from accelsim.nn.onnx_import import import_onnx
    from accelsim.nn.save import check_out_folder, save_network

    out = check_out_folder(Path(args.out))  # before the import: a bad --out fails at once
    net = import_onnx(args.model, seq_len=args.seq_len)
    toml_path, npz_path = save_network(net, out)
    print(net.summary())
    print()
    print(f"wrote {toml_path} and {npz_path}")
    return 0


def parse_overrides(pairs: list[str]) -> dict[str, int | float | str]:
    """['array_rows=32', 'numerics=cycle'] → {'array_rows': 32, 'numerics': 'cycle'}."""
    out: dict[str, int | float | str] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key, text = key.strip(), text.strip()
        if not sep or not key or not text:
            raise UsageError(f"--set {pair!r} must look like field=value, e.g. array_rows=32")
        for convert in (int, float):
            try:
                out[key] = convert(text)
                break
            except ValueError:
                continue
        else:
            out[key] = text
        value = out[key]
        if isinstance(value, float) and not math.isfinite(value):
            raise UsageError(f"--set {pair!r}: {key} must be a finite number, e.g. "
                             f"{key}=1e9")
    return out


def _cmd_time(args: argparse.Namespace) -> int:
    from accelsim.build import machine as build_machine
    from accelsim.nn.loader import load_network

    machine = build_machine(args.machine, calibration=args.calibration,
                            **parse_overrides(args.set))
    net = load_network(args.network, weights="none")  # timing reads shapes only
    result = machine.run(net, batch=args.batch, precision=args.precision, seq_len=args.seq_len)
    print(result.summary())
    shares = result.breakdown_line()
    if shares:
        print(f"  time: {shares}")
    print()
    print(result.table())
    if args.program and result.program is not None:
        print()
        print(result.program)
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from accelsim.validation.validate import validate_machine

    report = validate_machine(args.machine, networks=args.networks, deepbench=args.deepbench,
                              layers=args.layers)
    print(report.text())
    return 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from accelsim.measure.calibration import calibrate

    spec, _ = calibrate(args.out, note=print)
    print(f"cpu-host: {spec.cores} cores at {spec.clock_hz / 1e9:.2f} GHz, "
          f"{spec.fp32_peak_flops / 1e9:,.0f} GFLOPS fp32 peak, "
          f"FMA efficiency {spec.fma_efficiency:.2f} (1 thread) / "
          f"{spec.fma_efficiency_all_cores:.2f} (all)")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from accelsim.build import machine as build_machine
    from accelsim.machines.describe import describe

    print(describe(build_machine(args.preset, calibration=args.calibration)))
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


def _scenario_lines() -> list[str]:
    """Each bundled scenario's name and its description (read, not checked: `accelsim run`
    checks a scenario and says what is wrong)."""
    import tomllib

    from accelsim.scenario import available_scenarios, scenarios_dir

    names = available_scenarios()
    width = max((len(n) for n in names), default=0)
    lines = []
    for name in names:
        try:
            head = tomllib.loads((scenarios_dir() / f"{name}.toml").read_text("utf-8"))
            about = " ".join(str(head.get("scenario", {}).get("description", "")).split())
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, AttributeError):
            about = "(unreadable: accelsim run says why)"
        lines.append(f"{name.ljust(width)}  {about}".rstrip())
    return lines


def _cmd_list(args: argparse.Namespace) -> int:
    from accelsim.machines.presets import preset_names
    from accelsim.nn.loader import available_networks

    listed = {"presets": preset_names, "networks": available_networks,
              "scenarios": _scenario_lines}[args.what]()
    print("\n".join(listed))
    return 0


@contextlib.contextmanager
def _progress(total: int) -> Iterator[Callable[[str], None]]:
    """A progress bar on stderr, one step per run, shown only at a terminal and only when
    the work takes more than a second; yields the `on_run` hook."""
    from tqdm import tqdm

    shown = getattr(sys.stderr, "isatty", lambda: False)()
    with tqdm(total=total, unit="run", file=sys.stderr, disable=not shown, delay=1.0,
              leave=False, dynamic_ncols=True) as bar:
        started = [False]

        def on_run(label: str) -> None:
            bar.set_postfix_str(label, refresh=False)  # drawn by update, after the delay
            if started[0]:
                bar.update(1)  # the previous run is done
            started[0] = True

        yield on_run


def _cmd_run(args: argparse.Namespace) -> int:
    from accelsim.api import run_scenario
    from accelsim.report.writers import check_report_dir
    from accelsim.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    out = check_report_dir(Path.cwd() / "reports" / scenario.name if args.out is None
                           else args.out)  # before the runs: a bad --out fails at once
    study = scenario.quantization
    with _progress(scenario.run_count + (study.step_count if study else 0)) as on_run:
        result = run_scenario(scenario, on_run=on_run)
    skipped = result.comparison.skipped
    if scenario.machines and not result.comparison.entries:  # an earlier report stays
        more = f" (and {len(skipped) - 1} more skipped)" if len(skipped) > 1 else ""
        raise scenario.error("run", f"nothing could run, so no report was written: "
                             f"{skipped[0].reason}{more}")
    print(f"{scenario.name}: {scenario.description}" if scenario.description
          else scenario.name)
    print()
    print(result.table())
    sys.stdout.flush()
    written = result.write(out)
    print()
    print(f"wrote the report ({', '.join(scenario.formats)}) to {written}")
    return 0


@contextlib.contextmanager
def _sweep_progress() -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr with the rate in points/s, shown only at a terminal and only
    when the sweep takes more than a second; yields run_sweep's `progress` hook."""
    from tqdm import tqdm

    shown = getattr(sys.stderr, "isatty", lambda: False)()
    with tqdm(total=0, unit=" points", unit_scale=True, file=sys.stderr, disable=not shown,
              delay=1.0, leave=False, dynamic_ncols=True) as bar:

        def progress(done: int, total: int) -> None:
            if bar.total != total:
                bar.reset(total=total)
            bar.update(done - bar.n)

        yield progress


def _cmd_sweep(args: argparse.Namespace) -> int:
    from accelsim.api import run_sweep
    from accelsim.scenario import load_scenario
    from accelsim.sweep.store import check_sweep_dir

    scenario = load_scenario(args.scenario)
    if scenario.sweep is None:
        raise scenario.error("sweep", "the scenario has no [sweep] table; add one (machine, "
                             "networks and [sweep.axes]), or run it with `accelsim run`")
    out = check_sweep_dir(Path.cwd() / "reports" / scenario.name if args.out is None
                          else args.out)  # before any work: a bad --out fails at once
    with _sweep_progress() as progress:
        result = run_sweep(scenario.sweep, out, workers=args.workers, dask=args.dask,
                           progress=progress)
    print(result.summary())
    print()
    print(result.table())
    print()
    print(f"wrote sweep.csv and the report to {out}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from accelsim.demo import demo
    from accelsim.report.writers import check_report_dir

    if not args.no_report:
        check_report_dir(args.out)  # before the demo's runs: a bad --out fails at once
    demo(print, None if args.no_report else Path(args.out))
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse with the one-line error of every other user error (exit status 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"accelsim: error: {self.prog}: {message} (see {self.prog} --help)\n")


def _whole_number(text: str, low: int, high: int, example: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        bound = "a positive integer" if low else "an integer ≥ 0"
        limit = f" of at most {high:,}" if value is not None and value > 0 else ""
        shown = text if len(text) <= 30 else f"{text[:27]}..."
        raise argparse.ArgumentTypeError(f"{shown!r} must be {bound}{limit}, e.g. {example}")
    return value


def _count(text: str) -> int:
    return _whole_number(text, 1, MAX_COUNT, "64")


def _seed(text: str) -> int:
    return _whole_number(text, 0, MAX_SEED, "0")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="accelsim", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"accelsim {VERSION}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a scenario file (or a bundled scenario by name: "
                                     "accelsim list scenarios) and write its report")
    run.add_argument("scenario", help="path to a scenario .toml, or a bundled name such as "
                                      "quickstart")
    run.add_argument("--out", default=None, metavar="DIR",
                     help="report folder (default: reports/SCENARIO-NAME in the current "
                          "directory)")
    run.set_defaults(func=_cmd_run)
    sweep = sub.add_parser("sweep", help="run a scenario's [sweep] table: every design "
                                         "point, streamed into DIR/sweep.csv (rerun to "
                                         "resume), then its report")
    sweep.add_argument("scenario", help="path to a scenario .toml, or a bundled name")
    sweep.add_argument("--out", default=None, metavar="DIR",
                       help="results folder (default: reports/SCENARIO-NAME in the current "
                            "directory); a rerun into it skips the points already there")
    sweep.add_argument("--workers", type=_count, default=None, metavar="N",
                       help="local worker processes (default: one per core; 1 runs in this "
                            "process); with --dask, the workers of --dask local")
    sweep.add_argument("--dask", default=None, metavar="ADDRESS",
                       help="a Dask scheduler's address (tcp://host:8786), or 'local' for a "
                            "local Dask cluster (pip install 'accelsim[sweep]')")
    sweep.set_defaults(func=_cmd_sweep)
    listing = sub.add_parser("list", help="list presets, networks or bundled scenarios")
    listing.add_argument("what", choices=("presets", "networks", "scenarios"))
    listing.set_defaults(func=_cmd_list)
    demo = sub.add_parser("demo", help="run LeNet-5 and the LSTMs on every machine model, "
                                       "then the quickstart scenario and its report")
    demo.add_argument("--out", default=str(Path("reports") / "quickstart"), metavar="DIR",
                      help="where the quickstart report goes (default: reports/quickstart)")
    demo.add_argument("--no-report", action="store_true",
                      help="skip the quickstart scenario and its report")
    demo.set_defaults(func=_cmd_demo)
    train = sub.add_parser("train", help="train a network; writes NETWORK-DATASET.npz and a "
                                         "model card in MODELS.md")
    train.add_argument("network", help="bundled network name or path to a .toml file")
    train.add_argument("--seed", type=_seed, default=0, help="seed for weights and data order")
    train.add_argument("--epochs", type=_count, default=None,
                       help="override [training] epochs")
    train.add_argument("--out-dir", default=None,
                       help="where weights and MODELS.md go (default: the current directory)")
    train.add_argument("--quiet", action="store_true", help="no per-epoch log")
    train.set_defaults(func=_cmd_train)
    info = sub.add_parser("info", help="layers, parameters and the lowered workload")
    info.add_argument("network", help="bundled network name or path to a .toml file")
    info.add_argument("--batch", type=_count, default=1, help=BATCH_HELP)
    info.add_argument("--seq-len", type=_count, default=None, help=SEQ_LEN_HELP)
    info.add_argument("--untrained", action="store_true",
                      help="do not load weights (shapes only, any size)")
    info.set_defaults(func=_cmd_info)
    onnx = sub.add_parser("import", help="convert an ONNX model into a network file and its "
                                         "weights, DIR/NAME.toml and DIR/NAME.npz (pip "
                                         "install 'accelsim[onnx]')")
    onnx.add_argument("model", help="path to an .onnx file")
    onnx.add_argument("--out", default=".", metavar="DIR",
                      help="where the two files go (default: the current directory)")
    onnx.add_argument("--seq-len", type=_count, default=None,
                      help="sequence models: the default sequence length (default: the "
                           "file's, or 1 when the file leaves it open)")
    onnx.set_defaults(func=_cmd_import)
    timing = sub.add_parser("time", help="time one batch of a network on a machine")
    timing.add_argument("network", help="bundled network name or path to a .toml file")
    timing.add_argument("--machine", required=True, help="machine preset (accelsim presets)")
    timing.add_argument("--batch", type=_count, default=1, help=BATCH_HELP)
    timing.add_argument("--precision", default=None,
                        help="fp32, fp16, bf16 or int8 (default: the machine's own)")
    timing.add_argument("--seq-len", type=_count, default=None, help=SEQ_LEN_HELP)
    timing.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override a spec field, e.g. --set array_rows=32")
    timing.add_argument("--program", action="store_true",
                        help="print the compiled program (TPU)")
    timing.add_argument("--calibration", default=None, metavar="PATH",
                        help="cpu-host: a saved calibration (default: the per-user cache)")
    timing.set_defaults(func=_cmd_time)
    calibrate = sub.add_parser("calibrate", help="measure this host once and save it for "
                                                 "cpu-host (prints where)")
    calibrate.add_argument("--out", default=None, metavar="PATH",
                           help="where to save (default: the per-user cache file)")
    calibrate.set_defaults(func=_cmd_calibrate)
    show = sub.add_parser("show", help="a preset's spec, peak per precision, and where its "
                                       "numbers come from")
    show.add_argument("preset")
    show.add_argument("--calibration", default=None, metavar="PATH",
                      help="cpu-host: a saved calibration (default: the per-user cache)")
    show.set_defaults(func=_cmd_show)
    check = sub.add_parser("validate", help="predicted vs measured for a machine with "
                                            "reference measurements (gpu-h200, cpu-host, "
                                            "recorded CPU hosts, gpu-v100 --deepbench)")
    check.add_argument("machine")
    check.add_argument("--networks", action="store_true",
                       help="whole networks (device and end-to-end times) instead of GEMMs; "
                            "cpu-host times PyTorch live (pip install torch==2.13.0)")
    check.add_argument("--layers", action="store_true",
                       help="CPUs: single PyTorch layers (convolutions, LSTM/GRU/RNN, Linear), "
                            "per family, fitted and held-out rows apart; cpu-host times the "
                            "held-out cases live (pip install torch==2.13.0)")
    check.add_argument("--deepbench", action="store_true",
                       help="gpu-v100: DeepBench's published V100 GEMMs, convolutions, LSTMs, "
                            "GRUs and vanilla RNNs, per family and precision, worst rows")
    check.set_defaults(func=_cmd_validate)
    sub.add_parser("networks", help="list bundled networks").set_defaults(func=_cmd_networks)
    sub.add_parser("presets", help="list machine presets").set_defaults(func=_cmd_presets)
    return parser


def _fail(message: str) -> int:
    """The one line a user error prints; status 2."""
    print(f"accelsim: error: {' '.join(str(message).split())}", file=sys.stderr)
    return 2


def _quiet_stdout() -> None:
    """After the reader of a pipe left (`| head`): send what is still buffered nowhere."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (AttributeError, OSError, ValueError):  # stdout without a file descriptor
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand: 0 on success, 2 on a user error (one line on stderr), 130 on
    Ctrl-C and 141 when the reader of a pipe goes away (as a process killed by SIGPIPE)."""
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as done:  # --help (0), or a usage error already printed (2)
            return done.code if isinstance(done.code, int) else 0 if done.code is None else 2
        status = args.func(args)
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        _quiet_stdout()
        return SIGPIPE_STATUS
    except AccelsimError as err:
        return _fail(str(err))
    except KeyboardInterrupt:
        print("accelsim: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        return _fail("out of memory; use a smaller --batch, --seq-len or network")
    except OSError as err:  # the file system refused: permissions, a full disk, ...
        where = f"{err.filename}: " if err.filename else ""
        return _fail(f"{where}{err.strerror or err}")


if __name__ == "__main__":
    sys.exit(main())
