"""ONNX models in: `import_onnx("model.onnx")` → a Network with the file's weights.

Needs the optional extra (`pip install 'accelsim[onnx]'`); onnx is imported here, inside
functions, so `import accelsim` never imports it. What is read:

- one graph input, batch first: (N, C, H, W) maps, (N, F) features, or (N, T, F) sequences
  when the graph holds an RNN, LSTM or GRU. Only the batch (and a sequence's time) may be
  open (a dim_param); the sequence length defaults to the file's time size, or 1 when the
  file leaves it open (pass `seq_len`); one graph output.
- the default-domain opsets 13 to 21 and the operators of `onnx_ops` and `onnx_recurrent`;
  any other operator is refused, naming the node and listing the supported ones.
- nodes in any order (sorted; a cycle is an error); nodes nothing reads are dropped.
- initializers of float, integer or bool type, stored in the file or in external data files
  beside it (PyTorch's dynamo exporter writes `model.onnx.data`): a location must name a
  file in the model's own folder, and its offset and length must lie inside that file;
  weights must be finite in float32; sizes past 2^48 values, or weights over
  `accelsim.nn.weights.init_limit_bytes()`, are refused.

Every failure is a `ModelFileError` (or `MemoryLimitError`) naming the file; an error in a
node names the node and its op type.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from accelsim.errors import AccelsimError, MemoryLimitError, ModelFileError
from accelsim.nn.layers import INPUT
from accelsim.nn.network import Network
from accelsim.nn.onnx_builder import MAX_CONST_ELEMENTS, MAX_ELEMENTS, Builder, Node, sanitize
from accelsim.nn.onnx_ops import CONVERTERS, FOLDABLE, Const
from accelsim.nn.onnx_recurrent import GATES, convert_recurrent
from accelsim.nn.onnx_values import View
from accelsim.nn.weights import bytes_text, check_weight_memory, init_limit_bytes

OPSETS = range(13, 22)
DOMAINS = ("", "ai.onnx")
SUPPORTED = sorted({*CONVERTERS, *GATES, "Constant"})
"""Operators imported on tensors; FOLDABLE ones besides are evaluated on constants."""
FLOAT_INPUTS = {1, 10, 11, 16}  # float, float16, double, bfloat16
INSTALL = "pip install 'accelsim[onnx]'"


def onnx_module() -> ModuleType:
    """The onnx package, or the error saying how to install it."""
    try:
        import onnx
        import onnx.numpy_helper
        import onnx.reference
    except ImportError:
        raise ModelFileError(f"reading ONNX models needs the onnx package: {INSTALL}") from None
    return onnx


def import_onnx(path: str | Path, *, seq_len: int | None = None) -> Network:
    """The network an ONNX file describes, with its weights (see the module)."""
    onnx = onnx_module()
    path = Path(path).expanduser()
    model = read_model(onnx, path)
    try:
        return _import(onnx, model, path, seq_len)
    except AccelsimError:
        raise
    except (TypeError, ValueError, IndexError, KeyError, AttributeError) as err:
        # fields of a corrupt file that protobuf accepted (bytes for names, odd types)
        raise ModelFileError(f"{path}: malformed ONNX model ({type(err).__name__}: "
                             f"{str(err)[:200]}); export the model again") from None


def _import(onnx: ModuleType, model: Any, path: Path, seq_len: int | None) -> Network:
    """import_onnx on a parsed model."""
    opset = _check_opset(model, path)
    graph = model.graph
    inits = _initializers(onnx, graph, path)
    nodes = _nodes(onnx, graph, path, inits)
    input_name, dims, sequence = _graph_input(graph, path, inits, nodes)
    output_name = _graph_output(graph, path)
    readers = Counter(name for node in nodes for name in node.inputs if name)
    readers[output_name] += 1
    b = Builder(str(path), readers)
    b.values.update({name: Const(array) for name, array in inits.items()})
    steps = _seq_len(dims, sequence, seq_len, path)
    b.tensors[INPUT] = b.input_tensor(dims, sequence)
    fixed = [int(d or 1) for d in dims]
    b.shapes[INPUT] = (steps, *fixed[2:]) if sequence else tuple(fixed[1:])
    if math.prod(b.shapes[INPUT]) > MAX_ELEMENTS:
        raise ModelFileError(f"{path}: an input sample of shape {b.shapes[INPUT]} holds "
                             f"over {MAX_ELEMENTS:,} (2^48) values")
    b.values[input_name] = b.canonical(INPUT)
    for node in nodes:
        _convert(onnx, b, node)
    b.node = None
    last = _output_layer(b, output_name)
    name = sanitize(path.stem, "") or sanitize(graph.name, "onnx-model")
    net = Network(name=name, layers=tuple(b.layers), input_shape=b.shapes[INPUT][
        1 if sequence else 0:], params=b.params, sequence=sequence,
        seq_len=steps if sequence else None, source=path, trained=True,
        description=f"Imported from the ONNX file {path.name} (opset {opset}, made by "
                    f"{model.producer_name or 'an unnamed tool'}); output of {last!r}.")
    check_weight_memory(net, str(path))
    return net


def read_model(onnx: ModuleType, path: Path) -> Any:
    """The parsed ModelProto; a missing, empty, unreadable or non-ONNX file names the file."""
    try:
        if path.is_dir():
            raise ModelFileError(f"ONNX file {path} is a directory; give the .onnx file")
        raw = path.read_bytes()
    except OSError as err:
        raise ModelFileError(f"{path}: cannot read the ONNX file: {err.strerror or err}") \
            from None
    if not raw:
        raise ModelFileError(f"{path}: the file is empty; export the model again")
    model = onnx.ModelProto()
    try:
        model.ParseFromString(raw)
    except Exception as err:  # protobuf's DecodeError and its relatives
        raise ModelFileError(f"{path}: not a readable ONNX model ({type(err).__name__}: "
                             f"{str(err)[:200]}); the file is truncated, corrupt or not "
                             "ONNX; export the model again") from None
    if model.ir_version <= 0 or not model.HasField("graph") or not model.graph.node:
        raise ModelFileError(f"{path}: holds no ONNX graph (ir_version {model.ir_version}, "
                             f"{len(model.graph.node)} nodes); the file is truncated, corrupt "
                             "or not an ONNX model")
    return model


def _check_opset(model: Any, path: Path) -> int:
    versions = [o.version for o in model.opset_import if o.domain in DOMAINS]
    if not versions:
        raise ModelFileError(f"{path}: imports no default-domain opset; accelsim reads opsets "
                             f"{OPSETS.start} to {OPSETS.stop - 1}")
    if versions[0] not in OPSETS:
        raise ModelFileError(f"{path}: opset {versions[0]}; accelsim reads opsets "
                             f"{OPSETS.start} to {OPSETS.stop - 1}: convert the model with "
                             "onnx.version_converter or export it with such an opset")
    return int(versions[0])


def _initializers(onnx: ModuleType, graph: Any, path: Path) -> dict[str, np.ndarray]:
    """Initializers as arrays, sizes and storage checked before any data is read."""
    if graph.sparse_initializer:
        raise ModelFileError(f"{path}: holds sparse initializers, which accelsim does not read")
    total, out = 0, {}
    for tensor in graph.initializer:
        out[tensor.name] = tensor_array(onnx, tensor, f"{path}: initializer {tensor.name!r}",
                                        path.parent)
        total += out[tensor.name].size
    if 4 * total > init_limit_bytes():
        raise MemoryLimitError(f"{path}: the initializers hold {total:,} values "
                               f"({bytes_text(4 * total)} as float32), over the "
                               f"{bytes_text(init_limit_bytes())} limit")
    return out


def tensor_array(onnx: ModuleType, tensor: Any, where: str,
                 folder: Path | None = None) -> np.ndarray:
    """A TensorProto as an array: stored in the file (or, for an initializer, in an external
    data file in `folder`), of a sensible size and a numeric type."""
    external = tensor.data_location == onnx.TensorProto.EXTERNAL or bool(tensor.external_data)
    if external and folder is None:
        raise ModelFileError(f"{where} is stored in an external data file; save the model "
                             "with its weights inside (onnx.save(model, path, "
                             "save_as_external_data=False))")
    dims = list(tensor.dims)
    if any(d < 0 for d in dims) or math.prod(dims) > MAX_CONST_ELEMENTS:
        raise ModelFileError(f"{where} has shape {dims}; accelsim reads constants of at most "
                             f"{MAX_CONST_ELEMENTS:,} values")
    if tensor.data_type in (onnx.TensorProto.STRING, onnx.TensorProto.UNDEFINED):
        raise ModelFileError(f"{where} holds strings or no type; weights must be numbers")
    if external:
        assert folder is not None  # refused above
        return _external_array(onnx, tensor, where, folder)
    try:
        array = onnx.numpy_helper.to_array(tensor)
    except Exception as err:  # a payload that does not fit its shape, an unknown type
        raise ModelFileError(f"{where} cannot be read ({type(err).__name__}: "
                             f"{str(err)[:200]}); the file is corrupt") from None
    if array.dtype.kind not in "fiub":
        raise ModelFileError(f"{where} has dtype {array.dtype}; weights must be real numbers")
    return np.asarray(array)


def _external_array(onnx: ModuleType, tensor: Any, where: str, folder: Path) -> np.ndarray:
    """An initializer's values from its external data file: `location` a file in the model's
    folder (no absolute path, no way out of it), `offset` and `length` inside the file, the
    length the tensor's own size; read little-endian as ONNX stores them."""
    fields = {entry.key: entry.value for entry in tensor.external_data}
    location = fields.get("location", "")
    target = (folder / location).resolve()
    if not location or Path(location).is_absolute() or ".." in Path(location).parts \
            or target.parent != folder.resolve():
        raise ModelFileError(f"{where} names the external data file {location!r}; accelsim "
                             "reads external data only from a file beside the model")
    try:
        dtype = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type))
        offset, size = int(fields.get("offset", 0)), target.stat().st_size
    except (KeyError, TypeError, ValueError) as err:
        raise ModelFileError(f"{where}: unreadable external data fields ({err}); the file is "
                             "corrupt") from None
    except OSError as err:
        raise ModelFileError(f"{where} is stored in {location!r}, which cannot be read "
                             f"({err.strerror or err}); keep the data file beside the model"
                             ) from None
    if dtype.kind not in "fiub":
        raise ModelFileError(f"{where} has dtype {dtype}; weights must be real numbers")
    expected = math.prod(tensor.dims) * dtype.itemsize
    length = int(fields.get("length", expected))
    if offset < 0 or length != expected or offset + length > size:
        raise ModelFileError(f"{where}: external data at offset {offset} of length {length} "
                             f"does not hold its {expected:,} bytes inside {location!r} "
                             f"({size:,} bytes); the data file is truncated or not this "
                             "model's")
    with target.open("rb") as data:
        data.seek(offset)
        raw = data.read(length)
    return np.frombuffer(raw, dtype.newbyteorder("<")).astype(dtype).reshape(tuple(tensor.dims))


def _attrs(onnx: ModuleType, node: Any, where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for attribute in node.attribute:
        if attribute.type == onnx.AttributeProto.TENSOR:
            out[attribute.name] = tensor_array(onnx, attribute.t, f"{where} attribute "
                                               f"{attribute.name!r}")
            continue
        if attribute.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS):
            raise ModelFileError(f"{where}: holds a subgraph ({attribute.name}); accelsim "
                                 "imports no control flow")
        value = onnx.helper.get_attribute_value(attribute)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        elif isinstance(value, list):
            value = [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in value]
        out[attribute.name] = value
    return out


def _nodes(onnx: ModuleType, graph: Any, path: Path, inits: dict[str, np.ndarray]) -> list[Node]:
    """The nodes the output needs, in an order they can run in, each op supported."""
    order = _sorted(graph, path)
    needed = {o.name for o in graph.output}
    kept = []
    for node in reversed(order):
        if any(name in needed for name in node.output):
            kept.append(node)
            needed.update(name for name in node.input if name)
    kept.reverse()
    known = {*SUPPORTED, *FOLDABLE}
    unsupported = [n for n in kept if n.op_type not in known or n.domain not in DOMAINS]
    if unsupported:
        first = unsupported[0]
        others = sorted({str(n.op_type) for n in unsupported[1:]} - {str(first.op_type)})
        more = f" (also unsupported here: {', '.join(others)})" if others else ""
        domain = f" of domain {first.domain!r}" if first.domain not in DOMAINS else ""
        raise ModelFileError(f"{path}: node {first.name!r} has op type {first.op_type!r}"
                             f"{domain}, which accelsim cannot import{more}; supported: "
                             f"{', '.join(SUPPORTED)}")
    out = []
    for index, node in enumerate(kept):
        name = node.name or f"{node.op_type}_{index}"
        out.append(Node(node.op_type, name, list(node.input), list(node.output),
                        _attrs(onnx, node, f"{path}: node {name!r} ({node.op_type})")))
    return out


def _sorted(graph: Any, path: Path) -> list[Any]:
    """Kahn's topological sort; a cycle (or a tensor made twice) is an error."""
    producer: dict[str, int] = {}
    for index, node in enumerate(graph.node):
        for name in node.output:
            if name in producer:
                raise ModelFileError(f"{path}: tensor {name!r} is produced twice (by nodes "
                                     f"{graph.node[producer[name]].name!r} and {node.name!r})")
            if name:
                producer[name] = index
    waiting = [len({producer[i] for i in node.input if i in producer}) for node in graph.node]
    readers: dict[int, set[int]] = {}
    for index, node in enumerate(graph.node):
        for source in {producer[i] for i in node.input if i in producer}:
            readers.setdefault(source, set()).add(index)
    ready = [i for i, count in enumerate(waiting) if count == 0]
    order = []
    while ready:
        index = ready.pop(0)
        order.append(graph.node[index])
        for reader in sorted(readers.get(index, ())):
            waiting[reader] -= 1
            if waiting[reader] == 0:
                ready.append(reader)
    if len(order) < len(graph.node):
        stuck = next(graph.node[i] for i, count in enumerate(waiting) if count > 0)
        raise ModelFileError(f"{path}: the graph has a cycle (node {stuck.name!r}, "
                             f"{stuck.op_type}, depends on its own output); a network is "
                             "acyclic")
    return order


def _graph_input(graph: Any, path: Path, inits: dict[str, np.ndarray],
                 nodes: list[Node]) -> tuple[str, list[int | None], bool]:
    """The one graph input: its name, its dims (None: open) and whether it is a sequence."""
    inputs = [i for i in graph.input if i.name not in inits]
    if len(inputs) != 1:
        names = ", ".join(repr(i.name) for i in inputs) or "none"
        raise ModelFileError(f"{path}: the graph has {len(inputs)} inputs ({names}); accelsim "
                             "imports networks with one input")
    info = inputs[0]
    kind = info.type.WhichOneof("value")
    tensor = info.type.tensor_type
    if kind != "tensor_type" or tensor.elem_type not in FLOAT_INPUTS:
        raise ModelFileError(f"{path}: input {info.name!r} is not a float tensor; accelsim "
                             "networks take real-valued inputs")
    if not tensor.HasField("shape"):
        raise ModelFileError(f"{path}: input {info.name!r} has no shape; export with a fixed "
                             "input shape (an open batch axis is fine)")
    dims = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None
            for d in tensor.shape.dim]
    sequence = any(node.op in GATES for node in nodes)
    open_ok = 2 if sequence else 1
    if len(dims) < 2 or (sequence and len(dims) != 3) or None in dims[open_ok:]:
        form = "(batch, time, features)" if sequence else "(batch, ...) with every axis " \
            "after the batch fixed"
        shown = ["?" if d is None else d for d in dims]
        raise ModelFileError(f"{path}: input {info.name!r} has shape {shown}; accelsim needs "
                             f"{form}")
    return info.name, dims, sequence


def _graph_output(graph: Any, path: Path) -> str:
    if len(graph.output) != 1:
        names = ", ".join(repr(o.name) for o in graph.output) or "none"
        raise ModelFileError(f"{path}: the graph has {len(graph.output)} outputs ({names}); "
                             "accelsim imports networks with one output")
    return str(graph.output[0].name)


def _seq_len(dims: list[int | None], sequence: bool, seq_len: int | None, path: Path) -> int:
    if seq_len is not None and (isinstance(seq_len, bool) or not isinstance(seq_len, int)
                                or not 1 <= seq_len <= MAX_ELEMENTS):
        raise ModelFileError(f"seq_len = {seq_len!r} must be a positive integer")
    if not sequence:
        return 1
    return seq_len or dims[1] or 1


def _convert(onnx: ModuleType, b: Builder, node: Node) -> None:
    """One node: folded when every input is a constant, else converted."""
    b.node = node
    try:
        if node.op == "Constant":
            array = node.attrs.get("value", node.attrs.get("value_float",
                                   node.attrs.get("value_int", node.attrs.get(
                                       "value_floats", node.attrs.get("value_ints")))))
            if array is None:
                raise b.fail(f"holds {sorted(node.attrs)}; accelsim reads Constant's value, "
                             "value_float(s) and value_int(s)")
            return b.set(node.outputs[0], Const(np.asarray(array)))
        inputs = [b.value(name) for name in node.inputs if name]
        if node.op in FOLDABLE and inputs and all(isinstance(v, Const) for v in inputs):
            return _fold(onnx, b, node)
        if node.op in GATES:
            return convert_recurrent(b, node)
        if node.op not in CONVERTERS:
            raise b.fail(f"op type {node.op!r} on a tensor computed from the input; accelsim "
                         f"evaluates it only on constants. Supported on tensors: "
                         f"{', '.join(SUPPORTED)}")
        return CONVERTERS[node.op](b, node)
    except ModelFileError:
        raise
    except (TypeError, ValueError, IndexError, KeyError, AttributeError) as err:
        raise b.fail(f"malformed ({type(err).__name__}: {str(err)[:200]})") from None


def _fold(onnx: ModuleType, b: Builder, node: Node) -> None:
    """Evaluate a node of constants with onnx's reference implementation."""
    proto = onnx.helper.make_node(node.op, node.inputs, node.outputs, **node.attrs)
    feeds = {name: value.array for name in node.inputs if name
             and isinstance(value := b.values[name], Const)}
    try:
        results = onnx.reference.ReferenceEvaluator(proto).run(None, feeds)
    except Exception as err:  # the reference implementation's own errors
        raise b.fail(f"cannot be evaluated on its constant inputs ({type(err).__name__}: "
                     f"{str(err)[:200]})") from None
    for name, result in zip(node.outputs, results, strict=False):
        array = np.asarray(result)
        if array.size > MAX_CONST_ELEMENTS:
            raise b.fail(f"makes a constant of {array.size:,} values, over the limit")
        b.set(name, Const(array))


def _output_layer(b: Builder, output_name: str) -> str:
    """The layer giving the graph's output, which must be the network's last layer."""
    value = b.value(output_name)
    if not isinstance(value, View) or not b.layers:
        raise ModelFileError(f"{b.where}: the graph's output {output_name!r} is a constant or "
                             "the input itself; there is no network to import")
    name = b.read(value, need=" as the network's output (batch first)")
    if name != b.layers[-1].name:
        raise ModelFileError(f"{b.where}: the graph's output {output_name!r} comes from layer "
                             f"{name!r}, not from the last layer {b.layers[-1].name!r}")
    return name
