"""Bring your own model: ONNX files exported from PyTorch (tests/fixtures/onnx, written by
make_fixtures.py) import and time on the TPU v1 (int8), an H200 and the host CPU; the
bring-your-own scenario imports the ONNX file next to it and writes its report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import accelsim as ax
from accelsim.ir import Gemm, VectorKind

pytest.importorskip("onnx")

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "onnx"
MACHINES = [("tpu-v1", "int8"), ("gpu-h200", "fp32"), ("gpu-h200", "fp16"), ("cpu-host", "fp32")]


@pytest.mark.parametrize("name", ["resnet_small", "mobilenet_small", "gru2"])
@pytest.mark.parametrize(("machine", "precision"), MACHINES)
def test_imported_models_time_on_every_machine_family(name, machine, precision):
    net = ax.network(FIXTURES / f"{name}.onnx")
    run = ax.machine(machine).run(net, batch=8, precision=precision)
    workload = ax.lower(net, 8)
    assert run.ops == workload.total_ops > 0
    assert 0 < run.device_seconds <= run.seconds
    assert 0 < run.utilization < 1
    timed = {r.name for r in run.layers}
    assert {op.name for op in workload.ops} == timed  # every op of the graph has a time


def test_the_imported_graphs_lower_to_their_mechanisms():
    resnet = ax.lower(ax.network(FIXTURES / "resnet_small.onnx"), 2)
    kinds = [op.kind for op in resnet.ops if hasattr(op, "kind")]
    assert kinds.count(VectorKind.ADD) == 2  # two residual adds
    batchnorms = [layer for layer in resnet.layers if layer.kind == "batchnorm2d"]
    assert batchnorms and all(layer.folds_into for layer in batchnorms)  # each may fold
    mobile = ax.lower(ax.network(FIXTURES / "mobilenet_small.onnx"), 2)
    depthwise = [g for g in mobile.gemms if g.conv is not None and g.conv.depthwise]
    assert depthwise and all(g.k == 9 and g.n == 1 for g in depthwise)
    assert VectorKind.CLIP in {op.kind for op in mobile.ops if hasattr(op, "kind")}
    gru = ax.lower(ax.network(FIXTURES / "gru2.onnx"), 2)
    assert [layer.recurrence.kind.value for layer in gru.layers if layer.recurrence] == \
        ["gru", "gru"]
    assert all(isinstance(g, Gemm) for g in gru.gemms)


def test_the_tpu_packs_depthwise_layers_and_says_what_that_leaves_of_the_array():
    net = ax.network(FIXTURES / "mobilenet_small.onnx")
    run = ax.machine("tpu-v1").run(net, batch=64)
    workload = ax.lower(net, 64)
    by_name = {r.name: r for r in run.layers}
    for gemm in workload.gemms:
        mapping = by_name[gemm.name].detail.mapping_efficiency
        if gemm.conv is not None and gemm.conv.depthwise:
            assert mapping < 0.04  # at most 28 of 256 columns, 9 of 256 rows each
        else:
            assert mapping > 0


def test_bring_your_own_scenario_imports_the_onnx_file_beside_it(tmp_path):
    result = ax.run_scenario("bring-your-own")
    keys = {entry.key for entry in result.comparison.entries}
    assert keys == {(m, "my-resnet", b, p) for m, p in (("tpu-v1", "int8"), ("gpu-h200", "fp32"),
                                                       ("cpu-host", "fp32"))
                    for b in (1, 16, 64, 256)}
    result.write(tmp_path / "report")
    written = {p.name for p in (tmp_path / "report").iterdir()}
    assert {"index.html", "results.json", "throughput.png", "roofline.png"} <= written


def test_the_scenarios_model_computes_what_onnxruntime_computes():
    ort = pytest.importorskip("onnxruntime")
    path = ax.scenario.scenarios_dir() / "my-resnet.onnx"
    x = np.random.default_rng(0).standard_normal((4, 3, 32, 32)).astype(np.float32)
    (expected,) = ort.InferenceSession(str(path)).run(None, {"image": x})
    np.testing.assert_allclose(ax.network(path).forward(x), expected, rtol=1e-4, atol=1e-5)
