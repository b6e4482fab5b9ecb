"""A small self-contained HTML report: sections of text, tables and figures (PNG embedded)."""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

__all__ = ["Report"]

STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1100px; color: #222; line-height: 1.45; }
h1 { border-bottom: 2px solid #a33; padding-bottom: .3em; }
h2 { color: #a33; margin-top: 2em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: right; }
th { background: #f3eded; }
td:first-child, th:first-child { text-align: left; }
figure { display: inline-block; margin: .5em 1em .5em 0; vertical-align: top; }
figure img { max-width: 520px; border: 1px solid #ddd; }
figcaption { font-size: .85em; color: #555; max-width: 520px; }
.note { background: #fff8e6; border-left: 4px solid #e0a800; padding: .5em 1em; }
nav a { margin-right: 1em; }
.wide { overflow-x: auto; }
"""


@dataclass
class Section:
    anchor: str
    title: str
    parts: list[str] = field(default_factory=list)


class Report:
    """Collect sections, then :meth:`write` one HTML file with the figures embedded."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.sections: list[Section] = []

    def section(self, anchor: str, title: str) -> Section:
        self.sections.append(Section(anchor, title))
        return self.sections[-1]

    @staticmethod
    def text(section: Section, paragraph: str, *, note: bool = False) -> None:
        css = ' class="note"' if note else ""
        section.parts.append(f"<p{css}>{html.escape(paragraph)}</p>")

    @staticmethod
    def table(section: Section, frame: pd.DataFrame, caption: str = "", *, index: bool = True,
              digits: int = 3) -> None:
        table = frame.to_html(index=index, float_format=lambda v: f"{v:.{digits}g}",
                              border=0, na_rep="")
        cap = f"<p><b>{html.escape(caption)}</b></p>" if caption else ""
        section.parts.append(f'{cap}<div class="wide">{table}</div>')

    @staticmethod
    def figure(section: Section, png: Path, caption: str) -> None:
        data = base64.b64encode(Path(png).read_bytes()).decode("ascii")
        section.parts.append(
            f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")

    def write(self, path: str | Path) -> Path:
        nav = " ".join(f'<a href="#{s.anchor}">{html.escape(s.title)}</a>'
                       for s in self.sections)
        body = "\n".join(f'<section id="{s.anchor}"><h2>{html.escape(s.title)}</h2>\n'
                         + "\n".join(s.parts) + "</section>" for s in self.sections)
        page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'>"
                f"<title>{html.escape(self.title)}</title><style>{STYLE}</style></head><body>"
                f"<h1>{html.escape(self.title)}</h1><nav>{nav}</nav>{body}</body></html>")
        out = Path(path)
        out.write_text(page, encoding="utf-8")
        return out
