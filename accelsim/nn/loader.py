"""Networks as data: TOML layer lists in, validated `Network` objects out; weights as npz.

A network file holds `name`, `input_shape`, an optional `description`, `sequence` (true for
(time, features) inputs) with a default `seq_len`, an optional `weights` file (relative to the
TOML), a `[[layers]]` array (each with `type`, optional `name` and its fields) and an optional
`[training]` table. Every error names the file, the layer and the value.

Weights come trained (the npz the TOML names), freshly drawn ('init'), or not at all
('none': layers and shapes only, for lowering and timing networks of any size). Allocating
weights past `accelsim.nn.weights.init_limit_bytes()` is refused with the largest layer named.

A path ending in `.onnx` is imported (`accelsim.nn.onnx_import`, the optional extra [onnx]):
'trained' is the file's own weights.
"""

from __future__ import annotations

import importlib.resources
import math
import os
import tomllib
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from accelsim.errors import ModelFileError
from accelsim.files import utf8_text
from accelsim.nn.conv import AvgPool2d, Conv2d, MaxPool2d
from accelsim.nn.dense import Flatten, Linear, ReLU, Sigmoid, Softmax, Tanh
from accelsim.nn.layers import INPUT, Layer, LayerSpecError, Params, Shape
from accelsim.nn.merge import Add, Concat
from accelsim.nn.network import Network
from accelsim.nn.norm import BatchNorm2d, Clip, GlobalAvgPool2d, ReLU6
from accelsim.nn.onnx_import import import_onnx
from accelsim.nn.recurrent import GRU, LSTM, RNN
from accelsim.nn.weights import check_weight_memory, read_weights
from accelsim.nn.weights import expected_shapes as expected_shapes
from accelsim.nn.weights import read_weights_meta as read_weights_meta
from accelsim.nn.weights import write_weights as write_weights

LAYER_TYPES: dict[str, type[Layer]] = {
    cls.type_name: cls
    for cls in (Conv2d, MaxPool2d, AvgPool2d, GlobalAvgPool2d, BatchNorm2d, ReLU, ReLU6, Clip,
                Sigmoid, Tanh, Linear, Flatten, Add, Concat, RNN, LSTM, GRU, Softmax)
}
TOP_LEVEL_KEYS = {"name", "description", "input_shape", "sequence", "seq_len", "weights",
                  "layers", "training"}
WeightsChoice = str | Path
WEIGHT_MODES = ("trained", "init", "none")
MAX_SEED = 2**63 - 1
MAX_LAYERS = 10_000  # layers of one network, stacked recurrent layers counted one by one
MAX_ELEMENTS = 2**48  # values per sample or parameters per layer: sizes × batch stay in int64


def models_dir() -> Path:
    """The folder of bundled network files (the package `accelsim.models`)."""
    return Path(str(importlib.resources.files("accelsim.models")))


def available_networks() -> list[str]:
    """Names of the bundled networks."""
    return sorted(p.stem for p in models_dir().glob("*.toml"))


def _is_file(path: Path) -> bool:
    """Path.is_file that answers False for unusable names (too long, NUL bytes)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def resolve_model_path(name_or_path: str | Path) -> Path:
    """A bundled network name ('lenet5') or a path to a TOML (or ONNX) file."""
    if not isinstance(name_or_path, str | Path) or not str(name_or_path).strip():
        raise ModelFileError(f"network = {name_or_path!r}; give a bundled network name "
                             f"({', '.join(available_networks())}) or a path to a .toml file")
    text = str(name_or_path)
    shown = text if len(text) <= 120 else f"{text[:117]}..."
    candidate = Path(text).expanduser()
    named_file = text.lower().endswith((".toml", ".onnx"))
    if named_file or candidate.parent != Path(".") or _is_file(candidate):
        if _is_dir(candidate):
            raise ModelFileError(f"network file {shown!r} is a directory; give the path of a "
                                 ".toml file inside it")
        if not _is_file(candidate):
            state = "is not a regular file" if os.path.lexists(candidate) else "does not exist"
            raise ModelFileError(f"network file {shown!r} {state}")
        return candidate
    bundled = models_dir() / f"{text}.toml"
    if not _is_file(bundled):
        raise ModelFileError(
            f"unknown network {shown!r}; bundled networks: {', '.join(available_networks())} "
            "(or give a path to a .toml file)"
        )
    return bundled


def read_toml(path: Path) -> dict[str, Any]:
    """A network file's contents; unreadable, non-UTF-8, empty or invalid files name the file."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise ModelFileError(f"{path}: cannot read the network file: "
                             f"{err.strerror or err}") from None
    text = utf8_text(raw, path, ModelFileError, "network files are TOML text",
                     "the file is empty; a network file needs name, input_shape and [[layers]]",
                     kind="a UTF-8 text file")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ModelFileError(f"{path}: not valid TOML: {err}") from None
    except RecursionError:
        raise ModelFileError(f"{path}: not usable TOML: values nested too deeply") from None


def load_network(name_or_path: str | Path, *, weights: WeightsChoice = "trained", seed: int = 0,
                 overrides: dict[str, Any] | None = None) -> Network:
    """Load a network. weights: 'trained' (the file the TOML names; freshly drawn when it
    names none), 'init' (freshly drawn from `seed`), 'none' (layers and shapes only, no
    parameter arrays: enough to lower and time it, whatever its size) or an npz path.

    Allocating weights is refused above `init_limit_bytes()`; time such networks with 'none'.
    """
    if not isinstance(weights, str | Path) or (isinstance(weights, str) and not weights):
        raise ModelFileError(f"weights = {weights!r}; use {', '.join(map(repr, WEIGHT_MODES))}"
                             " or a path to an .npz file")
    check_seed(seed)
    if overrides is not None and (not isinstance(overrides, Mapping) or not all(
            isinstance(key, str) and key for key in overrides)):
        raise ModelFileError(f"overrides = {overrides!r:.80} must be a dict of 'layer.field' "
                             "(or top-level key) names to values, e.g. {'fc1.out_features': 64}")
    path = resolve_model_path(name_or_path)
    if path.suffix.lower() == ".onnx":
        return _load_onnx(path, weights, seed, overrides)
    doc = read_toml(path)
    _check_tables(doc, path)
    doc = apply_overrides(doc, overrides or {}, path)
    net = build_network(doc, path)
    if weights == "none":
        return net
    if weights == "init" or (weights == "trained" and "weights" not in doc):
        return net.with_params(init_params(net, path, seed))
    weights_path = _weights_path(weights, doc, path)
    return net.with_params(read_weights(weights_path, net), weights_path=weights_path,
                           trained=True)


def _load_onnx(path: Path, weights: WeightsChoice, seed: int,
               overrides: dict[str, Any] | None) -> Network:
    """An ONNX model (the optional extra [onnx]): its own weights ('trained'), fresh ones
    ('init'), none, or an npz written by `accelsim import`."""
    if overrides:
        raise ModelFileError(f"{path}: overrides apply to TOML network files; import the "
                             "model with `accelsim import` and edit the TOML it writes")
    net = import_onnx(path)
    if weights == "trained":
        return net
    if weights == "none":
        return net.with_params({}, trained=False)
    if weights == "init":
        return net.with_params(init_params(net, path, seed), trained=False)
    weights_path = _weights_path(weights, {}, path)
    return net.with_params(read_weights(weights_path, net), weights_path=weights_path)


def check_seed(seed: object) -> int:
    """A seed for numpy's generators: an integer 0 ≤ seed < 2^63."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not (
            0 <= seed <= MAX_SEED):
        raise ModelFileError(f"seed = {seed!r} must be an integer from 0 to {MAX_SEED}")
    return int(seed)


def _weights_path(weights: str | Path, doc: dict[str, Any], path: Path) -> Path:
    if weights != "trained":
        weights_path = Path(weights).expanduser()
        if not _is_file(weights_path):
            state = "is a directory" if _is_dir(weights_path) else "does not exist"
            raise ModelFileError(f"weights = {str(weights)!r}: the file {state}; use "
                                 f"{', '.join(map(repr, WEIGHT_MODES))} or a path to an .npz "
                                 "file")
        return weights_path
    if not isinstance(doc["weights"], str) or not doc["weights"]:
        raise ModelFileError(f"{path}: weights = {doc['weights']!r} must be the name of an "
                             ".npz file beside the network file")
    weights_path = path.parent / doc["weights"]
    if not _is_file(weights_path):
        raise ModelFileError(
            f"{path}: weights file {weights_path} is missing; train it with "
            f"`accelsim train {path} --out-dir {path.parent}` or load with weights='init'"
        )
    return weights_path


def apply_overrides(doc: dict[str, Any], overrides: dict[str, Any], path: Path) -> dict[str, Any]:
    """Set 'layer.field', 'training.key' or top-level keys before validation."""
    doc = {**doc, "layers": [dict(t) for t in doc.get("layers", [])],
           "training": dict(doc.get("training", {}))}
    for key, value in overrides.items():
        head, _, tail = key.partition(".")
        if not tail:
            doc[head] = value
            continue
        tables = [t for t in doc["layers"] if t.get("name") == head]
        if head == "training":
            tables = [doc["training"]]
        if not tables:
            names = ", ".join(str(t.get("name")) for t in doc["layers"])
            raise ModelFileError(f"{path}: override {key!r} names no layer; layers are {names}")
        tables[0][tail] = value
    return doc


def _check_tables(doc: dict[str, Any], path: Path) -> None:
    """'layers' must be an array of tables and 'training' a table (before overrides apply)."""
    layers = doc.get("layers", [])
    if not isinstance(layers, list) or not all(isinstance(t, dict) for t in layers):
        raise ModelFileError(f"{path}: 'layers' must be an array of [[layers]] tables, got "
                             f"{layers!r}")
    if not isinstance(doc.get("training", {}), dict):
        raise ModelFileError(f"{path}: 'training' must be a [training] table, got "
                             f"{doc['training']!r}")


def _check_top_level(doc: dict[str, Any], path: Path) -> None:
    unknown = sorted(set(doc) - TOP_LEVEL_KEYS)
    if unknown:
        raise ModelFileError(f"{path}: unknown key(s) {', '.join(unknown)}; allowed: "
                             f"{', '.join(sorted(TOP_LEVEL_KEYS))}")
    for key in ("name", "input_shape", "layers"):
        if key not in doc:
            raise ModelFileError(f"{path}: missing required key {key!r}")
    if not isinstance(doc["name"], str) or not doc["name"]:
        raise ModelFileError(f"{path}: name = {doc['name']!r} must be a non-empty string")
    if not isinstance(doc.get("sequence", False), bool):
        raise ModelFileError(f"{path}: sequence = {doc['sequence']!r} must be true or false")
    for key in ("description", "weights"):
        if key in doc and not isinstance(doc[key], str):
            raise ModelFileError(f"{path}: {key} = {doc[key]!r} must be a string"
                                 + (", the npz file's name" if key == "weights" else ""))
    shape = doc["input_shape"]
    valid = isinstance(shape, list) and shape and all(
        isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in shape)
    if not valid:
        raise ModelFileError(f"{path}: input_shape = {shape!r} must be a list of positive "
                             "integers, e.g. [1, 32, 32]")
    seq_len = doc.get("seq_len", 1)
    if not isinstance(seq_len, int) or isinstance(seq_len, bool) or seq_len < 1:
        raise ModelFileError(f"{path}: seq_len = {seq_len!r} must be a positive integer")
    _check_tables(doc, path)
    if not doc["layers"]:
        raise ModelFileError(f"{path}: 'layers' must be a non-empty array of [[layers]] tables")


def _layer_from_table(table: dict[str, Any], index: int, path: Path) -> list[Layer]:
    """One TOML table → one layer, or several for a recurrent layer with num_layers > 1."""
    fields = dict(table)
    kind = fields.pop("type", None)
    name = fields.pop("name", f"{kind}{index}")
    where = f"{path}: layer {index} ({name!r}, type {kind!r})"
    if not isinstance(name, str) or not name:
        raise ModelFileError(f"{where}: name = {name!r} must be a non-empty string")
    if not isinstance(kind, str) or kind not in LAYER_TYPES:
        raise ModelFileError(f"{where}: unknown layer type {kind!r}; known types: "
                             f"{', '.join(sorted(LAYER_TYPES))}")
    cls = LAYER_TYPES[kind]
    stack = fields.pop("num_layers", 1) if kind in ("rnn", "lstm", "gru") else 1
    if isinstance(stack, bool) or not isinstance(stack, int) or not 1 <= stack <= MAX_LAYERS:
        raise ModelFileError(f"{where}: num_layers = {stack!r} must be an integer from 1 to "
                             f"{MAX_LAYERS:,}")
    try:
        if stack == 1:
            return [cls.from_fields(name, fields)]
        first, later = dict(fields), {k: v for k, v in fields.items() if k != "inputs"}
        layer_fields = [first if i == 0 else later for i in range(stack)]
        return [cls.from_fields(f"{name}_{i}", {**table_fields, "return_sequences": True}
                                if i < stack - 1 else table_fields)
                for i, table_fields in enumerate(layer_fields)]
    except LayerSpecError as err:
        raise ModelFileError(f"{where}: {err}") from None


def parse_network(doc: dict[str, Any], path: Path, seed: int = 0) -> Network:
    """Validate a parsed TOML document and build the network with freshly initialised weights."""
    net = build_network(doc, path)
    return net.with_params(init_params(net, path, check_seed(seed)))


def build_network(doc: dict[str, Any], path: Path) -> Network:
    """Validate a parsed TOML document: layers and every shape checked, no parameter arrays."""
    _check_top_level(doc, path)
    layers: list[Layer] = []
    for index, table in enumerate(doc["layers"]):
        layers.extend(_layer_from_table(table, index, path))
        if len(layers) > MAX_LAYERS:
            raise ModelFileError(f"{path}: more than {MAX_LAYERS:,} layers (num_layers "
                                 "included); accelsim runs networks of at most that many")
    counts = Counter(layer.name for layer in layers)
    duplicates = sorted(name for name, count in counts.items() if count > 1)
    if duplicates:
        raise ModelFileError(f"{path}: duplicate layer name(s) {', '.join(duplicates[:5])}")
    if INPUT in counts:
        raise ModelFileError(f"{path}: a layer is named {INPUT!r}, the name inputs give the "
                             "network's input; rename it")
    sequence = doc.get("sequence", False)
    net = Network(name=str(doc["name"]), layers=tuple(layers),
                  input_shape=tuple(doc["input_shape"]), params={}, sequence=sequence,
                  seq_len=doc.get("seq_len") if sequence else None,
                  description=str(doc.get("description", "")).strip(),
                  training=doc.get("training", {}), source=path)
    check_shapes(net, path)
    return net


def _where(path: Path, index: int, layer: Layer) -> str:
    return f"{path}: layer {index} ({layer.name!r}, type {layer.type_name!r})"


def check_graph(net: Network, path: Path) -> None:
    """Every layer reads layers above it (or the input), as many as it takes: the file's
    order is an order the graph runs in, so it has no cycle."""
    seen = {INPUT}
    for index, (layer, sources) in enumerate(zip(net.layers, net.sources, strict=True)):
        unknown = [name for name in sources if name not in seen]
        if unknown:
            hint = " (itself)" if unknown[0] == layer.name else \
                " (a layer below it: a layer reads only layers above it)" \
                if unknown[0] in {other.name for other in net.layers} else ""
            raise ModelFileError(f"{_where(path, index, layer)}: inputs names {unknown[0]!r}"
                                 f"{hint}, which is not the input or a layer above it; "
                                 f"choose from {', '.join(sorted(seen))}")
        if layer.arity is None and len(sources) < 2:
            raise ModelFileError(f"{_where(path, index, layer)}: reads {len(sources)} "
                                 "tensor(s); it merges two or more: name them, e.g. inputs "
                                 '= ["branch", "shortcut"]')
        if layer.arity is not None and len(sources) != layer.arity:
            raise ModelFileError(f"{_where(path, index, layer)}: reads {len(sources)} tensors "
                                 f"({', '.join(sources)}); a {layer.type_name} layer reads "
                                 f"{layer.arity}")
        seen.add(layer.name)


def check_shapes(net: Network, path: Path) -> None:
    """Every layer accepts its input shape, and every count (values per sample, parameters
    per layer) fits MAX_ELEMENTS; the error names the file and the layer."""
    sample: Shape = net.sample_shape()
    if math.prod(sample) > MAX_ELEMENTS:
        raise ModelFileError(f"{path}: an input sample of shape {sample} holds "
                             f"{math.prod(sample):,} values, over the limit of "
                             f"{MAX_ELEMENTS:,} (2^48); use a smaller input_shape or seq_len")
    check_graph(net, path)
    shapes = {INPUT: sample}
    for index, (layer, sources) in enumerate(zip(net.layers, net.sources, strict=True)):
        ins = tuple(shapes[name] for name in sources)
        try:
            params = sum(math.prod(s) for s in layer.param_shapes_of(ins).values())
            shape = shapes[layer.name] = layer.output_shape_of(ins)
        except LayerSpecError as err:
            raise ModelFileError(f"{_where(path, index, layer)}: {err}") from None
        for what, count in (("parameters", params), ("output values per sample",
                                                      math.prod(shape))):
            if count > MAX_ELEMENTS:
                raise ModelFileError(f"{_where(path, index, layer)}: {count:,} {what}, over "
                                     f"the limit of {MAX_ELEMENTS:,} (2^48); make the layer "
                                     "smaller")


def init_params(net: Network, path: Path, seed: int) -> dict[str, Params]:
    """Draw initial parameters from one seeded generator (refused over the memory limit)."""
    check_shapes(net, path)
    check_weight_memory(net, str(path))
    rng = np.random.default_rng(seed)
    params: dict[str, Params] = {}
    for layer, ins, _ in net.layer_io():
        layer_params = layer.init_params_of(ins, rng)
        if layer_params:
            params[layer.name] = layer_params
    return params


