"""The report's data files as text: results.json (schema-versioned, the unit in every key),
results.csv (one row per op: `comparison.OP_COLUMNS`) and quantization.csv (one row per
network × variant)."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from pathlib import Path

from accelsim.comparison import OP_COLUMNS, Comparison
from accelsim.quant.study import QuantStudy
from accelsim.report.inputs import Result, comparison_of, scenario_of, study_of
from accelsim.scenario.result import ScenarioResult
from accelsim.scenario.scenario import Scenario
from accelsim.scenario.study import QuantizationPlan
from accelsim.version import VERSION

SCHEMA = 1
STUDY_COLUMNS = ("network", "variant", "precision", "scheme", "simulated",
                 "accuracy_fraction", "fp32_accuracy_fraction", "drop_points", "perplexity",
                 "fp32_perplexity", "test_samples", "calibration_samples")


def _finite(value: object) -> object:
    """NaN and ±inf as null (JSON has neither), numpy scalars as Python numbers; containers
    converted throughout."""
    if hasattr(value, "item") and callable(value.item) and not isinstance(value, dict):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _shown_path(path: Path) -> str:
    """The scenario file relative to the current directory when it lies below it, else its
    name: a report names no folder of the machine that wrote it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return path.name


def scenario_record(s: Scenario) -> dict[str, object]:
    """The scenario as plain values."""
    return {
        "name": s.name, "description": s.description,
        "path": None if s.path is None else _shown_path(s.path),
        "machines": [{"preset": m.preset, "overrides": dict(m.overrides)} for m in s.machines],
        "networks": [n.spec for n in s.networks], "batches": list(s.batches),
        "precisions": list(s.precisions), "seq_len": s.seq_len, "accuracy": s.accuracy,
        "latency_limit_s": s.latency_limit_s, "plots": list(s.plots),
        "formats": list(s.formats), "book_figures": s.book_figures,
        **({} if s.quantization is None else {"quantization": _plan_record(s.quantization)})}


def _plan_record(plan: QuantizationPlan) -> dict[str, object]:
    """A scenario's [quantization] table as plain values."""
    return {"networks": [n.spec for n in plan.networks],
            "variants": [{"label": v.label, "precision": v.precision, **v.keywords}
                         for v in plan.variants],
            "sensitivity": plan.sensitivity, "max_drop_points": plan.max_drop_points}


def _figures(result: Result) -> list[dict[str, object]]:
    """The book's figures a scenario's result holds, as plain values."""
    figures = result.figures if isinstance(result, ScenarioResult) else ()
    return [{"name": f.name, "book": f.book, "book_value": f.book_value,
             "model_value": f.model_value, "unit": f.unit,
             "ratio": f.model_value / f.book_value if f.book_value else None,
             "note": f.note} for f in figures]


def json_text(result: Result, drawn: Sequence[str], left_out: Sequence[tuple[str, str]]) -> str:
    """results.json: the scenario, every run and op record, the book's figures, the
    references, what was skipped and which plots were drawn or left out."""
    cmp, scenario, study = comparison_of(result), scenario_of(result), study_of(result)
    references = result.references if isinstance(result, ScenarioResult) else ()
    document = _finite({
        "schema": SCHEMA, "accelsim": VERSION,
        "scenario": {} if scenario is None else scenario_record(scenario),
        "runs": cmp.to_records(), "ops": cmp.op_records(), "figures": _figures(result),
        "references": [r.record() for r in references],
        "skipped": [{"machine": s.machine, "network": s.network, "batch": s.batch,
                     "precision": s.precision, "reason": s.reason} for s in cmp.skipped],
        "plots": {"drawn": list(drawn), "left_out": dict(left_out)},
        **({} if study is None else {"quantization": study.document()})})
    return json.dumps(document, indent=1, allow_nan=False) + "\n"


def _csv(records: Sequence[dict[str, object]], columns: Sequence[str]) -> str:
    """Records as CSV; `columns` first, in order, then any other key."""
    extra = [k for k in dict.fromkeys(k for r in records for k in r) if k not in columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*columns, *extra], lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return out.getvalue()


def runs_csv_text(cmp: Comparison) -> str:
    """results.csv: one row per op record, in `OP_COLUMNS` order."""
    return _csv(cmp.op_records(), OP_COLUMNS)


def study_csv_text(study: QuantStudy) -> str:
    """quantization.csv: one row per network × variant (`QuantStudy.to_records`)."""
    return _csv(study.to_records(), STUDY_COLUMNS)
