"""DeepBench's V100 recurrent layers (accelsim/measure/data/deepbench-v100.json) against
gpu-v100's standard algorithm. Three constants of recurrent.py were fitted on the even-indexed
rows of each family and precision: `fitted=True` is an in-sample check, `fitted=False` the
out-of-sample one on the held-out odd rows. Bounds sit a few points above the errors measured
when the constants were fitted (median absolute error; no row off by more than 2x)."""

import pytest

from accelsim.machines.gpu.core import gpu_preset
from accelsim.precision import Precision
from accelsim.validation.comparison import median_ape
from accelsim.validation.deepbench_rnn import rnn_rows, rows_of_half

FP32, FP16 = Precision.FP32, Precision.FP16
# (precision, family, fitted half?) -> median bound; measured: 18.8/17.1, 12.5/8.1,
# 21.8/18.7 (fp32 LSTM, GRU, vanilla), 15.5/16.0, 14.7/20.5, 16.4/11.2 (fp16)
BOUNDS = {
    (FP32, "lstm", True): 0.21, (FP32, "lstm", False): 0.20,
    (FP32, "gru", True): 0.15, (FP32, "gru", False): 0.11,
    (FP32, "vanilla", True): 0.24, (FP32, "vanilla", False): 0.21,
    (FP16, "lstm", True): 0.18, (FP16, "lstm", False): 0.19,
    (FP16, "gru", True): 0.17, (FP16, "gru", False): 0.23,
    (FP16, "vanilla", True): 0.19, (FP16, "vanilla", False): 0.14,
}


@pytest.fixture(scope="module")
def v100():
    return gpu_preset("gpu-v100")


@pytest.mark.parametrize(("precision", "family", "fitted"), list(BOUNDS))
def test_deepbench_rnn_median_error_and_no_row_off_by_2x(v100, precision, family, fitted):
    rows = rows_of_half(rnn_rows(v100, precision, family), fitted)
    assert len(rows) >= 6
    assert median_ape(rows) <= BOUNDS[precision, family, fitted]
    assert not [r.label for r in rows if r.off_by_2x]


def test_every_deepbench_rnn_row_is_compared(v100):
    counts = {family: len(rnn_rows(v100, FP32, family)) for family in ("lstm", "gru", "vanilla")}
    assert counts == {"lstm": 22, "gru": 19, "vanilla": 12}
