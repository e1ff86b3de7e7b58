"""Network files with values of the wrong kind (a list where a string goes, a table where a
number goes, dates, nan): a `ModelFileError` naming the key, never a TypeError."""

from __future__ import annotations

import copy
import datetime
import math
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accelsim.errors import AccelsimError, ModelFileError
from accelsim.nn.loader import models_dir, parse_network

BASES = {name: tomllib.loads((models_dir() / f"{name}.toml").read_text(encoding="utf-8"))
         for name in ("lenet5", "lstm-char", "resnet-digits")}

SCALARS = (st.integers(-2**70, 2**70) | st.floats() | st.booleans() | st.text(max_size=8)
           | st.just(datetime.date(1979, 5, 27)) | st.just(datetime.time(7, 32)))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=4), inner, max_size=3), max_leaves=6)


def _key_paths(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
    paths: list[tuple[Any, ...]] = [(k,) for k in doc]
    for i, table in enumerate(doc["layers"]):
        paths += [("layers", i, k) for k in table] + [("layers", i, "bias")]
    return paths


def _set(doc: dict[str, Any], path: tuple[Any, ...], value: object) -> None:
    target: Any = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_value_kind_anywhere_gives_a_model_file_error_or_a_network(data) -> None:
    base = data.draw(st.sampled_from(sorted(BASES)))
    doc = copy.deepcopy(BASES[base])
    doc.pop("weights", None)
    path = data.draw(st.sampled_from(_key_paths(doc)))
    _set(doc, path, data.draw(VALUES))
    try:
        net = parse_network(doc, Path("net.toml"))
    except AccelsimError:
        return
    shape = (1, 3, *net.input_shape) if net.sequence else (1, *net.input_shape)
    sizes = [math.prod(out) for _, _, out in net.layer_shapes(3)]
    if max(sizes) <= 10**6 and net.num_params <= 10**6:
        with np.errstate(all="ignore"):
            try:
                out = net.forward(np.zeros(shape, np.float32))
            except AccelsimError:
                return
        assert np.isfinite(out).all()


@pytest.mark.parametrize(("key", "value", "message"), [
    ("type", ["linear"], r"unknown layer type \['linear'\]"),
    ("type", {"a": 1}, "unknown layer type"),
    ("name", ["fc1"], r"name = \['fc1'\] must be a non-empty string"),
    ("name", "", "name = '' must be a non-empty string"),
])
def test_a_layers_type_and_name_must_be_strings(key, value, message) -> None:
    doc = copy.deepcopy(BASES["lenet5"])
    doc.pop("weights", None)
    doc["layers"][0][key] = value
    with pytest.raises(ModelFileError, match=message):
        parse_network(doc, Path("net.toml"))
