"""A quantization accuracy study: networks × number formats, scored on each test split.

Each network is calibrated on the first CALIBRATION_SAMPLES (256) inputs of its training
split (as `ax.quantize` and the int8 machines do) and scored on its whole test split:

- accuracy: top-1 (`nn.scoring.score`): every step for per-step targets (the next
  character of a language model), the last step for a network that returns only it
  (lstm-recall), one label per sample otherwise;
- perplexity, for per-step (language-model) targets only: exp of the mean cross-entropy of
  the softmax of the outputs over every step (`nn.train.evaluate`'s definition); the
  outputs of an integer network are its dequantized logits (probabilities when it ends with
  a softmax, whose log is taken directly);
- drop: fp32 accuracy minus the variant's, in points (hundredths).

Each `Variant` (`quant.variants`) is one number format: fp32, bf16 or fp16 (`Network.forward`
at that precision); int8 (`accelsim.quantize` with the variant's scheme keywords: bit-exact
integer inference); or int16, *simulated* (`quant.fake_forward` with every quantizable
layer at 16 bits, weights and activations; the rest of the arithmetic in fp32) and labelled
so wherever it is shown. Variants whose keywords only reach recurrent layers (`cell_bits`,
`lut_size`, `lut_range`) are not run on networks without such a layer; the study lists them
as not applicable instead of repeating the plain int8 row.

With `sensitivity`, each network also gets `suggest_mixed_precision` under the default
scheme (per tensor, symmetric, max: what `ax.quantize` and the int8 machines use): every
quantizable layer's drop alone at 8 bits (simulated) and the greedy set of layers kept at
16 bits for a loss within `max_drop_points`, which is then also run on the integer path
(`quantize` with the suggestion's `activation_bits`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from accelsim.errors import QuantizationError
from accelsim.nn.datasets import network_data
from accelsim.nn.loader import load_network
from accelsim.nn.network import Network, check_labels
from accelsim.nn.scoring import score
from accelsim.quant.calibration import LayerRange, calibrate
from accelsim.quant.network import quantize, quantize_calibrated
from accelsim.quant.scheme import DEFAULT_SCHEME, Scheme
from accelsim.quant.sensitivity import (
    MixedPrecision,
    fake_forward,
    quantizable_layers,
    suggest_mixed_precision,
)
from accelsim.quant.variants import DEFAULT_VARIANTS, FLOATS, Variant, check_variants
from accelsim.tables import Table, text_tables
from accelsim.units import percent

__all__ = ["CALIBRATION_SAMPLES", "DEFAULT_VARIANTS", "NotApplicable", "QuantStudy",
           "StudyRow", "Variant", "accuracy_study", "perplexity", "study_on"]
CALIBRATION_SAMPLES = 256  # as engine.CALIBRATION_SAMPLES: the int8 machines' calibration
SIMULATED_BITS = 16  # the width of every layer in the simulated int16 variant
MAX_EXP_ARGUMENT = 709.0  # math.exp overflows a float above this
StepHook = Callable[[str], None]


# ---- scoring ----------------------------------------------------------------------------


def perplexity(outputs: np.ndarray, labels: np.ndarray,
               probabilities: bool = False) -> float | None:
    """exp(mean cross-entropy) over every step for per-step labels (N, T); None for one
    label per sample. `outputs` are logits, or probabilities when `probabilities`."""
    out = np.asarray(outputs, np.float64)
    y = check_labels(labels, out.shape)
    if y.ndim != 2:
        return None
    flat, picked = out.reshape(-1, out.shape[-1]), y.reshape(-1)
    if probabilities:
        log_p = np.log(np.maximum(flat[np.arange(len(picked)), picked], np.finfo(float).tiny))
    else:
        top = flat.max(axis=1, keepdims=True)
        log_z = np.log(np.exp(flat - top).sum(axis=1)) + top[:, 0]
        log_p = flat[np.arange(len(picked)), picked] - log_z
    loss = float(-log_p.mean())
    return math.exp(loss) if loss < MAX_EXP_ARGUMENT else math.inf


class _Calibrations:
    """One network's calibration ranges, one pass per distinct calibration (method,
    percentile, zero points): the variants that differ only in weights, widths, cells or
    tables share it. The ranges are what `quantize` would compute itself."""

    def __init__(self, net: Network, calibration: np.ndarray) -> None:
        self.net, self.calibration = net, net.check_input(calibration)
        self.done: dict[tuple[Any, ...], dict[str, LayerRange]] = {}

    def __call__(self, scheme: Scheme) -> dict[str, LayerRange]:
        key = (scheme.calibrate, scheme.percentile, scheme.zero_points)
        if key not in self.done:
            self.done[key] = calibrate(self.net, self.calibration, scheme)
        return self.done[key]


def _outputs(net: Network, variant: Variant, ranges: _Calibrations,
             x: np.ndarray) -> tuple[np.ndarray, bool]:
    """The variant's outputs on x, and whether they are probabilities (not logits)."""
    if variant.precision in FLOATS:  # fp32 is the reference, computed once
        return net.forward(x, variant.precision, logits=True), False
    scheme = Scheme.parse(**variant.keywords)
    if variant.simulated:
        bits = dict.fromkeys(quantizable_layers(net), SIMULATED_BITS)
        return fake_forward(net, ranges(scheme), x, bits, scheme), False
    q = quantize_calibrated(net, len(ranges.calibration), scheme, ranges(scheme))
    return q.forward(x), q.output_scale is None


# ---- results ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StudyRow:
    """One network in one variant, on its test split."""

    network: str
    variant: Variant
    accuracy: float
    fp32_accuracy: float
    perplexity: float | None
    fp32_perplexity: float | None
    test_samples: int
    calibration_samples: int

    @property
    def drop_points(self) -> float:
        """fp32 accuracy minus this one, in points."""
        return 100.0 * (self.fp32_accuracy - self.accuracy)


@dataclass(frozen=True)
class NotApplicable:
    """A variant not run on a network, and why."""

    network: str
    variant: str
    reason: str


def _ppl(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}" if math.isfinite(value) else "inf"


@dataclass(frozen=True)
class QuantStudy:
    """What `accuracy_study` measured: a row per network × variant, the variants that did
    not apply, and (with sensitivity) each network's mixed-precision suggestion, whose
    `.sensitivity` holds the per-layer drops, with the suggestion's accuracy on the integer
    path (`quantize` with its `activation_bits`)."""

    rows: tuple[StudyRow, ...]
    not_applicable: tuple[NotApplicable, ...] = ()
    mixed: tuple[MixedPrecision, ...] = ()
    max_drop_points: float = 0.5
    integer_suggestions: tuple[tuple[str, float], ...] = ()  # (network, accuracy)

    @property
    def calibration_samples(self) -> int:
        """Inputs the first network's scales came from (every network's, in a study by
        `accuracy_study`: CALIBRATION_SAMPLES training inputs)."""
        return self.rows[0].calibration_samples if self.rows else CALIBRATION_SAMPLES

    def networks(self) -> list[str]:
        """The networks studied, in order."""
        return list(dict.fromkeys(r.network for r in self.rows))

    def variants(self) -> list[str]:
        """The variants' labels in order of first appearance: those run, then those that
        applied to no network."""
        return list(dict.fromkeys([*(r.variant.label for r in self.rows),
                                   *(n.variant for n in self.not_applicable)]))

    def to_records(self) -> list[dict[str, Any]]:
        """One plain record per network × variant, the unit in each key."""
        return [{"network": r.network, "variant": r.variant.label,
                 "precision": r.variant.precision, "scheme": r.variant.scheme_label,
                 "simulated": r.variant.simulated, "accuracy_fraction": r.accuracy,
                 "fp32_accuracy_fraction": r.fp32_accuracy, "drop_points": r.drop_points,
                 "perplexity": r.perplexity, "fp32_perplexity": r.fp32_perplexity,
                 "test_samples": r.test_samples,
                 "calibration_samples": r.calibration_samples} for r in self.rows]

    def sensitivity_records(self) -> list[dict[str, Any]]:
        """One record per network × quantizable layer (each alone at 8 bits, simulated),
        then 'all layers'; `sixteen_bit` marks the layers the suggestion keeps at 16."""
        out = []
        for m in self.mixed:
            s = m.sensitivity
            costs = [(c.layer, c.accuracy, c.drop_points) for c in s.layers]
            costs.append(("all layers", s.all_layers_accuracy, s.all_layers_drop_points))
            out += [{"network": m.network, "layer": layer, "bits": s.bits,
                     "scheme": s.scheme.label, "accuracy_fraction": acc,
                     "fp32_accuracy_fraction": s.fp32_accuracy, "drop_points": drop,
                     "sixteen_bit": layer in m.sixteen_bit} for layer, acc, drop in costs]
        return out

    def suggestion_records(self) -> list[dict[str, Any]]:
        """One record per network: the layers kept at 16 bits and the accuracy then."""
        integer = dict(self.integer_suggestions)
        return [{"network": m.network, "scheme": m.scheme.label,
                 "max_drop_points": m.max_drop_points, "sixteen_bit_layers": list(m.sixteen_bit),
                 "activation_bits": dict(m.activation_bits),
                 "all_8_bit_accuracy_fraction": m.sensitivity.all_layers_accuracy,
                 "accuracy_fraction": m.accuracy, "fp32_accuracy_fraction": m.fp32_accuracy,
                 "drop_points": m.drop_points,
                 "integer_accuracy_fraction": integer.get(m.network)} for m in self.mixed]

    def document(self) -> dict[str, Any]:
        """Everything as plain values (a report's results.json 'quantization')."""
        return {"variants": self.to_records(), "sensitivity": self.sensitivity_records(),
                "mixed_precision": self.suggestion_records(),
                "not_applicable": [{"network": n.network, "variant": n.variant,
                                    "reason": n.reason} for n in self.not_applicable]}

    def tables(self) -> list[Table]:
        """The accuracy table, then (when measured) sensitivity, the suggestions and the
        variants that did not apply: the cells the text, the report and notebooks show."""
        found = [Table(
            "quantization accuracy on each test split (drop from fp32)",
            ("network", "variant", "scheme", "accuracy", "drop (points)", "perplexity"),
            tuple((r.network, r.variant.label, r.variant.scheme_label or r.variant.precision,
                   percent(r.accuracy), f"{r.drop_points:.2f}", _ppl(r.perplexity))
                  for r in self.rows), frozenset({3, 4, 5}))]
        if self.mixed:
            found.append(self._sensitivity_table())
            found.append(self._suggestion_table())
        if self.not_applicable:
            found.append(Table(
                "quantization variants not applicable", ("network", "variant", "why"),
                tuple((n.network, n.variant, n.reason) for n in self.not_applicable)))
        return found

    def _suggestion_table(self) -> Table:
        rows = tuple((r["network"], ", ".join(r["sixteen_bit_layers"]) or "none",
                      percent(r["accuracy_fraction"]), f"{r['drop_points']:.2f}",
                      "—" if r["integer_accuracy_fraction"] is None
                      else percent(r["integer_accuracy_fraction"]),
                      percent(r["all_8_bit_accuracy_fraction"]),
                      percent(r["fp32_accuracy_fraction"]))
                     for r in self.suggestion_records())
        return Table(f"mixed precision: layers kept at 16 bits for a loss ≤ "
                          f"{self.max_drop_points:g} points (simulated; then on the integer "
                          "path)", ("network", "16-bit layers", "accuracy", "drop (points)",
                                    "integer path", "all 8-bit", "fp32"), rows,
                          frozenset({2, 3, 4, 5, 6}))

    def _sensitivity_table(self) -> Table:
        scheme = self.mixed[0].scheme.label
        rows = tuple((r["network"], r["layer"], percent(r["accuracy_fraction"]),
                      f"{r['drop_points']:.2f}", "16-bit" if r["sixteen_bit"] else "")
                     for r in self.sensitivity_records())
        return Table(f"per-layer sensitivity: each layer alone at 8 bits, simulated "
                          f"({scheme})", ("network", "layer", "accuracy", "drop (points)",
                                          "suggestion"), rows, frozenset({2, 3}))

    def table(self) -> str:
        """Every table as text."""
        return text_tables(self.tables())

    def __repr__(self) -> str:
        return (f"QuantStudy({len(self.networks())} networks × {len(self.variants())} "
                f"variants, sensitivity {'on' if self.mixed else 'off'})")

    def _repr_html_(self) -> str:
        return "".join(t.html() for t in self.tables())


# ---- the study --------------------------------------------------------------------------


def _load(spec: Network | str | Path) -> Network:
    if isinstance(spec, Network):
        return spec
    if isinstance(spec, str | Path):
        return load_network(spec, weights="trained")
    raise QuantizationError(f"a study network must be a Network or a bundled name such as "
                            f"'lenet5', got {type(spec).__name__} {spec!r:.60}")


def check_budget(value: object) -> float:
    """max_drop_points: a finite number of points ≥ 0."""
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value) or value < 0:
        raise QuantizationError(f"max_drop_points = {value!r} must be a finite number of "
                                "accuracy points ≥ 0, e.g. 0.5")
    return float(value)


def _integer_suggestion(net: Network, mixed: MixedPrecision, calibration: np.ndarray,
                        x: np.ndarray, y: np.ndarray, rows: Sequence[StudyRow]) -> float:
    """The suggestion run by the integer kernels (`quantize` with its activation_bits); with
    no 16-bit layer that is the plain int8 network, whose row is reused when there is one."""
    bits = dict(mixed.activation_bits)
    plain = [r for r in rows if r.variant.precision == "int8" and not r.variant.scheme]
    if not bits and plain:
        return plain[0].accuracy
    return score(quantize(net, calibration, activation_bits=bits or 8).forward(x), y)


def study_on(net: Network, calibration: np.ndarray, x: np.ndarray, y: np.ndarray,
             variants: Iterable[Variant] = DEFAULT_VARIANTS, sensitivity: bool = True,
             max_drop_points: float = 0.5, on_step: StepHook | None = None) -> QuantStudy:
    """One network on data given: calibrated on `calibration`, scored on (x, y); see the
    module (`accuracy_study` gives it each network's own data)."""
    chosen, budget = check_variants(variants), check_budget(max_drop_points)
    reference = net.forward(x, logits=True)
    fp32_accuracy, fp32_perplexity = score(reference, y), perplexity(reference, y)
    rows, skipped = [], []
    ranges = _Calibrations(net, calibration)
    for variant in chosen:
        if on_step is not None:
            on_step(f"quantization: {net.name}, {variant.label}")
        why = variant.applies_to(net)
        if why is not None:
            skipped.append(NotApplicable(net.name, variant.label, why))
            continue
        out, probabilities = (reference, False) if variant.precision == "fp32" \
            else _outputs(net, variant, ranges, x)
        rows.append(StudyRow(net.name, variant, score(out, y), fp32_accuracy,
                             perplexity(out, y, probabilities), fp32_perplexity, len(x),
                             len(calibration)))
    if not sensitivity:
        return QuantStudy(tuple(rows), tuple(skipped), max_drop_points=budget)
    if on_step is not None:
        on_step(f"quantization: {net.name}, per-layer sensitivity")
    mixed = suggest_mixed_precision(net, calibration, x, y, budget, DEFAULT_SCHEME)
    integer = _integer_suggestion(net, mixed, calibration, x, y, rows)
    return QuantStudy(tuple(rows), tuple(skipped), (mixed,), budget, ((net.name, integer),))


def accuracy_study(networks: Network | str | Path | Sequence[Network | str | Path],
                   variants: Iterable[Variant] = DEFAULT_VARIANTS, sensitivity: bool = True,
                   max_drop_points: float = 0.5,
                   on_step: StepHook | None = None) -> QuantStudy:
    """Every network (a Network, or a bundled name or .toml path loaded with its trained
    weights) in every variant, scored on its test split; with `sensitivity`, per-layer
    drops and a mixed-precision suggestion for a loss within `max_drop_points`. `on_step`
    hears a label before each variant of each network (and each sensitivity)."""
    chosen, budget = check_variants(variants), check_budget(max_drop_points)
    specs = [networks] if isinstance(networks, Network | str | Path) else list(networks)
    parts = []
    for net in (_load(spec) for spec in specs):
        calibration = network_data(net, "train")[0][:CALIBRATION_SAMPLES]
        x, y = network_data(net, "test")
        parts.append(study_on(net, calibration, x, y, chosen, bool(sensitivity), budget,
                              on_step))
    return QuantStudy(tuple(r for p in parts for r in p.rows),
                      tuple(n for p in parts for n in p.not_applicable),
                      tuple(m for p in parts for m in p.mixed), budget,
                      tuple(i for p in parts for i in p.integer_suggestions))
