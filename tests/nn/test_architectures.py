"""The timing-only ImageNet networks are the published ones: ResNet-18 (He et al. 2016) and
MobileNetV2 width 1.0 (Sandler et al. 2018) at 3×224×224. Their parameter and
multiply-accumulate counts equal torchvision's, and with the same random weights they compute
what the same networks built by hand in PyTorch compute."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.nn.conv import Conv2d
from accelsim.nn.dense import Linear
from accelsim.nn.layers import Layer, Shape
from accelsim.nn.loader import load_network
from accelsim.nn.network import Network
from accelsim.nn.norm import BatchNorm2d

# torchvision's resnet18() and mobilenet_v2() parameter counts (its model documentation), and
# their multiply-accumulates per 224×224 image over convolutions and the classifier: the
# papers round them to 1.8 G (ResNet-18, Table 1) and 300 M (MobileNetV2, Table 3).
PUBLISHED = {"resnet18": (11_689_512, 1_814_073_344, 1.8e9),
             "mobilenetv2": (3_504_872, 300_774_272, 300e6)}


def layer_macs(layer: Layer, ins: tuple[Shape, ...], out: Shape) -> int:
    """Multiply-accumulates of one sample through a convolution or linear layer."""
    if isinstance(layer, Conv2d):
        kh, kw = layer.kernel_size
        return int(np.prod(out)) * ins[0][0] // layer.groups * kh * kw
    if isinstance(layer, Linear):
        return ins[0][-1] * out[-1]
    return 0


def running_statistics(net: Network) -> int:
    """Batch norm's two buffers per channel, which accelsim counts among the parameters."""
    return sum(2 * ins[0][0] for layer, ins, _ in net.layer_io()
               if isinstance(layer, BatchNorm2d))


@pytest.mark.parametrize("name", PUBLISHED)
def test_parameters_and_macs_are_the_published_ones(name):
    params, macs, paper_macs = PUBLISHED[name]
    net = load_network(name, weights="none")
    assert net.input_shape == (3, 224, 224) and net.output_shape == (1000,)
    assert net.num_params - running_statistics(net) == params
    measured = sum(layer_macs(layer, ins, out) for layer, ins, out in net.layer_io())
    assert measured == macs
    assert measured == pytest.approx(paper_macs, rel=0.01)


def test_residual_adds_are_where_the_papers_put_them():
    resnet = load_network("resnet18", weights="none")
    adds = [layer for layer in resnet.layers if layer.type_name == "add"]
    assert len(adds) == 8  # one per basic block
    projections = [layer for layer in resnet.layers if layer.name.endswith("_down")]
    assert [p.stride for p in projections] == [(2, 2)] * 3
    mobile = load_network("mobilenetv2", weights="none")
    # 17 blocks; only stride-1 blocks keeping their width add: 1 + 2 + 3 + 2 + 2 = 10.
    assert sum(layer.type_name == "add" for layer in mobile.layers) == 10
    depthwise = [layer for layer, ins, _ in mobile.layer_io()
                 if isinstance(layer, Conv2d) and layer.groups == ins[0][0] > 1]
    assert len(depthwise) == 17


# ---- the same networks by hand in PyTorch -------------------------------------------------

def torch_resnet18(torch):
    nn = torch.nn

    class BasicBlock(nn.Module):
        def __init__(self, inp: int, out: int, stride: int) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(inp, out, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(out)
            self.conv2 = nn.Conv2d(out, out, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(out)
            self.downsample = None
            if stride != 1 or inp != out:
                self.downsample = nn.Sequential(nn.Conv2d(inp, out, 1, stride, bias=False),
                                                nn.BatchNorm2d(out))

        def forward(self, x):
            y = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
            return torch.relu(y + (x if self.downsample is None else self.downsample(x)))

    blocks, inp = [], 64
    for out, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        blocks += [BasicBlock(inp, out, stride), BasicBlock(out, out, 1)]
        inp = out
    return nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
                         nn.MaxPool2d(3, 2, 1), *blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(512, 1000))


def torch_mobilenetv2(torch):
    nn = torch.nn

    def conv_bn(inp: int, out: int, kernel: int, stride: int = 1, groups: int = 1,
                act: bool = True) -> list:
        layers = [nn.Conv2d(inp, out, kernel, stride, kernel // 2, groups=groups, bias=False),
                  nn.BatchNorm2d(out)]
        return [*layers, nn.ReLU6()] if act else layers

    class InvertedResidual(nn.Module):
        def __init__(self, inp: int, out: int, stride: int, expand: int) -> None:
            super().__init__()
            hidden = inp * expand
            layers = conv_bn(inp, hidden, 1) if expand != 1 else []
            layers += conv_bn(hidden, hidden, 3, stride, groups=hidden)
            layers += conv_bn(hidden, out, 1, act=False)
            self.conv = nn.Sequential(*layers)
            self.residual = stride == 1 and inp == out

        def forward(self, x):
            return x + self.conv(x) if self.residual else self.conv(x)

    features, inp = conv_bn(3, 32, 3, 2), 32
    for expand, out, repeats, stride in ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2),
                                         (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                                         (6, 320, 1, 1)):
        for i in range(repeats):
            features.append(InvertedResidual(inp, out, stride if i == 0 else 1, expand))
            inp = out
    features += conv_bn(320, 1280, 1)
    return nn.Sequential(*features, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1280, 1000))


def copy_weights(torch, net: Network, model, rng: np.random.Generator) -> Network:
    """Give the torch model accelsim's random weights, layer by layer in graph order (batch
    norms with random statistics too); returns the network with those weights."""
    ours = [layer for layer in net.layers if isinstance(layer, Conv2d | BatchNorm2d | Linear)]
    theirs = [m for m in model.modules()
              if isinstance(m, torch.nn.Conv2d | torch.nn.BatchNorm2d | torch.nn.Linear)]
    assert len(ours) == len(theirs)
    params = {name: dict(p) for name, p in net.params.items()}
    with torch.no_grad():
        for layer, module in zip(ours, theirs, strict=True):
            p = params[layer.name]
            if isinstance(layer, BatchNorm2d):
                channels = p["weight"].shape
                p["weight"] = rng.uniform(0.5, 1.5, channels).astype(np.float32)
                p["bias"] = rng.uniform(-0.2, 0.2, channels).astype(np.float32)
                p["running_mean"] = rng.uniform(-0.2, 0.2, channels).astype(np.float32)
                p["running_var"] = rng.uniform(0.5, 1.5, channels).astype(np.float32)
            for key, value in p.items():
                target = getattr(module, key)
                source = value.T if isinstance(layer, Linear) and key == "weight" else value
                assert tuple(target.shape) == source.shape, layer.name
                target.copy_(torch.from_numpy(np.ascontiguousarray(source)))
    return net.with_params(params)


@pytest.mark.parametrize("name", PUBLISHED)
def test_outputs_match_the_same_network_in_torch(name):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = (torch_resnet18 if name == "resnet18" else torch_mobilenetv2)(torch).eval()
    assert sum(p.numel() for p in model.parameters()) == PUBLISHED[name][0]
    net = copy_weights(torch, load_network(name, weights="init"), model,
                       np.random.default_rng(0))
    x = np.random.default_rng(1).standard_normal((1, 3, 224, 224)).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    got = net.forward(x)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=2e-5 * np.abs(expected).max())
