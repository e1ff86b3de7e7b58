"""`accelsim import`: an ONNX model written as TOML + npz that load to the same network, and
one-line errors (exit status 2) that leave nothing behind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")

from accelsim.cli import main
from accelsim.nn.loader import load_network
from accelsim.nn.onnx_import import import_onnx

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "onnx"


@pytest.mark.parametrize("name", ["resnet_small", "mobilenet_small", "gru2", "lstm_bi"])
def test_import_writes_toml_and_weights_that_load_identically(tmp_path, capsys, name):
    out = tmp_path / "out"
    assert main(["import", str(FIXTURES / f"{name}.onnx"), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [f"{name}.npz", f"{name}.toml"]
    assert f"wrote {out / name}.toml" in capsys.readouterr().out
    imported = import_onnx(FIXTURES / f"{name}.onnx")
    loaded = load_network(out / f"{name}.toml")
    assert loaded.trained
    assert [layer.to_fields() for layer in loaded.layers] == \
        [layer.to_fields() for layer in imported.layers]
    x = np.load(FIXTURES / f"{name}.npz")["x"]
    assert np.array_equal(loaded.forward(x), imported.forward(x))


def test_import_seq_len_sets_the_default_length(tmp_path):
    assert main(["import", str(FIXTURES / "gru2.onnx"), "--out", str(tmp_path),
                 "--seq-len", "20"]) == 0
    assert load_network(tmp_path / "gru2.toml").seq_len == 20


@pytest.mark.parametrize("content", [b"", b"\x08\x96\x01garbage", None])
def test_import_errors_are_one_line_and_write_nothing(tmp_path, capsys, content):
    model = tmp_path / "bad.onnx"
    if content is not None:
        model.write_bytes(content)
    out = tmp_path / "out"
    assert main(["import", str(model), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("accelsim: error:") and err.count("\n") == 1
    assert "Traceback" not in err and str(model) in err
    assert not out.exists()


def test_import_refuses_a_file_as_out_before_importing(tmp_path, capsys):
    blocker = tmp_path / "taken"
    blocker.write_text("x")
    assert main(["import", str(FIXTURES / "gru2.onnx"), "--out", str(blocker)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert blocker.read_text() == "x"
