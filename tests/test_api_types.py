"""The public API with arguments of the wrong type: an `AccelsimError` naming what was
expected, never an AttributeError, TypeError or KeyError from deep inside."""

from __future__ import annotations

import numpy as np
import pytest

import accelsim as ax
from accelsim.errors import AccelsimError
from accelsim.scenario.space import Sweep


@pytest.fixture(scope="module")
def lenet5():
    return ax.network("lenet5")


@pytest.fixture(scope="module")
def tiny_sweep():
    return Sweep.of("tpu-v1", "lenet5", axes={"batch": [1, 2]})


def test_a_name_where_a_network_is_expected_says_to_load_it(lenet5) -> None:
    for call in (lambda: ax.machine("tpu-v1").run("lenet5", batch=1),
                 lambda: ax.machine("gpu-h200").run("lenet5", batch=1),
                 lambda: ax.lower("lenet5", batch=1)):
        with pytest.raises(AccelsimError, match=r"not the name 'lenet5'.*accelsim.network"):
            call()
    for thing in (5, None, np.zeros(3), {"name": "lenet5"}):
        with pytest.raises(AccelsimError, match="takes a network"):
            ax.machine("tpu-v1").run(thing, batch=1)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: ax.compare(["lenet5"], [5]), "machines holds 5 .* preset names"),
    (lambda: ax.compare([5], ["tpu-v1"]), "networks takes a network"),
    (lambda: ax.compare(["lenet5"], ["tpu-v1"], batch=["x"]), "batch = 'x' must be"),
    (lambda: ax.compare(["lenet5"], ["tpu-v1"], batch=[0]), "batch = 0 must be"),
    (lambda: ax.network("lenet5", overrides="x"), "overrides = 'x' must be a dict"),
    (lambda: ax.network("lenet5", overrides={5: 1}), "must be a dict of 'layer.field'"),
    (lambda: ax.network(5), "give a bundled network name"),
    (lambda: Sweep("tpu-v1", ("lenet5",), axes={"batch": [1, 2]}), "Sweep.of"),
    (lambda: Sweep("tpu-v1", "lenet5"), "networks = 'lenet5' must be a tuple"),
    (lambda: Sweep(5, ("lenet5",)), "machine = 5 must be a preset name"),
    (lambda: Sweep("tpu-v1", ("lenet5",), points=({"batch": 1},)), "points = .* tuple"),
])
def test_wrong_types_name_what_was_expected(call, message) -> None:
    with pytest.raises(AccelsimError, match=message):
        call()


def test_quantize_layer_bits_name_the_layers(lenet5) -> None:
    x, _ = ax.datasets.load("digits", split="test")
    for bits in ({5: 16}, {None: 8}):
        with pytest.raises(AccelsimError, match=r"activation_bits has the key .* fc1"):
            ax.quantize(lenet5, x[:16], activation_bits=bits)
    q = ax.quantize(lenet5, x[:16], activation_bits={"fc1": 16})
    assert q.scheme.bits_for("fc1") == 16


def test_sweep_results_and_runner_check_their_arguments(tiny_sweep, tmp_path) -> None:
    res = ax.run_sweep(tiny_sweep, None)
    with pytest.raises(AccelsimError, match=r"best\('bogus'\): no such column; use one of"):
        res.best("bogus")
    with pytest.raises(AccelsimError, match="not a network of this sweep"):
        res.best("throughput_per_s", network="resnet18")
    with pytest.raises(AccelsimError, match="no such column"):
        res.column("bogus")
    assert res.best("throughput_per_s")["batch"] == 2
    for dask in (5, "", 1.5):
        with pytest.raises(AccelsimError, match="must be a scheduler address"):
            ax.run_sweep(tiny_sweep, tmp_path / "out", dask=dask)
