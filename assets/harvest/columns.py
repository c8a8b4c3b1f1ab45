"""Columns: what the walk of one column found, and the `columns` / `column_items` rows it becomes.

The columns table is built breadth-first from the entry page once the crawl is over, so a
column's parent, name and depth do not depend on which page happened to be fetched first
(side navs repeat sibling columns on every page).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from schemas.vocabulary import classify_column, is_article_text

from .access import EMPTY, NOT_FOUND, OK, SOFT_404, UNREADABLE, Access
from .lists.base import ListItem
from .urls import dedupe_key

ITEM_FIELDS = ("column_url", "item_url", "link_text", "list_date_text", "position", "list_page_url", "meta")
OUT_OF_SCOPE = "out of scope: not crawled"
# robots.txt forbids reading the column: neither content nor evidence of anything (never judged).
DISALLOWED = "disallowed"
# A list page that answers "not found" after the last page with items is where the list ends
# (pagers announce pages that were never generated); before it, it is a hole in the list.
_END_OUTCOMES = (NOT_FOUND, SOFT_404)


@dataclass
class ColumnWalk:
    """The list pages of one column, the items each showed, and how reading them went."""

    url: str
    depth: int
    source: str | None = None  # the list adapter reading it (or "rendered")
    order: dict[str, int] = field(default_factory=dict)  # request key of a list page -> its position
    page_urls: dict[str, str] = field(default_factory=dict)  # request key -> the page's URL
    items: dict[str, list[ListItem]] = field(default_factory=dict)  # request key -> items, for pages read
    pending: int = 1
    failures: list[tuple[int, Access]] = field(default_factory=list)  # list pages that could not be read
    total: int | None = None  # items the source announces
    access: Access | None = None  # the column's own page could not be read (or not as a list)
    truncated: str | None = None  # why the walk stopped early (page limit)
    rendered: bool = False
    text: str = ""

    def item_rows(self) -> list[tuple]:
        """(ITEM_FIELDS) tuples in list order across pages, each item once."""
        rows, seen = [], set()
        for key in sorted(self.items, key=lambda k: self.order[k]):
            for item in self.items[key]:
                if item.url not in seen:
                    seen.add(item.url)
                    meta = json.dumps(dict(item.meta), ensure_ascii=False) if item.meta else None
                    rows.append((self.url, item.url, item.title, item.date_text, len(rows), self.page_urls[key], meta))
        return rows

    def is_article(self) -> bool:
        """A column page read whole that lists nothing and is itself an article (catalog C02–C06)."""
        return (self.access is None and not self.distinct_items() and not self.total and not self.failures
                and bool(self.items) and is_article_text(self.text))

    def distinct_items(self) -> set[str]:
        return {item.url for page in self.items.values() for item in page}

    def holes(self) -> list[tuple[int, Access]]:
        """Failed list pages that leave items unread (not the not-found pages past the list's end)."""
        last = max((self.order[k] for k, page in self.items.items() if page), default=-1)
        return [(p, a) for p, a in self.failures if not (a.outcome in _END_OUTCOMES and p > last)]

    @property
    def complete(self) -> bool:
        return self.problem is None

    @property
    def problem(self) -> str | None:
        """Why the walk may have missed items, or None when it read the whole list."""
        if self.access is not None:
            if self.access.outcome == DISALLOWED:
                return self.access.detail
            return f"{self.access.outcome}: {self.access.detail}"
        if self.truncated:
            return self.truncated
        holes = self.holes()
        if holes:
            position, access = holes[0]
            return f"list page {position + 1} ({access.url}): {access.outcome}: {access.detail}"
        found = len(self.distinct_items())
        if self.total is not None and found < self.total:
            return f"the source announces {self.total} items, {found} were listed"
        return None

    def outcome(self, when: datetime) -> Access:
        """The column's access outcome with its evidence."""
        if self.access is not None:
            return self.access
        found = len(self.distinct_items())
        if found:
            return Access(outcome=OK, url=self.url, status=200, detail=f"{found} items", excerpt="")
        holes = self.holes()
        if holes:
            return holes[0][1]
        if self.total:
            # The source says there are items but none could be read: never call that empty.
            return Access(outcome=UNREADABLE, url=self.url, status=200, excerpt="",
                          detail=f"the source announces {self.total} items; none could be read")
        return Access(outcome=EMPTY, url=self.url, status=200, detail="no items listed", excerpt=self.text[:200])


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
    items = walk.distinct_items() if walk else set()
    return {
        "unit_id": unit_id, "column_url": url, "name": name, "kind": classify_column(name),
        "parent_column_url": parent, "depth": depth, "child_columns": 0,
        "list_pages": len(walk.items) if walk else 0, "item_count": len(items),
        "empty_page_text": walk.text if walk and not items else None,
        "walked_fully": bool(walk and walk.complete),
        "error": walk.problem if walk else OUT_OF_SCOPE, "updated_at": now,
    }


def access_rows(entry: Access | None, entry_role_url: str, walks: dict[str, ColumnWalk], source_of_entry: str | None,
                entry_rendered: bool, now: datetime) -> list[dict]:
    """`access` rows: the entry page's outcome, then every walked column's."""
    rows = []
    if entry is not None:
        rows.append(_access_row(entry_role_url, "entry", entry, source_of_entry, entry_rendered, now))
    for walk in walks.values():
        rows.append(_access_row(walk.url, "column", walk.outcome(now), walk.source, walk.rendered, now))
    return rows


def _access_row(url: str, role: str, access: Access, source: str | None, rendered: bool, now: datetime) -> dict:
    return {"url": url, "role": role, "outcome": access.outcome, "status": access.status, "detail": access.detail,
            "excerpt": access.excerpt, "final_url": access.url, "list_source": source, "rendered": rendered,
            "checked_at": now}


def keep_unchanged_timestamps(rows: list[dict], previous: list[dict]) -> bool:
    """Carry `updated_at` over for rows equal to last run's; True when the table needs rewriting."""
    before = {row["column_url"]: row for row in previous}
    for row in rows:
        old = before.get(row["column_url"])
        if old is not None and {**old, "updated_at": None} == {**row, "updated_at": None}:
            row["updated_at"] = old["updated_at"]
    return {row["column_url"]: row for row in rows} != before
