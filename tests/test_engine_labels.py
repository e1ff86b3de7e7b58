"""The run path's data checks: one label per sample, class indices in range, finite inputs."""

from __future__ import annotations

import numpy as np
import pytest

import accelsim as ax
from accelsim.errors import AccelsimError, DataError
from accelsim.nn.scoring import score, split_data

OUTPUTS = np.eye(4, dtype=np.float32)[[0, 1, 2, 3, 3]]  # 5 samples, 4 classes


def test_score_counts_correct_predictions():
    assert score(OUTPUTS, np.array([0, 1, 2, 3, 0])) == 0.8
    assert score(OUTPUTS, np.array([0.0, 1.0, 2.0, 3.0, 3.0])) == 1.0


@pytest.mark.parametrize(("labels", "message"), [
    (np.array([0, 1, 2, 3]), r"labels of shape \(4,\) give 4 labels for 5 samples"),
    (np.array([0, 1, 2, 3, 4]), r"1 label\(s\) outside 0 to 3 .* first is 4 at index 4"),
    (np.array([0, -2, 2, 3, 1]), r"first is -2 at index 1"),
    (np.array([0, 1, 2.25, 3, 1]), r"label 2\.25 at index 2 is not a whole number"),
    (np.array([0, 1, np.inf, 3, 1]), r"label array holds 1 non-finite value"),
    (np.array([None] * 5), r"labels have dtype object"),
])
def test_score_refuses_bad_labels(labels, message):
    with pytest.raises(DataError, match=message):
        score(OUTPUTS, labels)


def test_split_data_checks_one_label_per_sample():
    x, y = split_data((np.zeros((3, 2)), [1, 2, 3]))
    assert x.shape == (3, 2) and y.tolist() == [1, 2, 3]
    with pytest.raises(DataError, match=r"labels of shape \(2,\) give 2 labels for 3 samples"):
        split_data((np.zeros((3, 2)), [1, 2]))
    with pytest.raises(DataError, match=r"a single label for 3 samples"):
        split_data((np.zeros((3, 2)), 1))
    with pytest.raises(DataError, match="the inputs cannot form one array"):
        split_data(([[1, 2], [3]], None))
    with pytest.raises(AccelsimError, match="data must be x or"):
        split_data((1, 2, 3))


def test_a_machine_run_refuses_bad_data(fixed_machine):
    net = ax.network("lenet5")
    x, y = ax.datasets.load("digits", split="test")
    bad = x[:4].copy()
    bad[1, 0, 0, 0] = np.nan
    with pytest.raises(DataError, match=r"1 non-finite value .* index \(1, 0, 0, 0\)"):
        fixed_machine.run(net, data=(bad, y[:4]))
    with pytest.raises(DataError, match=r"give 3 labels for 4 samples"):
        fixed_machine.run(net, data=(x[:4], y[:3]))
    with pytest.raises(DataError, match=r"outside 0 to 9"):
        fixed_machine.run(net, data=(x[:4], y[:4] + 10))
