"""Numbers as people read them, one way everywhere: SI prefixes ("92 TOP/s", "45 µs",
"34 GB/s"), plain counts with thousands separators, ratios, and the unit a field's name
carries (units in names: `clock_hz` → Hz, `dram_bytes_per_s` → B/s).

Every table, plot label and message of the project formats through these functions, so the
same quantity reads the same in a terminal, a report and a notebook.
"""

from __future__ import annotations

import math
from typing import NamedTuple

PREFIXES = ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""),
            (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"), (1e-12, "p"))
MISSING = "—"  # a value that does not exist (no run matched, not finite)


def si(value: float, unit: str, digits: int = 3) -> str:
    """`value` with the SI prefix that leaves 1 to 999 before it, to `digits` significant
    digits: 92e12, 'OP/s' → '92 TOP/s'; 4.5e-5, 's' → '45 µs'; 0 → '0 s'; nan → '—'."""
    if not math.isfinite(value):
        return MISSING
    if value == 0:
        return f"0 {unit}".rstrip()
    for i, (scale, prefix) in enumerate(PREFIXES):
        if abs(value) >= scale or i == len(PREFIXES) - 1:
            mantissa = float(f"{value / scale:.{digits}g}")
            if abs(mantissa) >= 1000 and i > 0:  # 999.7 rounds up into the next prefix
                scale, prefix = PREFIXES[i - 1]
                mantissa = float(f"{value / scale:.{digits}g}")
            return f"{mantissa:.{digits}g} {prefix}{unit}".rstrip()
    raise AssertionError("unreachable: the last prefix takes every value")


def takes_prefix(unit: str) -> bool:
    """Whether SI prefixes apply: SI units (B, OP, FLOP, Hz, W, J, MAC) and seconds, not
    words such as 'pixels per side' or '×'."""
    return unit[:1].isupper() or unit == "s" or unit.startswith("s/")


def quantity(value: float, unit: str) -> str:
    """With an SI prefix where the unit takes one (`takes_prefix`), else four significant
    digits and the unit as given: '92 TOP/s', '45 µs', '28 pixels per side', '4.6 ×'."""
    if takes_prefix(unit):
        return si(value, unit)
    return f"{value:,.4g} {unit}".rstrip()


def number(value: float | None) -> str:
    """A value for a table: '—' for none, 3.500e+12, 13,194, 0.5."""
    if value is None or not math.isfinite(value):
        return MISSING
    if abs(value) >= 1e9:
        return f"{value:.3e}"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def ratio(value: float | None) -> str:
    """A ratio of two values: '—' for none, 1.34, 4.2e+03."""
    if value is None or not math.isfinite(value):
        return MISSING
    return f"{value:.2f}" if 0.01 <= abs(value) < 100 else f"{value:.3g}"


def rate(value: float | None) -> str:
    """A count per second (inferences/s): '—' for none, 13,194, 91.8, 0.5, 3.2e-05; never
    '0' for a run slower than one a second."""
    if value is None or not math.isfinite(value):
        return MISSING
    return short(value)


def short(value: float) -> str:
    """Three significant digits without an exponent (a plot's bar label, milliseconds in a
    table): 1,070, 91.8, 0.531."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def percent(fraction: float, decimals: int = 2) -> str:
    """0.5479 → '54.79%'."""
    return f"{100 * fraction:.{decimals}f}%"


def share(fraction: float) -> str:
    """A fraction as a percentage to one decimal, or two significant digits below 0.1%:
    0.5479 → '54.8%', 3.34e-6 → '0.00033%', 0 → '0.0%' (never '0.0%' for a share above 0)."""
    if not math.isfinite(fraction):
        return MISSING
    return f"{fraction:.1%}" if fraction == 0 or abs(fraction) >= 1e-3 else \
        f"{100 * fraction:.2g}%"


def duration(seconds: float) -> str:
    """6.9e-6 → '6.9 µs', 2.2e-3 → '2.2 ms', 3.0 → '3 s'."""
    return si(seconds, "s")


class Unit(NamedTuple):
    """What a field's name says it counts: a symbol for labels ('B/s') and words for
    messages ('bytes per second')."""

    symbol: str
    words: str


_SYMBOLS = (  # SI units DESIGN's names carry, longest suffix first (prefixes apply to them)
    ("_bytes_per_s", "B/s"), ("_ops_per_s", "OP/s"), ("_hz", "Hz"), ("_bytes", "B"),
    ("_watts", "W"), ("_joules", "J"), ("_seconds", "s"), ("_s", "s"))
_WORDS = {"bytes": "bytes", "hz": "Hz", "cycles": "cycles", "cycle": "cycle", "s": "seconds",
          "ops": "ops", "flops": "FLOPs", "macs": "MACs", "registers": "registers",
          "lanes": "lanes", "warps": "warps", "ctas": "CTAs", "tiles": "tiles", "rows": "rows",
          "cols": "columns", "cores": "cores", "pipes": "pipes", "watts": "watts",
          "nm": "nanometres"}
_ABBREVIATIONS = {"sm": "SM", "s": "second"}


def _words(field: str) -> str:
    """'clock_hz' → 'Hz', 'dram_bytes_per_s' → 'bytes per second', 'sm_count' → 'a count of
    SMs', 'fma_pipes' → 'pipes'; '' where the name carries no unit."""
    tokens = field.split("_")
    if len(tokens) > 1 and tokens[-1] == "count":
        return f"a count of {' '.join(tokens[:-1]).upper()}s"
    for i, token in enumerate(tokens):
        if token in _WORDS:
            return " ".join([_WORDS[token], *(_ABBREVIATIONS.get(t, t) for t in tokens[i + 1:])])
    return ""


def unit_of(field: str) -> Unit:
    """The unit a field's name carries (`Unit.symbol` '' where it is no SI unit):
    'tpu.ddr_bytes_per_s' → Unit('B/s', 'bytes per second')."""
    name = field.rsplit(".", 1)[-1]
    symbol = next((unit for suffix, unit in _SYMBOLS if name.endswith(suffix)), "")
    return Unit(symbol, _words(name))
