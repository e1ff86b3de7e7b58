"""A scenario's [quantization] table: the accuracy study of `accelsim.quant.study`.

    [quantization]  networks (default: run.networks; each must name a data set), sensitivity
                    (default true), max_drop_points (default 0.5)
    [[quantization.variants]]  precision (required: fp32, bf16, fp16, int8, or int16 =
                    simulated), label (default: derived from the rest), and for int8 the
                    `accelsim.quantize` keywords weights, activations, calibrate, percentile,
                    activation_bits (8, 16 or a table layer = bits), cell_bits, lut_size,
                    lut_range (int16 takes the first four); default: `DEFAULT_VARIANTS`.

A scenario with [quantization] may leave out [[machines]] and [run] (both, not one): only
the study runs. Every mistake is a `ScenarioError` naming the key path, checked here before
anything runs: a bad scheme value (`weights = "per_chanel"`) with a did-you-mean, a layer in
an activation_bits table that a studied network does not have, a network without a data set.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from accelsim.checks import check_number
from accelsim.errors import AccelsimError, ScenarioError
from accelsim.nn.conv import Conv2d
from accelsim.nn.dense import Linear
from accelsim.nn.network import Network
from accelsim.nn.recurrent import Recurrent
from accelsim.quant.variants import (
    DEFAULT_VARIANTS,
    KEYWORDS,
    PRECISIONS,
    Variant,
    keyword_error,
    precision_problem,
    unknown_keyword,
)
from accelsim.scenario.checks import Doc
from accelsim.scenario.choices import NetworkChoice

QUANTIZATION_KEYS = ("networks", "variants", "sensitivity", "max_drop_points")
VARIANT_KEYS = ("label", "precision", *KEYWORDS)
STUDY_PLOTS = ("quantization", "sensitivity")
NetworkReader = Callable[[object, str, str], NetworkChoice]  # (entry, key, weights)


@dataclass(frozen=True)
class QuantizationPlan:
    """The study a scenario asks for (`accelsim.quant.accuracy_study`'s arguments)."""

    networks: tuple[NetworkChoice, ...]  # loaded with their trained weights
    variants: tuple[Variant, ...] = DEFAULT_VARIANTS
    sensitivity: bool = True
    max_drop_points: float = 0.5

    @property
    def step_count(self) -> int:
        """How many steps the study reports to a progress hook."""
        return len(self.networks) * (len(self.variants) + self.sensitivity)

    @property
    def plots(self) -> tuple[str, ...]:
        """The plots the study can draw."""
        return STUDY_PLOTS if self.sensitivity else STUDY_PLOTS[:1]


def _gemm_layers(net: Network) -> list[str]:
    return [x.name for x in net.layers if isinstance(x, Conv2d | Linear | Recurrent)]


def _check_layers(value: Mapping[str, Any], key: str, d: Doc,
                  nets: list[Network]) -> None:
    """Every layer an activation_bits table names is a GEMM layer of every studied net."""
    for net in nets:
        missing = [name for name in value if name not in _gemm_layers(net)]
        if missing:
            raise d.bad(key, dict(value), f"names {missing[0]!r}, which {net.name} does not "
                        "have", f"its GEMM layers are {', '.join(_gemm_layers(net))}; give "
                        "one number for every layer, e.g. activation_bits = 16")


def _variant(item: object, key: str, d: Doc, nets: list[Network]) -> Variant:
    if not isinstance(item, dict):
        raise d.bad(key, item, "must be a table", 'write [[quantization.variants]] with '
                    'precision = "int8" and scheme keys such as weights = "per_channel"')
    d.keys(item, "quantization.variants", f"{key}.")
    if "precision" not in item:
        raise d.missing(f"{key}.precision", f"add precision = \"int8\" (one of "
                        f"{', '.join(PRECISIONS)})")
    precision = item["precision"]
    problem = precision_problem(precision)
    if problem is not None:
        raise d.bad(f"{key}.precision", precision, *problem)
    label = None if "label" not in item else d.text(item["label"], f"{key}.label",
                                                    '"int8 per-channel"')
    keywords = {k: v for k, v in item.items() if k in KEYWORDS}
    for name, value in keywords.items():
        problem = unknown_keyword(name, precision)
        if problem is not None:
            raise d.bad(f"{key}.{name}", value, *problem)
        err = keyword_error(name, value)
        if err is not None:
            raise d.wrap(f"{key}.{name}", err)
        if name == "activation_bits" and isinstance(value, Mapping):
            _check_layers(value, f"{key}.{name}", d, nets)
    try:
        return Variant.of(label, precision, **keywords)
    except AccelsimError as err:  # a check above should have said it first
        raise d.wrap(key, err) from None


def _variants(value: object, d: Doc, nets: list[Network]) -> tuple[Variant, ...]:
    key = "quantization.variants"
    if not isinstance(value, list):
        raise d.bad(key, value, "must be a list of tables", "write [[quantization.variants]] "
                    "(double brackets), one table per variant")
    chosen: list[Variant] = []
    for where, item in d.items(value, key, '[[quantization.variants]] precision = "int8"'):
        variant = _variant(item, where, d, nets)
        d.unique(variant.label, [v.label for v in chosen], f"{where}.label")
        chosen.append(variant)
    return tuple(chosen)


def _networks(table: Mapping[str, Any], d: Doc, run: Sequence[NetworkChoice],
              read: NetworkReader) -> list[NetworkChoice]:
    """Each studied network, loaded with its trained weights; each must name a data set."""
    if "networks" not in table:
        if not run:
            raise d.missing("quantization.networks", 'add networks = ["lenet5"] (or a [run] '
                            "table, whose networks it defaults to)")
        for choice in run:
            if "dataset" not in choice.loaded().training:
                raise d.missing("quantization.networks", f"it defaults to run.networks, but "
                                f"{choice.loaded().name} names no data set ([training] "
                                'dataset) to score on; list the networks to study, e.g. '
                                'networks = ["lenet5"]')
        return [read(c.spec, "run.networks", "trained") for c in run]
    found: list[NetworkChoice] = []
    for key, item in d.items(table["networks"], "quantization.networks",
                             'networks = ["lenet5"]'):
        shapes = read(item, key, "none").loaded()
        if shapes.name in [c.loaded().name for c in found]:
            raise d.bad(key, item, f"repeats the network {shapes.name!r}", "remove the repeat")
        if "dataset" not in shapes.training:
            raise d.bad(key, item, f"names {shapes.name}, which names no data set ([training] "
                        "dataset)", "a study scores each network on its test split; leave "
                        "it out")
        found.append(read(item, key, "trained"))
    return found


def parse_quantization(doc: Mapping[str, Any], d: Doc, run: Sequence[NetworkChoice],
                       read: NetworkReader) -> QuantizationPlan | None:
    """The [quantization] table of a scenario document (None without one); `run` holds
    run.networks, `read` turns a network entry into a loaded `NetworkChoice`."""
    if "quantization" not in doc:
        return None
    table = d.table(doc, "quantization")
    found = _networks(table, d, run, read)
    nets = [c.loaded() for c in found]
    variants = DEFAULT_VARIANTS if "variants" not in table \
        else _variants(table["variants"], d, nets)
    sensitivity = d.flag(table.get("sensitivity", True), "quantization.sensitivity")
    budget = float(check_number(table.get("max_drop_points", 0.5),
                                "quantization.max_drop_points", owner=d.where, zero_ok=True,
                                meaning="accuracy points", error=ScenarioError))
    return QuantizationPlan(tuple(found), variants, sensitivity, budget)


def choose_plots(report: Mapping[str, Any], d: Doc, run_plots: tuple[str, ...], runs: bool,
                 plan: QuantizationPlan | None) -> tuple[str, ...]:
    """report.plots, checked: by default every plot of the runs (when the scenario has
    any) and of the study (when it has one); a plot asked for must have something to draw."""
    drawable = (run_plots if runs else ()) + (() if plan is None else plan.plots)
    if "plots" not in report:
        return drawable
    value = report["plots"]
    if value == []:
        return ()
    chosen = d.choices(value, "report.plots", run_plots + STUDY_PLOTS, "plot")
    for i, name in enumerate(chosen):
        if name in drawable:
            continue
        key = "report.plots" if isinstance(value, str) else f"report.plots[{i}]"
        if name in run_plots:
            raise d.bad(key, name, "draws runs, but the scenario has no [[machines]] and [run]",
                        "leave it out, or add machines and a [run] table")
        needs = "[quantization] table" if plan is None else "quantization.sensitivity = true"
        raise d.bad(key, name, f"draws the quantization study and needs a {needs}",
                    f"leave it out, or add a {needs}")
    return chosen
