"""igs — Tianjin TRS IGS JSON search behind a JS shell column page.

Signature: a script string naming the list endpoint `…/igs/front/search/list.html?…` (a header
search box's `search.jhtml` is not a column's list and does not count), or a JSON answer
`{"page": {"content": [...]}}`. Pages: `GET <listUrl>&pageNumber=N` (1-based).

Items: `BT` title, `DOCPUBURL` URL, `FBRQ` date (ISO with T, read as its calendar day); metadata
`FWZH`, `YXX` ('0' 有效, '1' 无效), `FBRQ`, `CWRQ` kept raw. `total` is the column's item count,
`totalPages` bounds the requests (all asked for after page 1). The end is an empty `content`,
or `pageNumber` past `totalPages`.
"""

from __future__ import annotations

import html as html_lib
import re

from ..extract import PageLinks
from ..urls import absolute_url
from .base import ListItem, ListPage, ListRequest, Page
from .forms import query_int, with_query
from .values import as_int, day_of, meta_pairs

# A quoted string in a script that names the list endpoint (with the rest of its query).
_LIST_URL = re.compile(
    r"""(['"])((?:(?!\1)[^\s<>])*?/igs/front/search/list\.(?:html|jhtml)(?:(?!\1)[^\s<>])*)\1""", re.I)
_LIST_ENDPOINT = re.compile(r"/igs/front/search/list\.(?:html|jhtml)", re.I)
_TAGS = re.compile(r"<[^>]+>")
META_KEYS = ("FWZH", "YXX", "FBRQ", "CWRQ")
# Other IGS indexes name the same fields differently (site search: title/url/trs_time).
_TITLE_KEYS = ("BT", "title", "DOCTITLE")
_URL_KEYS = ("DOCPUBURL", "url", "URL", "docpuburl")
_DATE_KEYS = ("FBRQ", "trs_time", "PUBDATE", "DOCRELTIME")


def list_url(page: Page) -> str | None:
    """The list endpoint the column page's script names, absolute, without a page number."""
    match = _LIST_URL.search(page.text)
    if match is None:
        return None
    url = absolute_url(page.url, html_lib.unescape(match.group(2)))
    if url is None:
        return None
    return re.sub(r"[?&]pageNumber=[^&]*", "", url, flags=re.I).rstrip("?&") if "pageNumber=" in url else url


def page_request(url: str, number: int) -> ListRequest:
    return ListRequest(with_query(url, pageNumber=number), position=number - 1)


def _first(record: dict, keys: tuple[str, ...]) -> object:
    for key in keys:
        if record.get(key) not in (None, ""):
            return record[key]
    return None


def _item(record: dict, base_url: str) -> ListItem | None:
    href = _first(record, _URL_KEYS)
    url = absolute_url(base_url, str(href)) if href else None
    if url is None:
        return None
    title = " ".join(_TAGS.sub("", html_lib.unescape(str(_first(record, _TITLE_KEYS) or ""))).split())
    return ListItem(url=url, title=title, date_text=day_of(_first(record, _DATE_KEYS)),
                    meta=meta_pairs(record, META_KEYS))


def _page_of(data: object) -> dict | None:
    if isinstance(data, dict) and isinstance(data.get("page"), dict):
        return data["page"]
    return None


class IgsList:
    name = "igs"

    def claims(self, page: Page) -> bool:
        if page.request is not None and _LIST_ENDPOINT.search(page.request.url):
            return True
        if page.is_json:
            found = _page_of(page.json())
            return found is not None and isinstance(found.get("content"), list)
        return _LIST_URL.search(page.text) is not None

    def first_page(self, page: Page, links: PageLinks | None) -> ListPage:
        if page.is_json:  # a registry may name the JSON endpoint itself as the column
            return self.next_page(page_request(page.url, query_int(page.url, "pageNumber") or 1), page, links)
        url = list_url(page)
        if url is None:
            return ListPage(note=links.text if links is not None else "")
        return ListPage(requests=[page_request(url, 1)])

    def next_page(self, request: ListRequest, page: Page, links: PageLinks | None) -> ListPage:
        found = _page_of(page.json()) if page.text else None
        if found is None:
            return ListPage(end=True)
        content = found.get("content") if isinstance(found.get("content"), list) else []
        base = page.column_url or page.url
        items = [item for item in (_item(r, base) for r in content if isinstance(r, dict)) if item is not None]
        number = query_int(request.url, "pageNumber") or request.position + 1
        pages = as_int(found.get("totalPages"))
        total = as_int(found.get("total"))
        size = as_int(found.get("size"))
        if pages is None and total is not None and size:
            pages = -(-total // size)
        end = not content or (pages is not None and number > pages)
        requests = []
        if not end:
            following = range(number + 1, pages + 1) if pages is not None else range(number + 1, number + 2)
            requests = [page_request(request.url, n) for n in following]
        return ListPage(items=items, requests=requests, total=total, end=end)


ADAPTER = IgsList()
