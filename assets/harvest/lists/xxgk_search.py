"""xxgk_search — the Hanweb xxgk module: a column page that loads its list from `/module/xxgk/search.jsp`.

Signature: the page names `…/module/xxgk/search.jsp` in a form or script and carries the module's
fields (`infotypeId`, `jdid`). Pages are `POST search.jsp` with the form's fields and
`currpage=N` (1-based); the answer is an HTML fragment of `tr_main_value_odd/even` rows and a
`共N页` pager.

Quirk (real): the search does not filter by column, it returns every disclosure item of the unit
(`jdid`). Rows are kept only when their URL carries `art_<columnid>_` for this column's id: the
`colN` of the column page's URL or the `infotypeId`. The end is a fragment without rows, or
`currpage` past `共N页`. No total is reported: `共 203 条记录` counts the unit, not the column.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

from selectolax.lexbor import LexborHTMLParser

from ..extract import PageLinks
from ..urls import absolute_url
from .base import ListItem, ListPage, ListRequest, Page
from .forms import form_value, form_with, referer_of, xhr_headers
from .jsobject import JsName, object_after
from .rows import item_of_row, parse_fragment
from .values import meta_value

_SEARCH_JSP = re.compile(r"/module/xxgk/search\.jsp", re.I)
_URL_STOP = frozenset(" \t\r\n'\"<>")


def _search_jsp_url(text: str) -> re.Match | None:
    """The first URL naming the module's search.jsp: the literal found first, then widened to the
    URL around it by hand (a pattern with a leading `[^…]*?` is quadratic on a page with a long
    unbroken token, such as a 1 MB attribute)."""
    found = _SEARCH_JSP.search(text)
    if found is None:
        return None
    start, end = found.start(), found.end()
    while start > 0 and text[start - 1] not in _URL_STOP:
        start -= 1
    while end < len(text) and text[end] not in _URL_STOP:
        end += 1
    return re.compile(re.escape(text[start:end])).search(text, start)
_MODULE_FIELDS = re.compile(r"\b(?:infotypeId|jdid)\b")
# The module's fields, in the order the module's own form sends them (used when only a script names them).
FIELDS = ("infotypeId", "jdid", "area", "divid", "vc_title", "vc_number", "sortfield", "currpage", "texttype", "fbtime")
_PAGES = re.compile(r"共\s*(\d+)\s*页")
_COLUMN_IN_URL = re.compile(r"/col/col(\w+?)/", re.I)
_ART_COLUMN = re.compile(r"art_([0-9A-Za-z]+)_\d+")
_ROWS = "tr.tr_main_value_odd, tr.tr_main_value_even"


def _search_form(page: Page) -> tuple[str, tuple[tuple[str, str], ...]] | None:
    """(action URL, fields) of the page's search.jsp form, or of the script that posts to it."""
    tree = LexborHTMLParser(page.text)
    for form in tree.css("form[action]"):
        action = form.attributes.get("action") or ""
        if "/module/xxgk/search.jsp" not in action.lower():
            continue
        fields = []
        for field in form.css("input[name], select[name], textarea[name]"):
            kind = (field.attributes.get("type") or "text").lower()
            if kind in ("button", "submit", "reset", "image", "file") or (kind in ("checkbox", "radio")
                                                                           and "checked" not in field.attributes):
                continue
            value = field.text() if field.tag == "textarea" else field.attributes.get("value") or ""
            if field.tag == "select":
                chosen = field.css_first("option[selected]") or field.css_first("option")
                value = (chosen.attributes.get("value") or chosen.text()) if chosen is not None else ""
            fields.append((field.attributes.get("name") or "", value))
        url = absolute_url(page.url, action)
        if url:
            return url, tuple(fields)
    return _script_form(page)


def _script_form(page: Page) -> tuple[str, tuple[tuple[str, str], ...]] | None:
    """A script's `$.ajax({url: '…/search.jsp', data: {infotypeId: …}})`, or a `search.jsp?infotypeId=…`
    URL: the module's fields move from the query into the form, as the module's own form posts them."""
    match = _search_jsp_url(page.text)
    url = absolute_url(page.url, match.group(0).replace("&amp;", "&")) if match else None
    if url is None:
        return None
    data = object_after(page.text, re.compile(r"\bdata\s*:\s*"), match.end()) or {}
    fields = [(str(key), meta_value(value) or "") for key, value in data.items()
              if not isinstance(value, (JsName, dict, list))]
    base, _, query = url.partition("?")
    kept = []
    for pair in filter(None, query.split("&")):
        key, _, value = pair.partition("=")
        if key in FIELDS:
            fields.append((key, unquote_plus(value)))
        else:
            kept.append(pair)
    if not any(key in ("infotypeId", "jdid") for key, _ in fields):
        return None
    return base + ("?" + "&".join(kept) if kept else ""), tuple(dict(fields).items())


def column_ids(column_url: str, form: tuple[tuple[str, str], ...]) -> frozenset[str]:
    """The ids an item of this column carries in `art_<id>_`: the colN of its URL, and its infotypeId."""
    ids = set(_COLUMN_IN_URL.findall(column_url))
    infotype = form_value(form, "infotypeId")
    if infotype:
        ids.add(infotype)
    return frozenset(ids)


def _in_column(url: str, ids: frozenset[str]) -> bool:
    if not ids:  # nothing to narrow by: keep every row rather than lose the column
        return True
    return any(found in ids for found in _ART_COLUMN.findall(url))


def search_request(url: str, form: tuple[tuple[str, str], ...], referer: str, number: int) -> ListRequest:
    return ListRequest(url, method="POST", form=form_with(form, currpage=number), headers=xhr_headers(referer),
                       position=number - 1)


class XxgkSearchList:
    name = "xxgk_search"

    def claims(self, page: Page) -> bool:
        if page.request is not None and "/module/xxgk/search.jsp" in page.request.url.lower():
            return True
        if "tr_main_value_" in page.text:
            return True  # an answer fragment
        return bool(_SEARCH_JSP.search(page.text)) and bool(_MODULE_FIELDS.search(page.text))

    def first_page(self, page: Page, links: PageLinks | None) -> ListPage:
        found = _search_form(page)
        if found is None:
            return ListPage(note=links.text if links is not None else "")
        url, form = found
        return ListPage(requests=[search_request(url, form, page.url, 1)])

    def next_page(self, request: ListRequest, page: Page, links: PageLinks | None) -> ListPage:
        referer = referer_of(request) or page.column_url
        tree = parse_fragment(page.text)
        rows = tree.css(_ROWS) or [tr for tr in tree.css("tr") if tr.css_first("a[href]") is not None]
        ids = column_ids(page.column_url, request.form)
        items: list[ListItem] = []
        for row in rows:
            item = item_of_row(row, referer)
            if item is not None and _in_column(item.url, ids):
                items.append(item)
        shown = form_value(request.form, "currpage") or ""
        current = int(shown) if shown.isdigit() else request.position + 1
        pages = _PAGES.search(" ".join(tree.text(separator=" ").split()) if tree.root else "")
        last = int(pages.group(1)) if pages else None
        end = not rows or (last is not None and current > last)
        requests = []
        if not end:
            following = range(current + 1, last + 1) if last is not None else range(current + 1, current + 2)
            requests = [search_request(request.url, request.form, referer, n) for n in following]
        return ListPage(items=items, requests=requests, end=end)


ADAPTER = XxgkSearchList()
