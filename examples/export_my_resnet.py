"""Write scenarios/my-resnet.onnx, the model `accelsim run bring-your-own` imports (needs torch
and onnx: pip install 'accelsim[onnx]' torch==2.13.0).

    .venv/bin/python examples/export_my_resnet.py

A ResNet-8 for 3×32×32 images (CIFAR-sized) as a PyTorch user would write it: a conv-bn-relu
stem, three stages of one basic block each (16, 32 and 64 channels; the later two strided,
with 1×1 projection shortcuts), global average pooling and a linear layer to 10 classes.
Random weights from seed 0, batch-norm statistics from a few training-mode passes; exported
with torch.onnx.export at opset 17 with a dynamic batch axis.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

OUT = Path(__file__).resolve().parent.parent / "scenarios" / "my-resnet.onnx"


class Block(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False),
                                          nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


def resnet8() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
                         Block(16, 16, 1), Block(16, 32, 2), Block(32, 64, 2),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))


def main() -> None:
    torch.manual_seed(0)
    model = resnet8()
    model.train()
    with torch.no_grad():
        for _ in range(4):
            model(torch.randn(32, 3, 32, 32))
    model.eval()
    torch.onnx.export(model, (torch.randn(1, 3, 32, 32),), str(OUT), opset_version=17,
                      input_names=["image"], output_names=["logits"], dynamo=False,
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
