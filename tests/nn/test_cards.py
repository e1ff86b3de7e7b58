"""MODELS.md blocks are replaced in place; hand-written text around them survives."""

import os
from pathlib import Path

import numpy as np
import pytest

from accelsim.errors import OutputError
from accelsim.nn.cards import HEADER, update_cards
from accelsim.nn.loader import load_network, read_weights_meta, write_weights


def test_update_inserts_then_replaces(tmp_path):
    path = tmp_path / "MODELS.md"
    update_cards(path, "a", "<!-- card: a -->\nfirst\n<!-- /card: a -->")
    assert path.read_text().startswith(HEADER)
    path.write_text(path.read_text() + "\nHand-written note.\n")
    update_cards(path, "b", "<!-- card: b -->\nbee\n<!-- /card: b -->")
    update_cards(path, "a", "<!-- card: a -->\nsecond\n<!-- /card: a -->")
    text = path.read_text()
    assert "second" in text and "first" not in text
    assert "Hand-written note." in text and "bee" in text
    assert text.count("<!-- card: a -->") == 1
    assert not list(tmp_path.glob("*.tmp"))


def test_a_failing_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "MODELS.md"
    update_cards(path, "a", "<!-- card: a -->\nfirst\n<!-- /card: a -->")
    before = path.read_bytes()

    def interrupted(self, text, encoding=None):
        Path.write_bytes(self, text.encode()[:10])  # half a file, then the disk fills up
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", interrupted)
    with pytest.raises(OutputError, match=r"cannot write .*MODELS\.md: No space left on "
                                          r"device; the previous file \(if any\) is unchanged"):
        update_cards(path, "a", "<!-- card: a -->\nsecond\n<!-- /card: a -->")
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["MODELS.md"]


def test_an_unreadable_card_file_is_never_overwritten(tmp_path):
    path = tmp_path / "MODELS.md"
    path.write_bytes(b"# notes \xff\xfe")
    with pytest.raises(OutputError, match=r"MODELS\.md: not UTF-8 text \(byte offset 8\)"):
        update_cards(path, "a", "<!-- card: a -->\nx\n<!-- /card: a -->")
    assert path.read_bytes() == b"# notes \xff\xfe"
    (tmp_path / "folder.md").mkdir()
    with pytest.raises(OutputError, match=r"folder\.md is a folder"):
        update_cards(tmp_path / "folder.md", "a", "x")


def test_weights_are_replaced_atomically(tmp_path, monkeypatch):
    net = load_network("rnn-hello")
    path = tmp_path / "w.npz"
    write_weights(path, net, {"run": 1})
    before = path.read_bytes()

    def interrupted(handle, **arrays):
        handle.write(b"PK\x03\x04 half")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez_compressed", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_weights(path, net, {"run": 2})
    assert path.read_bytes() == before and read_weights_meta(path) == {"run": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["w.npz"]
    umask = os.umask(0o022)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # as open() would create it
