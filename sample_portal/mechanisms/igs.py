"""igs: Tianjin's TRS IGS JSON search behind JS-shell column pages.

Mirrors tj.gov.cn and its bureaus (`/igs/front/search/list.html?index=zcwj-index-200424&type=zcfg
&filter[WZFL_name]=…`): the column page is a TRS page with an empty list container and a script
naming `listUrl`; `GET <listUrl>&pageNumber=N` answers
`{"page": {"content": [{BT, DOCPUBURL, FBRQ, FWZH, YXX, CWRQ}], "total", "totalPages", "number", "size"}}`
with ISO-with-T dates (`2020-09-15T09:30:00`), absolute `DOCPUBURL`s, `YXX` '0' 有效 / '1' 无效,
and an empty `content` past the end. Documents keep TRS paths (`…/202009/t20200915_00012.html`).
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from ..model import Column, Doc
from .base import Twin, UnitContext, absolute, int_field, json_response, newest_first, page_count, read_json

SEARCH = "igs/front/search/list.html"
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100
INDEX_FILE = "columns.json"


def validity_flag(doc: Doc) -> str:
    """IGS `YXX`: '0' 有效, '1' 无效; empty where the list marks no validity (R3: the list's own
    mark, which mirrors the page unless a defect made them disagree)."""
    if not doc.list_mark:
        return ""
    return "0" if doc.list_mark == "有效" else "1"


def content_item(doc: Doc, column: Column) -> dict:
    return {
        "BT": doc.title,
        "DOCPUBURL": doc.path,  # made absolute when served, with the host the request came to
        "FBRQ": f"{doc.publish_date:%Y-%m-%d}T09:30:00" if doc.publish_date and doc.show_list_date else None,
        "CWRQ": f"{doc.written_date:%Y-%m-%d}T00:00:00" if doc.written_date else None,
        "FWZH": doc.doc_number or "",
        "YXX": validity_flag(doc),
        "WZFL_name": column.name,
    }


class IgsTwin(Twin):
    name = "igs"

    def write_column(self, unit: UnitContext, column: Column) -> None:
        list_url = (f"{unit.prefix}{SEARCH}?index=zcwj-index-200424&type=zcfg&filter[WZFL_name]={column.name}"
                    f"&pageSize={DEFAULT_PAGE_SIZE}&orderProperty=FBRQ&orderDirection=desc")
        body = (
            '<div class="zcwj-list"><ul id="zcwjList"></ul><div id="zcwjPage"></div></div>\n'
            '<script type="text/javascript">\n'
            f'var listUrl = "{list_url}";\n'
            "function render(content) {\n"
            "  var html = '';\n"
            "  for (var i = 0; i < content.length; i++) {\n"
            "    html += '<li><a href=\"' + content[i].DOCPUBURL + '\">' + content[i].BT + '</a>'\n"
            "         + '<span>' + (content[i].FBRQ || '').substring(0, 10) + '</span></li>';\n"
            "  }\n"
            "  document.getElementById('zcwjList').innerHTML = html;\n"
            "}\n"
            "var page = 1;\n"
            '$.get(listUrl + "&pageNumber=" + page, function (res) { render(res.page.content); });\n'
            "</script>"
        )
        unit.write_page(f"{column.path}index.html", unit.renderer.column_page(column, body))
        items = [content_item(doc, column) for doc in newest_first(column.docs)]
        unit.write_data(self.name, f"{column.code}.json", items)

    def finish(self, unit: UnitContext) -> None:
        served = {c.name: c.code for c in unit.site.columns if c.served_by == self.name
                  and not any(child.parent == c.code for child in unit.site.columns)}
        unit.write_data(self.name, INDEX_FILE, served)
        unit.add_route(f"{unit.prefix}igs/", self.name, {"unit_prefix": unit.prefix, "data": unit.data_dir(self.name)})


TWIN = IgsTwin()


async def handle(route, request: web.Request, out_dir: Path) -> web.StreamResponse | None:
    params = route.params
    if request.path != f"{params['unit_prefix']}{SEARCH}" or request.method not in ("GET", "HEAD"):
        return None
    fields = dict(request.query)
    columns = read_json(out_dir, f"{params['data']}/{INDEX_FILE}") or {}
    code = columns.get(fields.get("filter[WZFL_name]", ""))
    items = (read_json(out_dir, f"{params['data']}/{code}.json") or []) if code else []
    size = min(max(int_field(fields, "pageSize", DEFAULT_PAGE_SIZE), 1), MAX_PAGE_SIZE)
    number = max(int_field(fields, "pageNumber", 1), 1)
    content = [{**item, "DOCPUBURL": absolute(request, item["DOCPUBURL"])}
               for item in items[(number - 1) * size:number * size]]
    return json_response({"page": {"content": content, "total": len(items), "totalPages": page_count(len(items), size),
                                   "number": number, "size": size}})
