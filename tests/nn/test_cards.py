"""MODELS.md blocks are replaced in place; hand-written text around them survives."""

from accelsim.nn.cards import HEADER, update_cards


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
