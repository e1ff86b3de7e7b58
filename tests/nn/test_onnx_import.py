"""ONNX import: the fixtures (ResNet- and MobileNetV2-style CNNs, a 2-layer GRU and a
bidirectional LSTM exported by PyTorch) against onnxruntime and torch's stored outputs,
hand-built graphs for the operators the fixtures do not use, and hostile files."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from onnx.reference import ReferenceEvaluator  # noqa: E402

import accelsim as ax  # noqa: E402
from accelsim.errors import ModelFileError  # noqa: E402
from accelsim.nn.loader import load_network  # noqa: E402
from accelsim.nn.onnx_import import import_onnx  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "onnx"
NAMES = ["resnet_small", "mobilenet_small", "gru2", "lstm_bi"]
RTOL = 1e-4


def run_ort(path: Path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def relative_error(got: np.ndarray, want: np.ndarray) -> float:
    assert got.shape == want.shape
    return float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-30))


def save(model: onnx.ModelProto, tmp_path: Path, name: str = "m.onnx") -> Path:
    path = tmp_path / name
    path.write_bytes(model.SerializeToString())
    return path


def model(nodes: list, inputs: list, outputs: list, inits: tuple = (), opset: int = 17
          ) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    made = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    made.ir_version = 8
    return made


def tensor(name: str, shape: list) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def const(name: str, array: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(array), name)


RNG = np.random.default_rng(0)


def weights(*shape: int) -> np.ndarray:
    return (RNG.standard_normal(shape) * 0.5).astype(np.float32)


# ---- the fixtures ------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_fixture_matches_onnxruntime_and_torch(name):
    path = FIXTURES / f"{name}.onnx"
    assert path.stat().st_size < 300_000
    stored = np.load(FIXTURES / f"{name}.npz")
    net = import_onnx(path)
    got = net.forward(stored["x"])
    assert relative_error(got, run_ort(path, stored["x"])) < RTOL
    assert relative_error(got, stored["y"]) < RTOL
    assert net.trained and net.name == name


@pytest.mark.parametrize("name", NAMES)
def test_batch_axis_stays_open(name):
    path = FIXTURES / f"{name}.onnx"
    net = import_onnx(path)
    for batch in (1, 5):
        x = np.random.default_rng(batch).standard_normal(
            (batch, *net.sample_shape())).astype(np.float32)
        assert relative_error(net.forward(x), run_ort(path, x)) < RTOL


def test_fixtures_keep_batchnorm_with_real_statistics():
    net = import_onnx(FIXTURES / "mobilenet_small.onnx")
    norms = [layer for layer in net.layers if layer.type_name == "batchnorm2d"]
    assert norms
    mean = net.params[norms[0].name]["running_mean"]
    assert np.abs(mean).max() > 1e-3
    kinds = {layer.type_name for layer in net.layers}
    assert {"conv2d", "relu6", "add", "globalavgpool2d", "linear"} <= kinds
    grouped = [layer for layer in net.layers if getattr(layer, "groups", 1) > 1]
    assert grouped and all(layer.groups == layer.out_channels for layer in grouped)


def test_gru_fixture_is_two_gru_layers_and_a_readout():
    net = import_onnx(FIXTURES / "gru2.onnx")
    assert [layer.type_name for layer in net.layers] == ["gru", "gru", "linear"]
    assert net.sequence and net.seq_len == 8 and net.input_shape == (12,)
    assert all(layer.linear_before_reset for layer in net.layers[:2])


def test_ax_network_routes_onnx_paths():
    path = FIXTURES / "resnet_small.onnx"
    net = ax.network(str(path))
    x = np.load(FIXTURES / "resnet_small.npz")["x"]
    assert np.array_equal(net.forward(x), import_onnx(path).forward(x))
    assert load_network(path, weights="none").params == {}
    fresh = load_network(path, weights="init", seed=3)
    assert not fresh.trained and not np.array_equal(fresh.forward(x), net.forward(x))
    with pytest.raises(ModelFileError, match="overrides"):
        load_network(path, overrides={"x.y": 1})


def test_import_does_not_import_onnx():
    code = ("import sys, accelsim as ax; ax.network('lenet5', weights='none'); "
            "print('onnx' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_missing_onnx_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ModelFileError, match=r"pip install 'accelsim\[onnx\]'"):
        import_onnx(FIXTURES / "gru2.onnx")


@pytest.mark.filterwarnings("ignore")  # the exporter's deprecation and tracer warnings
def test_regenerated_fixtures_match_torch(tmp_path):
    pytest.importorskip("torch")
    maker = _fixture_maker()
    for name in ("resnet_small", "gru2"):
        onnx_path, npz_path = maker.export(name, tmp_path)
        stored = np.load(npz_path)
        got = import_onnx(onnx_path).forward(stored["x"])
        assert relative_error(got, stored["y"]) < RTOL


@pytest.mark.filterwarnings("ignore")  # the exporter's deprecation and tracer warnings
@pytest.mark.parametrize(("name", "axes", "steps"), [
    ("gru2", {"x": {0: "batch", 1: "time"}, "y": {0: "batch", 1: "time"}}, 11),
    ("lstm_bi", None, 8),  # a fixed batch of 1: initial states by Expand
    ("resnet_small", None, None),
])
def test_open_time_and_fixed_batch_exports(tmp_path, name, axes, steps):
    torch = pytest.importorskip("torch")
    maker = _fixture_maker()
    build, sample = maker.MODELS[name]
    torch.manual_seed(0)
    module = build().eval()
    x = torch.randn(1, *sample)
    path = tmp_path / f"{name}.onnx"
    torch.onnx.export(module, (x,), str(path), opset_version=17, dynamo=False,
                      input_names=["x"], output_names=["y"], dynamic_axes=axes)
    net = import_onnx(path)
    shape = (1, steps, *sample[1:]) if steps else (1, *sample)
    data = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    assert relative_error(net.forward(data), run_ort(path, data)) < RTOL
    if steps:
        assert net.seq_len == (1 if axes else steps)


def _fixture_maker() -> object:
    spec = importlib.util.spec_from_file_location("make_fixtures",
                                                  FIXTURES / "make_fixtures.py")
    assert spec is not None and spec.loader is not None
    maker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(maker)
    return maker


# ---- hand-built graphs: operators and attributes the fixtures do not use -------------------


def test_cnn_operators_match_onnxruntime(tmp_path):
    """Unsorted nodes, SAME_UPPER and asymmetric pads, dilation, max and padded average
    pooling, Concat on channels, Clip, Sigmoid, Flatten, Reshape (N, -1), Gemm with transB,
    alpha and beta, MatMul + Add bias, Tanh, Softmax, Identity and Dropout."""
    inits = [const("w1", weights(4, 2, 3, 3)), const("b1", weights(4)),
             const("w2", weights(4, 2, 3, 3)),
             const("gb", weights(10, 8 * 3 * 3)), const("gc", weights(10)),
             const("mm", weights(10, 6)), const("mb", weights(6)),
             const("shape", np.array([0, -1], np.int64)),
             const("lo", np.array(-0.5, np.float32)), const("hi", np.array(2.0, np.float32))]
    nodes = [
        helper.make_node("Softmax", ["t"], ["y"], name="soft", axis=-1),
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="same", auto_pad="SAME_UPPER",
                         strides=[2, 2]),
        helper.make_node("Conv", ["x", "w2"], ["c2"], name="dil", pads=[1, 2, 3, 0],
                         dilations=[2, 1], strides=[2, 2]),
        helper.make_node("Clip", ["c2", "lo", "hi"], ["c2c"], name="clip"),
        helper.make_node("Sigmoid", ["c1"], ["c1s"], name="sig"),
        helper.make_node("Concat", ["c1s", "c2c"], ["cat"], name="cat", axis=1),
        helper.make_node("MaxPool", ["cat"], ["mp"], name="mp", kernel_shape=[2, 2],
                         strides=[1, 1]),
        helper.make_node("AveragePool", ["mp"], ["ap"], name="ap", kernel_shape=[3, 3],
                         strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=1),
        helper.make_node("Identity", ["ap"], ["ap2"], name="id"),
        helper.make_node("Reshape", ["ap2", "shape"], ["flat"], name="flat"),
        helper.make_node("Gemm", ["flat", "gb", "gc"], ["g"], name="gemm", transB=1,
                         alpha=0.5, beta=2.0),
        helper.make_node("Dropout", ["g"], ["gd"], name="drop"),
        helper.make_node("MatMul", ["gd", "mm"], ["m"], name="mm"),
        helper.make_node("Add", ["mb", "m"], ["mbias"], name="bias"),
        helper.make_node("Tanh", ["mbias"], ["t"], name="tanh"),
    ]
    path = save(model(nodes, [tensor("x", ["N", 2, 11, 11])], [tensor("y", ["N", 6])],
                      tuple(inits)), tmp_path)
    net = import_onnx(path)
    x = RNG.standard_normal((3, 2, 11, 11)).astype(np.float32)
    assert relative_error(net.forward(x), run_ort(path, x)) < RTOL
    assert "linear" in [layer.type_name for layer in net.layers]
    assert sum(layer.type_name == "linear" for layer in net.layers) == 2  # bias folded


def _recurrent_model(op: str, hidden: int, features: int, direction: str,
                     final_only: bool, **attrs: object) -> onnx.ModelProto:
    gates = {"RNN": 1, "GRU": 3, "LSTM": 4}[op]
    dirs = 2 if direction == "bidirectional" else 1
    inits = [const("W", weights(dirs, gates * hidden, features)),
             const("R", weights(dirs, gates * hidden, hidden)),
             const("B", weights(dirs, 2 * gates * hidden)),
             const("shape", np.array([0, -1], np.int64))]
    outputs = ["", "yh"] if final_only else ["y4"]
    if attrs.get("layout") == 1:  # batch first in and out: (N, T, dirs, H), (N, dirs, H)
        inits.append(const("shape3", np.array([0, 0, -1], np.int64)))
        nodes = [helper.make_node(op, ["x", "W", "R", "B"], outputs, name="cell",
                                  hidden_size=hidden, direction=direction, **attrs),
                 helper.make_node("Reshape", [outputs[-1], "shape" if final_only else "shape3"],
                                  ["y"], name="r")]
        out = tensor("y", ["N", dirs * hidden] if final_only else ["N", 5, dirs * hidden])
        return model(nodes, [tensor("x", ["N", 5, features])], [out], tuple(inits))
    nodes = [helper.make_node("Transpose", ["x"], ["xt"], perm=[1, 0, 2], name="tm"),
             helper.make_node(op, ["xt", "W", "R", "B"], outputs, name="cell",
                              hidden_size=hidden, direction=direction, **attrs)]
    if final_only:  # Y_h (dirs, N, H) → (N, dirs·H)
        nodes += [helper.make_node("Transpose", ["yh"], ["yt"], perm=[1, 0, 2], name="t2"),
                  helper.make_node("Reshape", ["yt", "shape"], ["y"], name="r")]
        out = tensor("y", ["N", dirs * hidden])
    else:  # Y (T, dirs, N, H) → (N, T, dirs·H)
        inits.append(const("shape3", np.array([0, 0, -1], np.int64)))
        nodes += [helper.make_node("Transpose", ["y4"], ["yt"], perm=[2, 0, 1, 3], name="t2"),
                  helper.make_node("Reshape", ["yt", "shape3"], ["y"], name="r")]
        out = tensor("y", ["N", 5, dirs * hidden])
    return model(nodes, [tensor("x", ["N", 5, features])], [out], tuple(inits))


@pytest.mark.parametrize(("op", "direction", "final_only", "attrs"), [
    ("RNN", "forward", False, {}),
    ("LSTM", "bidirectional", True, {}),
    ("LSTM", "forward", False, {}),
    ("GRU", "bidirectional", False, {"linear_before_reset": 0}),
    ("GRU", "forward", True, {"linear_before_reset": 1}),
    ("LSTM", "bidirectional", False, {"layout": 1}),
    ("GRU", "bidirectional", True, {"layout": 1, "linear_before_reset": 1}),
    ("RNN", "forward", False, {"activations": ["Tanh"]}),
])
def test_recurrent_operators_match_onnxruntime(tmp_path, op, direction, final_only, attrs):
    made = _recurrent_model(op, 6, 4, direction, final_only, **attrs)
    path = save(made, tmp_path)
    net = import_onnx(path)
    x = RNG.standard_normal((3, 5, 4)).astype(np.float32)
    if attrs.get("layout") == 1:  # onnxruntime has no batch-first kernels: onnx's reference
        want = ReferenceEvaluator(made).run(None, {"x": x})[0]
    else:
        want = run_ort(path, x)
    assert relative_error(net.forward(x), want) < RTOL
    assert net.layers[0].return_sequences is not final_only


def test_recurrent_reverse_and_clip_are_refused(tmp_path):
    path = save(_recurrent_model("GRU", 6, 4, "reverse", False), tmp_path)
    with pytest.raises(ModelFileError, match=r"'cell' \(GRU\).*reverse"):
        import_onnx(path)
    path = save(_recurrent_model("LSTM", 6, 4, "forward", False, clip=1.0), tmp_path)
    with pytest.raises(ModelFileError, match="clip"):
        import_onnx(path)


# ---- hostile files -----------------------------------------------------------------------


def _dense(nodes: list, inits: tuple = (), opset: int = 17, out: int = 3) -> onnx.ModelProto:
    return model(nodes, [tensor("x", ["N", 4])], [tensor("y", ["N", out])], inits, opset)


def test_unsupported_op_names_type_node_and_the_supported_set(tmp_path):
    nodes = [helper.make_node("LRN", ["x"], ["y"], name="norm_7", size=3)]
    path = save(model(nodes, [tensor("x", ["N", 2, 4, 4])], [tensor("y", ["N", 2, 4, 4])]),
                tmp_path)
    with pytest.raises(ModelFileError, match=r"'norm_7' has op type 'LRN'.*supported: .*Conv"):
        import_onnx(path)


@pytest.mark.parametrize("content", ["half", "random", "empty"])
def test_unreadable_files_name_the_file(tmp_path, content):
    raw = (FIXTURES / "gru2.onnx").read_bytes()
    data = {"half": raw[: len(raw) // 2], "random": np.random.default_rng(0).bytes(4096),
            "empty": b""}[content]
    path = tmp_path / f"{content}.onnx"
    path.write_bytes(data)
    with pytest.raises(ModelFileError, match=re.escape(str(path))):
        import_onnx(path)


def test_cycle_is_refused(tmp_path):
    nodes = [helper.make_node("Add", ["x", "b"], ["a"], name="first"),
             helper.make_node("Relu", ["a"], ["b"], name="second"),
             helper.make_node("Relu", ["b"], ["y"], name="out")]
    with pytest.raises(ModelFileError, match="cycle"):
        import_onnx(save(_dense(nodes, out=4), tmp_path))


def test_two_inputs_are_refused(tmp_path):
    nodes = [helper.make_node("Add", ["x", "z"], ["y"], name="add")]
    made = model(nodes, [tensor("x", ["N", 4]), tensor("z", ["N", 4])], [tensor("y", ["N", 4])])
    with pytest.raises(ModelFileError, match=r"2 inputs.*'x', 'z'"):
        import_onnx(save(made, tmp_path))


def test_computed_conv_weights_are_refused(tmp_path):
    nodes = [helper.make_node("Relu", ["x"], ["w"], name="weights"),
             helper.make_node("Conv", ["x", "w"], ["y"], name="conv")]
    made = model(nodes, [tensor("x", [1, 1, 3, 3])], [tensor("y", [1, 1, 1, 1])])
    with pytest.raises(ModelFileError, match=r"'conv' \(Conv\).*must be a constant"):
        import_onnx(save(made, tmp_path))


def test_nan_weights_are_refused(tmp_path):
    w = weights(4, 3)
    w[2, 1] = np.nan
    nodes = [helper.make_node("Gemm", ["x", "w"], ["y"], name="fc")]
    with pytest.raises(ModelFileError, match=r"'fc'.*NaN"):
        import_onnx(save(_dense(nodes, (const("w", w),)), tmp_path))


def test_float64_weights_beyond_float32_are_refused(tmp_path):
    w = np.full((4, 3), 1e300)
    nodes = [helper.make_node("Gemm", ["x", "w"], ["y"], name="fc")]
    with pytest.raises(ModelFileError, match="float32"):
        import_onnx(save(_dense(nodes, (const("w", w),)), tmp_path))


def test_old_opset_is_refused(tmp_path):
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="r")]
    with pytest.raises(ModelFileError, match=r"opset 9.*13 to 21"):
        import_onnx(save(_dense(nodes, opset=9, out=4), tmp_path))


def test_external_data_is_refused(tmp_path):
    w = const("w", weights(4, 3))
    w.data_location = TensorProto.EXTERNAL
    w.ClearField("raw_data")
    w.external_data.add(key="location", value="weights.bin")
    nodes = [helper.make_node("Gemm", ["x", "w"], ["y"], name="fc")]
    with pytest.raises(ModelFileError, match="external"):
        import_onnx(save(_dense(nodes, (w,)), tmp_path))


def test_absurd_initializer_size_is_refused_before_reading(tmp_path):
    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[2**20, 2**20])
    nodes = [helper.make_node("Gemm", ["x", "w"], ["y"], name="fc")]
    with pytest.raises(ModelFileError, match="initializer 'w' has shape"):
        import_onnx(save(_dense(nodes, (w,)), tmp_path))


@pytest.mark.parametrize(("node", "match"), [
    (helper.make_node("Reshape", ["x", "s"], ["y"], name="split"), "splits an axis"),
    (helper.make_node("Softmax", ["x"], ["y"], name="sm", axis=0), "last axis"),
    (helper.make_node("Add", ["x", "s"], ["y"], name="plus"), "bias-add"),
])
def test_unrepresentable_nodes_are_refused(tmp_path, node, match):
    inits = (const("s", np.array([0, 2, 2], np.int64)),)
    out = [tensor("y", None)]
    made = model([node], [tensor("x", ["N", 4])], out, inits)
    with pytest.raises(ModelFileError, match=f"'{node.name}'.*{match}"):
        import_onnx(save(made, tmp_path))


def test_arithmetic_on_tensors_is_refused_naming_the_node(tmp_path):
    inits = (const("two", np.array(2.0, np.float32)), const("w", weights(4, 3)))
    nodes = [helper.make_node("Mul", ["x", "two"], ["m"], name="scale"),
             helper.make_node("Gemm", ["m", "w"], ["y"], name="fc")]
    with pytest.raises(ModelFileError, match=r"'scale' \(Mul\).*only on constants"):
        import_onnx(save(_dense(nodes, inits), tmp_path))


def test_arithmetic_on_constants_is_folded(tmp_path):
    inits = (const("two", np.array(2.0, np.float32)), const("w", weights(3, 4)))
    nodes = [helper.make_node("Mul", ["w", "two"], ["w2"], name="scale"),
             helper.make_node("Gemm", ["x", "w2"], ["y"], name="fc", transB=1)]
    path = save(_dense(nodes, inits), tmp_path)
    x = RNG.standard_normal((2, 4)).astype(np.float32)
    assert relative_error(import_onnx(path).forward(x), run_ort(path, x)) < RTOL


@pytest.mark.parametrize(("op", "attrs"), [
    ("MaxPool", {"pads": [1, 1, 1, 1], "strides": [2, 2]}),
    ("MaxPool", {"pads": [0, 1, 1, 0]}),
    ("AveragePool", {"pads": [1, 1, 1, 1]}),  # ONNX's default: padding left out of the mean
    ("AveragePool", {"pads": [1, 0, 1, 2], "count_include_pad": 1, "strides": [2, 1]}),
])
def test_padded_pooling_matches_onnxruntime(tmp_path, op, attrs):
    nodes = [helper.make_node(op, ["x"], ["y"], name="pool", kernel_shape=[3, 3], **attrs)]
    made = model(nodes, [tensor("x", ["N", 2, 7, 6])], [tensor("y", None)])
    path = save(made, tmp_path)
    x = RNG.standard_normal((2, 2, 7, 6)).astype(np.float32)
    assert relative_error(import_onnx(path).forward(x), run_ort(path, x)) < RTOL


# ---- ReduceMean heads and external weight files ------------------------------------------


@pytest.mark.parametrize(("keepdims", "opset"), [(0, 17), (1, 17), (0, 18), (1, 21)])
def test_a_spatial_mean_is_global_average_pooling(tmp_path, keepdims, opset):
    axes = const("axes", np.array([-2, -1], np.int64))
    inits: tuple = (const("w", weights(5, 3)),)
    if opset >= 18:
        mean = helper.make_node("ReduceMean", ["x", "axes"], ["m"], name="mean",
                                keepdims=keepdims)
        inits = (*inits, axes)
    else:
        mean = helper.make_node("ReduceMean", ["x"], ["m"], name="mean", axes=[2, 3],
                                keepdims=keepdims)
    nodes = [mean]
    if keepdims:
        nodes.append(helper.make_node("Flatten", ["m"], ["f"], name="flat"))
    nodes.append(helper.make_node("Gemm", ["f" if keepdims else "m", "w"], ["y"], name="fc",
                                  transB=1))
    path = save(model(nodes, [tensor("x", ["N", 3, 5, 4])], [tensor("y", None)], inits, opset),
                tmp_path)
    net = import_onnx(path)
    assert "globalavgpool2d" in [layer.type_name for layer in net.layers]
    x = RNG.standard_normal((2, 3, 5, 4)).astype(np.float32)
    assert relative_error(net.forward(x), run_ort(path, x)) < RTOL


def test_a_mean_over_channels_is_refused(tmp_path):
    nodes = [helper.make_node("ReduceMean", ["x"], ["y"], name="mean", axes=[1], keepdims=1)]
    path = save(model(nodes, [tensor("x", ["N", 3, 5, 4])], [tensor("y", None)]), tmp_path)
    with pytest.raises(ModelFileError, match=r"'mean' \(ReduceMean\).*axes \[1\]"):
        import_onnx(path)


def external(tmp_path: Path, name: str = "m.onnx") -> Path:
    """The resnet fixture saved as PyTorch's dynamo exporter saves: weights in NAME.data."""
    made = onnx.load(FIXTURES / "resnet_small.onnx")
    path = tmp_path / name
    onnx.save(made, path, save_as_external_data=True, all_tensors_to_one_file=True,
              location=f"{name}.data", size_threshold=0)
    return path


def test_weights_in_an_external_data_file_beside_the_model_are_read(tmp_path):
    path = external(tmp_path)
    assert path.stat().st_size < 20_000 < (tmp_path / "m.onnx.data").stat().st_size
    x = np.load(FIXTURES / "resnet_small.npz")["x"]
    assert relative_error(import_onnx(path).forward(x), run_ort(path, x)) < RTOL


def _relocate(path: Path, location: str | None = None, length: int | None = None) -> None:
    made = onnx.load(path, load_external_data=False)
    entry = next(e for t in made.graph.initializer for e in t.external_data
                 if e.key == ("location" if location is not None else "length"))
    entry.value = location if location is not None else str(length)
    path.write_bytes(made.SerializeToString())


@pytest.mark.parametrize(("change", "message"), [
    ({"location": "../m.onnx.data"}, "only from a file beside the model"),
    ({"location": "/etc/passwd"}, "only from a file beside the model"),
    ({"location": "missing.data"}, "cannot be read"),
    ({"length": 3}, "does not hold its"),
])
def test_external_data_that_leaves_the_folder_or_the_file_is_refused(tmp_path, change, message):
    path = external(tmp_path)
    _relocate(path, **change)
    with pytest.raises(ModelFileError, match=message):
        import_onnx(path)


def test_truncated_external_data_is_refused(tmp_path):
    path = external(tmp_path)
    data = tmp_path / "m.onnx.data"
    data.write_bytes(data.read_bytes()[:100])
    with pytest.raises(ModelFileError, match="truncated or not this model's"):
        import_onnx(path)
