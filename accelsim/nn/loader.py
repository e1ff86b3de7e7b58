"""Networks as data: TOML layer lists in, validated `Network` objects out; weights as npz.

A network file holds `name`, `input_shape`, an optional `description`, `sequence` (true for
(time, features) inputs) with a default `seq_len`, an optional `weights` file (relative to the
TOML), a `[[layers]]` array (each with `type`, optional `name` and its fields) and an optional
`[training]` table. Every error names the file, the layer and the value.
"""

from __future__ import annotations

import importlib.resources
import json
import tomllib
from pathlib import Path
from typing import Any

import numpy as np

from accelsim.errors import ModelFileError
from accelsim.nn.conv import AvgPool2d, Conv2d, MaxPool2d
from accelsim.nn.dense import Flatten, Linear, ReLU, Sigmoid, Softmax, Tanh
from accelsim.nn.layers import Layer, LayerSpecError, Params, Shape
from accelsim.nn.network import Network
from accelsim.nn.recurrent import LSTM, RNN

LAYER_TYPES: dict[str, type[Layer]] = {
    cls.type_name: cls
    for cls in (Conv2d, MaxPool2d, AvgPool2d, ReLU, Sigmoid, Tanh, Linear, Flatten, RNN, LSTM,
                Softmax)
}
TOP_LEVEL_KEYS = {"name", "description", "input_shape", "sequence", "seq_len", "weights",
                  "layers", "training"}
WeightsChoice = str | Path


def models_dir() -> Path:
    """The folder of bundled network files (the package `accelsim.models`)."""
    return Path(str(importlib.resources.files("accelsim.models")))


def available_networks() -> list[str]:
    """Names of the bundled networks."""
    return sorted(p.stem for p in models_dir().glob("*.toml"))


def resolve_model_path(name_or_path: str | Path) -> Path:
    """A bundled network name ('lenet5') or a path to a TOML file."""
    text = str(name_or_path)
    candidate = Path(text).expanduser()
    if text.endswith(".toml") or candidate.parent != Path(".") or candidate.is_file():
        if not candidate.is_file():
            raise ModelFileError(f"network file {text!r} does not exist")
        return candidate
    bundled = models_dir() / f"{text}.toml"
    if not bundled.is_file():
        raise ModelFileError(
            f"unknown network {text!r}; bundled networks: {', '.join(available_networks())} "
            "(or give a path to a .toml file)"
        )
    return bundled


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as err:
        raise ModelFileError(f"{path}: not valid TOML: {err}") from None


def load_network(name_or_path: str | Path, *, weights: WeightsChoice = "trained", seed: int = 0,
                 overrides: dict[str, Any] | None = None) -> Network:
    """Load a network; weights: 'trained' (the file the TOML names), 'init' or an npz path."""
    path = resolve_model_path(name_or_path)
    doc = read_toml(path)
    _check_tables(doc, path)
    doc = apply_overrides(doc, overrides or {}, path)
    net = parse_network(doc, path, seed)
    if weights == "init":
        return net
    if not isinstance(weights, str | Path):
        raise ModelFileError(f"weights = {weights!r}; use 'trained', 'init' or a path to an "
                             ".npz file")
    if weights == "trained":
        if "weights" not in doc:
            return net
        weights_path = path.parent / str(doc["weights"])
        if not weights_path.is_file():
            raise ModelFileError(
                f"{path}: weights file {weights_path} is missing; train it with "
                f"`accelsim train {path.stem}` or load with weights='init'"
            )
    else:
        weights_path = Path(weights)
    return net.with_params(read_weights(weights_path, net), weights_path=weights_path,
                           trained=True)


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
    name = str(fields.pop("name", f"{kind}{index}"))
    where = f"{path}: layer {index} ({name!r}, type {kind!r})"
    if kind not in LAYER_TYPES:
        raise ModelFileError(f"{where}: unknown layer type {kind!r}; known types: "
                             f"{', '.join(sorted(LAYER_TYPES))}")
    cls = LAYER_TYPES[kind]
    stack = fields.pop("num_layers", 1) if kind in ("rnn", "lstm") else 1
    if isinstance(stack, bool) or not isinstance(stack, int) or stack < 1:
        raise ModelFileError(f"{where}: num_layers = {stack!r} must be a positive integer")
    try:
        if stack == 1:
            return [cls.from_fields(name, fields)]
        inner = {**fields, "return_sequences": True}
        return [cls.from_fields(f"{name}_{i}", fields if i == stack - 1 else inner)
                for i in range(stack)]
    except LayerSpecError as err:
        raise ModelFileError(f"{where}: {err}") from None


def parse_network(doc: dict[str, Any], path: Path, seed: int = 0) -> Network:
    """Validate a parsed TOML document and build the network with freshly initialised weights."""
    _check_top_level(doc, path)
    layers: list[Layer] = []
    for index, table in enumerate(doc["layers"]):
        layers.extend(_layer_from_table(table, index, path))
    names = [layer.name for layer in layers]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ModelFileError(f"{path}: duplicate layer name(s) {', '.join(duplicates)}")
    sequence = doc.get("sequence", False)
    net = Network(name=str(doc["name"]), layers=tuple(layers),
                  input_shape=tuple(doc["input_shape"]), params={}, sequence=sequence,
                  seq_len=doc.get("seq_len") if sequence else None,
                  description=str(doc.get("description", "")).strip(),
                  training=doc.get("training", {}), source=path)
    return net.with_params(init_params(net, path, seed))


def init_params(net: Network, path: Path, seed: int) -> dict[str, Params]:
    """Check every layer's shape and draw initial parameters from one seeded generator."""
    rng = np.random.default_rng(seed)
    params: dict[str, Params] = {}
    shape: Shape = net.sample_shape()
    for index, layer in enumerate(net.layers):
        try:
            out = layer.output_shape(shape)
        except LayerSpecError as err:
            raise ModelFileError(f"{path}: layer {index} ({layer.name!r}, type "
                                 f"{layer.type_name!r}): {err}") from None
        layer_params = layer.init_params(shape, rng)
        if layer_params:
            params[layer.name] = layer_params
        shape = out
    return params


def expected_shapes(net: Network) -> dict[str, Shape]:
    """'layer.param' → shape for every parameter the network needs."""
    out = {}
    for layer, in_shape, _ in net.layer_shapes():
        for pname, pshape in layer.param_shapes(in_shape).items():
            out[f"{layer.name}.{pname}"] = pshape
    return out


def read_weights(path: Path, net: Network) -> dict[str, Params]:
    """Read 'layer.param' arrays from an npz file, checking names and shapes exactly."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files if k != "__meta__"}
    except (OSError, ValueError) as err:
        raise ModelFileError(f"{path}: cannot read weights: {err}") from None
    expected = expected_shapes(net)
    for key, shape in expected.items():
        if key not in arrays:
            layer = key.rsplit(".", 1)[0]
            raise ModelFileError(f"{path}: missing weights for layer {layer!r}: no array "
                                 f"{key!r} (expected shape {shape}); retrain the network")
        if arrays[key].shape != shape:
            raise ModelFileError(f"{path}: {key!r} has shape {arrays[key].shape}, the network "
                                 f"{net.name!r} needs {shape}")
    extra = sorted(set(arrays) - set(expected))
    if extra:
        raise ModelFileError(f"{path}: arrays {', '.join(extra)} match no layer of "
                             f"{net.name!r}; is this the right weights file?")
    params: dict[str, Params] = {}
    for key, array in arrays.items():
        layer, pname = key.rsplit(".", 1)
        params.setdefault(layer, {})[pname] = array.astype(np.float32)
    return params


def read_weights_meta(path: Path) -> dict[str, Any]:
    """The training record stored beside the arrays (empty when absent)."""
    with np.load(path, allow_pickle=False) as archive:
        if "__meta__" not in archive.files:
            return {}
        return json.loads(str(archive["__meta__"]))


def write_weights(path: Path, net: Network, meta: dict[str, Any]) -> None:
    """Write weights atomically: a temporary file renamed over the target."""
    arrays = {f"{layer}.{pname}": a for layer, p in net.params.items() for pname, a in p.items()}
    arrays["__meta__"] = np.array(json.dumps(meta, sort_keys=True))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(path)
