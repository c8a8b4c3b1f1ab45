"""Columns: what the walk of one column found, and the `columns` / `column_items` rows it becomes.

The columns table is built breadth-first from the entry page once the crawl is over, so a
column's parent, name and depth do not depend on which page happened to be fetched first
(side navs repeat sibling columns on every page).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from schemas.vocabulary import classify_column

from .urls import dedupe_key

ITEM_FIELDS = ("column_url", "item_url", "link_text", "list_date_text", "position", "list_page_url")
OUT_OF_SCOPE = "out of scope: not crawled"


@dataclass
class ColumnWalk:
    """The list pages of one column, and the items each showed."""

    url: str
    depth: int
    order: dict[str, int] = field(default_factory=dict)  # dedupe key of a list page -> page position
    items: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)  # list page url -> items
    pending: int = 1
    complete: bool = True
    error: str | None = None
    text: str = ""

    def item_rows(self) -> list[tuple]:
        """(ITEM_FIELDS) tuples in list order across pages, each item once."""
        rows, seen = [], set()
        for page_url in sorted(self.items, key=lambda u: self.order[dedupe_key(u)]):
            for url, text, date in self.items[page_url]:
                if url not in seen:
                    seen.add(url)
                    rows.append((self.url, url, text, date, len(rows), page_url))
        return rows


def column_rows(
    unit_id: str,
    entry_url: str,
    edges: dict[str, list[tuple[str, str]]],
    walks: dict[str, ColumnWalk],
    now: datetime,
) -> list[dict]:
    """`columns` rows, breadth-first from the entry page over the column links each page showed.

    Columns linked from the entry page but outside the unit's scope are kept (with an error) when
    their link text names a known column kind: a unit may host its annual reports elsewhere.
    """
    rows, visited, frontier = [], {dedupe_key(entry_url)}, [(entry_url, 0)]
    for page_url, depth in frontier:
        for url, name in edges.get(page_url, []):
            key = dedupe_key(url)
            walk = walks.get(key)
            if key in visited or (walk is None and (page_url != entry_url or classify_column(name) == "other")):
                continue
            visited.add(key)
            parent = None if page_url == entry_url else page_url
            rows.append(_row(unit_id, url, name, parent, depth + 1, walk, now))
            if walk is not None:
                frontier.append((walk.url, depth + 1))
    for row in rows:
        row["child_columns"] = sum(r["parent_column_url"] == row["column_url"] for r in rows)
    return rows


def _row(unit_id: str, url: str, name: str, parent: str | None, depth: int, walk: ColumnWalk | None,
         now: datetime) -> dict:
    items = {u for page_items in walk.items.values() for u, _, _ in page_items} if walk else set()
    return {
        "unit_id": unit_id, "column_url": url, "name": name, "kind": classify_column(name),
        "parent_column_url": parent, "depth": depth, "child_columns": 0,
        "list_pages": len(walk.items) if walk else 0, "item_count": len(items),
        "empty_page_text": walk.text if walk and not items else None,
        "walked_fully": bool(walk and walk.complete),
        "error": walk.error if walk else OUT_OF_SCOPE, "updated_at": now,
    }


def keep_unchanged_timestamps(rows: list[dict], previous: list[dict]) -> bool:
    """Carry `updated_at` over for rows equal to last run's; True when the table needs rewriting."""
    before = {row["column_url"]: row for row in previous}
    for row in rows:
        old = before.get(row["column_url"])
        if old is not None and {**old, "updated_at": None} == {**row, "updated_at": None}:
            row["updated_at"] = old["updated_at"]
    return {row["column_url"]: row for row in rows} != before
