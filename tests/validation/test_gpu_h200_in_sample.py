"""In-sample: the GPU model against the recorded H200 measurements (deterministic: bundled
files). The GPU model's fitted constants (the host path's costs, the persistent LSTM's
barrier and CTA width, the implicit-GEMM issue slots, cuDNN's tile rules) were fitted on these
rows, so these checks catch regressions, not the model's error on what it never saw: that is
`test_gpu_v100_out_of_sample.py`."""

from __future__ import annotations

import pytest

import accelsim as ax
from accelsim.ir import Transfer
from accelsim.validation.comparison import median_ape
from accelsim.validation.gpu_recorded import network_measurements, network_report, validate

LIBRARY_MISFIRES = {"lenet5.conv3 16x400x120", "lenet5.fc6 16x120x80"}


@pytest.fixture(scope="module")
def h200():
    return ax.machine("gpu-h200")


@pytest.fixture(scope="module")
def report(h200):
    return validate(h200)


@pytest.fixture(scope="module")
def networks(h200):
    return network_report(h200)


def test_fp32_gemms_match_the_h200_measurements(report):
    rows = report.gemm_rows(ax.Precision.FP32)
    assert len(rows) == 31
    assert report.median_ape(ax.Precision.FP32) <= 0.12
    assert report.fraction_over_2x(ax.Precision.FP32) <= 0.10
    assert {r.label for r in rows if r.off_by_2x} <= LIBRARY_MISFIRES
    big = next(r for r in rows if r.label == "square 4096x4096x4096")
    assert abs(big.error) < 0.1
    assert report.median_ape(ax.Precision.FP16) <= 0.21
    assert "median absolute error" in report.text()


def test_networks_device_time_matches_the_h200(networks):
    device = networks.of("device")
    assert len(device) == 30  # LeNet-5 16, LSTM 10, step loop 3, the tiny RNN 1
    assert median_ape(device) <= 0.10
    assert not any(r.off_by_2x for r in device)
    assert {r.note for r in device} == {"", "step-loop"}


def test_networks_end_to_end_matches_the_h200(networks):
    e2e = networks.of("end to end")
    assert len(e2e) == 28  # LeNet-5 18 (batch 65,536 has no graph time), LSTM 10
    assert median_ape(e2e) <= 0.20
    assert "end to end: median absolute error" in networks.text()


KINDS = (("direct_copy", "copy"), ("Fill", "fill"), ("implicit_convolve", "conv"),
         ("fprop", "conv"), ("max_pool", "pool"), ("clamp", "relu"), ("(relu)", "relu"),
         ("add", "add"), ("Memset", "memset"), ("scal_kernel", "scal"),
         ("largek", "largek"), ("epilogue", "epilogue"), ("RNN_blockPersist", "persistent"),
         ("gemm", "gemm"), ("simt_", "gemm"), ("tc_", "gemm"))


def kind(name: str) -> str:
    return next(k for key, k in KINDS if key in name)


def forward_kernels(h200, network: str, batch: int) -> list[str]:
    wl = ax.lower(ax.network(network), batch)
    return [k.name for item in h200.framework_calls(wl, "fp32")
            if not isinstance(item.op, Transfer) for c in item.calls for k in c.kernels]


@pytest.mark.parametrize("key,network,batch", [("lenet5_fp32_b64", "lenet5", 64),
                                               ("lenet5_fp32_b4096", "lenet5", 4096),
                                               ("lstm_fp32_b64", "lstm-char", 64)])
def test_kernel_sequences_match_the_profiled_lists(h200, key, network, batch):
    """PyTorch's kernels, in launch order, kind by kind (20 at LeNet-5 batch 64)."""
    measured = [k["kernel"] for k in network_measurements()["kernel_lists"][key]]
    predicted = forward_kernels(h200, network, batch)
    assert [kind(n) for n in predicted] == [kind(n) for n in measured]
    # cuDNN's convolution tiles, as its heuristic picked them
    tiles = [n.split("tilesize")[1].split("_")[0] for n in measured if "fprop" in n]
    assert [n.split()[-1] for n in predicted if "fprop" in n] == tiles


@pytest.mark.parametrize("key,network,batch,tolerance", [
    ("lenet5_fp32_b4096", "lenet5", 4096, 0.15),
    ("lenet5_fp32_b64", "lenet5", 64, 0.20),
    ("lstm_fp32_b64", "lstm-char", 64, 0.20)])
def test_kernel_times_follow_the_lists(h200, key, network, batch, tolerance):
    """Each kernel of a profiled forward within `tolerance` of its profiled time (+0.3 µs,
    the gap each kernel adds in a graph): the streaming kernels' floors and rates, the
    implicit-GEMM convolutions, the split-K path, the persistent LSTM."""
    measured = [k["us"] + 0.3 for k in network_measurements()["kernel_lists"][key]]
    wl = ax.lower(ax.network(network), batch)
    predicted = [k.seconds * 1e6 for item in h200.framework_calls(wl, "fp32")
                 if not isinstance(item.op, Transfer) for c in item.calls for k in c.kernels]
    errors = [p / m - 1 for p, m in zip(predicted, measured, strict=True)]
    assert max(map(abs, errors)) < tolerance, errors


def test_recorded_gpu_files_are_found_by_preset_name():
    from accelsim.validation import gpu_recorded

    assert gpu_recorded.recorded_files("gpu-h200") == (
        "gpu-h200-2026-11.json", "gpu-h200-network-2026-11-27.json")
    assert gpu_recorded.recorded_files("gpu-h100") == (None, None)
    assert gpu_recorded.recorded_gpus() == ["gpu-h200"]


def test_a_gpu_without_recorded_measurements_is_a_clear_error():
    import pytest

    from accelsim.errors import AccelsimError
    from accelsim.validation.validate import validate_machine

    with pytest.raises(AccelsimError, match=r"no reference measurements for 'gpu-h100'.*gpu-h200"):
        validate_machine("gpu-h100", networks=True)
