"""siteserver — SiteServer CMS (.NET; the older 滨海 family), with its dynamic output.aspx paging.

Signature: `stlDynamic_` scripts or `/sitefiles/services/cms/` (either alone), or two of: the
page's URL or links in `/channels/<n>.html` / `/contents/<c>/<n>.html` form, `/sitefiles/` assets.

A SiteServer page is server-rendered, so its items, static `/channels/<c>_N.html` pager and iframe
shells are read by the static rules. What is SiteServer's own is dynamic paging: a
`stlDynamic_<div>(pageNum)` script POSTs to `…/sitefiles/services/cms/dynamic/output.aspx` with
`pageNodeID, pageContentID, pageTemplateID, isPageRefresh, templateContent` (an opaque token
passed back as is), `ajaxDivID` and `pageNum`; the pager's links are
`javascript:stlDynamic_<div>(N)` beside `共N页`. Page 1 asks for pageNum 2 … N at once; the answer
is an HTML fragment of the list and its pager. The end is a fragment without items, or `pageNum`
past `共N页`.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

from ..extract import PageLinks, extract_links
from ..urls import absolute_url
from .base import ListPage, ListRequest, Page
from .forms import form_value, form_with, referer_of, xhr_headers
from .jsobject import JsName, parse_js_value
from .static import ADAPTER as STATIC
from .static import read_list_page
from .values import meta_value

_STRONG = re.compile(r"stlDynamic_|/sitefiles/services/cms/", re.I)
_CHANNEL_URL = re.compile(r"/channels/\d+(?:_\d+)?\.html", re.I)
_CONTENT_URL = re.compile(r"/contents/\d+/\d+\.html", re.I)
_SITEFILES = re.compile(r"/sitefiles/", re.I)
_OUTPUT = re.compile(r"output\.aspx", re.I)
_FUNCTION = re.compile(r"function\s+(stlDynamic_[\w$]+)\s*\(|(stlDynamic_[\w$]+)\s*=\s*function\s*\(")
_CALL = re.compile(r"(stlDynamic_[\w$]+)\s*\(\s*(\d+)\s*\)")
_STRING = re.compile(r"""(['"])((?:\\.|(?!\1).)*)\1""", re.S)
_PAGES = re.compile(r"共\s*(\d+)\s*页")
_ITEM_TOTAL = re.compile(r"共\s*(\d+)\s*条")
DEFAULT_OUTPUT = "/sitefiles/services/cms/dynamic/output.aspx?publishmentSystemID=1"
_FORM_KEYS = ("pageNodeID", "templateContent", "ajaxDivID")


class Dynamic:
    """A page's `stlDynamic_<div>` paging: the endpoint and the form its script posts."""

    def __init__(self, url: str, form: tuple[tuple[str, str], ...]):
        self.url, self.form = url, form

    def request(self, number: int, referer: str) -> ListRequest:
        return ListRequest(self.url, method="POST", form=form_with(self.form, pageNum=number),
                           headers=xhr_headers(referer), position=number - 1)


def read_dynamic(page: Page) -> Dynamic | None:
    """The dynamic paging the page's script defines (the one its pager calls, when there are several)."""
    text = page.text
    functions = [(m.group(1) or m.group(2), m.end()) for m in _FUNCTION.finditer(text)]
    called = [name for name, _n in _CALL.findall(text)]
    if functions:
        name, at = next((f for f in functions if f[0] in called), functions[0])
        body = _function_body(text, at)
    elif called:  # the function lives in an external script: look for its fields anywhere on the page
        name, body = called[0], text
    else:
        return None
    url, fields = _fields_of(page.url, body)
    if not any(k in fields for k in _FORM_KEYS):
        return None
    fields.setdefault("ajaxDivID", name[len("stlDynamic_"):])
    return Dynamic(url or absolute_url(page.url, DEFAULT_OUTPUT) or DEFAULT_OUTPUT, tuple(fields.items()))


def _fields_of(page_url: str, script: str) -> tuple[str | None, dict[str, str]]:
    """The output.aspx URL and the form fields a script holds, as query strings or as an object."""
    url = None
    fields: dict[str, str] = {}
    for match in _STRING.finditer(script):
        literal = match.group(2).replace("\\/", "/")
        if _OUTPUT.search(literal):
            url = url or absolute_url(page_url, literal)
        elif "=" in literal and not literal.lstrip().startswith("<"):
            query = literal.split("?", 1)[1] if "?" in literal.lstrip("?") else literal.lstrip("?&")
            for key, value in parse_qsl(query, keep_blank_values=True):
                if key and key != "pageNum":
                    fields.setdefault(key, value)
    if not any(k in fields for k in _FORM_KEYS):
        for key, value in _object_with_fields(script).items():
            shown = meta_value(value)
            if shown is not None and key != "pageNum" and not isinstance(value, (JsName, dict, list)):
                fields.setdefault(str(key), shown)
    return url, fields


def _object_with_fields(script: str) -> dict:
    """The first object literal in `script` that names the dynamic form's fields: {pageNodeID: 6346, …}."""
    for match in re.finditer(r"\{", script):
        try:
            value, _end = parse_js_value(script, match.start())
        except ValueError:
            continue
        if isinstance(value, dict) and any(k in value for k in _FORM_KEYS):
            return value
    return {}


def _function_body(text: str, start: int) -> str:
    """From a function's parameters to its closing brace (braces inside strings are few here)."""
    open_at = text.find("{", start)
    if open_at < 0:
        return ""
    depth = 0
    for i in range(open_at, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[open_at:i + 1]
    return text[open_at:]


def _pager_numbers(text: str) -> tuple[int | None, int | None]:
    """(page count, item count) the pager shows: 共N页 (or the highest stlDynamic_ call), 共N条."""
    pages = _PAGES.search(text)
    items = _ITEM_TOTAL.search(text)
    count = int(pages.group(1)) if pages else max((int(n) for _f, n in _CALL.findall(text)), default=None)
    return count, int(items.group(1)) if items else None


class SiteServerList:
    name = "siteserver"

    def claims(self, page: Page) -> bool:
        if page.request is not None and _OUTPUT.search(page.request.url):
            return True
        text = page.text
        if _STRONG.search(text):
            return True
        path = urlsplit(page.url).path
        signals = (
            bool(_CHANNEL_URL.search(path) or _CONTENT_URL.search(path)),
            bool(_CHANNEL_URL.search(text)),
            bool(_CONTENT_URL.search(text)),
            bool(_SITEFILES.search(text)),
        )
        return sum(signals) >= 2

    def first_page(self, page: Page, links: PageLinks | None) -> ListPage:
        listing = STATIC.first_page(page, links)  # items, static _N pager, iframe shells
        dynamic = read_dynamic(page)
        if dynamic is None or not listing.items:
            return listing
        count, total = _pager_numbers(page.text)
        following = range(2, count + 1) if count is not None else range(2, 3)
        listing.requests.extend(dynamic.request(n, page.url) for n in following)
        listing.total = total
        return listing

    def next_page(self, request: ListRequest, page: Page, links: PageLinks | None) -> ListPage:
        if not _OUTPUT.search(request.url):
            return STATIC.next_page(request, page, links)
        referer = referer_of(request) or page.column_url
        fragment = extract_links(page.text, referer)  # the fragment's links belong to the column page
        listing = read_list_page(page, fragment, request.position, referer)
        listing.requests = []  # its pager is javascript: links; pages come from 共N页 below
        shown = form_value(request.form, "pageNum") or ""
        number = int(shown) if shown.isdigit() else request.position + 1
        count, total = _pager_numbers(page.text)
        listing.total = total
        listing.end = not listing.items or (count is not None and number > count)
        if not listing.end:
            dynamic = Dynamic(request.url, request.form)
            following = range(number + 1, count + 1) if count is not None else range(number + 1, number + 2)
            listing.requests = [dynamic.request(n, referer) for n in following]
        return listing


ADAPTER = SiteServerList()
