"""The vocabulary every list adapter speaks: requests for list pages, items, and what a page held.

An adapter (one module per mechanism, see docs/list-mechanisms.md) never fetches anything
itself: it reads pages the crawler fetched and asks for further requests, like a Scrapy spider's
callbacks. That keeps every adapter a pure function of page text, testable without a server.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Protocol

from ..extract import PageLinks


@dataclass(frozen=True, slots=True)
class ListRequest:
    """One request for a page of a column's list: a GET, or a form POST with its headers."""

    url: str
    method: str = "GET"
    form: tuple[tuple[str, str], ...] = ()  # POST body (application/x-www-form-urlencoded), in order
    headers: tuple[tuple[str, str], ...] = ()  # extra headers: Referer, X-Requested-With …
    position: int = 0  # 0-based place of this page in the column's list (orders items across pages)

    @property
    def key(self) -> str:
        """Identity of the request: two requests with the same key fetch the same list page."""
        if self.method == "GET" and not self.form:
            return self.url
        return f"{self.method} {self.url} " + "&".join(f"{k}={v}" for k, v in self.form)

    def to_json(self) -> list:
        return [self.url, self.method, [list(p) for p in self.form], [list(p) for p in self.headers], self.position]

    @classmethod
    def from_json(cls, data: list) -> ListRequest:
        url, method, form, headers, position = data
        return cls(url, method, tuple(tuple(p) for p in form), tuple(tuple(p) for p in headers), position)


@dataclass(frozen=True, slots=True)
class ListItem:
    """One listed item: its URL, the title and date the list shows, and any metadata the source carries."""

    url: str
    title: str
    date_text: str = ""  # as shown in the list, or YYYY-MM-DD derived from a JSON date (ISO, epoch)
    meta: tuple[tuple[str, str], ...] = ()  # e.g. ("FWZH", "津滨规〔2020〕3号"), ("YXX", "0"), ("date", "1600137000")


@dataclass
class ListPage:
    """What one page of a column's list held, and what it implies."""

    items: list[ListItem] = field(default_factory=list)
    requests: list[ListRequest] = field(default_factory=list)  # further list pages (the caller dedupes)
    # Sub-columns the page names: (url, name), or (url, name, parent column URL) where the source
    # says which column a sub-column sits under (gkmlpt's category tree).
    columns: list[tuple] = field(default_factory=list)
    end: bool = False  # the page shows the list is over (empty recordset, empty content[], stub page)
    total: int | None = None  # items the source announces for the whole column, when it does
    note: str = ""  # the page's own text when it lists nothing (for 本栏目暂无信息-style notes)


@dataclass(frozen=True, slots=True)
class Page:
    """A fetched page as adapters see it."""

    url: str  # final URL, after redirects
    column_url: str  # the column this page belongs to (its first page's URL)
    status: int
    content_type: str | None
    text: str  # decoded body
    request: ListRequest | None = None  # the request that fetched it (None for a column's own page)

    @property
    def is_json(self) -> bool:
        if self.content_type and "json" in self.content_type:
            return True
        head = self.text.lstrip()[:1]
        return head in ("{", "[")

    def json(self):
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.text)
        except ValueError:
            return None


class ListSource(Protocol):
    """One list mechanism. `name` is what the registry's `list_source` option names."""

    name: str

    def claims(self, page: Page) -> bool:
        """Whether `page` (a column page, or an answer to one of this adapter's requests) is this mechanism's."""

    def first_page(self, page: Page, links: PageLinks | None) -> ListPage:
        """The column's own page (or a unit's entry page): its items and sub-columns, and the
        requests for the rest of the list.

        `links` is the static link extraction of the same page (nav columns, anchors, pager,
        frames) when it is HTML, None otherwise; adapters may use it or ignore it.
        """

    def next_page(self, request: ListRequest, page: Page, links: PageLinks | None) -> ListPage:
        """The answer to one of this adapter's own requests (`page.request is request`)."""
