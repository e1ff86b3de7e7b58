"""Network files: bundled networks, overrides, and errors that name file, layer and value."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.errors import ModelFileError
from accelsim.nn.loader import (
    available_networks,
    load_network,
    read_weights_meta,
    write_weights,
)

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
    assert {"lenet5", "lenet5-classic", "rnn-hello", "lstm-char", "lstm-recall",
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
     r"'sigmoidal'; known types: avgpool2d, conv2d"),
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
                                             r"`accelsim train net`"):
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
