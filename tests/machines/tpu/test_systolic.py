"""SystolicArray: exact agreement with SCALE-Sim 3.0.0, and the cycle-level engine's values and
cycles against numpy and against the closed form."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.errors import AccelsimError
from accelsim.machines.tpu import SystolicArray

REFERENCE = Path(__file__).parent / "data" / "scalesim_3.0.0_cycles.csv"

# LeNet-5 as GEMMs on 256×256: SCALE-Sim 3.0.0's Total Cycles (make bench-scalesim reruns it).
LENET_TABLE = [
    ("ws", 784, 25, 6, 1549), ("ws", 100, 150, 16, 865), ("ws", 1, 400, 120, 1533),
    ("ws", 1, 120, 80, 766), ("ws", 1, 80, 10, 766),
    ("os", 784, 25, 6, 2139), ("os", 100, 150, 16, 659), ("os", 1, 400, 120, 909),
    ("os", 1, 120, 80, 629), ("os", 1, 80, 10, 589),
    ("is", 784, 25, 6, 3087), ("is", 100, 150, 16, 781), ("is", 1, 400, 120, 1771),
    ("is", 1, 120, 80, 845), ("is", 1, 80, 10, 775),
]


def reference_rows() -> list[dict]:
    with REFERENCE.open() as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("dataflow,m,k,n,expected", LENET_TABLE)
def test_lenet_table_from_the_validation_folder(dataflow, m, k, n, expected):
    assert SystolicArray(256, 256, dataflow).cycles(m, k, n) == expected


def test_every_scalesim_run_is_reproduced_exactly():
    rows = reference_rows()
    assert len(rows) >= 150
    for row in rows:
        array = SystolicArray(int(row["rows"]), int(row["cols"]), row["dataflow"])
        m, k, n = int(row["m"]), int(row["k"]), int(row["n"])
        assert array.cycles(m, k, n) == int(row["total_cycles"]), row
        stats = array.stats(m, k, n)
        assert stats.utilization * 100 == pytest.approx(float(row["overall_util_pct"]),
                                                       rel=1e-9), row
        assert stats.mapping_efficiency * 100 == pytest.approx(
            float(row["mapping_efficiency_pct"]), rel=1e-9), row


def expected_output_cycles(array: SystolicArray, m: int, k: int, n: int) -> np.ndarray:
    """Completion cycle of each C[i, j], written out per dataflow."""
    mp = array.mapping(m, k, n)
    rf, period, rows, cols = mp.row_folds, mp.fold_cycles, array.rows, array.cols
    i, j = np.meshgrid(np.arange(m), np.arange(n), indexing="ij")
    if array.dataflow == "ws":  # last k-fold of column block j // cols
        return ((j // cols) * rf + rf - 1) * period + 2 * rows - 1 + i + j % cols
    if array.dataflow == "is":  # inputs stationary: m spreads over columns, n is time
        return ((i // cols) * rf + rf - 1) * period + 2 * rows - 1 + j + i % cols
    return ((j // cols) * rf + i // rows) * period + k - 1 + i % rows + j % cols


def check_engine(array: SystolicArray, a: np.ndarray, b: np.ndarray) -> None:
    result = array.simulate(a, b)
    m, k, n = a.shape[0], a.shape[1], b.shape[1]
    np.testing.assert_array_equal(result.output.astype(np.int64),
                                  a.astype(np.int64) @ b.astype(np.int64))
    assert result.last_cycle == array.cycles(m, k, n)
    np.testing.assert_array_equal(result.output_cycles, expected_output_cycles(array, m, k, n))
    assert result.output_cycles.max() <= result.last_cycle


int8_matrices = st.integers(1, 12)


@settings(max_examples=150, deadline=None)
@given(rows=st.integers(1, 16), cols=st.integers(1, 16), m=st.integers(1, 24),
       k=st.integers(1, 24), n=st.integers(1, 24), dataflow=st.sampled_from(["ws", "os", "is"]),
       seed=st.integers(0, 2**32 - 1))
def test_engine_is_exact_on_small_arrays(rows, cols, m, k, n, dataflow, seed):
    rng = np.random.default_rng(seed)
    array = SystolicArray(rows, cols, dataflow)
    a = rng.integers(-128, 128, (m, k), dtype=np.int8)
    b = rng.integers(-128, 128, (k, n), dtype=np.int8)
    check_engine(array, a, b)
    twin = array.simulate(a, b, engine="numpy")
    reference = array.simulate(a, b)
    np.testing.assert_array_equal(twin.output, reference.output)
    np.testing.assert_array_equal(twin.output_cycles, reference.output_cycles)


@pytest.mark.parametrize("dataflow", ["ws", "os", "is"])
@pytest.mark.parametrize("m,k,n", [(784, 25, 6), (300, 257, 260), (1, 400, 120)])
def test_engine_on_the_full_256x256_array(dataflow, m, k, n):
    rng = np.random.default_rng(m + k + n)
    a = rng.integers(-128, 128, (m, k), dtype=np.int8)
    b = rng.integers(-128, 128, (k, n), dtype=np.int8)
    check_engine(SystolicArray(256, 256, dataflow), a, b)


def test_extreme_values_accumulate_in_32_bits():
    array = SystolicArray(8, 8, "ws")
    a = np.full((3, 200), -128, np.int8)
    b = np.full((200, 5), -128, np.int8)
    assert np.all(array.simulate(a, b).output == 200 * 128 * 128)


@pytest.mark.parametrize("kwargs,match", [
    ({"rows": 0}, "rows = 0 must be a positive integer"),
    ({"cols": -4}, "cols = -4 must be a positive integer"),
    ({"rows": 2.5}, "rows = 2.5"),
    ({"dataflow": "rs"}, "unknown dataflow 'rs'"),
])
def test_bad_arrays(kwargs, match):
    with pytest.raises(AccelsimError, match=match):
        SystolicArray(**kwargs)


def test_arrays_are_immutable_values():
    array = SystolicArray(8, 8, "os")
    assert array == SystolicArray(8, 8, "os") and array.roles.time == "k"
    with pytest.raises(AttributeError):
        array.rows = 4


def test_bad_operands():
    array = SystolicArray(4, 4)
    with pytest.raises(AccelsimError, match="m = 0"):
        array.cycles(0, 1, 1)
    with pytest.raises(AccelsimError, match="int8 values"):
        array.simulate(np.full((2, 2), 300), np.ones((2, 2), int))
    with pytest.raises(AccelsimError, match="inner dimensions"):
        array.simulate(np.ones((2, 3), np.int8), np.ones((2, 2), np.int8))
    with pytest.raises(AccelsimError, match="int8 values"):
        array.simulate(np.ones((2, 2)) * 0.5, np.ones((2, 2), np.int8))
