"""The command line: exit codes, clear errors without tracebacks, and what train writes."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from accelsim.cli import main
from accelsim.nn.loader import load_network, read_weights_meta

TINY = """
name = "tiny"
input_shape = [4]
sequence = true
seq_len = 4
weights = "tiny-hello.npz"
[[layers]]
name = "rnn"
type = "rnn"
hidden_size = 3
[[layers]]
name = "out"
type = "linear"
out_features = 4
[training]
dataset = "hello"
optimizer = "adam"
learning_rate = 0.05
epochs = 60
batch_size = 1
"""


def test_info_prints_layers_and_workload(capsys):
    assert main(["info", "lenet5", "--batch", "2"]) == 0
    out = capsys.readouterr().out
    assert "conv1" in out and "m=1568 k=25 n=6" in out
    assert "total: 832,000 MACs" in out


def test_networks_and_presets_list(capsys):
    assert main(["networks"]) == 0
    assert "lenet5" in capsys.readouterr().out
    assert main(["presets"]) == 0
    assert "tpu-v1" in capsys.readouterr().out.split()


def test_time_prints_the_per_op_table_and_program(capsys):
    assert main(["time", "lenet5", "--machine", "tpu-v1", "--batch", "4", "--program",
                 "--set", "array_rows=128", "--set", "name=small-tpu"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("lenet5 on small-tpu (int8, batch 4)")
    assert "conv1" in out and "MatrixMultiply" in out and "cycles: array active" in out


def test_user_errors_exit_2_with_one_line(capsys):
    assert main(["info", "lenet6"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("accelsim: error: unknown network 'lenet6'") and "Traceback" not in err
    assert main(["time", "lenet5", "--machine", "tpu-v1", "--precision", "fp32"]) == 2
    assert "tpu-v1 does not support fp32" in capsys.readouterr().err
    assert main(["time", "lenet5", "--machine", "tpu-v1", "--set", "rows"]) == 2
    assert "must look like field=value" in capsys.readouterr().err


def test_errors_from_a_real_process_have_no_traceback(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\ninput_shape = [4]\n[[layers]]\ntype = "conv3d"\n')
    proc = subprocess.run([sys.executable, "-m", "accelsim.cli", "info", str(bad)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert "unknown layer type 'conv3d'" in proc.stderr and "Traceback" not in proc.stderr


def test_train_writes_weights_and_card_beside_the_file(tmp_path, capsys):
    model = tmp_path / "tiny.toml"
    model.write_text(TINY)
    assert main(["train", str(model), "--seed", "3", "--quiet"]) == 0
    assert "trained tiny on hello" in capsys.readouterr().out
    weights = tmp_path / "tiny-hello.npz"
    meta = read_weights_meta(weights)
    assert meta["seed"] == 3 and meta["epochs"] == 60
    card = (tmp_path / "MODELS.md").read_text()
    assert "<!-- card: tiny -->" in card and "seed 3" in card
    net = load_network(model)
    assert net.trained
    first = net.params["rnn"]["weight"].copy()
    assert main(["train", str(model), "--seed", "3", "--quiet", "--out-dir",
                 str(tmp_path / "again")]) == 0
    again = load_network(model, weights=tmp_path / "again" / "tiny-hello.npz")
    np.testing.assert_array_equal(first, again.params["rnn"]["weight"])


def test_train_without_a_training_table_is_an_error(tmp_path, capsys):
    model = tmp_path / "plain.toml"
    model.write_text(TINY.split("[training]")[0])
    assert main(["train", str(model)]) == 2
    assert "no [training] table" in capsys.readouterr().err
