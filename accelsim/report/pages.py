"""The two documents a person reads: summary.md and a self-contained index.html (every plot a
data: URI PNG, inline CSS, no JavaScript, nothing fetched from anywhere)."""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass

from accelsim.tables import Table

CSS = """
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto;
       padding: 0 1rem; color: #222; line-height: 1.45; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.85rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left;
         vertical-align: top; }
th { background: #f2f2f2; }
tr:nth-child(even) td { background: #fafafa; }
figure { margin: 1rem 0 2rem; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.9rem; color: #555; }
.note { color: #8a4b00; }
"""


@dataclass(frozen=True)
class Plot:
    """A drawn plot: its name (the PNG's stem), its title (the alt text) and the PNG."""

    name: str
    title: str
    png: bytes


@dataclass(frozen=True)
class Page:
    """What both documents show."""

    title: str
    description: str
    facts: tuple[str, ...]
    tables: tuple[Table, ...]
    plots: tuple[Plot, ...]
    left_out: tuple[tuple[str, str], ...]  # (plot, why)


def markdown(page: Page, png_files: bool) -> str:
    """summary.md: the tables, then the plots (linked when their PNGs were written) and the
    plots left out, with why."""
    parts = [f"# {page.title}\n"]
    if page.description:
        parts.append(page.description + "\n")
    parts += [f"- {fact}" for fact in page.facts]
    parts.append("")
    parts += [t.markdown() for t in page.tables]
    if page.plots or page.left_out:
        parts.append("## Plots\n")
    parts += [f"![{p.title}]({p.name}.png)\n" if png_files else f"- {p.name}: {p.title}"
              for p in page.plots]
    parts += [f"- {name} left out: {why}" for name, why in page.left_out]
    return "\n".join(parts).rstrip() + "\n"


def _figure(plot: Plot) -> str:
    data = base64.b64encode(plot.png).decode("ascii")
    title = html.escape(plot.title)
    return (f'<figure id="{html.escape(plot.name)}"><img src="data:image/png;base64,{data}" '
            f'alt="{title}"><figcaption>{title}</figcaption></figure>\n')


def html_page(page: Page) -> str:
    """index.html: valid HTML5, self-contained."""
    title = html.escape(page.title)
    body = [f"<h1>{title}</h1>\n"]
    if page.description:
        body.append(f"<p>{html.escape(page.description)}</p>\n")
    if page.facts:
        body.append("<ul>" + "".join(f"<li>{html.escape(f)}</li>" for f in page.facts)
                    + "</ul>\n")
    body += [t.html_section() for t in page.tables]
    if page.plots or page.left_out:
        body.append("<h2>Plots</h2>\n")
    body += [_figure(p) for p in page.plots]
    body += [f'<p class="note">{html.escape(name)} left out: {html.escape(why)}</p>\n'
             for name, why in page.left_out]
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            + "".join(body) + "</body>\n</html>\n")
