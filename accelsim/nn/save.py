"""A network written back as files: its TOML definition and its weights (npz) side by side,
as `accelsim import` writes an imported ONNX model. Loading the TOML gives the same layers
and, with the npz, the same outputs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from accelsim.errors import OutputError
from accelsim.files import ensure_folder, write_text_atomically
from accelsim.nn.network import Network
from accelsim.nn.weights import write_weights


def toml_value(value: Any) -> str:
    """One TOML value: a boolean, integer, finite float, string or list of them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise OutputError(f"cannot write {value} in a network file; use a finite number")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON's escapes are TOML's
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise OutputError(f"cannot write {value!r} ({type(value).__name__}) in a network file")


def network_toml(net: Network, weights_name: str | None) -> str:
    """The TOML network file that rebuilds `net` (naming `weights_name` beside it)."""
    head: dict[str, Any] = {"name": net.name, "description": net.description,
                            "input_shape": list(net.input_shape)}
    if net.sequence:
        head.update({"sequence": True, "seq_len": net.seq_len or 1})
    if weights_name:
        head["weights"] = weights_name
    lines = [f"{key} = {toml_value(value)}" for key, value in head.items()]
    for layer in net.layers:
        lines.extend(["", "[[layers]]"])
        lines.extend(f"{key} = {toml_value(value)}" for key, value in layer.to_fields().items())
    return "\n".join(lines) + "\n"


def check_out_folder(out_dir: Path) -> Path:
    """A folder files may be written into: existing, or to be made (not a file)."""
    existing = next((p for p in (out_dir, *out_dir.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise OutputError(f"{existing} is a file, not a folder; choose another --out")
    return out_dir


def save_network(net: Network, out_dir: Path) -> tuple[Path, Path]:
    """Write OUT/NAME.toml and OUT/NAME.npz (each atomically; the npz first, removed again
    if the TOML cannot be written). Returns both paths."""
    ensure_folder(check_out_folder(out_dir), "choose another --out")
    toml_path, npz_path = out_dir / f"{net.name}.toml", out_dir / f"{net.name}.npz"
    text = network_toml(net, npz_path.name)
    existed = npz_path.exists()
    write_weights(npz_path, net, {"source": str(net.source.name) if net.source else ""})
    try:
        write_text_atomically(toml_path, text)
    except OutputError:
        if not existed:
            npz_path.unlink(missing_ok=True)
        raise
    return toml_path, npz_path
