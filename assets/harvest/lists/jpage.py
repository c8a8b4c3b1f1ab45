"""jpage — Hanweb/大汉 `/col/colN/index.html` columns paged through `dataproxy.jsp`.

Signature: a `<datastore>` inside `<script type="text/xml">` (the first records, embedded), or a
`dataproxy.jsp` reference in the page's script. Further pages are POSTs to the widget's
`proxyUrl?startrecord=s&endrecord=e&perpage=n` with the widget's own `ajaxParam` fields as the
form (the `<nextgroup>` query when the page has no `ajaxParam`), the column page as Referer and
`X-Requested-With: XMLHttpRequest` (some proxies answer 404 without them).

Windows of `perPage` records follow the records the column page already embeds (Hanweb pages
embed one or several pages' worth); a window's position is its page index. With a total
(`totalRecord`, `<totalrecord>`) every remaining window is asked for at once; without one, the
next window after each non-empty answer. An empty `<recordset>` (or body) ends the list.
"""

from __future__ import annotations

import html as html_lib
import math
import re
from urllib.parse import parse_qsl, urlsplit

from ..extract import PageLinks
from ..urls import absolute_url
from .base import ListItem, ListPage, ListRequest, Page
from .forms import query_int, referer_of, with_query, xhr_headers
from .jsobject import JsName, object_after, resolve_names
from .rows import item_of_fragment
from .values import as_int, meta_value

DEFAULT_PROXY = "/module/web/jpage/dataproxy.jsp"
DEFAULT_PER_PAGE = 15  # jpage's own default page size

_XML_SCRIPT = re.compile(r"<script\b[^>]*\btype\s*=\s*['\"]?text/xml['\"]?[^>]*>(.*?)</script>", re.I | re.S)
_DATASTORE = re.compile(r"<datastore\b[^>]*>(.*?)(?:</datastore>|$)", re.I | re.S)
_RECORD = re.compile(r"<record\b[^>]*>(.*?)</record>", re.I | re.S)
_CDATA = re.compile(r"^\s*<!\[CDATA\[(.*?)\]\]>\s*$", re.S)
_NEXTGROUP = re.compile(r"<nextgroup\b[^>]*>(.*?)</nextgroup>", re.I | re.S)
_TOTAL_RECORD = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>", re.I)
_HREF = re.compile(r"href\s*=\s*['\"]([^'\"]+)['\"]", re.I)
_JPAGE_CALL = re.compile(r"\.jpage\s*\(\s*")
_AJAX_PARAM = re.compile(r"ajaxParam\s*:\s*")
# `\b`: morecolumndataproxy.jsp is another protocol (?page=N, no windows), not this one.
_DATAPROXY = re.compile(r"\bdataproxy\.jsp", re.I)
_DATASTORE_TAG = re.compile(r"<datastore\b", re.I)
_WINDOW_PARAMS = ("page", "startrecord", "endrecord", "perpage")


class Datastore:
    """One `<datastore>`: its records (HTML fragments), announced total and `<nextgroup>` link."""

    def __init__(self, text: str):
        self.records = [_record_html(r) for r in _RECORD.findall(text)]
        total = _TOTAL_RECORD.search(text)
        self.total = int(total.group(1)) if total else None
        nextgroup = _NEXTGROUP.search(text)
        href = _HREF.search(html_lib.unescape(nextgroup.group(1))) if nextgroup else None
        self.nextgroup = html_lib.unescape(href.group(1)) if href else None


def _record_html(record: str) -> str:
    cdata = _CDATA.match(record)
    if cdata:
        return cdata.group(1)
    return html_lib.unescape(record) if "&lt;" in record else record


class Widget:
    """The jpage widget of a column page: where it pages, with which fields, how many at a time."""

    def __init__(self, page: Page):
        text = page.text
        self.store = _column_datastore(text)
        config = self._config(text)
        self.proxy = self._proxy(page.url, config)
        self.per_page = self._per_page(config)
        self.total = as_int(config.get("totalRecord")) if config else None
        if self.total is None and self.store is not None:
            self.total = self.store.total
        self.form = self._form(config)

    @staticmethod
    def _config(text: str) -> dict:
        """The options object of the page's `.jpage({…})` call, names resolved against the page's script."""
        config = object_after(text, _JPAGE_CALL) or {}
        params = config.get("ajaxParam")
        if not isinstance(params, dict):  # the call could not be read whole: read ajaxParam on its own
            params = object_after(text, _AJAX_PARAM)
            if params is not None:
                config = {**config, "ajaxParam": params}
        return resolve_names(config, text) if config else {}

    def _proxy(self, page_url: str, config: dict) -> str:
        """The widget's `proxyUrl` as written, else the `<nextgroup>` link's path (its query is the form)."""
        configured = config.get("proxyUrl")
        if isinstance(configured, str) and not isinstance(configured, JsName) and configured.strip():
            url = absolute_url(page_url, configured.strip())
            if url:
                return url
        nextgroup = self.store.nextgroup if self.store else None
        url = absolute_url(page_url, nextgroup) if nextgroup else None
        if url:
            return url.split("?", 1)[0]
        return absolute_url(page_url, DEFAULT_PROXY) or DEFAULT_PROXY

    def _per_page(self, config: dict) -> int:
        per_page = as_int(config.get("perPage"))
        if per_page is None and self.store is not None and self.store.nextgroup:
            per_page = query_int(self.store.nextgroup, "perpage")
        if per_page is None and self.store is not None and self.store.records:
            per_page = len(self.store.records)
        return per_page if per_page and per_page > 0 else DEFAULT_PER_PAGE

    def _form(self, config: dict) -> tuple[tuple[str, str], ...]:
        """The `ajaxParam` fields in their order; a name the script leaves unresolved takes the nextgroup value."""
        params = config.get("ajaxParam")
        fallback = self._nextgroup_fields()
        if isinstance(params, dict) and params:
            fields = []
            for key, value in params.items():
                if isinstance(value, JsName):  # a variable the page's script does not assign plainly
                    value = dict(fallback).get(key)
                shown = meta_value(value)
                if shown is not None and not isinstance(value, (dict, list)):
                    fields.append((str(key), shown))
            return tuple(fields)
        return fallback

    def _nextgroup_fields(self) -> tuple[tuple[str, str], ...]:
        if self.store is None or not self.store.nextgroup:
            return ()
        query = urlsplit(self.store.nextgroup).query
        return tuple((k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k.lower() not in _WINDOW_PARAMS)


def _column_datastore(text: str) -> Datastore | None:
    """The datastore a column page embeds: the one inside `<script type="text/xml">` with the most records."""
    stores = [Datastore(m.group(1)) for s in _XML_SCRIPT.finditer(text) for m in _DATASTORE.finditer(s.group(1))]
    return max(stores, key=lambda s: len(s.records)) if stores else None


def window_request(proxy: str, form: tuple[tuple[str, str], ...], referer: str, index: int, per_page: int
                   ) -> ListRequest:
    """The POST for page `index` (0-based) of size `per_page`: records index*n+1 … (index+1)*n."""
    url = with_query(proxy, startrecord=index * per_page + 1, endrecord=(index + 1) * per_page, perpage=per_page)
    return ListRequest(url, method="POST", form=form, headers=xhr_headers(referer), position=index)


def _items(records: list[str], base_url: str) -> list[ListItem]:
    items = []
    for record in records:
        item = item_of_fragment(record, base_url)
        if item is not None:
            items.append(item)
    return items


def _following(shown_through: int, per_page: int, total: int | None, nonempty: bool) -> range:
    """Indexes of the windows to ask for once records 1 … `shown_through` are known."""
    first = shown_through // per_page
    if total is not None:
        return range(first, math.ceil(total / per_page))
    return range(first, first + 1) if nonempty else range(0)


class JpageList:
    name = "jpage"

    def claims(self, page: Page) -> bool:
        text = page.text
        if page.request is not None and _DATAPROXY.search(page.request.url):
            return True  # an answer of the proxy, even an empty body
        if _DATASTORE_TAG.search(text):
            return bool(_XML_SCRIPT.search(text)) or text.lstrip().startswith(("<datastore", "<?xml"))
        return bool(_DATAPROXY.search(text))

    def first_page(self, page: Page, links: PageLinks | None) -> ListPage:
        widget = Widget(page)
        records = widget.store.records if widget.store else []
        items = _items(records, page.url)
        requests = [window_request(widget.proxy, widget.form, page.url, index, widget.per_page)
                    for index in _following(len(records), widget.per_page, widget.total, bool(records))]
        note = links.text if links is not None and not items else ""
        return ListPage(items=items, requests=requests, total=widget.total, note=note,
                        end=widget.store is not None and not records and not requests)

    def next_page(self, request: ListRequest, page: Page, links: PageLinks | None) -> ListPage:
        store = Datastore(page.text)
        referer = referer_of(request) or page.column_url
        items = _items(store.records, referer)
        per_page = query_int(request.url, "perpage") or DEFAULT_PER_PAGE
        start = query_int(request.url, "startrecord") or request.position * per_page + 1
        shown_through = start - 1 + per_page
        requests = []
        if items:
            requests = [window_request(request.url, request.form, referer, index, per_page)
                        for index in _following(shown_through, per_page, store.total, True)]
        return ListPage(items=items, requests=requests, total=store.total, end=not store.records)


ADAPTER = JpageList()
