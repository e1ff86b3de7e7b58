"""The public names ARCHITECTURE.md fixes exist and behave as documented."""

import accelsim as ax
from accelsim.machines.base import Machine, OpResult, Precision, RunResult


def test_fixed_public_names_exist():
    for name in ("presets", "machine", "network", "datasets", "lower", "run", "Precision",
                 "Workload", "Network"):
        assert hasattr(ax, name), name
    assert callable(ax.datasets.load)
    assert {Machine, OpResult, Precision, RunResult}
    assert set(ax.__all__) <= set(dir(ax))


def test_workload_exposes_ops_and_macs():
    wl = ax.lower(ax.network("lenet5"), batch=64)
    assert isinstance(wl.ops, tuple) and len(wl.ops) == 13
    assert wl.macs == 64 * 416_000
    x, y = ax.datasets.load("digits", split="test")
    assert x.shape[1:] == (1, 32, 32) and x.dtype.name == "float32" and len(x) == len(y)
