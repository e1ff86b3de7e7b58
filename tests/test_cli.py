"""The command line: exit codes, clear errors without tracebacks, and what train writes."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

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
    assert "conv1" in out and "MatrixMultiply" in out and "time: compute" in out


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


def test_train_writes_to_the_current_directory_and_says_where(tmp_path, capsys,
                                                               monkeypatch):
    model = tmp_path / "tiny.toml"
    model.write_text(TINY)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert main(["train", str(model), "--seed", "3", "--quiet"]) == 0
    out = capsys.readouterr().out
    weights = work / "tiny-hello.npz"
    assert "trained tiny on hello" in out
    assert f"wrote {weights}" in out and f"wrote {work / 'MODELS.md'}" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.toml", "work"]  # not beside
    assert sorted(p.name for p in work.iterdir()) == ["MODELS.md", "tiny-hello.npz"]  # no tmp
    meta = read_weights_meta(weights)
    assert meta["seed"] == 3 and meta["epochs"] == 60
    card = (work / "MODELS.md").read_text()
    assert "<!-- card: tiny -->" in card and "seed 3" in card
    net = load_network(model, weights=weights)
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


def one_error_line(capsys) -> str:
    """The single stderr line of a failed command (no traceback, nothing else)."""
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("accelsim: error: ") and "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(("argv", "message"), [
    (["info", "lenet5", "--batch", "0"], "argument --batch: '0' must be a positive integer"),
    (["time", "lenet5", "--machine", "tpu-v1", "--batch", "-3"],
     "argument --batch: '-3' must be a positive integer"),
    (["info", "lenet5", "--batch", "2.5"], "argument --batch: '2.5' must be a positive"),
    (["info", "lenet5", "--batch", str(2**70)], "of at most 2,147,483,647"),
    (["info", "lstm-char", "--seq-len", "0"], "argument --seq-len: '0' must be a positive"),
    (["train", "rnn-hello", "--seed", "-1"], "argument --seed: '-1' must be an integer ≥ 0"),
    (["train", "rnn-hello", "--seed", "abc"], "argument --seed: 'abc' must be an integer"),
    (["train", "rnn-hello", "--seed", str(2**64)], "of at most 9,223,372,036,854,775,807"),
    (["train", "rnn-hello", "--epochs", "0"], "argument --epochs: '0' must be a positive"),
    (["info", "lenet6"], "unknown network 'lenet6'; bundled networks: cnn-wide, gru-char, lenet5"),
    (["time", "lenet5", "--machine", "tpu-v9"], "tpu-v9"),
    (["time", "lenet5", "--machine", "tpu-v1", "--set", "array_rows=abc"], "'abc'"),
    (["time", "lenet5", "--machine", "tpu-v1", "--set", "clock_hz=nan"],
     "clock_hz must be a finite number"),
    (["time", "lenet5", "--machine", "tpu-v1", "--set", "array_rows="],
     "must look like field=value"),
    (["bogus"], "invalid choice: 'bogus'"),
    (["info"], "the following arguments are required: network"),
])
def test_bad_arguments_exit_2_with_one_line_naming_the_value(argv, message, capsys):
    assert main(argv) == 2
    assert message in one_error_line(capsys)


def _weights_model(tmp_path, payload: bytes) -> str:
    (tmp_path / "w.npz").write_bytes(payload)
    model = tmp_path / "withweights.toml"
    model.write_text(TINY.replace("tiny-hello.npz", "w.npz"))
    return str(model)


@pytest.mark.parametrize(("case", "named", "message"), [
    ("folder", "folder", "is a directory"),
    ("missing.toml", "missing.toml", "does not exist"),
    ("latin1.toml", "latin1.toml", "not a UTF-8 text file (byte 0xe9"),
    ("empty.toml", "empty.toml", "the file is empty"),
    ("broken.toml", "broken.toml", "not valid TOML"),
    ("empty-weights", "w.npz", "not a readable .npz weights file"),
    ("corrupt-weights", "w.npz", "not a readable .npz weights file"),
])
def test_bad_files_exit_2_with_one_line_naming_the_file(tmp_path, capsys, case, named, message):
    (tmp_path / "folder").mkdir()
    (tmp_path / "latin1.toml").write_bytes('name = "café"\n'.encode("latin-1"))
    (tmp_path / "empty.toml").write_bytes(b"")
    (tmp_path / "broken.toml").write_text("name = \n")
    target = {"empty-weights": lambda: _weights_model(tmp_path, b""),
              "corrupt-weights": lambda: _weights_model(tmp_path, b"PK\x03\x04" + b"\x00" * 64),
              }.get(case, lambda: str(tmp_path / case))()
    assert main(["info", target]) == 2
    line = one_error_line(capsys)
    assert named in line and message in line


def test_a_huge_layer_is_timed_from_shapes_without_allocating(tmp_path, capsys, huge_toml):
    model = tmp_path / "huge.toml"
    model.write_text(huge_toml)
    tracemalloc.start()
    try:
        assert main(["info", str(model), "--untrained", "--batch", "2"]) == 0
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20
    out = capsys.readouterr().out
    assert "m=2 k=16 n=1000000000000" in out
    assert "total parameters: 27,000,000,000,010 (shapes only: no weights loaded)" in out
    assert main(["info", str(model)]) == 2  # no weights file: it would be initialised
    line = one_error_line(capsys)
    assert "layer 0 ('wide', type 'linear') has 17,000,000,000,000 parameters" in line
    assert "weights='none'" in line


def test_time_never_initialises_weights(monkeypatch, capsys):
    import accelsim.nn.loader as loader

    def refuse(*args, **kwargs):
        raise AssertionError("timing allocated weights")

    monkeypatch.setattr(loader, "init_params", refuse)
    assert main(["time", "lenet5", "--machine", "gpu-h200", "--batch", "8"]) == 0
    assert main(["info", "lenet5", "--untrained"]) == 0
    assert "conv1" in capsys.readouterr().out


def test_output_into_a_closed_pipe_ends_quietly():
    for args in (["info", "lenet5", "--batch", "64"], ["presets"], ["--help"]):
        proc = subprocess.Popen([sys.executable, "-m", "accelsim.cli", *args],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        proc.stdout.close()  # the reader is gone before the first line is written
        err = proc.stderr.read()
        proc.stderr.close()
        assert proc.wait(timeout=120) in (0, 141)
        assert err == b"", err.decode()


def test_piping_into_head_prints_one_line_and_no_error():
    command = f'"{sys.executable}" -m accelsim.cli info lenet5 --batch 64 | head -1'
    proc = subprocess.run(["sh", "-c", command], capture_output=True, text=True, check=False,
                          timeout=120)
    assert proc.returncode == 0 and proc.stderr == ""
    assert len(proc.stdout.splitlines()) == 1


def test_train_creates_the_out_dir_and_keeps_old_files_on_failure(tmp_path, capsys,
                                                                  monkeypatch):
    model = tmp_path / "tiny.toml"
    model.write_text(TINY.replace("epochs = 60", "epochs = 2"))
    out = tmp_path / "new" / "dir"
    assert main(["train", str(model), "--quiet", "--out-dir", str(out)]) == 0
    capsys.readouterr()
    weights, cards = (out / "tiny-hello.npz").read_bytes(), (out / "MODELS.md").read_text()

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("accelsim.files.os.replace", fail)
    assert main(["train", str(model), "--quiet", "--seed", "5", "--out-dir", str(out)]) == 2
    line = one_error_line(capsys)
    assert "tiny-hello.npz" in line and "No space left on device" in line
    assert (out / "tiny-hello.npz").read_bytes() == weights
    assert (out / "MODELS.md").read_text() == cards
    assert sorted(p.name for p in out.iterdir()) == ["MODELS.md", "tiny-hello.npz"]


def test_train_refuses_an_unreadable_card_file_before_training(tmp_path, capsys):
    model = tmp_path / "tiny.toml"
    model.write_text(TINY)
    (tmp_path / "MODELS.md").write_bytes(b"\xff\xfe notes")
    assert main(["train", str(model), "--quiet", "--out-dir", str(tmp_path)]) == 2
    assert "MODELS.md: not UTF-8 text" in one_error_line(capsys)
    assert (tmp_path / "MODELS.md").read_bytes() == b"\xff\xfe notes"
    assert not (tmp_path / "tiny-hello.npz").exists()
    (tmp_path / "file").write_text("x")
    assert main(["train", str(model), "--quiet", "--out-dir", str(tmp_path / "file")]) == 2
    assert "is a file, not a folder" in one_error_line(capsys)


def test_training_that_diverges_writes_nothing(tmp_path, capsys):
    model = tmp_path / "tiny.toml"
    model.write_text(TINY.replace("learning_rate = 0.05", "learning_rate = 1e30")
                     .replace("epochs = 60", "epochs = 3"))
    assert main(["train", str(model), "--quiet", "--out-dir", str(tmp_path / "out")]) == 2
    assert "diverged" in one_error_line(capsys)
    assert not list((tmp_path / "out").iterdir())


@pytest.mark.parametrize("name", ["gpu-h200", "cpu-intel-16core-2026-11-27",
                                  "cpu-epyc-zen3-2vcpu-2026-11-27"])
def test_validate_networks_prints_every_measured_network_and_batch(name, capsys):
    assert main(["validate", name, "--networks"]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.startswith("  lenet5 ")]
    batches = {int(r[1]) for r in rows}
    assert {1, 16, 64, 256, 1024} <= batches
    assert any(line.startswith("  lstm-char ") for line in out.splitlines())
    assert "median absolute error" in out


def test_validate_networks_live_without_torch_says_how_to_install(monkeypatch, capsys):
    from accelsim.measure import torch_networks

    monkeypatch.setattr(torch_networks, "torch_available", lambda: False)
    assert main(["validate", "cpu-host", "--networks"]) == 2
    err = capsys.readouterr().err
    assert "torch==2.13.0" in err and "Traceback" not in err


SCENARIO = """
[scenario]
name = "cli-check"
description = "two machines, timing only"
[[machines]]
preset = "tpu-v1"
[[machines]]
preset = "cpu-haswell-e5-2699v3"
[run]
networks = ["lenet5"]
batch = [1, 8]
[report]
formats = ["json", "md"]
plots = []
"""


def test_version_prints_the_package_version(capsys):
    import accelsim

    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"accelsim {accelsim.__version__}\n"


def test_list_prints_presets_networks_and_scenarios(capsys):
    import accelsim
    from accelsim.scenario import available_scenarios, load_scenario

    assert main(["list", "presets"]) == 0
    assert capsys.readouterr().out.split() == accelsim.presets()
    assert main(["list", "networks"]) == 0
    assert capsys.readouterr().out.split() == accelsim.networks()
    assert main(["list", "scenarios"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == available_scenarios()
    quick = next(line for line in lines if line.startswith("quickstart "))
    assert quick.split(None, 1)[1] == load_scenario("quickstart").description
    assert main(["list", "machines"]) == 2
    assert "invalid choice: 'machines'" in one_error_line(capsys)


def test_run_prints_the_table_and_writes_the_report_where_it_says(tmp_path, capsys,
                                                                   monkeypatch):
    pytest.importorskip("accelsim.report")
    import accelsim

    (tmp_path / "s.toml").write_text(SCENARIO)
    monkeypatch.chdir(tmp_path)
    assert main(["run", "s.toml"]) == 0
    captured = capsys.readouterr()
    out = tmp_path / "reports" / "cli-check"  # the default: reports/NAME here
    assert captured.out.startswith("cli-check: two machines, timing only\n")
    assert f"wrote the report (json, md) to {out}" in captured.out
    assert captured.err == ""  # no progress bar when stderr is not a terminal
    assert sorted(p.name for p in out.iterdir()) == [".accelsim-report", "results.json",
                                                     "summary.md"]
    expected = accelsim.machine("tpu-v1").run(accelsim.network("lenet5", weights="none"),
                                              batch=8)
    row = next(line for line in captured.out.splitlines() if line.startswith("tpu-v1")
               and line.split()[2] == "8")
    assert row.split()[4] == f"{expected.seconds * 1e6:,.1f}"
    assert main(["run", "s.toml", "--out", str(tmp_path / "elsewhere")]) == 0
    assert (tmp_path / "elsewhere" / "results.json").is_file()


STUDY = """
[scenario]
name = "cli-study"
[quantization]
networks = ["rnn-hello"]
sensitivity = false
[[quantization.variants]]
precision = "fp32"
[[quantization.variants]]
precision = "int8"
[report]
formats = ["csv", "md"]
"""


def test_run_of_a_study_alone_prints_its_table_and_writes_its_report(tmp_path, capsys):
    (tmp_path / "q.toml").write_text(STUDY)
    assert main(["run", str(tmp_path / "q.toml"), "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("cli-study\n\nquantization accuracy on each test split")
    assert "rnn-hello  int8     per_tensor/symmetric/max   100.00%" in out
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == [".accelsim-report",
                                                                 "quantization.csv",
                                                                 "summary.md"]


@pytest.mark.parametrize(("body", "message"), [
    (SCENARIO.replace("[1, 8]", "[1, 0]"), "run.batch[1] = 0 must be a positive integer"),
    (SCENARIO.replace('"tpu-v1"', '"tpu-v2"'), "did you mean 'tpu-v1'?"),
    (SCENARIO.replace("[report]", "[reports]"), "unknown key reports; did you mean report?"),
    ("[scenario\n", "not valid TOML"),
])
def test_run_with_a_bad_scenario_exits_2_with_one_line_naming_file_and_key(tmp_path, capsys,
                                                                          body, message):
    path = tmp_path / "bad.toml"
    path.write_text(body)
    assert main(["run", str(path)]) == 2
    line = one_error_line(capsys)
    assert f"accelsim: error: {path}: " in line and message in line
    assert not (tmp_path / "reports").exists()


def test_run_finds_bundled_scenarios_by_name_and_suggests_near_misses(capsys):
    assert main(["run", "quickstrat"]) == 2
    line = one_error_line(capsys)
    assert "scenario 'quickstrat' does not exist; did you mean 'quickstart'?" in line
    assert main(["run"]) == 2
    assert "the following arguments are required: scenario" in one_error_line(capsys)


def test_run_refuses_a_bad_out_before_running_anything(tmp_path, capsys, monkeypatch):
    import accelsim.engine

    def refuse(*args, **kwargs):
        raise AssertionError("the scenario ran before --out was checked")

    monkeypatch.setattr(accelsim.engine, "run_scenario", refuse)
    (tmp_path / "s.toml").write_text(SCENARIO)
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "afile").write_text("mine")
    monkeypatch.chdir(tmp_path)
    for out, message in ((".", "is the current folder"), ("", "is the current folder"),
                         (str(tmp_path), "is the current folder"),
                         ("afile", "is a file, not a folder"),
                         ("afile/report", "is a file, not a folder")):
        assert main(["run", "s.toml", "--out", out]) == 2
        assert message in one_error_line(capsys)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.md").write_text("mine")
    assert main(["run", str(tmp_path / "s.toml"), "--out", str(elsewhere)]) == 2
    assert "holds files that are not part of an accelsim report (keep.md)" in \
        one_error_line(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "elsewhere", "notes.txt",
                                                          "s.toml"]
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_run_where_nothing_can_run_exits_2_and_keeps_the_earlier_report(tmp_path, capsys):
    pytest.importorskip("accelsim.report")
    good = tmp_path / "good.toml"
    good.write_text(SCENARIO)
    out = tmp_path / "report"
    assert main(["run", str(good), "--out", str(out)]) == 0
    capsys.readouterr()
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    skipped = tmp_path / "skipped.toml"
    skipped.write_text(SCENARIO.split("[[machines]]\npreset = \"cpu")[0]
                       + '[run]\nnetworks = ["lenet5"]\nprecision = "fp32"\n')
    assert main(["run", str(skipped), "--out", str(out)]) == 2
    line = one_error_line(capsys)
    assert f"{skipped}: run: nothing could run, so no report was written" in line
    assert "tpu-v1 does not support fp32" in line
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_run_without_a_scenario_name_says_so(capsys):
    assert main(["run", ""]) == 2
    assert "no scenario given" in one_error_line(capsys)


SWEEP = """
[scenario]
name = "cli-sweep"
description = "square arrays, two batches"
[sweep]
machine = "tpu-v1"
networks = ["lenet5"]
constraints = ["tpu.array_rows == tpu.array_cols"]
[sweep.axes]
tpu.array_rows = [16, 64, 256]
tpu.array_cols = [16, 64, 256]
tpu.unified_buffer_bytes = [2048, 8192]
batch = [1, 1000]
"""


def test_sweep_writes_its_folder_prints_the_best_points_and_resumes(tmp_path, capsys,
                                                                    monkeypatch):
    import accelsim

    (tmp_path / "s.toml").write_text(SWEEP)
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", "s.toml", "--workers", "1"]) == 0
    captured = capsys.readouterr()
    out = tmp_path / "reports" / "cli-sweep"  # the default: reports/NAME here
    assert captured.out.startswith("cli-sweep: 12 points of tpu-v1 (6 ok, 6 errors); "
                                   "12 evaluated in ")
    assert f"wrote sweep.csv and the report to {out}" in captured.out
    assert captured.err == ""  # no progress bar when stderr is not a terminal
    assert {"sweep.csv", "sweep.json", "summary.md", "index.html"} <= {
        p.name for p in out.iterdir()}
    net = accelsim.network("lenet5", weights="none")
    # 2 KiB holds no LeNet-5 image; 8 KiB three, so 1,000 run in passes of 3
    runs = {n: accelsim.machine("tpu-v1", array_rows=n, array_cols=n,
                                unified_buffer_bytes=8192).run(net, batch=1000)
            for n in (16, 64, 256)}
    size, best = max(runs.items(), key=lambda item: item[1].throughput)
    row = next(line for line in captured.out.splitlines() if "throughput_per_s" in line)
    assert row.split()[3:6] == [f"{best.throughput:.4g}", str(size), str(size)]
    assert main(["sweep", "s.toml", "--workers", "1"]) == 0  # nothing left to evaluate
    assert "12 points of tpu-v1 (6 ok, 6 errors); 0 evaluated in" in capsys.readouterr().out


@pytest.mark.parametrize(("body", "argv", "message"), [
    (SWEEP.replace("tpu.array_cols =", "tpu.array_col ="), [],
     "sweep.axes.tpu.array_col: 'tpu.array_col' is not an axis of a tpu-v1 sweep; did you "
     "mean 'tpu.array_cols'?"),
    (SWEEP.replace("batch = [1, 1000]", "gpu.sm_count = [8]"), [],
     "'gpu.sm_count' is a gpu field, but tpu-v1 is a tpu"),
    (SCENARIO, [], "sweep: the scenario has no [sweep] table"),
    (SWEEP, ["--workers", "0"], "argument --workers: '0' must be a positive integer"),
    (SWEEP, ["--out", "afile"], "is a file, not a folder"),
])
def test_sweep_with_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys,
                                                                      monkeypatch, body,
                                                                      argv, message):
    (tmp_path / "s.toml").write_text(body)
    (tmp_path / "afile").write_text("mine")
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", "s.toml", *argv]) == 2
    assert message in one_error_line(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "s.toml"]


def test_sweep_with_dask_but_without_it_installed_says_how_to_install(tmp_path, capsys,
                                                                     monkeypatch):
    (tmp_path / "s.toml").write_text(SWEEP)
    monkeypatch.setitem(sys.modules, "distributed", None)
    assert main(["sweep", str(tmp_path / "s.toml"), "--out", str(tmp_path / "out"),
                 "--dask", "tcp://127.0.0.1:8786"]) == 2
    assert "pip install 'accelsim[sweep]'" in one_error_line(capsys)
    assert not (tmp_path / "out").exists()


def test_sweep_keeps_another_sweeps_results_and_run_points_to_the_sweep_command(tmp_path,
                                                                               capsys):
    (tmp_path / "s.toml").write_text(SWEEP)
    out = tmp_path / "out"
    assert main(["sweep", str(tmp_path / "s.toml"), "--out", str(out), "--workers", "1"]) == 0
    capsys.readouterr()
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (tmp_path / "t.toml").write_text(SWEEP.replace("batch = [1, 1000]", "tpu.clock_hz = [7e8]"))
    assert main(["sweep", str(tmp_path / "t.toml"), "--out", str(out)]) == 2
    assert "holds another sweep's columns, so its rows cannot be resumed" in \
        one_error_line(capsys)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert main(["run", str(tmp_path / "s.toml"), "--out", str(tmp_path / "r")]) == 2
    assert "run it with `accelsim sweep cli-sweep`" in one_error_line(capsys)
    assert not (tmp_path / "r").exists()
