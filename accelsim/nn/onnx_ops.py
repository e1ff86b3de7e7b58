"""ONNX operators → accelsim layers (one converter per operator; `CONVERTERS`).

Layers: Conv, BatchNormalization, Relu, Clip, Sigmoid, Tanh, Softmax, MaxPool, AveragePool,
GlobalAveragePool, Add, Concat, Gemm, MatMul (+ Add of a constant: the linear layer's bias),
and the recurrent RNN, LSTM and GRU (`onnx_recurrent`). Rearrangements without a layer:
Flatten, Reshape, Transpose, Squeeze, Unsqueeze, Identity, Dropout, Cast (views, see
`onnx_values`). Shape glue on constants and on the batch size (Constant, Shape, Gather,
Slice, Concat, ConstantOfShape, Expand, Unsqueeze, Squeeze, Cast) is evaluated while importing.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from accelsim.nn.conv import AvgPool2d, Conv2d, MaxPool2d, conv_output_size
from accelsim.nn.dense import Linear, ReLU, Sigmoid, Softmax, Tanh
from accelsim.nn.layers import Layer
from accelsim.nn.merge import Add, Concat
from accelsim.nn.norm import BatchNorm2d, Clip, GlobalAvgPool2d, ReLU6
from accelsim.nn.onnx_builder import Builder, Node
from accelsim.nn.onnx_shapes import SHAPE_CONVERTERS, concat_shapes
from accelsim.nn.onnx_values import (
    Const,
    ShapeVec,
    View,
    dims_of,
    permutation_of,
)

Converter = Callable[[Builder, Node], None]
FLOAT_MAX = float(np.finfo(np.float32).max)


def _name(b: Builder) -> str:
    assert b.node is not None
    return b.node.name or b.node.outputs[0]


def _ints(b: Builder, key: str, default: list[int], length: int = 2) -> tuple[int, ...]:
    value = tuple(int(v) for v in b.attr(key, default))
    if len(value) != length:
        raise b.fail(f"{key} = {list(value)} must have {length} entries (2-D operators only)")
    return value


# ---- element-wise ------------------------------------------------------------------------


def _elementwise(b: Builder, node: Node, cls: type[Layer], fields: dict | None = None) -> None:
    view = b.view(node.input(0))
    name = b.add(cls, _name(b), fields or {}, (view.source,), tensor=b.tensors[view.source])
    b.set(node.outputs[0], View(name, view.groups))


def _unary(cls: type[Layer]) -> Converter:
    return lambda b, node: _elementwise(b, node, cls)


def _alias(b: Builder, node: Node) -> None:
    """Identity, Dropout at inference, Cast of a tensor to a float type: the same tensor."""
    if node.op == "Dropout":
        b.only_first_output()
        if node.input(2) and bool(b.const(node.input(2), "training_mode").any()):
            raise b.fail("training_mode is true; export the model in eval() mode")
    b.set(node.outputs[0], b.value(node.input(0)))


def _clip(b: Builder, node: Node) -> None:
    low = float(b.weight(node.input(1), "min").reshape(-1)[0]) if node.input(1) else None
    high = float(b.weight(node.input(2), "max").reshape(-1)[0]) if node.input(2) else None
    if low is None and high is None:
        return _alias(b, node)
    if high is None and low == 0.0:
        return _elementwise(b, node, ReLU)
    low, high = -FLOAT_MAX if low is None else low, FLOAT_MAX if high is None else high
    if not low < high:
        raise b.fail(f"min = {low} is not below max = {high}")
    if (low, high) == (0.0, 6.0):
        return _elementwise(b, node, ReLU6)
    return _elementwise(b, node, Clip, {"min": low, "max": high})


def _softmax(b: Builder, node: Node) -> None:
    view = b.view(node.input(0))
    axis = int(b.attr("axis", -1))
    if axis not in (-1, len(view.groups) - 1):
        raise b.fail(f"softmax over axis {axis} of a rank-{len(view.groups)} tensor; accelsim's "
                     "softmax runs over the last axis only (axis = -1)")
    tensor = b.tensors[view.source]
    perm = permutation_of(tensor, view)
    if perm is not None and perm[-1] == len(tensor.axes) - 1:
        name = b.add(Softmax, _name(b), {}, (view.source,), tensor=tensor)
        return b.set(node.outputs[0], View(name, view.groups))
    source = b.read(view)
    name = b.add(Softmax, _name(b), {}, (source,), tensor=b.tensors[source])
    b.set(node.outputs[0], b.canonical(name))


# ---- linear layers -----------------------------------------------------------------------


def _linear(b: Builder, node: Node, view: View, weight: np.ndarray,
            bias: np.ndarray | None) -> None:
    """y = x @ weight (+ bias) on the view's last axis."""
    tensor = b.tensors[view.source]
    perm = permutation_of(tensor, view)
    last = len(tensor.axes) - 1
    direct = perm is not None and perm[-1] == last and len(tensor.axes) <= 3
    source = view.source if direct else b.read(view, need=" as a matrix multiply's input")
    params = {"weight": weight} if bias is None else {"weight": weight, "bias": bias}
    name = b.add(Linear, _name(b), {"out_features": weight.shape[1], "bias": bias is not None},
                 (source,), params, keep_time=b.tensors[source].has_time)
    b.set(node.outputs[0], b.canonical(name, perm if direct else None))
    b.made_by[node.outputs[0]] = name


def _matmul(b: Builder, node: Node) -> None:
    if not isinstance(b.value(node.input(0)), View):
        raise b.fail("multiplies a constant by a tensor (constant first); accelsim's linear "
                     "layer computes x @ W with the constant W second")
    weight = b.weight(node.input(1), "B (the weights)")
    if weight.ndim != 2:
        raise b.fail(f"the constant operand has shape {weight.shape}; a linear layer needs a "
                     "2-D (in_features, out_features) matrix")
    _linear(b, node, b.view(node.input(0)), weight, None)


def _gemm(b: Builder, node: Node) -> None:
    if int(b.attr("transA", 0)):
        raise b.fail("transA = 1 (the input transposed) is not supported; export with "
                     "transA = 0")
    weight = b.weight(node.input(1), "B (the weights)")
    if weight.ndim != 2:
        raise b.fail(f"B has shape {weight.shape}; Gemm needs a 2-D matrix")
    if int(b.attr("transB", 0)):
        weight = weight.T
    weight = np.ascontiguousarray(weight * np.float32(b.attr("alpha", 1.0)))
    bias = None
    if node.input(2):
        c = b.weight(node.input(2), "C (the bias)") * np.float32(b.attr("beta", 1.0))
        if c.size not in (1, weight.shape[1]) or (c.ndim == 2 and c.shape[0] != 1) or c.ndim > 2:
            raise b.fail(f"C has shape {c.shape}; accelsim's bias is one value per output "
                         f"({weight.shape[1]},)")
        bias = np.broadcast_to(c.reshape(-1), (weight.shape[1],)).astype(np.float32)
    view = b.view(node.input(0))
    if len(view.groups) != 2:
        raise b.fail(f"A has rank {len(view.groups)}; Gemm multiplies 2-D matrices")
    source = b.read(view, need=" as Gemm's input")
    _linear(b, node, b.canonical(source), weight, bias)


def _bias_target(b: Builder, name: str) -> tuple[str, int] | None:
    """The linear or conv2d layer whose output `name` is, read by nothing else, and the
    ONNX axis of its channels; None if `name` is not such an output."""
    layer_name = b.made_by.get(name)
    if layer_name is None or b.readers[name] != 1:
        return None
    layer = next(layer for layer in b.layers if layer.name == layer_name)
    value = b.values[name]
    assert isinstance(value, View)
    if isinstance(layer, Conv2d):
        return layer_name, 1
    return (layer_name, len(value.groups) - 1) if isinstance(layer, Linear) else None


def _fold_bias(b: Builder, node: Node, tensor_name: str, constant: np.ndarray) -> bool:
    """Add of a constant to a linear or conv2d output → that layer's bias."""
    target = _bias_target(b, tensor_name)
    if target is None:
        return False
    layer_name, axis = target
    view = b.values[tensor_name]
    assert isinstance(view, View)
    rank = len(view.groups)
    channels = dims_of(b.tensors[layer_name], view)[axis].static
    shape = (1,) * (rank - constant.ndim) + constant.shape
    if constant.ndim > rank or any(s != 1 for i, s in enumerate(shape) if i != axis) or \
            shape[axis] not in (1, channels):
        return False
    index = next(i for i, layer in enumerate(b.layers) if layer.name == layer_name)
    layer = b.layers[index]
    params = b.params[layer_name]
    bias = np.broadcast_to(constant.reshape(-1), (channels,)).astype(np.float32)
    params["bias"] = params.get("bias", np.zeros(channels, np.float32)) + bias
    b.layers[index] = type(layer)(**{**layer.__dict__, "bias": True})
    b.set(node.outputs[0], view)
    b.made_by[node.outputs[0]] = layer_name
    return True


def _add(b: Builder, node: Node) -> None:
    first, second = b.value(node.input(0)), b.value(node.input(1))
    if isinstance(first, View) and isinstance(second, View):
        return _merge(b, node, Add, {}, [first, second], None)
    tensor_name, const_name = (node.input(0), node.input(1)) if isinstance(first, View) \
        else (node.input(1), node.input(0))
    constant = b.weight(const_name, "the constant added")
    if not isinstance(b.value(tensor_name), View) or not _fold_bias(b, node, tensor_name,
                                                                     constant):
        raise b.fail(f"adds a constant of shape {constant.shape}; accelsim has no bias-add "
                     "layer, so a constant is added only as the bias of the MatMul, Gemm or "
                     "Conv right before it (one value per output channel)")


def _merge(b: Builder, node: Node, cls: type[Layer], fields: dict, views: list[View],
           axis: int | None) -> None:
    """add or concat of graph tensors, read in the first one's layout."""
    perm = permutation_of(b.tensors[views[0].source], views[0])
    sources = [b.read(v, perm) for v in views]
    if perm is None:
        perm = tuple(range(len(b.tensors[sources[0]].axes)))
    if axis is not None:
        fields = {"axis": perm[axis] - 1}
        if perm[axis] == 0 or (perm[axis] == 1 and b.tensors[sources[0]].has_time):
            raise b.fail(f"joins along axis {axis}, the batch or time axis; accelsim joins "
                         "along a sample's features or channels")
    same = cls is Add
    name = b.add(cls, _name(b), fields, tuple(sources),
                 tensor=b.tensors[sources[0]] if same else None,
                 keep_time=b.tensors[sources[0]].has_time)
    b.set(node.outputs[0], b.canonical(name, perm))


def _concat(b: Builder, node: Node) -> None:
    values = [b.value(n) for n in node.inputs]
    if all(isinstance(v, Const | ShapeVec) for v in values):
        return concat_shapes(b, node, values)
    views = [b.view(n) for n in node.inputs]
    if len(views) < 2:
        return b.set(node.outputs[0], views[0])
    axis = int(b.attr("axis", 1))
    axis = axis + len(views[0].groups) if axis < 0 else axis
    _merge(b, node, Concat, {}, views, axis)


# ---- convolution, normalization and pooling ----------------------------------------------


def _same_pads(b: Builder, size: tuple[int, int], kernel: tuple[int, ...],
               stride: tuple[int, ...], dilation: tuple[int, ...]) -> tuple[int, ...]:
    mode = b.attr("auto_pad", "NOTSET")
    if mode == "NOTSET":
        pads = _ints(b, "pads", [0, 0, 0, 0], 4)
        if min(pads) < 0:
            raise b.fail(f"pads = {list(pads)} must not be negative")
        return pads  # ONNX's (top, left, bottom, right), as accelsim's padding
    if mode == "VALID":
        return (0, 0, 0, 0)
    if mode not in ("SAME_UPPER", "SAME_LOWER"):
        raise b.fail(f"auto_pad = {mode!r} is unknown; use NOTSET, VALID, SAME_UPPER or "
                     "SAME_LOWER")
    begin, end = [], []
    for n, k, s, d in zip(size, kernel, stride, dilation, strict=True):
        total = max(0, (-(-n // s) - 1) * s + (k - 1) * d + 1 - n)
        small = total // 2
        begin.append(small if mode == "SAME_UPPER" else total - small)
        end.append(total - begin[-1])
    return (begin[0], begin[1], end[0], end[1])


def _spatial_input(b: Builder, node: Node) -> tuple[View, str, tuple[int, ...]]:
    view = b.view(node.input(0))
    source = b.read(view, need=" as (batch, channels, height, width) maps")
    shape = b.shapes[source]
    if len(shape) != 3:
        raise b.fail(f"reads a tensor of per-sample shape {shape}; accelsim runs 2-D "
                     "operators on (channels, height, width) maps")
    return view, source, shape


def _conv(b: Builder, node: Node) -> None:
    _, source, shape = _spatial_input(b, node)
    weight = b.weight(node.input(1), "W (the filters)")
    if weight.ndim != 4:
        raise b.fail(f"W has shape {weight.shape}; accelsim's conv2d is 2-D (4-D filters)")
    kernel = tuple(int(k) for k in weight.shape[2:])
    if tuple(b.attr("kernel_shape", kernel)) != kernel:
        raise b.fail(f"kernel_shape = {b.attr('kernel_shape', kernel)} but W has {kernel}")
    stride, dilation = _ints(b, "strides", [1, 1]), _ints(b, "dilations", [1, 1])
    if min(stride + dilation) < 1:
        raise b.fail(f"strides {list(stride)} and dilations {list(dilation)} must be positive")
    pads = _same_pads(b, (shape[1], shape[2]), kernel, stride, dilation)
    params = {"weight": weight}
    if node.input(2):
        params["bias"] = b.weight(node.input(2), "B (the bias)", (weight.shape[0],))
    fields = {"out_channels": weight.shape[0], "kernel_size": kernel, "stride": stride,
              "padding": pads, "dilation": dilation, "groups": int(b.attr("group", 1)),
              "bias": "bias" in params}
    name = b.add(Conv2d, _name(b), fields, (source,), params)
    b.set(node.outputs[0], b.canonical(name))
    b.made_by[node.outputs[0]] = name


def _batchnorm(b: Builder, node: Node) -> None:
    if int(b.attr("training_mode", 0)):
        raise b.fail("training_mode = 1; export the model in eval() mode (inference)")
    b.only_first_output()
    _, source, shape = _spatial_input(b, node)
    channels = (shape[0],)
    params = {key: b.weight(node.input(i), key, channels) for i, key in
              enumerate(("weight", "bias", "running_mean", "running_var"), start=1)}
    if (params["running_var"] < 0).any():
        raise b.fail("the running variance holds negative values")
    momentum = 1.0 - float(b.attr("momentum", 0.9))  # ONNX keeps that much of the old value
    fields = {"eps": float(b.attr("epsilon", 1e-5)),
              "momentum": momentum if 0 < momentum <= 1 else 0.1}
    name = b.add(BatchNorm2d, _name(b), fields, (source,), params)
    b.set(node.outputs[0], b.canonical(name))


def _pool(b: Builder, node: Node) -> None:
    b.only_first_output()
    _, source, shape = _spatial_input(b, node)
    kernel = _ints(b, "kernel_shape", [])
    stride, dilation = _ints(b, "strides", [1, 1]), _ints(b, "dilations", [1, 1])
    if dilation != (1, 1) or min(stride + kernel) < 1:
        raise b.fail(f"dilations {list(dilation)}, strides {list(stride)}, kernel "
                     f"{list(kernel)}: accelsim pools with dilation 1 and positive sizes")
    pads = _same_pads(b, (shape[1], shape[2]), kernel, stride, (1, 1))
    if int(b.attr("ceil_mode", 0)):
        for i, n in enumerate(shape[1:]):
            floor = conv_output_size(n, kernel[i], stride[i], pads[i], 1, pads[i + 2])
            if floor != -(-(n + pads[i] + pads[i + 2] - kernel[i]) // stride[i]) + 1:
                raise b.fail("ceil_mode = 1 changes the output size here; accelsim pools "
                             "with floor (ceil_mode = 0)")
    cls = MaxPool2d if node.op == "MaxPool" else AvgPool2d
    fields: dict[str, object] = {"kernel_size": kernel, "stride": stride, "padding": pads}
    if cls is AvgPool2d:  # ONNX leaves the padding out of the mean unless told
        fields["count_include_pad"] = bool(int(b.attr("count_include_pad", 0)))
    name = b.add(cls, _name(b), fields, (source,))
    b.set(node.outputs[0], b.canonical(name))


def _global_pool(b: Builder, node: Node) -> None:
    _, source, _ = _spatial_input(b, node)
    name = b.add(GlobalAvgPool2d, _name(b), {}, (source,))
    b.set(node.outputs[0], b.canonical(name))


def _reduce_mean(b: Builder, node: Node) -> None:
    """The mean over height and width (`x.mean((2, 3))`, MobileNet and EfficientNet code):
    global average pooling, flattened to (batch, channels) without keepdims."""
    b.only_first_output()
    _, source, _ = _spatial_input(b, node)
    if node.input(1):  # opset 18: the axes are an input
        axes = tuple(int(a) for a in np.asarray(b.const(node.input(1), "the axes")).ravel())
    else:
        axes = tuple(int(a) for a in b.attr("axes", []))
    if sorted(a % 4 for a in axes) != [2, 3]:
        raise b.fail(f"averages over axes {list(axes)}; accelsim averages (batch, channels, "
                     "height, width) maps over height and width (axes [2, 3]) only")
    name = b.add(GlobalAvgPool2d, _name(b), {}, (source,))
    out = b.canonical(name)
    if int(b.attr("keepdims", 1)):
        b.set(node.outputs[0], out)
    else:  # (batch, channels, 1, 1) seen as (batch, channels)
        atoms = tuple(atom for group in out.groups for atom in group)
        b.set(node.outputs[0], View(name, ((atoms[0],), atoms[1:])))


CONVERTERS: dict[str, Converter] = {
    "Conv": _conv, "BatchNormalization": _batchnorm, "Relu": _unary(ReLU), "Clip": _clip,
    "Sigmoid": _unary(Sigmoid), "Tanh": _unary(Tanh), "Softmax": _softmax, "MaxPool": _pool,
    "AveragePool": _pool, "GlobalAveragePool": _global_pool, "ReduceMean": _reduce_mean,
    "Add": _add, "Concat": _concat,
    "Gemm": _gemm, "MatMul": _matmul, "Identity": _alias, "Dropout": _alias,
    **SHAPE_CONVERTERS,
}
"""Converters by op type (Constant and the recurrent operators are added by the importer)."""
FOLDABLE = {"Add", "Sub", "Mul", "Div", "Neg", "Sqrt", "Reciprocal", "Transpose", "Reshape",
            "Squeeze", "Unsqueeze", "Cast", "Concat", "Gather", "Slice", "Flatten",
            "Identity", "Shape", "Relu", "Sigmoid", "Tanh", "Clip"}
"""Ops evaluated while importing when every input is a constant (outputs no larger)."""
