"""Weights files (npz of 'layer.param' arrays plus a JSON training record) and weight memory.

Reading checks every array's name, shape and dtype from its header before any data is read,
refuses networks whose weights would exceed the memory limit, and turns every failure of a
missing, empty, truncated or corrupt file into a `ModelFileError` naming the file. Writing
is atomic (see `accelsim.files`).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from accelsim.errors import AccelsimError, MemoryLimitError, ModelFileError
from accelsim.files import write_atomically
from accelsim.nn.layers import Params, Shape
from accelsim.nn.network import Network, check_finite

INIT_LIMIT_BYTES = 2 * 2**30  # float32 weights allocated at most (or half the machine's RAM)
META_KEY = "__meta__"
NPZ_ERRORS = (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error,
              UnicodeDecodeError)


def init_limit_bytes() -> int:
    """Most bytes of weights allocated: INIT_LIMIT_BYTES, or half the physical memory."""
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return INIT_LIMIT_BYTES
    return min(INIT_LIMIT_BYTES, physical // 2) if physical > 0 else INIT_LIMIT_BYTES


def bytes_text(count: int) -> str:
    """1536 → '1.5 KiB'."""
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if count >= size:
            return f"{count / size:,.1f} {unit}"
    return f"{count} bytes"


def check_weight_memory(net: Network, where: str, limit_bytes: int | None = None) -> None:
    """Refuse to allocate float32 weights over the limit, naming the largest layer."""
    limit = init_limit_bytes() if limit_bytes is None else limit_bytes
    counts = [(sum(math.prod(p) for p in layer.param_shapes_of(ins).values()), index, layer)
              for index, (layer, ins, _) in enumerate(net.layer_io())]
    total = 4 * sum(count for count, _, _ in counts)
    if total <= limit:
        return
    count, index, layer = max(counts, key=lambda item: item[0])
    raise MemoryLimitError(
        f"{where}: layer {index} ({layer.name!r}, type {layer.type_name!r}) has {count:,} "
        f"parameters ({bytes_text(4 * count)} as float32); the weights of {net.name!r} would "
        f"need {bytes_text(total)}, over the {bytes_text(limit)} limit. To time it, load it "
        "without weights: weights='none' (as `accelsim time` and `accelsim info --untrained` "
        "do)")


def expected_shapes(net: Network) -> dict[str, Shape]:
    """'layer.param' → shape for every parameter the network needs."""
    out = {}
    for layer, ins, _ in net.layer_io():
        for pname, pshape in layer.param_shapes_of(ins).items():
            out[f"{layer.name}.{pname}"] = pshape
    return out


def _reason(err: BaseException) -> str:
    text = getattr(err, "strerror", None) or str(err) or type(err).__name__
    return text.splitlines()[0] if text else type(err).__name__


@contextlib.contextmanager
def _npz(path: Path) -> Iterator[np.lib.npyio.NpzFile]:
    """An open npz archive; any failure to open or read it names the file."""
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ModelFileError(f"{path}: a single .npy array, not an .npz archive of "
                                 "'layer.param' arrays; save weights with np.savez")
        with archive:
            yield archive
    except AccelsimError:
        raise
    except NPZ_ERRORS as err:
        raise ModelFileError(f"{path}: not a readable .npz weights file ({_reason(err)}); "
                             "retrain the network or give the right file") from None


def _headers(archive: np.lib.npyio.NpzFile) -> dict[str, tuple[Shape, np.dtype]]:
    """Shape and dtype of every array, read from the .npy headers (no data is read)."""
    zipped = archive.zip
    if zipped is None:  # np.load of an .npz always opens its zip
        raise ModelFileError(f"{archive.fid}: not a readable .npz archive")
    names = set(zipped.namelist())
    out = {}
    for key in archive.files:
        member = f"{key}.npy" if f"{key}.npy" in names else key
        with zipped.open(member) as handle:
            version = np.lib.format.read_magic(handle)
            read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                    else np.lib.format.read_array_header_2_0)
            shape, _, dtype = read(handle)
        out[key] = (tuple(shape), dtype)
    return out


def _check_headers(path: Path, net: Network, headers: dict[str, tuple[Shape, np.dtype]]) -> None:
    expected = expected_shapes(net)
    for key, shape in expected.items():
        if key not in headers:
            layer = key.rsplit(".", 1)[0]
            raise ModelFileError(f"{path}: missing weights for layer {layer!r}: no array "
                                 f"{key!r} (expected shape {shape}); retrain the network")
        got, dtype = headers[key]
        if got != shape:
            raise ModelFileError(f"{path}: {key!r} has shape {got}, the network "
                                 f"{net.name!r} needs {shape}")
        if dtype.kind not in "fiu":
            raise ModelFileError(f"{path}: {key!r} has dtype {dtype}; weights must be real "
                                 "numbers (float32)")
    extra = sorted(set(headers) - set(expected) - {META_KEY})
    if extra:
        raise ModelFileError(f"{path}: arrays {', '.join(extra)} match no layer of "
                             f"{net.name!r}; is this the right weights file?")


def read_weights(path: Path, net: Network) -> dict[str, Params]:
    """Read 'layer.param' arrays from an npz file, checking names, shapes and values."""
    params: dict[str, Params] = {}
    with _npz(path) as archive:
        _check_headers(path, net, _headers(archive))
        check_weight_memory(net, str(path))
        for key in expected_shapes(net):
            array = archive[key].astype(np.float32)
            check_finite(array, f"{path}: {key!r}", fix="retrain the network",
                         error=ModelFileError)
            layer, pname = key.rsplit(".", 1)
            params.setdefault(layer, {})[pname] = array
    return params


def read_weights_meta(path: Path) -> dict[str, Any]:
    """The training record stored beside the arrays (empty when absent)."""
    with _npz(path) as archive:
        if META_KEY not in archive.files:
            return {}
        text = str(archive[META_KEY])
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as err:
        raise ModelFileError(f"{path}: the training record is not valid JSON ({err})") from None
    if not isinstance(meta, dict):
        raise ModelFileError(f"{path}: the training record is {type(meta).__name__}, not a "
                             "JSON object")
    return meta


def write_weights(path: Path, net: Network, meta: dict[str, Any]) -> None:
    """Write weights atomically: a temporary file in the same folder renamed over the target."""
    arrays = {f"{layer}.{pname}": a for layer, p in net.params.items() for pname, a in p.items()}
    arrays[META_KEY] = np.array(json.dumps(meta, sort_keys=True))

    def write(tmp: Path) -> None:
        with tmp.open("wb") as handle:
            # the stub cannot tell **arrays from its `allow_pickle: bool` keyword
            np.savez_compressed(handle, **arrays)  # type: ignore[arg-type]

    write_atomically(path, write)
