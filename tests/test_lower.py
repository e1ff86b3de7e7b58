"""Lowering: exact GEMM shapes, MAC counts checked by hand, and byte counts per precision."""

from __future__ import annotations

import pytest

import accelsim as ax
from accelsim.errors import AccelsimError
from accelsim.ir import Direction, Gemm, Pool, PoolKind, Transfer, Vector, VectorKind, describe
from accelsim.nn.loader import load_network

LENET_MACS = {
    "conv1": 28 * 28 * 6 * (1 * 5 * 5),  # 117,600 per image
    "conv2": 10 * 10 * 16 * (6 * 5 * 5),  # 240,000
    "conv3": 1 * 1 * 120 * (16 * 5 * 5),  # 48,000
    "fc1": 120 * 80,
    "fc2": 80 * 10,
}


def test_lenet5_macs_per_layer_by_hand():
    wl = ax.lower(ax.network("lenet5"), batch=1)
    assert LENET_MACS["conv1"] == 117_600
    assert wl.macs_by_layer() == LENET_MACS
    assert wl.macs == 416_000 and wl.total_ops == 832_000


def test_lenet5_gemm_shapes_match_scale_sim_topology():
    gemms = {g.name: (g.m, g.k, g.n) for g in ax.lower(ax.network("lenet5"), 1).gemms}
    assert gemms == {"conv1": (784, 25, 6), "conv2": (100, 150, 16), "conv3": (1, 400, 120),
                     "fc1": (1, 120, 80), "fc2": (1, 80, 10)}


def test_batch_scales_m_only():
    wl = ax.lower(ax.network("lenet5"), batch=64)
    conv1 = wl.gemms[0]
    assert (conv1.m, conv1.k, conv1.n) == (64 * 784, 25, 6)
    assert wl.macs == 64 * 416_000
    assert conv1.conv.kernel == (5, 5) and conv1.conv.out_hw == (28, 28)


def test_op_sequence_of_lenet5():
    ops = ax.lower(ax.network("lenet5"), batch=2).ops
    kinds = [type(op).__name__ for op in ops]
    assert kinds == ["Transfer", "Gemm", "Vector", "Pool", "Gemm", "Vector", "Pool", "Gemm",
                     "Vector", "Gemm", "Vector", "Gemm", "Transfer"]
    pool1 = ops[3]
    assert isinstance(pool1, Pool) and pool1.kind is PoolKind.MAX
    assert pool1.elements == 2 * 6 * 14 * 14 and pool1.window_ops == pool1.elements * 3
    assert ops[2] == Vector("relu1", VectorKind.RELU, 2 * 6 * 28 * 28, layer="relu1")
    assert ops[0] == Transfer("input", Direction.TO_DEVICE, 2 * 32 * 32)
    assert ops[-1] == Transfer("output", Direction.TO_HOST, 2 * 10)


def test_lstm_step_is_one_gate_gemm_repeated_over_time():
    net = load_network("lstm-char", weights="init", overrides={"lstm.hidden_size": 128})
    wl = ax.lower(net, batch=64, seq_len=50)
    gates = wl.gemms[0]
    assert (gates.m, gates.k, gates.n, gates.count) == (64, 96 + 128, 4 * 128, 50)
    readout = wl.gemms[1]
    assert (readout.m, readout.k, readout.n, readout.count) == (64 * 50, 128, 96, 1)
    vectors = {op.kind: op for op in wl.ops if isinstance(op, Vector)}
    cells = 64 * 128
    assert vectors[VectorKind.SIGMOID].elements == 3 * cells
    assert vectors[VectorKind.TANH].elements == 2 * cells
    assert vectors[VectorKind.MUL].elements == 3 * cells
    assert vectors[VectorKind.ADD].elements == cells
    assert all(v.count == 50 for v in vectors.values())
    assert wl.macs == 50 * 64 * 224 * 512 + 64 * 50 * 128 * 96


def test_sequence_length_defaults_to_the_network():
    net = ax.network("lstm-recall")
    assert ax.lower(net, 1).seq_len == 52
    assert ax.lower(net, 1, seq_len=5).gemms[0].count == 5


def test_byte_counts_per_precision_are_exact():
    wl = ax.lower(ax.network("lenet5"), batch=1)
    weights = 25 * 6 + 150 * 16 + 400 * 120 + 120 * 80 + 80 * 10
    biases = 6 + 16 + 120 + 80 + 10
    assert wl.weight_bytes("fp32") == 4 * weights + 4 * biases
    assert wl.weight_bytes("fp16") == 2 * weights + 4 * biases
    assert wl.weight_bytes("int8") == weights + 4 * biases
    assert wl.transfer_bytes("fp32", Direction.TO_DEVICE) == 4096
    assert wl.transfer_bytes("int8", Direction.TO_HOST) == 10
    conv1 = wl.gemms[0]
    assert conv1.input_bytes(ax.Precision.FP16) == 784 * 25 * 2
    assert conv1.output_bytes(ax.Precision.INT8) == 784 * 6


def test_fully_connected_on_raw_pixels_needs_far_more_weights(write_model):
    # The book: a fully connected layer from the 1,024 pixels to conv1's 6×28×28 outputs needs
    # 1024 × 4704 weights; the convolution producing the same outputs shares 6 × 25.
    dense = write_model("""
        name = "dense"
        input_shape = [1, 32, 32]
        [[layers]]
        type = "flatten"
        [[layers]]
        name = "fc"
        type = "linear"
        out_features = 4704
        bias = false
    """)
    fc = ax.lower(load_network(dense), 1).gemms[0]
    conv1 = ax.lower(ax.network("lenet5"), 1).gemms[0]
    assert fc.k * fc.n == 1024 * 4704 == 4_816_896
    assert conv1.k * conv1.n == 150
    assert fc.k * fc.n / (conv1.k * conv1.n) > 30_000
    lenet_weights = sum(g.k * g.n for g in ax.lower(ax.network("lenet5"), 1).gemms)
    assert fc.k * fc.n > 75 * lenet_weights


def test_bad_sequence_lengths():
    with pytest.raises(AccelsimError, match="seq_len = True"):
        ax.lower(ax.network("lstm-recall"), 1, seq_len=True)
    with pytest.raises(AccelsimError, match="takes no sequences"):
        ax.lower(ax.network("lenet5"), 1, seq_len=5)


@pytest.mark.parametrize("batch", [0, -1, 1.5, True])
def test_bad_batch(batch):
    with pytest.raises(AccelsimError, match="batch"):
        ax.lower(ax.network("lenet5"), batch=batch)


def test_gemm_properties():
    g = Gemm("g", m=2, k=3, n=4, count=5)
    assert g.macs == 120 and g.ops == 240
    assert g.weight_bytes(ax.Precision.FP32) == 3 * 4 * 4 + 4 * 4
    assert g.activation_bits == 8


def test_sixteen_bit_activations_take_two_bytes_at_int8_only():
    g = Gemm("g", m=2, k=3, n=4, count=5, activation_bits=16)
    assert g.input_bytes(ax.Precision.INT8) == 2 * 3 * 5 * 2
    assert g.input_bytes(ax.Precision.FP32) == 2 * 3 * 5 * 4  # float machines ignore the width
    assert g.weight_bytes(ax.Precision.INT8) == 3 * 4 + 4 * 4  # weights stay int8
    assert g.output_bytes(ax.Precision.INT8) == 2 * 4 * 5
    assert " a16 " in describe(g)
    for bits in (4, 32, True, 8.0):
        with pytest.raises(AccelsimError, match=f"GEMM 'g': activation_bits = {bits!r} must "
                                                "be 8 or 16"):
            Gemm("g", m=2, k=3, n=4, activation_bits=bits)


def test_lower_takes_each_gemms_activation_width_from_the_network(wide_inputs):
    net = wide_inputs(ax.network("lenet5"), {"conv2": 16, "fc1": 16, "conv1": 8})
    wl = ax.lower(net, batch=2)
    assert {g.name: g.activation_bits for g in wl.gemms} == {
        "conv1": 8, "conv2": 16, "conv3": 8, "fc1": 16, "fc2": 8}
    plain = ax.lower(ax.network("lenet5"), batch=2)
    assert all(g.activation_bits == 8 for g in plain.gemms)  # float networks: all 8
    conv2 = wl.gemms[1]
    assert conv2.input_bytes(ax.Precision.INT8) == 2 * plain.gemms[1].input_bytes(
        ax.Precision.INT8) == (2 * 100) * 150 * 2  # 2 bytes per element
    assert wl.macs == plain.macs


def test_recurrent_gate_gemms_take_the_layers_activation_width(wide_inputs):
    wl = ax.lower(wide_inputs(ax.network("lstm-char"), {"lstm": 16}), batch=4, seq_len=3)
    lstm = next(layer for layer in wl.layers if layer.recurrence is not None)
    assert lstm.gemm.activation_bits == lstm.recurrence.gates.activation_bits == 16
    assert lstm.recurrence.gates is lstm.gemm
    assert [g.activation_bits for g in wl.gemms] == [16, 8]


# ---- graphs: named inputs, folded batch norm, merges, grouped convolutions, GRU -----------

BLOCK = """
name = "block"
input_shape = [8, 12, 12]
[[layers]]
name = "conv"
type = "conv2d"
out_channels = 8
kernel_size = 3
padding = 1
bias = false
[[layers]]
name = "bn"
type = "batchnorm2d"
[[layers]]
name = "dw"
type = "conv2d"
out_channels = 16
kernel_size = 3
padding = [0, 0, 1, 1]
dilation = 2
groups = 8
[[layers]]
name = "clip"
type = "relu6"
[[layers]]
name = "squeeze"
type = "conv2d"
out_channels = 8
kernel_size = 1
inputs = "input"
[[layers]]
name = "bn2"
type = "batchnorm2d"
inputs = "input"
[[layers]]
name = "sum"
type = "add"
inputs = ["squeeze", "bn2", "input"]
[[layers]]
name = "cat"
type = "concat"
inputs = ["sum", "bn"]
[[layers]]
name = "gap"
type = "globalavgpool2d"
[[layers]]
name = "flat"
type = "flatten"
[[layers]]
name = "fc"
type = "linear"
out_features = 4
"""


def test_a_graph_lowers_in_order_with_what_each_layer_reads(write_model):
    wl = ax.lower(ax.network(write_model(BLOCK), weights="none"), batch=2)
    reads = {layer.name: layer.inputs for layer in wl.layers}
    assert [layer.name for layer in wl.layers] == [
        "input", "conv", "bn", "dw", "clip", "squeeze", "bn2", "sum", "cat", "gap", "fc",
        "output"]
    # bn may fold into conv (its only reader): a compiler folds it, eager PyTorch runs it;
    # bn2 reads the input, not a convolution; flatten is a view
    assert reads == {"input": (), "conv": ("input",), "bn": ("conv",), "dw": ("bn",),
                     "clip": ("dw",), "squeeze": ("input",), "bn2": ("input",),
                     "sum": ("squeeze", "bn2", "input"), "cat": ("sum", "bn"),
                     "gap": ("cat",), "fc": ("gap",), "output": ("fc",)}
    assert {layer.name: layer.folds_into for layer in wl.layers if layer.folds_into} == \
        {"bn": "conv"}
    ops = {op.name: op for op in wl.ops}
    assert ops["bn"] == Vector("bn", VectorKind.SCALE, 2 * 8 * 12 * 12, layer="bn")
    assert not ops["conv"].bias  # as written: a compiler that folds bn gives it one
    assert ops["bn2"] == Vector("bn2", VectorKind.SCALE, 2 * 8 * 12 * 12, layer="bn2")
    assert ops["sum"] == Vector("sum", VectorKind.ADD, 2 * 8 * 144, 2, "sum")  # 3 inputs: 2 adds
    assert ops["cat"] == Vector("cat", VectorKind.COPY, 2 * 16 * 144, layer="cat")
    assert ops["clip"].kind is VectorKind.CLIP
    gap = ops["gap"]
    assert (gap.kind, gap.window, gap.in_hw, gap.out_hw, gap.channels) == (
        PoolKind.AVG, (12, 12), (12, 12), (1, 1), 16)


def test_grouped_convolutions_are_one_gemm_per_group(write_model):
    wl = ax.lower(ax.network(write_model(BLOCK), weights="none"), batch=2)
    dw = next(g for g in wl.gemms if g.name == "dw")
    # 8 groups of 1 input channel and 2 filters; dilation 2 spans 5x5; padding bottom/right 1
    out_h = (12 + 1 - 2 * (3 - 1) - 1) // 1 + 1
    assert (dw.m, dw.k, dw.n, dw.groups) == (2 * out_h * out_h, 9, 2, 8)
    assert dw.conv.depthwise and dw.conv.dilation == (2, 2) and dw.conv.padding == (0, 0, 1, 1)
    assert dw.macs == 2 * out_h * out_h * 9 * 2 * 8
    assert dw.weight_bytes(ax.Precision.FP32) == 8 * (9 * 2 * 4 + 2 * 4)
    assert "groups=8" in describe(dw)


def test_gru_and_bidirectional_layers_lower_to_one_recurrence_per_direction(write_model):
    net = ax.network(write_model("""
        name = "bigru"
        input_shape = [12]
        sequence = true
        seq_len = 8
        [[layers]]
        name = "gru"
        type = "gru"
        hidden_size = 16
        bidirectional = true
        [[layers]]
        name = "fc"
        type = "linear"
        out_features = 5
    """), weights="none")
    wl = ax.lower(net, batch=4)
    forward, reverse = (layer for layer in wl.layers if layer.recurrence)
    assert (forward.name, reverse.name) == ("gru", "gru.reverse")
    assert forward.inputs == reverse.inputs == ("input",)
    assert next(layer for layer in wl.layers if layer.name == "fc").inputs == ("gru",
                                                                               "gru.reverse")
    gates = forward.recurrence.gates
    assert (gates.m, gates.k, gates.n, gates.count) == (4, 12 + 16, 3 * 16, 8)
    assert forward.recurrence.kind.value == "gru"
    cells = {op.kind: op.elements for op in forward.recurrence.cell}
    assert cells == {VectorKind.SIGMOID: 2 * 64, VectorKind.TANH: 64, VectorKind.MUL: 3 * 64,
                     VectorKind.ADD: 3 * 64}
    assert wl.macs == 2 * 8 * 4 * 28 * 48 + 8 * 4 * 32 * 5  # fc reads both directions


@pytest.mark.parametrize("name", ["lenet5", "resnet18", "mobilenetv2", "lstm-char", "gru-char"])
def test_a_workload_at_another_batch_is_the_network_lowered_at_it(name):
    net = ax.network(name, weights="none")
    assert ax.lower(net, 8).with_batch(3) == ax.lower(net, 3)


def test_resnet18_and_mobilenetv2_macs_are_the_papers():
    """He et al. 2016: 1.8 GFLOPs (multiply-adds) for ResNet-18 at 224x224; Sandler et al.
    2018, Table 4: 300 M multiply-adds for MobileNetV2 1.0."""
    resnet = ax.lower(ax.network("resnet18", weights="none"), 1)
    mobile = ax.lower(ax.network("mobilenetv2", weights="none"), 1)
    assert resnet.macs == 1_814_073_344 and mobile.macs == 300_774_272
    assert sum(g.conv is not None and g.conv.depthwise for g in mobile.gemms) == 17
