"""The torch modules the live and recorded PyTorch timings run (measure/torch_networks.py):
one builder for a chain (`_torch_model`, the networks `accelsim validate cpu-host --networks`
times) and for a graph (`graph_module`), so a layer is built the same way in both. Skipped
without PyTorch (the optional `validate` extra)."""

from __future__ import annotations

import pytest

from accelsim.measure import torch_networks

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("network", ["lenet5", "cnn-wide", "lstm-char", "rnn-hello"])
def test_a_chain_network_runs_as_one_sequential_of_its_layers(network):
    module, sample = torch_networks._torch_model(network)
    with torch.inference_mode():
        out = module(torch.randn(2, *sample))
    assert out.shape[0] == 2
    assert len(module) == len(list(ax_layers(network)))


def ax_layers(network):
    from accelsim.nn.loader import load_network

    return load_network(network, weights="none").layers


def test_convolutions_take_their_four_sided_padding_as_pytorch_does():
    """Padding is stored as (top, left, bottom, right); nn.Conv2d takes (height, width)."""
    module, _ = torch_networks._torch_model("lenet5")
    conv = next(m for m in module if isinstance(m, torch.nn.Conv2d))
    assert len(conv.padding) == 2


def test_a_graph_network_reads_the_layers_it_names():
    module, sample = torch_networks.graph_module("resnet-digits")
    with torch.inference_mode():
        assert module(torch.randn(3, *sample)).shape == (3, 10)


def test_a_graph_network_drops_each_output_after_its_last_reader():
    """As a hand-written forward drops its locals: by the time the last layer runs, only the
    outputs it (and nothing later) reads are still alive, so glibc sees the frees PyTorch's
    modules make (machines/cpu/buffers.py)."""
    import weakref

    module, sample = torch_networks.graph_module("resnet-digits")
    outputs = []
    for part in module.parts:
        part.register_forward_hook(lambda m, args, out: outputs.append(weakref.ref(out)))
    alive_at_last = []
    module.parts[-1].register_forward_pre_hook(
        lambda m, args: alive_at_last.append(sum(r() is not None for r in outputs)))
    with torch.inference_mode():
        module(torch.randn(2, *sample))
    assert len(outputs) == len(module.parts)
    assert alive_at_last == [1]  # only the flattened pooling the final Linear reads
