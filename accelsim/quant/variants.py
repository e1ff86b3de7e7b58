"""The number formats of a quantization study (`accelsim.quant.study`): `Variant`, its checks
and `DEFAULT_VARIANTS`.

A `Variant` is one number format: fp32, bf16 or fp16 (`Network.forward` at that precision);
int8 (`accelsim.quantize` with the variant's scheme keywords: weights, activations,
calibrate, percentile, activation_bits, cell_bits, lut_size, lut_range); or int16, which no
kernel runs: it is *simulated* (`quant.fake_forward`, every quantizable layer at 16 bits,
under the scheme of the first four keywords) and labelled so wherever it is shown.

Every value is checked before anything runs, one function per question so that `Variant`
(a QuantizationError) and scenario files (a ScenarioError naming the key path) say the same
thing: `precision_problem`, `unknown_keyword` (a keyword the precision does not take) and
`keyword_error` (a bad value: `quantize`'s own check, `Scheme.parse`).

`Variant.applies_to`: keywords that only reach recurrent layers (`cell_bits`: an LSTM's cell
state; `lut_size`, `lut_range`: the recurrent gate tables) make a variant not applicable to
a network without such a layer, so a study does not repeat the plain int8 row for it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from accelsim.errors import QuantizationError
from accelsim.nn.network import Network
from accelsim.nn.recurrent import LSTM, Recurrent
from accelsim.quant.scheme import Scheme

FLOATS = ("fp32", "bf16", "fp16")
PRECISIONS = (*FLOATS, "int8", "int16")
SIMULATED = "int16"  # fake-quantized at 16 bits, never run by integer kernels
SCHEME_KEYS = ("weights", "activations", "calibrate", "percentile")  # int8 and int16
INT8_KEYS = ("activation_bits", "cell_bits", "lut_size", "lut_range")  # the int8 kernels'
KEYWORDS = (*SCHEME_KEYS, *INT8_KEYS)


def keyword_error(name: str, value: object) -> QuantizationError | None:
    """The error `quantize` gives for its keyword `name` = `value` (`Scheme.parse`, the one
    validator of scheme values, asked about that keyword alone), or None when it is fine.
    Keywords it does not take are `unknown_keyword`'s."""
    if name not in KEYWORDS:
        return None
    keyword: dict[str, Any] = {name: value}
    try:
        Scheme.parse(**keyword)
    except QuantizationError as err:
        return err
    return None


def unknown_keyword(name: str, precision: str) -> tuple[str, str] | None:
    """(problem, fix) when `precision` takes no keyword `name`, else None."""
    takes = () if precision in FLOATS else SCHEME_KEYS if precision == SIMULATED else KEYWORDS
    if name in takes:
        return None
    if name in KEYWORDS:
        why = "a float precision takes no scheme" if precision in FLOATS else \
            f"simulated {precision} takes only {', '.join(SCHEME_KEYS)}"
        return f"does not apply to {precision}", f"{why}; remove it or use precision = 'int8'"
    close = difflib.get_close_matches(name, KEYWORDS, n=1)
    advice = f"did you mean {close[0]}? " if close else ""
    return "is not a scheme keyword", f"{advice}use {', '.join(KEYWORDS)}"


def precision_problem(value: object) -> tuple[str, str] | None:
    """(problem, fix) when `value` is not one of PRECISIONS, else None."""
    if isinstance(value, str) and value in PRECISIONS:
        return None
    close = difflib.get_close_matches(str(value).lower(), PRECISIONS, n=1)
    advice = f"did you mean {close[0]!r}? " if close else ""
    return "is not a study precision", f"{advice}choose from {', '.join(PRECISIONS)}"


def default_label(precision: str, keywords: Mapping[str, Any]) -> str:
    """'fp16', 'int8 weights=per_channel calibrate=mse', 'int16 (simulated)'."""
    words = [precision, *(f"{k}={_text(v)}" for k, v in keywords.items())]
    return " ".join(words) + (" (simulated)" if precision == SIMULATED else "")


def _text(value: Any) -> str:
    if isinstance(value, tuple | Mapping):
        return "{" + ",".join(f"{k}:{v}" for k, v in dict(value).items()) + "}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _frozen(value: Any) -> Any:
    """A keyword value as hashable data (a per-layer table as pairs)."""
    return tuple(value.items()) if isinstance(value, Mapping) else value


def _pairs(scheme: Any) -> tuple[tuple[str, Any], ...]:
    """A variant's scheme as (keyword, value) pairs, from pairs or a mapping."""
    items = scheme.items() if isinstance(scheme, Mapping) else scheme
    try:
        pairs = tuple((name, _frozen(value)) for name, value in items)
    except (TypeError, ValueError):
        raise QuantizationError(f"a variant's scheme = {scheme!r:.60} must be keyword pairs, "
                                "e.g. Variant.of('int8 mse', 'int8', calibrate='mse')") from None
    return pairs


@dataclass(frozen=True)
class Variant:
    """One number format of the study: `precision` (fp32, bf16, fp16, int8, or int16
    simulated) and, for int8 and int16, `accelsim.quantize` keywords as (name, value) pairs
    (`Variant.of` takes them as keywords). A bad value is a QuantizationError."""

    label: str
    precision: str = "fp32"
    scheme: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, label: str | None, precision: str = "fp32", **keywords: Any) -> Variant:
        """`Variant.of("int8 per-channel", "int8", weights="per_channel")`; label None
        derives one (`default_label`)."""
        chosen = label if label is not None else default_label(precision, keywords)
        return cls(chosen, precision, _pairs(keywords))

    def __post_init__(self) -> None:
        if not isinstance(self.label, str) or not self.label.strip():
            raise QuantizationError(f"a variant's label = {self.label!r} must be a non-empty "
                                    "string, e.g. 'int8 per-channel'")
        object.__setattr__(self, "scheme", _pairs(self.scheme))
        problem = precision_problem(self.precision)
        if problem is not None:
            raise QuantizationError(f"variant {self.label!r}: precision = {self.precision!r} "
                                    f"{problem[0]}; {problem[1]}")
        for name, value in self.keywords.items():
            problem = unknown_keyword(str(name), self.precision)
            if problem is not None:
                raise QuantizationError(f"variant {self.label!r}: {name} = {value!r} "
                                        f"{problem[0]}; {problem[1]}")
            err = keyword_error(name, value)
            if err is not None:
                raise QuantizationError(f"variant {self.label!r}: {err}")

    @property
    def keywords(self) -> dict[str, Any]:
        """The scheme keywords as `accelsim.quantize` takes them."""
        return {k: dict(v) if isinstance(v, tuple) else v for k, v in self.scheme}

    @property
    def simulated(self) -> bool:
        """True for int16: fake quantization, not integer kernels."""
        return self.precision == SIMULATED

    @property
    def scheme_label(self) -> str:
        """The scheme as tables show it: '' for floats; 'simulated, per_tensor/...' for
        int16."""
        if self.precision in FLOATS:
            return ""
        label = Scheme.parse(**self.keywords).label
        return f"simulated, {label}" if self.simulated else label

    def applies_to(self, net: Network) -> str | None:
        """None when the variant means something for `net`, else why not."""
        names = {k for k, _ in self.scheme}
        if "cell_bits" in names and not any(isinstance(x, LSTM) for x in net.layers):
            return "cell_bits: it has no LSTM cell state"
        if names & {"lut_size", "lut_range"} and \
                not any(isinstance(x, Recurrent) for x in net.layers):
            return "lut_size/lut_range: it has no recurrent gate tables"
        return None


DEFAULT_VARIANTS = (
    Variant.of("fp32"), Variant.of("bf16", "bf16"), Variant.of("fp16", "fp16"),
    Variant.of("int8 per-tensor", "int8"),
    Variant.of("int8 per-channel", "int8", weights="per_channel"),
    Variant.of("int8 per-channel percentile", "int8", weights="per_channel",
               calibrate="percentile"),
    Variant.of("int8 per-channel mse", "int8", weights="per_channel", calibrate="mse"),
    Variant.of("int8 asymmetric", "int8", activations="asymmetric"),
    Variant.of("int8 16-bit activations", "int8", activation_bits=16),
    Variant.of("int16 (simulated)", "int16"),
    Variant.of("int8 8-bit cell", "int8", cell_bits=8),
    Variant.of("int8 32-bit cell", "int8", cell_bits=32),
)


def check_variants(variants: Iterable[Variant]) -> tuple[Variant, ...]:
    """A study's variants: at least one, each a Variant, each label once."""
    chosen = tuple(variants)
    if not chosen or not all(isinstance(v, Variant) for v in chosen):
        raise QuantizationError("variants must be a non-empty list of Variant, e.g. "
                                "DEFAULT_VARIANTS or [Variant.of('int8', 'int8')]")
    labels = [v.label for v in chosen]
    twice = sorted({x for x in labels if labels.count(x) > 1})
    if twice:
        raise QuantizationError(f"variant label {twice[0]!r} is used twice; give each "
                                "variant a label of its own")
    return chosen
