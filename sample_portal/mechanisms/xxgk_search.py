"""xxgk_search: Hanweb's xxgk module, whose column pages load their list from `/module/xxgk/search.jsp`.

Mirrors the older 浙江/黑龙江 sites (杭州, 哈尔滨): a column page carries a search form with
hidden fields (`infotypeId, jdid, area, divid, vc_title, vc_number, sortfield, currpage,
texttype, fbtime`) and no items; `POST /<unit>/module/xxgk/search.jsp` with `currpage=N`
answers an HTML fragment of `tr_main_value_odd/even` rows and a `共N页` pager.

The real quirk kept: the search does not filter by column. Whatever `infotypeId` asks, it
answers every disclosure item of the unit (`jdid`), newest first, so a reader must keep only
the rows whose URL carries `art_<its column id>_`.

Units that mark validity in a 状态 column (shapes.py `cell`) answer a title row
`<tr class="tr_main_title">…<td>状态</td></tr>` first and a `<td class="zt">` per row (现行有效,
已废止 …, empty for documents without validity).
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from aiohttp import web

from ..model import Column, Doc
from .base import (UnitContext, form_fields, html_response, int_field, method_not_allowed, newest_first, page_count,
                   read_json)
from .hanweb import HanwebTwin, hanweb_ids

SEARCH = "module/xxgk/search.jsp"
PAGE_SIZE = 15
DATA_FILE = "items.json"


TITLE_ROW = ('<tr class="tr_main_title"><td>标题</td><td>文号</td><td>发布日期</td><td>状态</td></tr>\n')


def row_cells(unit: UnitContext, doc: Doc) -> str:
    renderer = unit.renderer
    shown = renderer.list_date(doc, "iso")
    return (f'<td><a href="{escape(doc.path)}" title="{escape(doc.title)}">{escape(renderer.list_link_text(doc))}</a></td>'
            f"<td>{escape(doc.doc_number or '')}</td><td>{shown}</td>{renderer.list_status_cell(doc)}")


class XxgkSearchTwin(HanwebTwin):
    name = "xxgk_search"

    def write_column(self, unit: UnitContext, column: Column) -> None:
        ids = hanweb_ids(unit)
        column_id = ids.column_id(column)
        action = f"{unit.prefix}{SEARCH}"
        hidden = {"infotypeId": column_id, "jdid": ids.jdid, "area": "", "divid": f"div{column_id}",
                  "vc_title": "", "vc_number": "", "sortfield": ",createdatetime:0,orderid:0", "currpage": 1,
                  "texttype": "", "fbtime": ""}
        inputs = "".join(f'<input type="hidden" name="{k}" value="{escape(str(v))}">' for k, v in hidden.items())
        body = (
            f'<form id="searchform" name="searchform" action="{escape(action)}" method="post">{inputs}</form>'
            f'<div id="div{column_id}" class="xxgk-result"></div>\n'
            '<script type="text/javascript">\n'
            "function loadPage(page) { var form = document.getElementById('searchform');"
            " form.currpage.value = page;"
            f" $.post(form.action, $(form).serialize(), function (html) {{ $('#div{column_id}').html(html); }}); }}\n"
            "$(function () { loadPage(1); });\n"
            "</script>"
        )
        unit.write_page(column.url, unit.renderer.column_page(column, body))

    def finish(self, unit: UnitContext) -> None:
        """The search's data: every item of every column the unit serves this way, newest first."""
        columns = [c for c in unit.site.columns if c.served_by == self.name]
        docs = newest_first([d for c in columns for d in c.docs])
        unit.write_data(self.name, DATA_FILE, {"jdid": hanweb_ids(unit).jdid,
                                               "rows": [row_cells(unit, d) for d in docs],
                                               "status_column": unit.site.list_marks == "cell"})
        unit.add_route(f"{unit.prefix}module/xxgk/", self.name,
                       {"unit_prefix": unit.prefix, "data": unit.data_dir(self.name), "charset": unit.charset})


TWIN = XxgkSearchTwin()


async def handle(route, request: web.Request, out_dir: Path) -> web.StreamResponse | None:
    params = route.params
    if request.path != f"{params['unit_prefix']}{SEARCH}":
        return None
    if request.method != "POST":
        return method_not_allowed("POST")
    fields = await form_fields(request)
    data = read_json(out_dir, f"{params['data']}/{DATA_FILE}") or {"jdid": None, "rows": []}
    # No column filter (the real quirk); only the unit's jdid selects anything at all.
    rows = data["rows"] if fields.get("jdid") == str(data["jdid"]) else []
    current = max(int_field(fields, "currpage", 1), 1)
    pages = page_count(len(rows), PAGE_SIZE)
    shown = rows[(current - 1) * PAGE_SIZE:current * PAGE_SIZE]
    trs = "".join(f'<tr class="tr_main_value_{"odd" if i % 2 == 0 else "even"}">{cells}</tr>\n'
                  for i, cells in enumerate(shown))
    if data.get("status_column"):
        trs = TITLE_ROW + trs
    fragment = (f'<table class="tb_main" width="100%" cellspacing="0" cellpadding="0">\n{trs}</table>\n'
                f'<div class="page">共 {len(rows)} 条记录&nbsp;&nbsp;共{pages}页&nbsp;&nbsp;当前第{current}页</div>\n')
    return html_response(fragment, params["charset"])
