"""gkmlpt — 广东 政府信息公开目录: a Vue shell over a JSON API.

Signatures: the entry shell's `window._CONFIG = {SID: …, TREE: […]}` (JS object syntax), or an
API answer `{"classify": {…}, "articles": […]}`.

- The shell lists no items: its tree's categories (nested `children` too) are the columns, each
  column's URL being page 1 of the category's API, `<shell dir>/api/all/<id>?page=1&sid=<sid>`
  (the shell's directory is the one ending in `/gkmlpt/`).
- An API page lists `articles`: `url`, `title`, `date` (epoch seconds, read as an Asia/Shanghai
  calendar day); metadata `identifier`, `document_number`, `date` (raw), `is_abolished`.
  `classify.post_count` is the column's total; the page size is what page 1 holds, so page 1
  asks for pages 2 … ceil(post_count / size) at once. The end is an empty `articles`; an empty
  category's `classify.description` is its note.
"""

from __future__ import annotations

import math
import re

from ..extract import PageLinks
from ..urls import absolute_url, directory
from .base import ListItem, ListPage, ListRequest, Page
from .forms import query_int, with_query
from .jsobject import JsName, object_after, parse_js_value
from .values import as_int, day_of, meta_pairs

_CONFIG = re.compile(r"\b_CONFIG\s*=\s*")
_TREE = re.compile(r"\b_CONFIG\s*\.\s*TREE\s*=\s*")
_SID = re.compile(r"\b_CONFIG\s*\.\s*SID\s*=\s*")
_API = re.compile(r"/gkmlpt/api/", re.I)
META_KEYS = ("identifier", "document_number", "date", "is_abolished")


def read_config(text: str) -> dict | None:
    """`window._CONFIG` with its SID and TREE (also when they are assigned separately), or None."""
    config = object_after(text, _CONFIG) or {}
    for key, pattern in (("TREE", _TREE), ("SID", _SID)):
        if key not in config:
            found = pattern.search(text)
            if found:
                try:
                    config[key], _end = parse_js_value(text, found.end())
                except (ValueError, RecursionError):
                    pass
    return config if isinstance(config.get("TREE"), list) else None


def api_root(shell_url: str) -> str:
    """`…/<unit>/gkmlpt/` of the shell's URL, else the shell's directory."""
    path_end = shell_url.split("?", 1)[0]
    at = path_end.lower().find("/gkmlpt/")
    return path_end[:at + len("/gkmlpt/")] if at >= 0 else directory(shell_url)


def category_columns(tree: list, root: str, sid: str) -> list[tuple]:
    """(API page 1 URL, name, parent's URL or None) for every category of the tree, parents before
    their children: the tree's nesting is the columns' (a parent category is a parent column)."""
    columns: list[tuple] = []

    def walk(nodes: list, parent: str | None) -> None:
        for node in nodes:
            if not isinstance(node, dict):
                continue
            category = node.get("id")
            url = None
            if category is not None and not isinstance(category, (JsName, dict, list, bool)):
                url = absolute_url(root, f"api/all/{category}?page=1&sid={sid}")
                if url:
                    columns.append((url, str(node.get("name") or category), parent))
            children = node.get("children")
            if isinstance(children, list):
                walk(children, url or parent)

    walk(tree, None)
    return columns


def _item(article: dict, base_url: str) -> ListItem | None:
    href = article.get("url") or article.get("post_url")
    url = absolute_url(base_url, str(href)) if href else None
    if url is None:
        return None
    return ListItem(url=url, title=" ".join(str(article.get("title") or "").split()),
                    date_text=day_of(article.get("date")), meta=meta_pairs(article, META_KEYS))


def _answer(page: Page) -> dict | None:
    data = page.json() if page.is_json else None
    if isinstance(data, dict) and isinstance(data.get("articles"), list):
        return data
    return None


class GkmlptList:
    name = "gkmlpt"

    def claims(self, page: Page) -> bool:
        if page.request is not None and _API.search(page.request.url):
            return True
        if page.is_json:
            return _answer(page) is not None
        return "_CONFIG" in page.text and read_config(page.text) is not None

    def first_page(self, page: Page, links: PageLinks | None) -> ListPage:
        if page.is_json:  # a category's API page 1: the column's own URL
            return self._read(ListRequest(page.url, position=(query_int(page.url, "page") or 1) - 1), page)
        config = read_config(page.text)
        if config is None:
            return ListPage(note=links.text if links is not None else "")
        sid = config.get("SID")
        sid = "" if sid is None or isinstance(sid, (JsName, dict, list)) else str(sid)
        return ListPage(columns=category_columns(config["TREE"], api_root(page.url), sid))

    def next_page(self, request: ListRequest, page: Page, links: PageLinks | None) -> ListPage:
        return self._read(request, page)

    def _read(self, request: ListRequest, page: Page) -> ListPage:
        data = _answer(page)
        if data is None:
            return ListPage(end=True)
        articles = [a for a in data["articles"] if isinstance(a, dict)]
        items = [item for item in (_item(a, page.url) for a in articles) if item is not None]
        classify = data.get("classify") if isinstance(data.get("classify"), dict) else {}
        total = as_int(classify.get("post_count"))
        number = query_int(request.url, "page") or request.position + 1
        requests = []
        if articles and total is None:  # no count: one page after another until an empty one
            requests = [ListRequest(with_query(request.url, page=number + 1), position=number)]
        elif articles and number == 1 and total > len(articles):
            # Page 1 shows the page size (later pages may be short): it asks for all the others.
            pages = math.ceil(total / len(articles))
            requests = [ListRequest(with_query(request.url, page=n), position=n - 1) for n in range(2, pages + 1)]
        # A category that lists nothing may say why in its description (本栏目暂无…).
        description = classify.get("description")
        note = str(description).strip() if description and not items else ""
        return ListPage(items=items, requests=requests, total=total, end=not articles, note=note)


ADAPTER = GkmlptList()
