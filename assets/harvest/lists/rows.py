"""List rows in HTML fragments (jpage records, xxgk search rows): url, title and date of one item.

The static extractor (`extract.py`) reads whole pages by zone; the fragments adapters get are
already one row each (a jpage `<record>`) or a bare table, so they are read here directly:

- url: the row's first followable `<a href>`, absolute against the page the row is shown on;
- title: the link text, or its `title=` when the text is truncated (…, ...) or missing;
- mark: a validity mark the row shows outside the title (已废止 …), in `meta` as ("mark", …);
- date: the first date shown in the row outside the title, whitespace removed so a date split
  across lines (`2026-\\n01-\\n23`) reads `2026-01-23`; never part of a longer number (a bare
  索引号 `2026-02-00018` is no date).
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

from ..marks import row_mark
from ..urls import absolute_url
from .base import ListItem

ROW_DATE = re.compile(
    r"(?<!\d)(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}(?!\d)(?:\s*日)?"
    r"|(?<!\d)(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?!\d)"
)
_TRUNCATED = ("...", "…", "..", "。。。")
_TRAILING_DATE = re.compile(r"[\s\[(（]*(?:" + ROW_DATE.pattern + r")[\s\])）]*$")


def parse_fragment(html: str) -> LexborHTMLParser:
    """An HTML fragment as a tree; bare `<tr>` rows are wrapped in a table so the parser keeps them."""
    head = html.lstrip()[:4].lower()
    if head.startswith(("<tr", "<td", "<th")):
        html = f"<table>{html}</table>"
    return LexborHTMLParser(html)


def collapse(text: str) -> str:
    return " ".join(text.split())


def row_date(text: str, exclude: str = "") -> str:
    """The date shown in a row's text, preferring text outside `exclude` (the title)."""
    text = collapse(text)
    outside = text.replace(exclude, " ", 1) if exclude else text
    match = ROW_DATE.search(outside) or ROW_DATE.search(text)
    return re.sub(r"\s+", "", match.group(0)) if match else ""


def anchor_title(anchor: LexborNode) -> str:
    """The item title a link shows, or its `title=` when the shown text is cut short or absent."""
    text = collapse(anchor.text(separator=" "))
    # Hanweb puts the date inside the link, after the title: <a><span>title</span><i>date</i></a>
    trailing = _TRAILING_DATE.search(text)
    if trailing and trailing.start() > 0:
        text = text[:trailing.start()].rstrip()
    title = collapse(anchor.attributes.get("title") or "")
    if not title:
        return text
    stem = text.rstrip(".…。 ")
    truncated = text.endswith(_TRUNCATED) or (len(title) > len(text) and title.startswith(stem[:4]))
    return title if not text or truncated else text


def first_link(node: LexborNode) -> LexborNode | None:
    """The row's first link that leads to a page (not javascript:, not #)."""
    for anchor in node.css("a[href]"):
        href = (anchor.attributes.get("href") or "").strip()
        if href and not href.startswith("#") and not href.lower().startswith(("javascript:", "mailto:")):
            return anchor
    return None


def item_of_row(node: LexborNode, base_url: str) -> ListItem | None:
    """The item a row lists, or None when it links nowhere."""
    anchor = first_link(node)
    if anchor is None:
        return None
    url = absolute_url(base_url, anchor.attributes.get("href") or "")
    if url is None:
        return None
    title = anchor_title(anchor)
    text = node.text(separator=" ")
    mark = row_mark(collapse(text), title)
    return ListItem(url=url, title=title, date_text=row_date(text, title), meta=(("mark", mark),) if mark else ())


def item_of_fragment(html: str, base_url: str) -> ListItem | None:
    """The item of a one-row fragment (a jpage record)."""
    tree = parse_fragment(html)
    root = tree.body or tree.root
    return item_of_row(root, base_url) if root is not None else None
