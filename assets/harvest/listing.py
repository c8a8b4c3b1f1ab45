"""What a structure page (entry, column, list page) was read as, stored for reuse after a 304.

`pages.links` keeps, for every structure page, what the static link extraction found that the
crawler reads (`PageLinks`: the columns it links, its text) and the list adapter's reading of the page (`ListPage`: items, further
requests, sub-columns, end, total), so an unchanged page is neither re-parsed nor re-read.
Stores written before list adapters existed hold a bare `PageLinks` JSON; `decode` returns
None for those, and the crawler fetches such a page unconditionally once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .extract import PageLinks
from .lists.base import ListItem, ListPage, ListRequest

_VERSION = 2


@dataclass(frozen=True)
class StoredReading:
    links: PageLinks | None
    listing: ListPage
    source: str | None  # the adapter that read the page; None when it was not content
    rendered: bool = False


def encode(links: PageLinks | None, listing: ListPage, source: str | None, rendered: bool = False) -> str:
    # Of the static extraction, a 304 needs only what the crawler reads besides the listing: the
    # columns the page links and its own text (items and pager are in the listing already).
    kept = PageLinks(columns=links.columns, text=links.text) if links is not None else None
    return json.dumps({
        "v": _VERSION,
        "links": json.loads(kept.to_json()) if kept is not None else None,
        "list": {
            "items": [[i.url, i.title, i.date_text, [list(m) for m in i.meta]] for i in listing.items],
            "requests": [r.to_json() for r in listing.requests],
            "columns": listing.columns,
            "end": listing.end,
            "total": listing.total,
            "note": listing.note,
        },
        "source": source,
        "rendered": rendered,
    }, ensure_ascii=False, separators=(",", ":"))


def decode(text: str | None) -> StoredReading | None:
    """The stored reading, or None for a page stored by an older zwgk (or none stored)."""
    if not text:
        return None
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("v") != _VERSION:
        return None
    stored = data["list"]
    listing = ListPage(
        items=[ListItem(url, title, date, tuple(tuple(m) for m in meta)) for url, title, date, meta in stored["items"]],
        requests=[ListRequest.from_json(r) for r in stored["requests"]],
        columns=[tuple(c) for c in stored["columns"]],
        end=stored["end"],
        total=stored["total"],
        note=stored["note"],
    )
    links = PageLinks.from_json(json.dumps(data["links"])) if data["links"] is not None else None
    return StoredReading(links, listing, data["source"], bool(data.get("rendered")))
