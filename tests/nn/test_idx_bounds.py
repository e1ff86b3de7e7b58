"""MNIST's IDX files are checked against their header before their body is read: a gzip
that would expand beyond what its header declares is never decompressed whole, and a header
declaring more than `MAX_IDX_BYTES` is refused before any body is read."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.errors import DatasetError
from accelsim.nn.datasets import MAX_IDX_BYTES, read_idx


def _header(dims: list[int]) -> bytes:
    return bytes([0, 0, 8, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)


def test_a_gzip_bomb_behind_a_small_header_is_refused_without_expanding_it(tmp_path,
                                                                         monkeypatch):
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    with gzip.open(path, "wb", compresslevel=9) as out:  # 10 bytes declared, 256 MiB follow
        out.write(_header([10]) + bytes(10))
        block = bytes(2**24)
        for _ in range(16):
            out.write(block)
    assert path.stat().st_size < 2**20
    asked: list[int] = []

    class Counting(gzip.GzipFile):
        def read(self, size: int | None = -1) -> bytes:
            data = super().read(size)
            asked.append(len(data))
            return data

    monkeypatch.setattr(gzip, "open", lambda name, mode="rb": Counting(name, mode))
    with pytest.raises(DatasetError, match=r"header says \[10\] \(10 bytes\) but more than "
                                           r"1,048,586 bytes follow"):
        read_idx(path)
    assert 0 < sum(asked) < 2 * 2**20  # about 1 MiB decompressed, not 256


def test_a_header_declaring_more_than_the_cap_is_refused_before_the_body(tmp_path):
    path = tmp_path / "huge.gz"
    path.write_bytes(gzip.compress(_header([2**16, 2**16, 2**16]) + bytes(100)))
    with pytest.raises(DatasetError, match=f"at most {MAX_IDX_BYTES:,} are read"):
        read_idx(path)


@settings(max_examples=40, deadline=None)
@given(dims=st.lists(st.integers(0, 40), min_size=1, max_size=3),
       extra=st.integers(-5, 5), gz=st.booleans())
def test_the_body_must_be_exactly_what_the_header_says(tmp_path_factory, dims, extra, gz):
    size = int(np.prod(dims))
    body = bytes(range(256)) * (size // 256 + 1)
    body = body[:max(0, size + extra)] + bytes(max(0, size + extra - len(body)))
    data = _header(dims) + body
    path = tmp_path_factory.mktemp("idx") / ("f.gz" if gz else "f")
    path.write_bytes(gzip.compress(data) if gz else data)
    if extra == 0 or (extra < 0 and size == 0):
        assert read_idx(path).shape == tuple(dims)
    else:
        with pytest.raises(DatasetError, match=str(path)):
            read_idx(path)
