"""Pagination: the list pages of a column, in every style real CMSs use.

- TRS static pages `index.html`, `index_1.html` … (also other stems: `list_2.shtml`);
- query pages `list.html?page=2` (page, pageNo, pageIndex, curPage, p, pn …);
- 下一页 / 尾页 / 末页 / numbered links (same directory as the column's first page);
- TRS `createPageHTML(total, current, 'index', 'html')` in a script, where the arguments may be
  literals or `var countPage = 5` style variables.

From the lowest to the highest page number a pager shows (下一页 … 尾页), the whole range is
generated, so a column's pages are fetched in parallel instead of one 下一页 hop at a time.
"""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .urls import dedupe_key, directory

_CREATE_PAGE = re.compile(
    r"createPageHTML\s*\(\s*([\w$.]+)\s*,\s*([\w$.]+)\s*,\s*['\"]([^'\"]*)['\"]\s*,\s*['\"]([^'\"]*)['\"]"
)
_TRS_PAGE = re.compile(r"^(?P<stem>[\w-]+)_(?P<n>\d{1,5})\.(?P<ext>s?html?|jsp|php|aspx?)$", re.I)
_PAGE_PARAMS = ("page", "pageno", "page_no", "pageindex", "pagenum", "curpage", "currentpage", "p", "pn")


class ScriptPager(NamedTuple):
    total: int
    current: int
    name: str
    ext: str


def script_pager(html: str) -> ScriptPager | None:
    """The first `createPageHTML(...)` call whose page count can be resolved."""
    if "createPageHTML" not in html:
        return None
    for match in _CREATE_PAGE.finditer(html):
        total = _int_value(match.group(1), html)
        if total is not None:
            return ScriptPager(total, _int_value(match.group(2), html) or 0, match.group(3), match.group(4))
    return None


def _int_value(token: str, html: str) -> int | None:
    if token.isdigit():
        return int(token)
    assigned = re.search(r"\b" + re.escape(token) + r"\s*=\s*(\d+)", html)
    return int(assigned.group(1)) if assigned else None


def _page_param(url: str) -> tuple[str, int] | None:
    for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        if name.lower() in _PAGE_PARAMS and value.isdigit():
            return name, int(value)
    return None


def _with_param(url: str, name: str, value: int) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query + [(name, str(value))]), ""))


def page_number(url: str) -> int | None:
    """0-based position of a list page when its URL shows it (index_3.html -> 3, ?page=3 -> 2)."""
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    trs = _TRS_PAGE.match(name)
    if trs:
        return int(trs.group("n"))
    param = _page_param(url)
    return param[1] - 1 if param else None


def list_pages(first_url: str, page_url: str, pager: list[tuple[str, str]], script: ScriptPager | None) -> list[str]:
    """Every list page of the column that `page_url` (a page of the column starting at `first_url`) implies.

    Only pages in the first page's directory count, so a pager-looking link elsewhere (首页 to the
    site's home page) is never mistaken for pagination. The result may include known pages; the
    caller dedupes.
    """
    folder = directory(first_url)
    found: list[str] = []
    if script is not None and script.total > 1:
        base = directory(page_url)
        found.append(f"{base}{script.name}.{script.ext}")
        found.extend(f"{base}{script.name}_{i}.{script.ext}" for i in range(1, script.total))
    first_has_param = _page_param(first_url) is not None
    numbers_trs: dict[tuple[str, str], set[int]] = {}
    highest_query: dict[tuple[str, str], tuple[str, int]] = {}
    for url, _text in pager:
        if directory(url) != folder or dedupe_key(url) == dedupe_key(first_url):
            continue
        name = urlsplit(url).path.rsplit("/", 1)[-1]
        trs = _TRS_PAGE.match(name)
        param = _page_param(url)
        if trs:
            numbers_trs.setdefault((trs.group("stem"), trs.group("ext")), set()).add(int(trs.group("n")))
        elif param:
            if param[1] == 1 and not first_has_param:
                continue
            key = (urlsplit(url).path, param[0])
            highest_query[key] = (url, max(highest_query.get(key, (url, 0))[1], param[1]))
        else:
            found.append(url)
    for (stem, ext), numbers in numbers_trs.items():
        found.extend(f"{folder}{stem}_{i}.{ext}" for i in range(min(numbers), max(numbers) + 1))
    for (_path, name), (sample, highest) in highest_query.items():
        found.extend(_with_param(sample, name, i) for i in range(2, highest + 1))
    return found
