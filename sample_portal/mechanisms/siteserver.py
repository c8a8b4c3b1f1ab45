"""siteserver: SiteServer CMS (.NET), the older 滨海 family (tjbh, teda, tht, tjftz, fgw.tjbh).

Entry `/<unit>/channels/<id>.html`, columns `/<unit>/channels/<cid>.html`, documents
`/<unit>/contents/<cid>/<id>.html`; lists are `<li class="xxgk-list"><a title href>…</a><span>date</span>`.
A unit's columns come in the three shapes real SiteServer sites mix:

- `static`: paged as files, `/channels/<cid>_2.html` … with 下一页/尾页 anchors and `共N页`;
- `dynamic`: page 1 in the column page inside `<div id="ajaxElement_…">`, the rest through
  `POST /<unit>/sitefiles/services/cms/dynamic/output.aspx?publishmentSystemID=1` with the form the
  page's `stlDynamic_<div>(pageNum)` script names (`pageNodeID, pageContentID, pageTemplateID,
  isPageRefresh, templateContent=<opaque token>, ajaxDivID, pageNum`) and pager links
  `javascript:stlDynamic_<div>(N)`; the answer is the list and pager as an HTML fragment, and a
  `pageNum` past `共N页` gets a fragment without items. POST only; a wrong token answers 400;
- `iframe`: a shell page showing no list but a same-site `<iframe src="/<unit>/channels/<cid>_list.html">`,
  the frame being the list (paged as files, `<cid>_list_2.html` …).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from html import escape
from pathlib import Path

from aiohttp import web

from ..model import Column, Doc
from .base import (Twin, UnitContext, form_fields, html_response, int_field, method_not_allowed, newest_first,
                   page_count, place_attachments, read_json)

PAGE_SIZE = 10
OUTPUT = "sitefiles/services/cms/dynamic/output.aspx"
SHAPES = ("static", "dynamic", "iframe")


@dataclass(frozen=True)
class SiteServerIds:
    channel_base: int
    channel_step: int
    content_base: int
    template_id: int
    shape_offset: int  # which column gets which shape differs from site to site

    def shape(self, column: Column) -> str:
        return SHAPES[(column.layout_index + self.shape_offset) % len(SHAPES)]

    def channel_id(self, column: Column) -> int:
        return self.channel_base + (column.layout_index + 1) * self.channel_step

    def content_id(self, doc: Doc) -> int:
        return self.content_base + doc.serial


def siteserver_ids(unit: UnitContext) -> SiteServerIds:
    rng = unit.rng("mechanism:siteserver")
    return SiteServerIds(channel_base=rng.randint(3000, 8999), channel_step=rng.randint(1, 7),
                         content_base=rng.randint(10_000, 89_000), template_id=rng.randint(5, 60),
                         shape_offset=rng.randrange(len(SHAPES)))


def template_token(unit: UnitContext, channel_id: int) -> str:
    """SiteServer's encrypted template, opaque to readers; `+ = /` spelled as its 0add0/0equals0/0slash0."""
    digest = hashlib.sha256(f"{unit.seed}:{unit.spec.id}:{channel_id}:stl".encode()).digest() * 3
    text = base64.b64encode(digest).decode()
    return text.replace("+", "0add0").replace("=", "0equals0").replace("/", "0slash0")


def list_item(unit: UnitContext, doc: Doc) -> str:
    renderer = unit.renderer
    shown = renderer.list_date(doc, "iso")
    return (f'<li class="xxgk-list"><a title="{escape(doc.title)}" href="{escape(doc.path)}" target="_blank">'
            f'{escape(renderer.list_link_text(doc))}</a><span class="date">{shown}</span>'
            f'{renderer.list_status_span(doc)}</li>')


def list_html(items: list[str]) -> str:
    return f'<ul class="xxgk-list-ul">{"".join(items)}</ul>'


def file_pager(stem: str, current: int, total: int) -> str:
    """Static paging: `<stem>.html`, `<stem>_2.html` … with 首页/上一页/下一页/尾页 and 共N页."""
    if total <= 1:
        return f'<div class="pages">共{total}页</div>' if total else ""
    page = lambda n: f"{stem}.html" if n == 1 else f"{stem}_{n}.html"  # noqa: E731
    links = [f"共{total}页 当前第{current}页"]
    if current > 1:
        links += [f'<a href="{page(1)}">首页</a>', f'<a href="{page(current - 1)}">上一页</a>']
    if current < total:
        links += [f'<a href="{page(current + 1)}">下一页</a>', f'<a href="{page(total)}">尾页</a>']
    return f'<div class="pages">{" ".join(links)}</div>'


def dynamic_pager(div: str, current: int, total: int) -> str:
    """The stlDynamic pager: every link a `javascript:` call, the count only in the text."""
    if total == 0:
        return ""
    call = lambda n: f"javascript:stlDynamic_{div}({n})"  # noqa: E731
    links = [f"共{total}页 当前第{current}页"]
    if current > 1:
        links += [f'<a href="{call(1)}">首页</a>', f'<a href="{call(current - 1)}">上一页</a>']
    links += [f'<a href="{call(n)}">{n}</a>' if n != current else f"<span>{n}</span>" for n in range(1, total + 1)]
    if current < total:
        links += [f'<a href="{call(current + 1)}">下一页</a>', f'<a href="{call(total)}">末页</a>']
    return f'<div class="pages">{" ".join(links)}</div>'


class SiteServerTwin(Twin):
    name = "siteserver"

    def layout(self, unit: UnitContext) -> None:
        ids = siteserver_ids(unit)
        unit.entry_url = f"{unit.prefix}channels/{ids.channel_base}.html"
        for column in unit.site.columns:
            channel = ids.channel_id(column)
            column.path = f"{unit.prefix}channels/"
            column.url = f"{unit.prefix}channels/{channel}.html"
            for doc in column.docs:
                doc.path = f"{unit.prefix}contents/{channel}/{ids.content_id(doc)}.html"
                place_attachments(doc)

    def write_column(self, unit: UnitContext, column: Column) -> None:
        items = [list_item(unit, doc) for doc in newest_first(column.docs)]
        pages = [items[i:i + PAGE_SIZE] for i in range(0, len(items), PAGE_SIZE)] or [[]]
        total = page_count(len(items), PAGE_SIZE)
        getattr(self, f"_write_{siteserver_ids(unit).shape(column)}")(unit, column, items, pages, total)

    def _write_static(self, unit, column, items, pages, total) -> None:
        stem = column.url.removesuffix(".html")
        for number, page in enumerate(pages, start=1):
            path = column.url if number == 1 else f"{stem}_{number}.html"
            body = list_html(page) + file_pager(stem, number, total)
            unit.write_page(path, unit.renderer.column_page(column, body))

    def _write_iframe(self, unit, column, items, pages, total) -> None:
        stem = column.url.removesuffix(".html") + "_list"
        frame = (f'<iframe id="listFrame" name="listFrame" src="{escape(stem)}.html" width="100%" height="900" '
                 'frameborder="0" scrolling="no"></iframe>')
        unit.write_page(column.url, unit.renderer.column_page(column, frame))
        label = unit.renderer.charset_label
        for number, page in enumerate(pages, start=1):
            path = f"{stem}.html" if number == 1 else f"{stem}_{number}.html"
            html = ('<!DOCTYPE html>\n<html><head><meta http-equiv="Content-Type" '
                    f'content="text/html; charset={label}"><title>{escape(column.name)}</title>'
                    '<link rel="stylesheet" href="/css/common.css"></head><body>'
                    f"{list_html(page)}{unit.renderer.note_html(column)}{file_pager(stem, number, total)}"
                    "</body></html>\n")
            unit.write_page(path, html)

    def _write_dynamic(self, unit, column, items, pages, total) -> None:
        ids = siteserver_ids(unit)
        channel = ids.channel_id(column)
        div = f"ajaxElement_{channel}_1"
        token = template_token(unit, channel)
        pars = (f"pageNodeID={channel}&pageContentID=0&pageTemplateID={ids.template_id}&isPageRefresh=false"
                f"&templateContent={token}&ajaxDivID={div}")
        script = (
            '<script type="text/javascript" language="javascript">\n'
            f"function stlDynamic_{div}(pageNum)\n{{\n"
            f"    var url = '{unit.prefix}{OUTPUT}?publishmentSystemID=1';\n"
            f"    var pars = '{pars}';\n"
            "    if (pageNum && pageNum > 0) { pars += '&pageNum=' + pageNum; }\n"
            f"    jQuery.post(url, pars, function (data, textStatus) {{ jQuery('#{div}').html(data); }});\n"
            "}\n</script>"
        )
        body = f'<div id="{div}">{list_html(pages[0])}{dynamic_pager(div, 1, total)}</div>\n{script}'
        unit.write_page(column.url, unit.renderer.column_page(column, body))
        unit.write_data(self.name, f"{channel}.json", {"token": token, "div": div, "items": items})

    def finish(self, unit: UnitContext) -> None:
        unit.add_route(f"{unit.prefix}sitefiles/", self.name,
                       {"unit_prefix": unit.prefix, "data": unit.data_dir(self.name), "charset": unit.charset})


TWIN = SiteServerTwin()


async def handle(route, request: web.Request, out_dir: Path) -> web.StreamResponse | None:
    params = route.params
    if request.path.lower() != f"{params['unit_prefix']}{OUTPUT}":
        return None
    if request.method != "POST":
        return method_not_allowed("POST")
    fields = await form_fields(request)
    channel = fields.get("pageNodeID", "")
    data = read_json(out_dir, f"{params['data']}/{channel}.json") if channel.isdigit() else None
    if data is None:
        return html_response("<h1>栏目不存在</h1>", params["charset"], status=404)
    if fields.get("templateContent") != data["token"] or fields.get("ajaxDivID") != data["div"]:
        return html_response("<h1>模板解析错误</h1>", params["charset"], status=400)
    items = data["items"]
    total = page_count(len(items), PAGE_SIZE)
    current = max(int_field(fields, "pageNum", 1), 1)
    shown = items[(current - 1) * PAGE_SIZE:current * PAGE_SIZE]
    pager = dynamic_pager(data["div"], current, total) if shown else ""
    return html_response(list_html(shown) + pager, params["charset"])
