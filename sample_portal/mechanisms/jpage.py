"""jpage: Hanweb/大汉 column pages with an embedded XML datastore, paged through `dataproxy.jsp`.

Mirrors the JCMS sites of 江苏/浙江/山东 and many central bodies: the column page
`/<unit>/col/col<C>/index.html` embeds the first records in `<script type="text/xml"><datastore>`
and a `$('#div…').jpage({proxyUrl, perPage, totalRecord, ajaxParam})` call; further records come
from `POST /<unit>/module/web/jpage/dataproxy.jsp?startrecord=&endrecord=&perpage=` with the
`ajaxParam` fields as the form, answered as `<datastore><totalrecord>…<recordset>`.

Quirks kept from real sites: POST only (GET answers 405); without the column page as Referer the
proxy answers 404 (如皋); column pages set a `JSESSIONID` the proxy does not require; past the
end the recordset is empty; some units split dates across lines inside records
(`<span>2026-\\n01-\\n23</span>`), some omit `totalRecord`/`perPage` from the script, and some
answer `text/html` instead of `text/xml`.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from html import escape
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from ..model import PAGE_SIZE, Column, Doc
from .base import UnitContext, form_fields, int_field, method_not_allowed, newest_first, read_json, site_file
from .hanweb import HanwebTwin, hanweb_ids

PROXY = "module/web/jpage/dataproxy.jsp"
COLUMN_PAGE = re.compile(r"col/col(\d+)/(?:index\.html)?")


@dataclass(frozen=True)
class JpageStyle:
    """How one unit's JCMS templates differ from the next unit's."""

    announces_totals: bool  # the jpage() call carries totalRecord and perPage
    splits_dates: bool  # record templates break dates over lines
    content_type: str  # what the proxy answers with


def jpage_style(unit: UnitContext) -> JpageStyle:
    rng = unit.rng("mechanism:jpage")
    return JpageStyle(announces_totals=rng.random() < 0.7, splits_dates=rng.random() < 0.4,
                      content_type="text/xml" if rng.random() < 0.7 else "text/html")


def record_html(unit: UnitContext, doc: Doc, style: JpageStyle) -> str:
    shown = unit.renderer.list_date(doc, "iso")
    if shown and style.splits_dates:
        shown = shown.replace("-", "-\n")
    date_html = f"<span>{shown}</span>" if shown else ""
    renderer = unit.renderer
    return (f'<li><a href="{escape(doc.path)}" title="{escape(doc.title)}">{escape(renderer.list_link_text(doc))}</a>'
            f"{date_html}{renderer.list_status_span(doc)}</li>")


class JpageTwin(HanwebTwin):
    name = "jpage"

    def write_column(self, unit: UnitContext, column: Column) -> None:
        ids, style = hanweb_ids(unit), jpage_style(unit)
        column_id = ids.column_id(column)
        records = [record_html(unit, doc, style) for doc in newest_first(column.docs)]
        proxy = f"{unit.prefix}{PROXY}"
        name = unit.spec.name
        query = (f"page=1&appid=1&webid={ids.webid}&path=/&columnid={column_id}&unitid={ids.unitid}"
                 f"&webname={name}&permissiontype=0")
        embedded = "".join(f"<record><![CDATA[{r}]]></record>\n" for r in records[:PAGE_SIZE])
        totals = f"perPage: {PAGE_SIZE}, totalRecord: {len(records)}, " if style.announces_totals else ""
        body = (
            f'<div id="div{column_id}"><script type="text/xml"><datastore>\n'
            f'<nextgroup><![CDATA[<a href="{proxy}?{query}"></a>]]></nextgroup>\n'
            f"<recordset>\n{embedded}</recordset></datastore></script></div>\n"
            '<script type="text/javascript">\n'
            f"$(function(){{ $('#div{column_id}').jpage({{ proxyUrl: '{proxy}', {totals}"
            "dataBefore: '<ul>', dataAfter: '</ul>', "
            f"ajaxParam: {{col: 1, appid: 1, webid: {ids.webid}, path: '/', columnid: {column_id}, "
            f"sourceContentType: 1, unitid: {ids.unitid}, webname: '{name}', permissiontype: 0}} }}); }});\n"
            "</script>"
        )
        unit.write_page(column.url, unit.renderer.column_page(column, body))
        unit.write_data(self.name, f"{column_id}.json", {"page": column.url, "records": records})

    def finish(self, unit: UnitContext) -> None:
        ids, style = hanweb_ids(unit), jpage_style(unit)
        params = {"unit_prefix": unit.prefix, "data": unit.data_dir(self.name), "charset": unit.charset,
                  "unitid": ids.unitid, "content_type": style.content_type}
        unit.add_route(f"{unit.prefix}col/", self.name, params)
        unit.add_route(f"{unit.prefix}module/web/jpage/", self.name, params)


TWIN = JpageTwin()


async def handle(route, request: web.Request, out_dir: Path) -> web.StreamResponse | None:
    params = route.params
    rest = request.path[len(params["unit_prefix"]):]
    if rest == PROXY:
        return await _proxy(params, request, out_dir)
    if COLUMN_PAGE.fullmatch(rest) and request.method in ("GET", "HEAD"):
        return _column_page(route, request, out_dir)
    return None


def _column_page(route, request: web.Request, out_dir: Path) -> web.StreamResponse | None:
    """The column page as the static server would send it, plus the session cookie JCMS sets."""
    path = site_file(out_dir, route.host, request.path)
    if path is None:
        return None
    headers = {"Content-Type": f"text/html; charset={route.params['charset']}"}
    if "JSESSIONID" not in request.cookies:
        headers["Set-Cookie"] = f"JSESSIONID={secrets.token_hex(16).upper()}; Path={route.params['unit_prefix']}; HttpOnly"
    return web.FileResponse(path, headers=headers)


def _not_found() -> web.Response:
    return web.Response(status=404, text="<html><body><h1>404 Not Found</h1></body></html>", content_type="text/html")


async def _proxy(params: dict, request: web.Request, out_dir: Path) -> web.Response:
    if request.method != "POST":
        return method_not_allowed("POST")
    fields = await form_fields(request)
    column_id = fields.get("columnid", "")
    data = read_json(out_dir, f"{params['data']}/{column_id}.json") if column_id.isdigit() else None
    if data is None or fields.get("unitid", str(params["unitid"])) != str(params["unitid"]):
        return _not_found()
    referer = urlsplit(request.headers.get("Referer", "")).path
    if referer not in (data["page"], data["page"].removesuffix("index.html")):
        return _not_found()  # 如皋-style: the proxy only answers its own column page
    records = data["records"]
    start = max(int_field(fields, "startrecord", 1), 1)
    per_page = int_field(fields, "perpage", 0)
    end = int_field(fields, "endrecord", start + (per_page or PAGE_SIZE) - 1)
    per_page = per_page if per_page > 0 else max(end - start + 1, 1)
    chosen = records[start - 1:end] if end >= start else []
    total_pages = -(-len(records) // per_page)
    recordset = "".join(f"<record><![CDATA[{r}]]></record>\n" for r in chosen)
    charset = params["charset"]
    xml = (f'<?xml version="1.0" encoding="{charset.upper()}"?>\n<datastore>'
           f"<totalrecord>{len(records)}</totalrecord><totalpage>{total_pages}</totalpage>\n"
           f"<recordset>\n{recordset}</recordset></datastore>\n")
    return web.Response(body=xml.encode(charset, errors="xmlcharrefreplace"), content_type=params["content_type"],
                        charset=charset, headers={"Cache-Control": "no-cache"})
