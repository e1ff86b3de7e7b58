"""cuDNN's RNN algorithms on the GPU model (accelsim/machines/gpu/recurrent.py): the standard
algorithm's kernels and shapes per cell kind, the choice "auto" makes, and the library call's
pace."""

import math

import pytest

from accelsim.ir import CellKind
from accelsim.lower import lower
from accelsim.machines.gpu.gemm import choose_kernel
from accelsim.machines.gpu.recurrent import (
    RECURRENT_TILE_ROWS,
    algorithm,
    cudnn_kernels,
    library_seconds,
    standard_kernels,
)
from accelsim.machines.gpu.runtime import PYTORCH_EAGER
from accelsim.machines.gpu.spec import H200, K80, V100
from accelsim.nn.network import Network
from accelsim.nn.recurrent import GRU, LSTM, RNN
from accelsim.precision import Precision

FP32, FP16 = Precision.FP32, Precision.FP16
GATES = {RNN: 1, LSTM: 4, GRU: 3}


def recurrence(cls, hidden=256, batch=16, steps=5, features=None):
    net = Network("t", (cls("rnn", hidden_size=hidden),), (features or hidden,), {},
                  sequence=True, seq_len=steps)
    (rec,) = (layer.recurrence for layer in lower(net, batch=batch).layers if layer.recurrence)
    return rec


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
def test_standard_algorithm_is_one_input_gemm_then_a_gemm_and_a_cell_kernel_per_step(cls):
    hidden, batch, steps, features = 512, 16, 5, 96
    rec = recurrence(cls, hidden, batch, steps, features)
    gates = GATES[cls]
    kernels = standard_kernels(rec, FP32, V100)
    assert len(kernels) == 1 + 2 * steps
    # the input projection of every step: M = batch·steps, K = features, N = gates·hidden
    assert kernels[0].gemm == choose_kernel(batch * steps, features, gates * hidden, V100, FP32)
    names = [k.name for k in kernels[1:]]
    assert names == names[:2] * steps and names[1] == f"fused_{rec.kind.value}_cell"
    # the recurrent GEMM: M = gates·hidden in tiles of 128 rows, N = batch (16: one tile)
    assert kernels[1].gemm.ctas == math.ceil(gates * hidden / RECURRENT_TILE_ROWS)
    assert kernels[1].gemm.split_k == 1
    # skip input (DeepBench): no input GEMM, the same steps; the cell reads x_t (batch·
    # hidden) where it read the input's projection (batch·gates·hidden)
    skipped = standard_kernels(rec, FP32, V100, skip_input=True)
    assert [k.name for k in skipped] == names and skipped[0] == kernels[1]
    assert kernels[2].dram_bytes - skipped[1].dram_bytes == (gates - 1) * batch * hidden * 4


def test_gru_cell_kernel_reads_both_gate_halves_and_h():
    """linear-before-reset: x·W_i (3H) and h·W_h (3H, h·W_hn kept apart) in, h in, h out."""
    batch, hidden = 16, 256
    cell = standard_kernels(recurrence(GRU, hidden, batch), FP32, V100)[2]
    assert cell.dram_bytes == (2 * 3 * batch * hidden + batch * hidden) * 4
    lstm_cell = standard_kernels(recurrence(LSTM, hidden, batch), FP32, V100)[2]
    assert lstm_cell.dram_bytes == (2 * 4 * batch * hidden + 3 * batch * hidden) * 4


def test_auto_takes_the_persistent_kernel_where_it_fits():
    char = recurrence(LSTM, hidden=128, batch=64, steps=10)
    assert algorithm(char, FP32, H200) == "persistent"
    assert cudnn_kernels(char, FP32, H200)[-1].name == "RNN_blockPersist_fp_LSTM"
    # 256 CTAs for hidden 2,048: more than the SMs; no grid sync on a K80
    assert algorithm(recurrence(LSTM, hidden=2048, batch=64), FP16, H200) == "standard"
    assert algorithm(char, FP32, K80) == "standard"
    # "standard" asked for: the standard algorithm even where the persistent kernel fits
    standard = PYTORCH_EAGER.replace(rnn_algorithm="standard")
    assert algorithm(char, FP32, H200, standard) == "standard"
    kernels = cudnn_kernels(char, FP32, H200, standard)
    assert [k.name for k in kernels[-2:]] == [kernels[-4].name, "fused_lstm_cell"]


def test_a_small_layer_called_as_a_library_is_host_bound():
    rec = recurrence(LSTM, hidden=64, batch=4, steps=20)
    kernels = standard_kernels(rec, FP16, V100, skip_input=True)
    runtime = PYTORCH_EAGER
    assert sum(k.seconds for k in kernels) < runtime.library_launch_host_s * len(kernels)
    assert library_seconds(rec, FP16, V100, skip_input=True) == pytest.approx(
        runtime.library_call_host_s + runtime.library_launch_host_s * 2 * 20)


def test_a_large_layer_called_as_a_library_is_device_bound_and_linear_in_steps():
    one, two = (library_seconds(recurrence(GRU, 2048, 32, steps), FP32, V100, True)
                for steps in (100, 200))
    assert two == pytest.approx(2 * one)
    assert recurrence(GRU, 2048, 32, 1).kind is CellKind.GRU
