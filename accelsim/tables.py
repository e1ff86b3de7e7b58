"""One table type for every table the project shows: a title, a header and rows of text
cells, rendered to aligned text (a terminal), Markdown (summary.md) and HTML (index.html and
notebooks). Whoever builds a table formats its cells once (`accelsim.units`); the three
renderings then show the same cells.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Table:
    """A titled table of text cells; `right` holds the indices of columns aligned right in
    text (numbers)."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    right: frozenset[int] = frozenset()

    @classmethod
    def of(cls, title: str, header: Sequence[str], rows: Iterable[Sequence[object]],
           right: Iterable[int] = ()) -> Table:
        """A table from any cells (each shown with `str`)."""
        return cls(title, tuple(header), tuple(tuple(str(c) for c in row) for row in rows),
                   frozenset(right))

    @property
    def heading(self) -> str:
        """The title as a heading: its first letter capitalized."""
        return self.title[:1].upper() + self.title[1:]

    def lines(self) -> list[str]:
        """The header and rows as text, each column padded to its widest cell."""
        rows = [self.header, *self.rows]
        widths = [max(len(row[i]) for row in rows) for i in range(len(self.header))]
        return ["  ".join(cell.rjust(w) if i in self.right else cell.ljust(w)
                          for i, (cell, w) in enumerate(zip(row, widths, strict=True))).rstrip()
                for row in rows]

    def text(self) -> str:
        """Aligned text: 'title:' and the rows indented under it (a table without a title
        is its rows alone)."""
        if not self.title:
            return "\n".join(self.lines())
        return "\n".join([f"{self.title}:", *(f"  {line}" for line in self.lines())])

    def markdown(self) -> str:
        """A Markdown section: the heading, then a pipe table."""
        lines = [f"## {self.heading}", "", _pipe_row(self.header),
                 "|" + "|".join("---" for _ in self.header) + "|"]
        lines += [_pipe_row(row) for row in self.rows]
        return "\n".join(lines) + "\n"

    def html(self, caption: bool = True) -> str:
        """A plain HTML table (escaped cells); with `caption` the title is its caption, else
        the table has none (a page puts a heading above it: `html_section`)."""
        cap = f"<caption>{html.escape(self.title)}</caption>" if caption and self.title else ""
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self.header)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                       for row in self.rows)
        return f"<table>{cap}<tr>{head}</tr>{body}</table>"

    def html_section(self) -> str:
        """An HTML section of a page: the heading, then the table."""
        return f"<h2>{html.escape(self.heading)}</h2>\n{self.html(caption=False)}\n"

    def _repr_html_(self) -> str:
        return self.html()


def _pipe_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"


def text_tables(tables: Iterable[Table]) -> str:
    """Tables as text, a blank line between them."""
    return "\n\n".join(t.text() for t in tables)
