"""static: server-rendered list pages, as TRS WCM and most CMSs publish them.

Each template family pages its lists its own way (what tj.gov.cn-style TRS sites do):

- `trs4`: `index.html`, `index_1.html` … (0-based suffix), paginated only by the inline script
  `createPageHTML(total, current, "index", "html")`, no anchors;
- `trs2`: the same files with 首页/上一页/下一页/尾页 anchors;
- `span`: `list.html`, `list.html?page=2` … with numbered anchors and 下一页/末页.

Deep stubs (real: "deep pagination is usually a broken 300–400 B stub"): on some units the pager
announces one or two pages more than exist, and those pages answer HTTP 200 with a 300–400 byte
page without items. No dynamic endpoint: everything is a file.
"""

from __future__ import annotations

from html import escape

from ..model import PAGE_SIZE, Column
from .base import Twin, UnitContext, newest_first

STUB_BYTES = 360  # inside the 300–400 bytes real stubs measure


def deep_stubs(unit: UnitContext) -> int:
    """Pages past the end this unit's pagers announce: fixed for base units, drawn for the rest."""
    if unit.spec.deep_stubs is not None:
        return unit.spec.deep_stubs
    rng = unit.rng("mechanism:static")
    return rng.choice((1, 2)) if rng.random() < 0.3 else 0


class StaticTwin(Twin):
    name = "static"

    def layout(self, unit: UnitContext) -> None:
        super().layout(unit)
        if unit.site.template == "span":
            for column in unit.site.columns:
                if not any(c.parent == column.code for c in unit.site.columns):
                    column.url = f"{column.path}list.html"

    def write_column(self, unit: UnitContext, column: Column) -> None:
        docs = newest_first(column.docs)
        pages = [docs[i:i + PAGE_SIZE] for i in range(0, len(docs), PAGE_SIZE)] or [[]]
        announced = len(pages) + (deep_stubs(unit) if docs else 0)
        renderer = unit.renderer
        for number, items in enumerate(pages, start=1):
            if items:
                body = f'<ul class="list">{"".join(renderer.list_item(d) for d in items)}</ul>'
            elif column.note:
                body = '<ul class="list"></ul>'
            else:
                body = '<ul class="list"></ul><div class="empty">暂无信息</div>'
            body += pagination(unit.site.template, column, number, announced)
            unit.write_page(list_page_path(unit.site.template, column, number), renderer.column_page(column, body))
        for number in range(len(pages) + 1, announced + 1):
            unit.write_page(list_page_path(unit.site.template, column, number), stub_page(renderer.charset_label))


def list_page_path(family: str, column: Column, page: int) -> str:
    """Page 1 is the column's own URL; later pages follow the family's pagination style."""
    if family == "span":
        return f"{column.path}list.html" + ("" if page == 1 else f"?page={page}")
    return f"{column.path}index.html" if page == 1 else f"{column.path}index_{page - 1}.html"


def pagination(family: str, column: Column, current: int, total: int) -> str:
    if total <= 1:
        return ""
    if family == "trs4":
        return f'<div class="page"><script>createPageHTML({total}, {current - 1}, "index", "html");</script></div>'
    links = []
    if current > 1:
        links.append(f'<a href="{escape(list_page_path(family, column, 1))}">首页</a>')
        links.append(f'<a href="{escape(list_page_path(family, column, current - 1))}">上一页</a>')
    if family == "span":
        links += [f'<a href="{escape(list_page_path(family, column, n))}">{n}</a>' if n != current
                  else f"<span>{n}</span>" for n in range(1, total + 1)]
    if current < total:
        links.append(f'<a href="{escape(list_page_path(family, column, current + 1))}">下一页</a>')
        last = "末页" if family == "span" else "尾页"
        links.append(f'<a href="{escape(list_page_path(family, column, total))}">{last}</a>')
    return f'<div class="page">{"".join(links)}</div>'


def stub_page(charset_label: str) -> str:
    """What a CMS answers for a list page past the end: an HTTP 200 shell without items.

    ASCII only, padded to STUB_BYTES, so its size is the same in every charset.
    """
    head = (f'<!DOCTYPE html>\n<html><head><meta http-equiv="Content-Type" content="text/html; '
            f'charset={charset_label}"><title></title></head>\n<body>\n')
    tail = "</body></html>\n"
    filler = STUB_BYTES - len(head) - len(tail) - len("<!--  -->\n")
    return head + "<!-- " + " " * filler + " -->\n" + tail


TWIN = StaticTwin()
