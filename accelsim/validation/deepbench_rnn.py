"""DeepBench's published V100 recurrent layers (accelsim/measure/data/deepbench-v100.json,
"lstm", "gru", "vanilla" per precision) against the `gpu-v100` model's standard algorithm.

DeepBench's rnn_bench ran each layer as one cudnnRNNForwardTraining call (cuDNN 7.6): one
layer, unidirectional, input size = hidden size, CUDNN_RNN_ALGO_STANDARD, CUDNN_SKIP_INPUT (no
input GEMM: x_t enters the point-wise kernel as it is), CUDNN_TENSOR_OP_MATH (tensor cores in
fp16), "vanilla" = CUDNN_RNN_RELU; fwd_ms is 100 calls back to back between two host clocks,
divided by 100. Each row here times the same layer: `gpu-v100` with rnn_algorithm="standard"
and framework="library", a recurrence of that family (accelsim.lower of one layer, input =
hidden, T steps, batch N), through `recurrent.library_seconds` (the host issuing the call and
its kernels while the device runs them). The vanilla RNN is lowered with tanh; ReLU's cheaper
point-wise work changes nothing measurable (the kernel is bound by its traffic).

Three constants of the standard algorithm were fitted on these rows (recurrent.py): on the
even-indexed rows of each family and precision (`FIT_HALF`); the odd rows are held out.
`rows_of_half` splits a family's rows the same way, so both halves are reported apart.
"""

from __future__ import annotations

from accelsim.ir import Recurrence
from accelsim.lower import lower
from accelsim.machines.gpu.core import GPU
from accelsim.machines.gpu.recurrent import library_seconds, recurrent_gemm
from accelsim.measure.recorded import read
from accelsim.nn.network import Network
from accelsim.nn.recurrent import GRU, LSTM, RNN, Recurrent
from accelsim.precision import Precision
from accelsim.validation.gpu_recorded import Report, Row

FILE = "deepbench-v100.json"
FAMILIES: dict[str, type[Recurrent]] = {"lstm": LSTM, "gru": GRU, "vanilla": RNN}
PRECISIONS = (Precision.FP32, Precision.FP16)
FIT_HALF = 0  # rows with index % 2 == FIT_HALF fitted the constants; the others held out


def recurrence(family: str, hidden: int, batch: int, steps: int) -> Recurrence:
    """One layer of `family` as DeepBench sized it (input = hidden), lowered."""
    layer = FAMILIES[family]("rnn", hidden_size=hidden)
    net = Network(f"deepbench-{family}", (layer,), (hidden,), {}, sequence=True,
                  seq_len=steps)
    (rec,) = (lay.recurrence for lay in lower(net, batch=batch).layers if lay.recurrence)
    return rec


def rnn_rows(gpu: GPU, precision: Precision, family: str) -> list[Row]:
    """Every DeepBench row of one family ("lstm", "gru", "vanilla") and precision, timed as
    DeepBench ran it: the standard algorithm, called as a library."""
    spec, runtime = gpu.spec, gpu.runtime.replace(rnn_algorithm="standard",
                                                  framework="library")
    rows = []
    for r in read(FILE)[precision.value][family]:
        rec = recurrence(family, r["hidden"], r["N"], r["T"])
        seconds = library_seconds(rec, precision, spec, skip_input=True, runtime=runtime)
        kernel = recurrent_gemm(rec, precision, spec).name
        rows.append(Row(f"{family} {r['app']} H{r['hidden']} N{r['N']} T{r['T']}", precision,
                        r["fwd_ms"] * 1e3, seconds * 1e6, kernel))
    return rows


def rows_of_half(rows: list[Row], fitted: bool) -> list[Row]:
    """The rows the constants were fitted on (`fitted`), or the held-out rest."""
    return [row for i, row in enumerate(rows) if (i % 2 == FIT_HALF) == fitted]


def rnn_report(gpu: GPU) -> Report:
    """Every DeepBench recurrent layer, both precisions, against `gpu`'s model."""
    return Report(f"{gpu.name} against DeepBench RNNs (V100)",
                  tuple(row for p in PRECISIONS for family in FAMILIES
                        for row in rnn_rows(gpu, p, family)))
