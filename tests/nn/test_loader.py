"""Network files: bundled networks, overrides, and errors that name file, layer and value."""

from __future__ import annotations

import io
import tracemalloc
import zipfile

import numpy as np
import pytest

import accelsim as ax
from accelsim.errors import DataError, MemoryLimitError, ModelFileError
from accelsim.nn.loader import (
    available_networks,
    load_network,
    read_weights_meta,
    write_weights,
)
from accelsim.nn.weights import check_weight_memory, init_limit_bytes

MLP = """
name = "mlp"
input_shape = [1, 4, 4]
[[layers]]
type = "flatten"
[[layers]]
name = "fc1"
type = "linear"
out_features = 8
[[layers]]
type = "sigmoid"
[[layers]]
name = "fc2"
type = "linear"
out_features = 3
"""


def test_bundled_networks_are_listed():
    assert {"lenet5", "lenet5-classic", "cnn-wide", "rnn-hello", "lstm-char", "lstm-recall",
            "rnn-recall"} <= set(available_networks())


def test_lenet5_is_the_book_variant():
    net = load_network("lenet5")
    shapes = [out for _, _, out in net.layer_shapes()]
    assert shapes[0] == (6, 28, 28) and shapes[2] == (6, 14, 14)
    assert shapes[3] == (16, 10, 10) and shapes[6] == (120, 1, 1)
    assert net.params["fc1"]["weight"].shape == (120, 80)
    assert net.params["fc2"]["weight"].shape == (80, 10)
    classic = load_network("lenet5-classic")
    assert classic.params["fc1"]["weight"].shape == (120, 84)
    assert net.trained and classic.trained


def test_cnn_wide_keeps_the_size_with_padding_and_widens_each_stage():
    net = load_network("cnn-wide")
    shapes = {layer.name: out for layer, _, out in net.layer_shapes()}
    assert shapes["conv1"] == (32, 32, 32) and shapes["conv2"] == (64, 16, 16)
    assert shapes["conv3"] == (128, 8, 8) and shapes["flatten"] == (128 * 4 * 4,)
    # (9·1 + 1)·32 + (9·32 + 1)·64 + (9·64 + 1)·128 + (2048 + 1)·128 + (128 + 1)·10
    assert net.num_params == 320 + 18_496 + 73_856 + 262_272 + 1_290 == 356_234
    assert net.trained and net.weights_path.stat().st_size < 2 * 2**20


def test_user_network_from_a_file_runs_without_weights(write_model):
    net = load_network(write_model(MLP))
    assert not net.trained
    assert net.forward(np.zeros((5, 1, 4, 4))).shape == (5, 3)
    assert net.num_params == 16 * 8 + 8 + 8 * 3 + 3


def test_initialisation_is_seeded(write_model):
    path = write_model(MLP)
    a, b = load_network(path, seed=1), load_network(path, seed=1)
    c = load_network(path, seed=2)
    np.testing.assert_array_equal(a.params["fc1"]["weight"], b.params["fc1"]["weight"])
    assert not np.array_equal(a.params["fc1"]["weight"], c.params["fc1"]["weight"])


def test_overrides_change_layers_and_stack_lstms():
    net = load_network("lstm-char", weights="init",
                       overrides={"lstm.hidden_size": 16, "lstm.num_layers": 3})
    names = [layer.name for layer in net.layers]
    assert names == ["lstm_0", "lstm_1", "lstm_2", "readout"]
    assert net.params["lstm_0"]["weight"].shape == (96 + 16, 64)
    assert net.params["lstm_1"]["weight"].shape == (16 + 16, 64)
    assert all(layer.return_sequences for layer in net.layers[:3])


def test_weights_round_trip(tmp_path, write_model):
    net = load_network(write_model(MLP), seed=3)
    path = tmp_path / "w.npz"
    write_weights(path, net, {"note": "x"})
    again = load_network(write_model(MLP), weights=path)
    np.testing.assert_array_equal(again.params["fc2"]["bias"], net.params["fc2"]["bias"])
    assert again.trained and read_weights_meta(path) == {"note": "x"}
    assert not list(tmp_path.glob("*.tmp*"))


@pytest.mark.parametrize("body,match", [
    (MLP.replace('type = "sigmoid"', 'type = "sigmoidal"'),
     r"net\.toml: layer 2 \('sigmoidal2', type 'sigmoidal'\): unknown layer type "
     r"'sigmoidal'; known types: add, avgpool2d, batchnorm2d"),
    (MLP.replace("out_features = 8", "out_features = -8"),
     r"layer 1 \('fc1', type 'linear'\): out_features = -8 must be positive"),
    (MLP.replace("out_features = 8", "out_features = 8\nin_features = 120"),
     r"'fc1'.*in_features = 120 but the previous layer gives 16"),
    (MLP.replace("out_features = 8", "outfeatures = 8"), r"unknown field\(s\) outfeatures"),
    (MLP.replace("out_features = 8", 'out_features = "8"'), r"out_features = '8' must be an"),
    (MLP.replace("[1, 4, 4]", "[1, 0, 4]"), r"input_shape = \[1, 0, 4\] must be"),
    (MLP.replace('input_shape = [1, 4, 4]', ''), r"missing required key 'input_shape'"),
    ("bogus = 1\n" + MLP, r"net\.toml: unknown key\(s\) bogus"),
    (MLP.replace('name = "fc2"', 'name = "fc1"'), r"duplicate layer name\(s\) fc1"),
    (MLP.replace("[[layers]]\ntype = \"flatten\"\n", ""), r"'fc1'.*add a flatten layer"),
    ("name = [", r"net\.toml: not valid TOML"),
    ('name = "x"\ninput_shape = [4]\nlayers = [1, 2]\n', r"'layers' must be an array of"),
    ('name = "x"\ninput_shape = [4]\nlayers = "abc"\n', r"'layers' must be an array of"),
    ('training = 5\n' + MLP, r"'training' must be a \[training\] table"),
    ('sequence = "false"\n' + MLP, r"sequence = 'false' must be true or false"),
    (MLP.replace('name = "mlp"', "name = 3"), r"name = 3 must be a non-empty string"),
])
def test_bad_model_files_name_file_layer_and_value(write_model, body, match):
    with pytest.raises(ModelFileError, match=match):
        load_network(write_model(body))


def test_lenet_without_conv3_feeds_400_inputs_to_fc1(write_model):
    text = load_network("lenet5").source.read_text()
    start = text.index('[[layers]]\nname = "conv3"')
    end = text.index('[[layers]]\nname = "flatten"')
    with pytest.raises(ModelFileError, match=r"net\.toml: layer 7 \('fc1', type 'linear'\): "
                                             r"in_features = 120 but the previous layer gives "
                                             r"400 inputs"):
        load_network(write_model(text[:start] + text[end:]))


def test_missing_weights_name_the_layer(tmp_path, write_model):
    net = load_network(write_model(MLP))
    arrays = {f"{k}.{p}": a for k, ps in net.params.items() for p, a in ps.items()}
    del arrays["fc2.weight"]
    np.savez(tmp_path / "w.npz", **arrays)
    with pytest.raises(ModelFileError, match=r"w\.npz: missing weights for layer 'fc2'.*"
                                             r"\(expected shape \(8, 3\)\)"):
        load_network(write_model(MLP), weights=tmp_path / "w.npz")


def test_wrong_weight_shapes_and_extra_arrays(tmp_path, write_model):
    net = load_network(write_model(MLP))
    arrays = {f"{k}.{p}": a for k, ps in net.params.items() for p, a in ps.items()}
    np.savez(tmp_path / "a.npz", **{**arrays, "fc1.weight": np.zeros((4, 8))})
    with pytest.raises(ModelFileError, match=r"'fc1\.weight' has shape \(4, 8\).*\(16, 8\)"):
        load_network(write_model(MLP), weights=tmp_path / "a.npz")
    np.savez(tmp_path / "b.npz", **{**arrays, "fc9.weight": np.zeros(2)})
    with pytest.raises(ModelFileError, match=r"fc9\.weight match no layer"):
        load_network(write_model(MLP), weights=tmp_path / "b.npz")


def test_missing_weights_file_says_how_to_train(write_model):
    body = MLP.replace('name = "mlp"', 'name = "mlp"\nweights = "nowhere.npz"')
    with pytest.raises(ModelFileError, match=r"nowhere\.npz is missing; train it with "
                                             r"`accelsim train .*net\.toml --out-dir "):
        load_network(write_model(body))


def test_unknown_network_lists_the_bundled_ones():
    with pytest.raises(ModelFileError, match=r"unknown network 'lenet6'.*lenet5"):
        load_network("lenet6")
    with pytest.raises(ModelFileError, match="does not exist"):
        load_network("missing/file.toml")


def test_weights_argument_must_be_a_choice_or_a_path(write_model):
    with pytest.raises(ModelFileError, match="weights = None"):
        load_network(write_model(MLP), weights=None)


def test_bad_override_names_the_layers():
    with pytest.raises(ModelFileError, match=r"override 'lstmx\.hidden_size' names no layer"):
        load_network("lstm-char", weights="init", overrides={"lstmx.hidden_size": 3})


def test_weights_none_builds_shapes_only_with_the_right_counts():
    shaped, full = load_network("lenet5", weights="none"), load_network("lenet5")
    assert shaped.params == {} and shaped.num_params == full.num_params == 61_182
    assert shaped.summary().splitlines()[:-1] == full.summary().splitlines()[:-1]
    assert shaped.summary().endswith("61,182 (shapes only: no weights loaded)")
    assert ax.lower(shaped, 8).macs == ax.lower(full, 8).macs
    with pytest.raises(DataError, match=r"no weights for layer 'conv1'.*weights='none'"):
        shaped.forward(np.zeros((1, 1, 32, 32)))
    with pytest.raises(DataError, match="no weights"):
        ax.quantize(shaped, calibration=np.zeros((1, 1, 32, 32)))


def test_a_huge_layer_is_lowered_from_shapes_or_refused_never_allocated(write_model,
                                                                        huge_toml):
    path = write_model(huge_toml)
    tracemalloc.start()
    try:
        net = load_network(path, weights="none")
        workload = ax.lower(net, batch=4)
        summary = net.summary()
        for weights in ("init", "trained"):  # no weights file: 'trained' initialises too
            with pytest.raises(MemoryLimitError,
                               match=r"layer 0 \('wide', type 'linear'\) has "
                                     r"17,000,000,000,000 parameters \(61\.8 TiB as float32\)"
                                     r".*weights='none'"):
                load_network(path, weights=weights)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20
    assert net.num_params == 16 * 10**12 + 10**12 + 10 * 10**12 + 10
    assert workload.macs == 4 * (16 * 10**12 + 10**12 * 10)
    assert "27,000,000,000,010" in summary


def test_the_weight_memory_limit_names_the_largest_layer():
    net = load_network("lenet5", weights="none")
    check_weight_memory(net, "lenet5.toml", limit_bytes=4 * 61_182)
    with pytest.raises(MemoryLimitError, match=r"lenet5\.toml: layer 6 \('conv3', type "
                                               r"'conv2d'\) has 48,120 parameters"):
        check_weight_memory(net, "lenet5.toml", limit_bytes=4 * 61_181)
    assert 0 < init_limit_bytes() <= 2 * 2**30


def test_counts_beyond_int64_safety_are_refused(write_model, huge_toml):
    with pytest.raises(ModelFileError, match=r"input sample of shape \(100000, 100000, "
                                             r"100000\) holds 1,000,000,000,000,000 values"):
        load_network(write_model(huge_toml.replace("[16]", "[100000, 100000, 100000]")
                                 .replace('type = "linear"', 'type = "flatten"', 1)
                                 .replace("out_features = 1000000000000\n", "")),
                     weights="none")
    with pytest.raises(ModelFileError, match=r"layer 0 \('wide'.*parameters, over the limit"):
        load_network(write_model(huge_toml.replace("1000000000000", "10" * 15)), weights="none")


def _npz_bytes(arrays: dict) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _claims_a_huge_array() -> bytes:
    """A zip whose member header claims 10^12 floats but holds none."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False,
                                                  "shape": (10**12,)})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("fc1.weight.npy", header.getvalue())  # magic + header, no data
    return buffer.getvalue()


@pytest.mark.parametrize(("content", "message"), [
    (lambda good: b"", r"not a readable \.npz weights file \(No data left in file\)"),
    (lambda good: b"PK\x03\x04" + b"\x00" * 40, "not a readable .npz weights file"),
    (lambda good: good[: len(good) // 2], "not a readable .npz weights file"),
    (lambda good: b"hello, not weights", "not a readable .npz weights file"),
    (lambda good: _claims_a_huge_array(), r"'fc1\.weight' has shape \(1000000000000,\), the "
                                          r"network 'mlp' needs \(16, 8\)"),
])
def test_broken_weight_files_name_the_file(tmp_path, write_model, content, message):
    net = load_network(write_model(MLP))
    good = _npz_bytes({f"{k}.{p}": a for k, ps in net.params.items() for p, a in ps.items()})
    path = tmp_path / "w.npz"
    path.write_bytes(content(good))
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match=rf"w\.npz: .*{message}"):
            load_network(write_model(MLP), weights=path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20
    if "readable" in message:
        with pytest.raises(ModelFileError, match=r"w\.npz"):
            read_weights_meta(path)


def test_weights_must_be_finite_real_numbers(tmp_path, write_model):
    net = load_network(write_model(MLP))
    arrays = {f"{k}.{p}": a.copy() for k, ps in net.params.items() for p, a in ps.items()}
    arrays["fc2.weight"][3, 1] = np.inf
    arrays["fc2.weight"][5, 0] = np.nan
    np.savez(tmp_path / "nan.npz", **arrays)
    with pytest.raises(ModelFileError, match=r"nan\.npz: 'fc2\.weight' holds 2 non-finite values"
                                             r".*first is inf at index \(3, 1\)"):
        load_network(write_model(MLP), weights=tmp_path / "nan.npz")
    np.save(tmp_path / "single.npy", np.zeros(3))
    with pytest.raises(ModelFileError, match=r"single\.npy: a single \.npy array"):
        load_network(write_model(MLP), weights=tmp_path / "single.npy")
    arrays["fc2.weight"] = np.zeros((8, 3), complex)
    np.savez(tmp_path / "complex.npz", **arrays)
    with pytest.raises(ModelFileError, match=r"'fc2\.weight' has dtype complex128"):
        load_network(write_model(MLP), weights=tmp_path / "complex.npz")


@pytest.mark.parametrize(("content", "message"), [
    (b"", "the file is empty"),
    (b"  \n\t\n", "the file is empty"),
    ('name = "café"\n'.encode("latin-1"), r"not a UTF-8 text file \(byte 0xe9 at offset 11\)"),
    (b"\xff\xfe" + 'name = "x"'.encode("utf-16-le"), "not a UTF-8 text file"),
    (b"name = \n", "not valid TOML"),
    (b"a = " + b"[" * 5000 + b"]" * 5000, "not usable TOML: values nested too deeply"),
])
def test_unreadable_network_files_name_the_file(write_model, tmp_path, content, message):
    path = tmp_path / "bad.toml"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=rf"bad\.toml: {message}"):
        load_network(path)


def test_bad_network_names_paths_and_seeds(tmp_path):
    with pytest.raises(ModelFileError, match=r"network file '.*' is a directory"):
        load_network(tmp_path)
    with pytest.raises(ModelFileError, match=r"unknown network 'aaaa.*\.\.\.'"):
        load_network("a" * 5000)
    with pytest.raises(ModelFileError, match=r"does not exist"):
        load_network("b" * 5000 + ".toml")
    for name in ("", None, 3):
        with pytest.raises(ModelFileError, match="give a bundled network name"):
            load_network(name)
    for seed in (-1, 2**64, 1.5, True):
        with pytest.raises(ModelFileError, match=rf"seed = {seed!r} must be an integer"):
            load_network("lenet5", weights="init", seed=seed)
    with pytest.raises(ModelFileError, match=r"weights = 'trianed': the file does not exist"):
        load_network("lenet5", weights="trianed")


def test_absurd_layer_counts_are_refused_at_once(write_model):
    with pytest.raises(ModelFileError, match=r"num_layers = 100000000 must be an integer from "
                                             r"1 to 10,000"):
        ax.network(write_model("""
            name = "deep"
            input_shape = [4]
            sequence = true
            [[layers]]
            type = "lstm"
            hidden_size = 4
            num_layers = 100000000
        """))


@pytest.mark.parametrize("key", ["description", "weights"])
def test_text_fields_of_another_kind_are_refused(write_model, key):
    with pytest.raises(ModelFileError, match=rf"{key} = \[\] must be a string"):
        ax.network(write_model(f"""
            name = "net"
            input_shape = [4]
            {key} = []
            [[layers]]
            type = "linear"
            out_features = 2
        """))
