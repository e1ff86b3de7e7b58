"""The graph layers (add, concat, batch norm, clip, global pooling, grouped/dilated/padded
convolution, GRU, bidirectional recurrence) against central differences in float64, and
against PyTorch's numerics in float32 where PyTorch is installed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from accelsim.nn.conv import Conv2d
from accelsim.nn.layers import Layer, Params
from accelsim.nn.loader import parse_network
from accelsim.nn.merge import Add, Concat
from accelsim.nn.network import Network
from accelsim.nn.norm import BatchNorm2d, Clip, GlobalAvgPool2d, ReLU6
from accelsim.nn.numerics import EXACT
from accelsim.nn.recurrent import GRU, LSTM, RNN

EPS = 1e-6
Shapes = tuple[tuple[int, ...], ...]


# ---- central differences ------------------------------------------------------------------

def numeric_grad(loss, array: np.ndarray) -> np.ndarray:
    """d loss / d array by central differences, perturbing `array` in place."""
    grad = np.zeros_like(array)
    for idx in np.ndindex(array.shape):
        old = array[idx]
        array[idx] = old + EPS
        plus = loss()
        array[idx] = old - EPS
        minus = loss()
        array[idx] = old
        grad[idx] = (plus - minus) / (2 * EPS)
    return grad


def float64_params(layer: Layer, in_shapes: Shapes, rng: np.random.Generator) -> Params:
    """The layer's initial parameters in float64, nudged off their round starting values
    (variances kept positive)."""
    params = {}
    for key, value in layer.init_params_of(in_shapes, rng).items():
        nudged = value.astype(np.float64) + 0.1 * rng.standard_normal(value.shape)
        params[key] = np.abs(nudged) + 0.5 if key == "running_var" else nudged
    return params


def check_layer(layer: Layer, in_shapes: Shapes, *, train: bool = False, batch: int = 2,
                seed: int = 0, inputs: tuple[np.ndarray, ...] | None = None) -> None:
    """Every input gradient and every trainable parameter gradient of `backward_of` equals
    the central difference of sum(forward_of · dy)."""
    rng = np.random.default_rng(seed)
    xs = inputs if inputs is not None else tuple(
        rng.standard_normal((batch, *shape)) for shape in in_shapes)
    params = float64_params(layer, in_shapes, rng)
    y, cache = layer.forward_of(params, xs, EXACT, train)
    assert y.dtype == np.float64 and y.shape[1:] == layer.output_shape_of(in_shapes)
    dy = rng.standard_normal(y.shape)
    dxs, grads = layer.backward_of(params, cache, dy)

    def loss() -> float:
        return float((layer.forward_of(params, xs, EXACT, train)[0] * dy).sum())

    assert len(dxs) == len(xs)
    for x, dx in zip(xs, dxs, strict=True):
        np.testing.assert_allclose(dx, numeric_grad(loss, x), rtol=1e-5, atol=1e-7)
    assert set(grads) == {key for key in params if layer.trainable(key)}
    for key, grad in grads.items():
        np.testing.assert_allclose(grad, numeric_grad(loss, params[key]), rtol=1e-5,
                                   atol=1e-7)


def away_from(bounds: tuple[float, ...], shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Values in [-2, 8] at least 0.01 from every bound, where the function has kinks."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2.0, 8.0, shape)
    for bound in bounds:
        near = np.abs(x - bound) < 0.01
        x[near] = bound + 0.05
    return x


@pytest.mark.parametrize(("layer", "in_shapes"), [
    (Add("add", inputs=("a", "b")), ((3, 2, 2), (3, 2, 2))),
    (Add("add", inputs=("a", "b", "c")), ((4, 3),) * 3),
    (Concat("cat", inputs=("a", "b")), ((2, 3, 3), (3, 3, 3))),
    (Concat("cat", axis=-1, inputs=("a", "b", "c")), ((4, 2), (4, 3), (4, 1))),
    (Concat("cat", axis=1, inputs=("a", "b")), ((2, 1, 3), (2, 2, 3))),
])
def test_merge_gradients(layer, in_shapes):
    check_layer(layer, in_shapes)


def test_merge_values():
    a, b = np.arange(8.0).reshape(1, 2, 2, 2), -np.ones((1, 1, 2, 2))
    y, _ = Concat("cat", inputs=("a", "b")).forward_of({}, (a, b), EXACT)
    np.testing.assert_array_equal(y, np.concatenate([a, b], axis=1))
    y, _ = Add("add", inputs=("a", "a")).forward_of({}, (a, a), EXACT)
    np.testing.assert_array_equal(y, 2 * a)


@pytest.mark.parametrize("train", [True, False], ids=["batch-statistics", "running-statistics"])
def test_batchnorm_gradients(train):
    check_layer(BatchNorm2d("bn"), ((3, 3, 4),), train=train, batch=3)


def test_batchnorm_train_normalizes_with_the_batch_and_updates_running_statistics():
    rng = np.random.default_rng(1)
    layer = BatchNorm2d("bn", momentum=0.25)
    x = 3.0 + 2.0 * rng.standard_normal((4, 2, 3, 3))
    params = float64_params(layer, ((2, 3, 3),), rng)
    y, cache = layer.forward_of(params, (x,), EXACT, train=True)
    xhat = (y - params["bias"][:, None, None]) / params["weight"][:, None, None]
    np.testing.assert_allclose(xhat.mean(axis=(0, 2, 3)), 0.0, atol=1e-12)
    np.testing.assert_allclose(xhat.var(axis=(0, 2, 3)), 1.0, rtol=1e-4)  # ε = 1e-5
    new = layer.buffers_after(params, cache)
    count = 4 * 3 * 3
    mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3)) * count / (count - 1)
    np.testing.assert_allclose(new["running_mean"], 0.75 * params["running_mean"] + 0.25 * mean,
                               rtol=1e-6)
    np.testing.assert_allclose(new["running_var"], 0.75 * params["running_var"] + 0.25 * var,
                               rtol=1e-6)
    assert layer.buffers_after(params, layer.forward_of(params, (x,), EXACT)[1]) == {}


@pytest.mark.parametrize("layer", [ReLU6("r6"), Clip("clip", min=-1.0, max=2.5)],
                         ids=["relu6", "clip"])
def test_clip_gradients_away_from_the_bounds(layer):
    x = away_from((layer.min, layer.max), (2, 3, 4))
    check_layer(layer, ((3, 4),), inputs=(x,))
    y, _ = layer.forward(params={}, x=x, num=EXACT)
    np.testing.assert_array_equal(y, np.minimum(np.maximum(x, layer.min), layer.max))


def test_global_average_pooling_gradient_and_value():
    check_layer(GlobalAvgPool2d("gap"), ((3, 4, 5),))
    x = np.arange(24.0).reshape(1, 2, 3, 4)
    y, _ = GlobalAvgPool2d("gap").forward({}, x, EXACT)
    np.testing.assert_array_equal(y[:, :, 0, 0], [[5.5, 17.5]])


CONVS = {
    "grouped": (Conv2d("c", out_channels=4, kernel_size=(3, 3), groups=2), (4, 5, 5)),
    "depthwise": (Conv2d("c", out_channels=3, kernel_size=(3, 3), groups=3, padding=1),
                  (3, 5, 5)),
    "depthwise-multiplier": (Conv2d("c", out_channels=6, kernel_size=(3, 3), groups=3,
                                    stride=(2, 2), bias=False), (3, 6, 6)),
    "dilated": (Conv2d("c", out_channels=2, kernel_size=(3, 3), dilation=(2, 2), padding=2),
                (2, 6, 7)),
    "dilated-rectangular": (Conv2d("c", out_channels=2, kernel_size=(2, 3), dilation=(3, 1)),
                            (1, 7, 5)),
    "asymmetric-padding": (Conv2d("c", out_channels=2, kernel_size=(3, 2), stride=(2, 1),
                                  padding=(0, 1, 2, 0)), (2, 5, 4)),
    "all-at-once": (Conv2d("c", out_channels=4, kernel_size=(3, 3), groups=2, stride=(2, 2),
                           dilation=(2, 1), padding=(1, 0, 2, 1)), (2, 7, 6)),
}


@pytest.mark.parametrize("name", CONVS)
def test_conv_gradients(name):
    layer, in_shape = CONVS[name]
    check_layer(layer, (in_shape,))


def direct_conv(layer: Conv2d, x: np.ndarray, params: Params) -> np.ndarray:
    """The convolution as loops over every output: the definition, not im2col."""
    top, left, bottom, right = layer.padding
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    (kh, kw), (sh, sw), (dh, dw) = layer.kernel_size, layer.stride, layer.dilation
    out_c = layer.out_channels
    per_in, per_out = x.shape[1] // layer.groups, out_c // layer.groups
    oh = (xp.shape[2] - dh * (kh - 1) - 1) // sh + 1
    ow = (xp.shape[3] - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((x.shape[0], out_c, oh, ow))
    for n, o, i, j in np.ndindex(*y.shape):
        first = o // per_out * per_in
        patch = xp[n, first : first + per_in, i * sh : i * sh + dh * (kh - 1) + 1 : dh,
                   j * sw : j * sw + dw * (kw - 1) + 1 : dw]
        y[n, o, i, j] = (patch * params["weight"][o]).sum() + params.get("bias", np.zeros(out_c))[o]
    return y


@pytest.mark.parametrize("name", CONVS)
def test_conv_matches_the_definition(name):
    layer, in_shape = CONVS[name]
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, *in_shape))
    params = float64_params(layer, (in_shape,), rng)
    y, _ = layer.forward(params, x, EXACT)
    np.testing.assert_allclose(y, direct_conv(layer, x, params), rtol=1e-12, atol=1e-12)


RECURRENT = {
    "gru": GRU("g", hidden_size=3),
    "gru-onnx-reset": GRU("g", hidden_size=3, linear_before_reset=False),
    "gru-last": GRU("g", hidden_size=3, return_sequences=False),
    "gru-onnx-reset-last": GRU("g", hidden_size=2, linear_before_reset=False,
                               return_sequences=False),
    "rnn-bidirectional": RNN("r", hidden_size=3, bidirectional=True),
    "rnn-bidirectional-last": RNN("r", hidden_size=3, bidirectional=True,
                                  return_sequences=False),
    "lstm-bidirectional": LSTM("l", hidden_size=2, bidirectional=True),
    "lstm-bidirectional-last": LSTM("l", hidden_size=2, bidirectional=True,
                                    return_sequences=False),
    "gru-bidirectional": GRU("g", hidden_size=2, bidirectional=True),
    "gru-bidirectional-last": GRU("g", hidden_size=2, bidirectional=True,
                                  linear_before_reset=False, return_sequences=False),
}


@pytest.mark.parametrize("name", RECURRENT)
def test_recurrent_gradients(name):
    check_layer(RECURRENT[name], ((5, 3),))


def test_gru_follows_its_equations():
    rng = np.random.default_rng(5)
    for before in (True, False):
        layer = GRU("g", hidden_size=2, linear_before_reset=before)
        params = float64_params(layer, ((2, 3),), rng)
        x = rng.standard_normal((1, 2, 3))
        y, _ = layer.forward(params, x, EXACT)
        h = np.zeros(2)
        w_ih, w_hh, b_ih, b_hh = (params[k] for k in ("weight_ih", "weight_hh", "bias_ih",
                                                      "bias_hh"))
        for t in range(2):
            gi, gh = x[0, t] @ w_ih + b_ih, h @ w_hh + b_hh
            r = 1 / (1 + np.exp(-(gi[0:2] + gh[0:2])))
            z = 1 / (1 + np.exp(-(gi[2:4] + gh[2:4])))
            hidden = r * gh[4:6] if before else (r * h) @ w_hh[:, 4:6] + b_hh[4:6]
            n = np.tanh(gi[4:6] + hidden)
            h = (1 - z) * n + z * h
            np.testing.assert_allclose(y[0, t], h, rtol=1e-12)


# ---- a residual graph, end to end ---------------------------------------------------------

RESIDUAL = {
    "name": "residual",
    "input_shape": [2, 5, 5],
    "layers": [
        {"name": "conv1", "type": "conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1,
         "bias": False},
        {"name": "bn1", "type": "batchnorm2d"},
        {"name": "relu1", "type": "relu6"},
        {"name": "dw", "type": "conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1,
         "groups": 4},
        {"name": "bn2", "type": "batchnorm2d"},
        {"name": "shortcut", "type": "conv2d", "out_channels": 4, "kernel_size": 1,
         "inputs": "input"},
        {"name": "add", "type": "add", "inputs": ["bn2", "shortcut", "relu1"]},
        {"name": "cat", "type": "concat", "inputs": ["add", "input"]},
        {"name": "gap", "type": "globalavgpool2d"},
        {"name": "flatten", "type": "flatten"},
        {"name": "fc", "type": "linear", "out_features": 3},
        {"name": "softmax", "type": "softmax"},
    ],
}


def residual_network(seed: int = 0) -> Network:
    net = parse_network(RESIDUAL, Path("residual.toml"), seed=seed)
    rng = np.random.default_rng(seed)
    return net.with_params({layer.name: float64_params(layer, ins, rng)
                            for layer, ins, _ in net.layer_io() if layer.name in net.params})


def test_gradients_through_a_residual_graph():
    net = residual_network()
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 2, 5, 5))
    logits, caches = net.forward_train(x)
    assert logits.shape == (3, 3)  # the trailing softmax is folded into the loss
    dlogits = rng.standard_normal(logits.shape)
    grads = net.backward(caches, dlogits)

    def loss() -> float:
        return float((net.forward_train(x)[0] * dlogits).sum())

    expected = {name: {key for key in params if key not in ("running_mean", "running_var")}
                for name, params in net.params.items()}
    assert {name: set(g) for name, g in grads.items()} == expected
    for name, layer_grads in grads.items():
        for key, grad in layer_grads.items():
            np.testing.assert_allclose(grad, numeric_grad(loss, net.params[name][key]),
                                       rtol=1e-5, atol=1e-7, err_msg=f"{name}.{key}")


def test_a_training_step_moves_only_batch_norm_buffers():
    net = residual_network()
    x = np.random.default_rng(7).standard_normal((4, 2, 5, 5))
    _, caches = net.forward_train(x)
    updates = net.buffer_updates(caches)
    assert {name: set(u) for name, u in updates.items()} == {
        "bn1": {"running_mean", "running_var"}, "bn2": {"running_mean", "running_var"}}
    # Inference afterwards uses the running statistics, not the batch's.
    assert not np.allclose(net.forward_train(x)[0], net.forward(x, logits=True), atol=1e-3)


# ---- PyTorch numerics (float32) -----------------------------------------------------------

def assert_close(ours: np.ndarray, theirs, rtol: float = 1e-5) -> None:
    """Equal within `rtol` relative, near zero relative to the tensor's largest value."""
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * np.abs(theirs).max())


def f32(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.standard_normal(shape).astype(np.float32)


def test_batchnorm_matches_torch_in_eval_and_train():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    channels = 5
    params = {"weight": f32(rng, channels), "bias": f32(rng, channels),
              "running_mean": f32(rng, channels),
              "running_var": np.abs(f32(rng, channels)) + 0.5}
    x = 2.0 * f32(rng, 4, channels, 3, 6) + 1.0
    ref = torch.nn.BatchNorm2d(channels, eps=1e-5, momentum=0.1)
    with torch.no_grad():
        for key, value in params.items():
            getattr(ref, key).copy_(torch.from_numpy(value))
    layer = BatchNorm2d("bn")
    ref.eval()
    assert_close(layer.forward_of(params, (x,), EXACT)[0], ref(torch.from_numpy(x)))
    ref.train()
    y, cache = layer.forward_of(params, (x,), EXACT, train=True)
    assert_close(y.astype(np.float32), ref(torch.from_numpy(x)))  # one step: stats move
    new = layer.buffers_after(params, cache)
    assert_close(new["running_mean"], ref.running_mean)
    assert_close(new["running_var"], ref.running_var)


@pytest.mark.parametrize(("groups", "dilation", "stride", "padding"), [
    (1, (1, 1), (1, 1), (1, 1, 1, 1)),
    (2, (1, 1), (2, 2), (1, 1, 1, 1)),
    (6, (1, 1), (1, 1), (1, 1, 1, 1)),   # depthwise
    (1, (2, 3), (1, 2), (2, 3, 2, 3)),
    (3, (2, 2), (2, 1), (0, 1, 2, 3)),   # asymmetric: F.pad first, then the convolution
])
def test_conv2d_matches_torch(groups, dilation, stride, padding):
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    rng = np.random.default_rng(9)
    layer = Conv2d("c", out_channels=6, kernel_size=(3, 3), groups=groups, stride=stride,
                   dilation=dilation, padding=padding)
    x = f32(rng, 2, 6, 11, 10)
    params = {"weight": f32(rng, 6, 6 // groups, 3, 3), "bias": f32(rng, 6)}
    top, left, bottom, right = padding
    padded = functional.pad(torch.from_numpy(x), (left, right, top, bottom))
    ref = functional.conv2d(padded, torch.from_numpy(params["weight"]),
                            torch.from_numpy(params["bias"]), stride=stride,
                            dilation=dilation, groups=groups)
    if top == bottom and left == right:  # PyTorch's own symmetric padding agrees too
        same = functional.conv2d(torch.from_numpy(x), torch.from_numpy(params["weight"]),
                                 torch.from_numpy(params["bias"]), stride=stride,
                                 padding=(top, left), dilation=dilation, groups=groups)
        assert torch.equal(ref, same)
    assert_close(layer.forward(params, x, EXACT)[0], ref)


def test_relu6_and_global_pooling_match_torch():
    torch = pytest.importorskip("torch")
    x = 8.0 * f32(np.random.default_rng(10), 2, 3, 5, 7)
    assert_close(ReLU6("r").forward({}, x, EXACT)[0], torch.nn.ReLU6()(torch.from_numpy(x)))
    assert_close(GlobalAvgPool2d("g").forward({}, x, EXACT)[0],
                 torch.nn.AdaptiveAvgPool2d(1)(torch.from_numpy(x)))


def lstm_columns(tensor: np.ndarray, hidden: int) -> np.ndarray:
    """PyTorch's LSTM gate blocks (i, f, g, o) along axis 0, in accelsim's order [i, f, o, g]."""
    i, f, g, o = (tensor[k * hidden : (k + 1) * hidden] for k in range(4))
    return np.concatenate([i, f, o, g])


def torch_to_accelsim(kind: str, ref, layers: int, bidirectional: bool) -> dict[str, Params]:
    """accelsim parameters from a torch nn.RNN/LSTM/GRU: sub-layers `rec_0`, `rec_1`, …
    (one layer: `rec`); reverse directions suffixed `_reverse`."""
    hidden = ref.hidden_size
    out: dict[str, Params] = {}
    for index in range(layers):
        layer: Params = {}
        for suffix in ("", "_reverse") if bidirectional else ("",):
            tensors = {name: getattr(ref, f"{name}_l{index}{suffix}").detach().numpy()
                       for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
            if kind == "gru":  # gate order r, z, n in both; (3H, F) → (F, 3H)
                layer.update({f"weight_ih{suffix}": tensors["weight_ih"].T,
                              f"weight_hh{suffix}": tensors["weight_hh"].T,
                              f"bias_ih{suffix}": tensors["bias_ih"],
                              f"bias_hh{suffix}": tensors["bias_hh"]})
                continue
            weight = np.concatenate([tensors["weight_ih"], tensors["weight_hh"]], axis=1)
            bias = tensors["bias_ih"] + tensors["bias_hh"]
            if kind == "lstm":
                weight, bias = lstm_columns(weight, hidden), lstm_columns(bias, hidden)
            layer[f"weight{suffix}"] = np.ascontiguousarray(weight.T)
            layer[f"bias{suffix}"] = bias
        out[f"rec_{index}" if layers > 1 else "rec"] = layer
    return out


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize(("layers", "bidirectional"), [(1, False), (2, False), (1, True),
                                                       (2, True)])
@pytest.mark.parametrize("sequences", [True, False], ids=["sequences", "final"])
def test_recurrent_layers_match_torch(kind, layers, bidirectional, sequences):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    features, hidden, steps = 5, 4, 6
    module = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]
    ref = module(features, hidden, num_layers=layers, bidirectional=bidirectional,
                 batch_first=True)
    table = {"name": "rec", "type": kind, "hidden_size": hidden, "num_layers": layers,
             "bidirectional": bidirectional, "return_sequences": sequences}
    doc = {"name": "rec", "input_shape": [features], "sequence": True, "seq_len": steps,
           "layers": [table]}
    net = parse_network(doc, Path("rec.toml"))
    params = torch_to_accelsim(kind, ref, layers, bidirectional)
    assert {k: {n: a.shape for n, a in p.items()} for k, p in params.items()} == \
        {k: {n: a.shape for n, a in p.items()} for k, p in net.params.items()}
    net = net.with_params(params)
    x = f32(np.random.default_rng(11), 3, steps, features)
    sequence, state = ref(torch.from_numpy(x))
    h_n = state[0] if kind == "lstm" else state
    expected = sequence if sequences else torch.cat(list(h_n[-len(net.layers[-1].directions):]),
                                                    dim=-1)
    assert_close(net.forward(x), expected)
