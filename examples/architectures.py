"""Write the timing-only network files models/resnet18.toml and models/mobilenetv2.toml.

The two ImageNet networks are long but regular; this script spells out their blocks once
(He et al. 2016, ResNet-18; Sandler et al. 2018, MobileNetV2 width 1.0) and writes the TOML
the package ships. Run it from the repository root: `python examples/architectures.py`.
"""

from __future__ import annotations

from pathlib import Path

Table = dict[str, object]

MODELS = Path(__file__).resolve().parents[1] / "models"

# MobileNetV2's inverted residual stages: expansion t, output channels c, repeats n, stride s.
MOBILENETV2_STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                      (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))
RESNET18_STAGES = ((64, 2, 1), (128, 2, 2), (256, 2, 2), (512, 2, 2))  # channels, blocks, stride

RESNET18_HEAD = '''name = "resnet18"
description = """
ResNet-18 (He et al. 2016) at 3×224×224, for timing: conv 64@7×7 stride 2 → batch norm → ReLU
→ 3×3 max-pool stride 2 (padding 1), four stages of two basic blocks (64, 128, 256 and 512
channels; two 3×3 convolutions with batch norm, the block's input added back before the last
ReLU; stages 2–4 start at stride 2 with a 1×1 stride-2 convolution and batch norm as the
shortcut), global average pooling and fc 1000. No trained weights: load it with
weights="none" to lower and time it.
"""
input_shape = [3, 224, 224]
'''

MOBILENETV2_HEAD = '''name = "mobilenetv2"
description = """
MobileNetV2 (Sandler et al. 2018), width 1.0, at 3×224×224, for timing: conv 32@3×3 stride 2,
17 inverted residual blocks (1×1 expansion by t, 3×3 depthwise convolution, 1×1 linear
projection; batch norm after each, ReLU6 after the first two; the input added back when the
stride is 1 and the channels agree), conv 1280@1×1, global average pooling and fc 1000.
No trained weights: load it with weights="none" to lower and time it.
"""
input_shape = [3, 224, 224]
'''


def layer(name: str, kind: str, **fields: object) -> Table:
    """One [[layers]] table."""
    return {"name": name, "type": kind, **fields}


def conv_bn(name: str, out: int, kernel: int, stride: int = 1, *, inputs: str | None = None,
            groups: int = 1, activation: str | None = "relu") -> list[Table]:
    """A bias-free convolution ('same' padding for odd kernels), its batch norm and an
    optional activation, named NAME, NAME_bn, NAME_relu."""
    fields: Table = {"out_channels": out, "kernel_size": kernel}
    if stride != 1:
        fields["stride"] = stride
    if kernel // 2:
        fields["padding"] = kernel // 2
    if groups != 1:
        fields["groups"] = groups
    fields["bias"] = False
    first = layer(name, "conv2d", **({"inputs": [inputs]} if inputs else {}), **fields)
    tables = [first, layer(f"{name}_bn", "batchnorm2d")]
    if activation:
        tables.append(layer(f"{name}_relu", activation))
    return tables


def basic_block(prefix: str, source: str, out: int, stride: int,
                project: bool) -> list[Table]:
    """ResNet's basic block: two 3×3 conv-bn, the shortcut added, then ReLU."""
    tables = conv_bn(f"{prefix}_conv1", out, 3, stride, inputs=source)
    tables += conv_bn(f"{prefix}_conv2", out, 3, activation=None)
    shortcut = source
    if project:
        tables += conv_bn(f"{prefix}_down", out, 1, stride, inputs=source, activation=None)
        shortcut = f"{prefix}_down_bn"
    tables.append(layer(f"{prefix}_add", "add", inputs=[f"{prefix}_conv2_bn", shortcut]))
    tables.append(layer(f"{prefix}_relu", "relu"))
    return tables


def resnet18() -> list[Table]:
    tables = conv_bn("conv1", 64, 7, 2)
    tables.append(layer("maxpool", "maxpool2d", kernel_size=3, stride=2, padding=1))
    source, channels = "maxpool", 64
    for stage, (out, blocks, stride) in enumerate(RESNET18_STAGES, start=1):
        for block in range(blocks):
            first = block == 0
            prefix = f"layer{stage}_{block}"
            tables += basic_block(prefix, source, out, stride if first else 1,
                                  first and (stride != 1 or out != channels))
            source, channels = f"{prefix}_relu", out
    return tables + _head("fc")


def inverted_residual(prefix: str, source: str, inp: int, out: int, expand: int,
                      stride: int) -> list[Table]:
    """MobileNetV2's block: 1×1 expansion (unless t = 1), 3×3 depthwise, 1×1 linear
    projection, and the input added back when shapes allow."""
    hidden = inp * expand
    tables: list[Table] = []
    if expand != 1:
        tables += conv_bn(f"{prefix}_expand", hidden, 1, inputs=source, activation="relu6")
    tables += conv_bn(f"{prefix}_dw", hidden, 3, stride, groups=hidden, activation="relu6",
                      inputs=None if expand != 1 else source)
    tables += conv_bn(f"{prefix}_project", out, 1, activation=None)
    if stride == 1 and inp == out:
        tables.append(layer(f"{prefix}_add", "add", inputs=[f"{prefix}_project_bn", source]))
    return tables


def mobilenetv2() -> list[Table]:
    tables = conv_bn("stem", 32, 3, 2, activation="relu6")
    source, channels, index = "stem_relu", 32, 0
    for expand, out, repeats, stride in MOBILENETV2_STAGES:
        for i in range(repeats):
            index += 1
            prefix = f"block{index}"
            tables += inverted_residual(prefix, source, channels, out, expand,
                                        stride if i == 0 else 1)
            source = str(tables[-1]["name"])
            channels = out
    tables += conv_bn("last", 1280, 1, activation="relu6")
    return tables + _head("classifier")


def _head(name: str) -> list[Table]:
    return [layer("pool", "globalavgpool2d"), layer("flatten", "flatten"),
            layer(name, "linear", out_features=1000)]


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return str(value)


def to_toml(head: str, tables: list[Table]) -> str:
    blocks = ["[[layers]]\n" + "\n".join(f"{k} = {toml_value(v)}" for k, v in t.items())
              for t in tables]
    return head + "\n" + "\n\n".join(blocks) + "\n"


def main() -> None:
    (MODELS / "resnet18.toml").write_text(to_toml(RESNET18_HEAD, resnet18()), "utf-8")
    (MODELS / "mobilenetv2.toml").write_text(to_toml(MOBILENETV2_HEAD, mobilenetv2()), "utf-8")


if __name__ == "__main__":
    main()
