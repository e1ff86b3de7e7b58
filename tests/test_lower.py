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
