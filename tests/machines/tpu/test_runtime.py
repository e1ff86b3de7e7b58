"""The TPU's host side (machines/tpu/runtime.py): a driver call per program run and each
host transfer's DMA setup and latency, on the end-to-end path only."""

from __future__ import annotations

import pytest

import accelsim as ax
from accelsim.errors import SpecError
from accelsim.ir import Transfer
from accelsim.machines.results import Category
from accelsim.machines.tpu.runtime import TPU_DRIVER, TPURuntime

BARE = {"driver_call_s": 0.0, "pcie_transfer_latency_s": 0.0}  # the chip alone


def transfers(net, batch: int, seq_len: int | None = None) -> int:
    return sum(isinstance(op, Transfer) for op in ax.lower(net, batch, seq_len).ops)


@pytest.mark.parametrize("name,batch,seq_len,passes", [
    ("lenet5", 1, None, 1), ("lenet5", 64, None, 1), ("lstm-char", 4, 8, 1),
    ("lenet5", 20_000, None, 2),  # sub-batches of 11,439 and 8,561: two program runs
])
def test_end_to_end_adds_exactly_the_host_terms(name, batch, seq_len, passes):
    net = ax.network(name)
    new = ax.machine("tpu-v1").run(net, batch=batch, seq_len=seq_len)
    old = ax.machine("tpu-v1", **BARE).run(net, batch=batch, seq_len=seq_len)
    host = passes * (TPU_DRIVER.driver_call_s
                     + transfers(net, batch, seq_len) * TPU_DRIVER.pcie_transfer_latency_s)
    assert new.seconds - old.seconds == pytest.approx(host, rel=1e-9)
    assert new.device_seconds == old.device_seconds  # device time unchanged
    assert new.detail.host_cycles == pytest.approx(host * 700e6, rel=1e-12)
    assert old.detail.host_cycles == 0.0


def test_lenet5_batch_one_pays_a_driver_call_and_two_transfers():
    r = ax.machine("tpu-v1").run(ax.network("lenet5"), batch=1)
    bare = ax.machine("tpu-v1", **BARE).run(ax.network("lenet5"), batch=1)
    assert r.seconds == pytest.approx(bare.seconds + 10e-6 + 2 * 2e-6, rel=1e-9)
    assert r.time[Category.FRAMEWORK] == pytest.approx(10e-6)
    assert r.time[Category.HOST_TRANSFER] == pytest.approx(
        bare.time[Category.HOST_TRANSFER] + 4e-6)
    assert sum(r.breakdown().values()) == pytest.approx(1.0)
    assert Category.FRAMEWORK not in dict(bare.time.parts)


def test_a_gemm_alone_is_one_driver_call_and_two_transfers():
    tpu, bare = ax.machine("tpu-v1"), ax.machine("tpu-v1", **BARE)
    assert tpu.gemm(64, 256, 256).seconds - bare.gemm(64, 256, 256).seconds == \
        pytest.approx(10e-6 + 2 * 2e-6, rel=1e-9)


def test_runtime_fields_are_settings_beside_the_spec():
    tpu = ax.machine("tpu-v1", driver_call_s=3e-6, array_rows=128)
    assert tpu.settings() == (tpu.spec, tpu.runtime)
    assert tpu.runtime == TPURuntime(driver_call_s=3e-6)
    assert tpu.spec.array_rows == 128 and not hasattr(tpu.spec, "driver_call_s")
    assert ax.machine("tpu-v1").runtime is TPU_DRIVER


def test_bad_runtime_fields_are_refused_with_the_fix():
    with pytest.raises(SpecError, match="driver_call_s"):
        ax.machine("tpu-v1", driver_call_s=-1e-6)
    with pytest.raises(SpecError, match="did you mean pcie_transfer_latency_s"):
        ax.machine("tpu-v1", pcie_transfer_latency=1e-6)


def test_show_lists_the_runtime():
    from accelsim.machines.describe import describe

    text = describe(ax.machine("tpu-v1"))
    assert "software (tpu-driver):" in text and "pcie_transfer_latency_s" in text
