"""The public names ARCHITECTURE.md fixes exist, are what they say, and load on first use."""

import subprocess
import sys

import pytest

import accelsim as ax
from accelsim.machines.base import Machine, OpResult, Precision, RunResult

FUNCTIONS = ("presets", "machine", "network", "networks", "lower", "run", "compare",
             "quantize", "run_scenario", "run_sweep", "load_scenario")
TYPES = {"Machine": Machine, "OpResult": OpResult, "Precision": Precision,
         "RunResult": RunResult}


def test_every_public_name_resolves_to_what_it_says():
    for name in FUNCTIONS:
        assert callable(getattr(ax, name)) and not isinstance(getattr(ax, name), type), name
    for name, kind in TYPES.items():
        assert getattr(ax, name) is kind
    assert callable(ax.datasets.load) and callable(ax.plot.throughput)
    assert set(ax.__all__) == {"AccelsimError", "ScenarioError", "lower", *ax.PUBLIC, *ax.MODULES}
    assert sorted(dir(ax)) == sorted(set(dir(ax))) and set(ax.__all__) <= set(dir(ax))


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'machines_'"):
        ax.machines_  # noqa: B018


def test_importing_accelsim_loads_no_engine_report_or_numba():
    code = ("import sys, accelsim as ax\n"
            "heavy = ['accelsim.engine', 'accelsim.report', 'accelsim.scenario', 'numba',\n"
            "         'matplotlib', 'accelsim.machines.gpu']\n"
            "print([m for m in heavy if m in sys.modules])\n"
            "ax.machine('tpu-v1').run(ax.network('lenet5', weights='none'), batch=64)\n"
            "print([m for m in ('numba', 'matplotlib', 'accelsim.report') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split("\n")
    assert out[:2] == ["[]", "[]"]  # the TPU path loads neither numba nor matplotlib


def test_workload_exposes_ops_and_macs():
    wl = ax.lower(ax.network("lenet5"), batch=64)
    assert isinstance(wl.ops, tuple) and len(wl.ops) == 13
    assert wl.macs == 64 * 416_000
    x, y = ax.datasets.load("digits", split="test")
    assert x.shape[1:] == (1, 32, 32) and x.dtype.name == "float32" and len(x) == len(y)
