"""static — server-rendered lists (TRS WCM and most CMSs), read by today's link extraction.

Items are the rows `extract_links` finds; further pages are what `list_pages` derives from the
pager (下一页/尾页/numbered links, `createPageHTML(…)`, `?page=N`), asked for all at once. The end of
a list is read from content: a list page after the first that lists nothing and is a stub
(under 1,000 bytes), or that answers 404/410 (docs/list-mechanisms.md, "Deep stubs").

A column page that lists nothing but holds frames is a shell around its list (常州/淮安 district
columns, SiteServer `_list.html` frames): the frames are asked for as the list's first page, and
the crawler keeps the ones in the unit's scope.
"""

from __future__ import annotations

from ..extract import PageLinks, extract_links
from ..pagination import list_pages, page_number
from ..urls import dedupe_key, directory
from .base import ListItem, ListPage, ListRequest, Page

# Past the real end, CMS pagers answer 300–400 byte stubs; a real list page is never this small.
STUB_BYTES = 1000
GONE_STATUSES = frozenset({404, 410})


def links_of(page: Page, links: PageLinks | None) -> PageLinks:
    """The page's static links: the crawler's extraction when it passed one, else extracted here."""
    return links if links is not None else extract_links(page.text, page.url)


def is_stub(page: Page) -> bool:
    return len(page.text.encode("utf-8")) < STUB_BYTES


class StaticList:
    name = "static"

    def claims(self, page: Page) -> bool:
        """Any HTML page: server-rendered markup is the fallback every other mechanism is tried before."""
        return not page.is_json

    def first_page(self, page: Page, links: PageLinks | None) -> ListPage:
        links = links_of(page, links)
        listing = read_list_page(page, links, position=0, first_url=page.url)
        if not listing.items and links.frames:
            listing.requests.extend(ListRequest(url, position=0) for url in links.frames)
        return listing

    def next_page(self, request: ListRequest, page: Page, links: PageLinks | None) -> ListPage:
        if page.status in GONE_STATUSES:
            return ListPage(end=True)
        links = links_of(page, links)
        # A frame's list pages its own directory; a column's further pages page the column's.
        same_folder = directory(page.url) == directory(page.column_url)
        listing = read_list_page(page, links, request.position, page.column_url if same_folder else page.url)
        if not listing.items and request.position > 0 and is_stub(page):
            listing.end = True
            listing.requests = []  # a stub's pager (it may still draw one) leads nowhere new
        return listing


def read_list_page(page: Page, links: PageLinks, position: int, first_url: str) -> ListPage:
    """Items of a list page and requests for every further page its pager implies."""
    items = [ListItem(url=url, title=title, date_text=date,
                      meta=(("mark", links.marks[url]),) if url in links.marks else ())
             for url, title, date in links.items]
    return ListPage(items=items, requests=pager_requests(page, links, position, first_url),
                    note="" if items else links.text)


def pager_requests(page: Page, links: PageLinks, position: int, first_url: str) -> list[ListRequest]:
    """GET requests for the pages `list_pages` finds, placed by the number their URL shows
    (index_3.html is 3), else right after this page."""
    known = {dedupe_key(page.url), dedupe_key(page.column_url), dedupe_key(first_url)}
    requests: list[ListRequest] = []
    for url in list_pages(first_url, page.url, links.pager, links.script_pager):
        key = dedupe_key(url)
        if key in known:
            continue
        known.add(key)
        number = page_number(url)
        requests.append(ListRequest(url, position=number if number is not None else position + 1))
    return requests


ADAPTER = StaticList()
