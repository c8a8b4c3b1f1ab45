"""Whether a page is a JS shell: its list only exists once its scripts have run.

Such a page lists no items, shows no note (本栏目暂无信息 …), and its scripts load data (`fetch(`,
`$.ajax`, `$.get(`/`$.post(`, axios, XMLHttpRequest, Vue, React) or it mounts an app into an empty
`#app`/`#root`. Those are the pages the rendering fallback renders (docs/list-mechanisms.md,
"rendered"). An ordinary empty column (an empty `<ul>` with 暂无信息, chrome with a search form)
is no shell, and neither is a TRS page whose only script draws its pager (`createPageHTML`).
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser

from ..extract import PageLinks, extract_links
from .base import Page

_LOADERS = re.compile(
    r"\bfetch\s*\(|(?:\$|\bjQuery)\s*\.\s*(?:ajax|get|post|getJSON)\s*\(|\baxios\b|\bXMLHttpRequest\b"
    r"|\bnew\s+Vue\s*\(|\bcreateApp\s*\(|\bReactDOM\b|\bcreateRoot\s*\(|\bReact\.createElement\b"
    r"|\.load\s*\(\s*['\"]/"
)
# Scripts that are data or templates, not code.
_DATA_TYPES = ("text/xml", "application/json", "application/ld+json", "text/template", "text/html", "text/x-template")
_MOUNTS = "#app, #root, #App, #vue-app, #vueApp, [v-cloak], [data-reactroot], [data-v-app]"
_NOTE = re.compile(
    r"暂无|暂时没有|没有(?:相关|找到|符合)?(?:的)?(?:信息|数据|内容|记录|文件|结果)"
    r"|无(?:相关)?(?:信息|数据|内容|记录)(?:公开)?[。!！]?$|正在(?:建设|完善|更新|整理)|建设中|敬请期待|不予公开"
)


def is_js_shell(page: Page, links: PageLinks | None) -> bool:
    """A page that lists nothing, says nothing about it, and whose scripts would fill it."""
    if page.is_json:
        return False
    links = links if links is not None else extract_links(page.text, page.url)
    if links.items or _NOTE.search(links.text):
        return False
    tree = LexborHTMLParser(page.text)
    code = " ".join(node.text() or "" for node in tree.css("script:not([src])")
                    if (node.attributes.get("type") or "").strip().lower() not in _DATA_TYPES)
    if _LOADERS.search(code):
        return True
    return _has_empty_mount(tree) and tree.css_first("script[src]") is not None


def _has_empty_mount(tree: LexborHTMLParser) -> bool:
    """An app's mount point with nothing in it yet: `<div id="app"></div>`."""
    for node in tree.css(_MOUNTS):
        if node.tag in ("html", "body"):
            continue
        # (lexbor's css_first("*") would match the node itself: look at its children)
        if next(node.iter(include_text=False), None) is None and not (node.text() or "").strip():
            return True
    return False
