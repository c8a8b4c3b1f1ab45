"""gkmlpt: 广东's 政府信息公开目录 platform, a Vue front end on a JSON API.

Mirrors every 广东 portal: the unit's entry `/<unit>/gkmlpt/index` is a JS shell whose
`window._CONFIG = {SID: '…', TREE: [{id, name, children}, …]}` (JavaScript object syntax, single
or double quotes by unit) names the categories; a category's list is
`GET /<unit>/gkmlpt/api/all/<id>?page=N&sid=<sid>`, answering
`{"classify": {id, name, post_count}, "articles": [{id, title, date, publisher, identifier,
document_number, url, is_abolished}]}` with `date` in epoch seconds (publication times spread
over the Asia/Shanghai day, early-morning ones falling on the previous UTC day) and empty
`articles` past the end. Documents live at `/<unit>/gkmlpt/content/3/3255/post_3255421.html`
and embed `window._CONFIG.DETAIL = {…}` beside the unit's metadata template.

Simplifications: a parent category's API answers its own (no) articles, not its children's; a
column's note (本栏目暂无…) is static text on the entry shell and the category's `description`.
The twin does not throttle (the real API resets back-to-back requests).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from html import escape
from pathlib import Path

from aiohttp import web

from ..model import LAPSED, Column, Doc
from .base import Twin, UnitContext, absolute, int_field, json_response, newest_first, place_attachments, read_json

PAGE_SIZE = 10
SHANGHAI = timezone(timedelta(hours=8))
# Publication times of day, by document: 00:30 and 07:15 Shanghai are still the previous day in UTC.
PUBLISH_TIMES = ((0, 30), (7, 15), (9, 30), (14, 0), (16, 45))
API = re.compile(r"gkmlpt/api/all/(\d+)")


@dataclass(frozen=True)
class GkmlptIds:
    sid: str
    category_base: int
    post_base: int
    quote: str  # the shell's string quotes: both occur

    def category_id(self, column: Column) -> int:
        return self.category_base + column.layout_index + 1

    def post_id(self, doc: Doc) -> int:
        return self.post_base + doc.serial


def gkmlpt_ids(unit: UnitContext) -> GkmlptIds:
    rng = unit.rng("mechanism:gkmlpt")
    return GkmlptIds(sid=str(rng.randint(100000, 999999)), category_base=rng.randint(21, 98) * 100,
                     post_base=rng.randint(3_000_000, 3_900_000), quote=rng.choice(("'", '"')))


def epoch(doc: Doc) -> int | None:
    if doc.publish_date is None:
        return None
    hour, minute = PUBLISH_TIMES[doc.serial % len(PUBLISH_TIMES)]
    day = doc.publish_date
    return int(datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI).timestamp())


def article(doc: Doc, ids: GkmlptIds, abolished: bool, dated: bool) -> dict:
    return {"id": ids.post_id(doc), "title": doc.title, "date": epoch(doc) if dated else None,
            "publisher": doc.publisher or "",
            "identifier": doc.index_no or "", "document_number": doc.doc_number or "",
            "url": doc.path,  # made absolute when served
            "is_abolished": abolished}


def listed_abolished(doc: Doc) -> bool:
    """The list's `is_abolished`: its own mark (R3), which mirrors the page unless a defect made them disagree."""
    return doc.list_mark in LAPSED


def page_abolished(doc: Doc) -> bool:
    """The detail page's DETAIL.is_abolished: what the page itself says."""
    return doc.abolished_mark or doc.validity in ("废止", "失效")


class GkmlptTwin(Twin):
    name = "gkmlpt"

    def layout(self, unit: UnitContext) -> None:
        ids = gkmlpt_ids(unit)
        unit.entry_url = f"{unit.prefix}gkmlpt/index"
        for column in unit.site.columns:
            column.path = f"{unit.prefix}gkmlpt/"
            column.url = f"{unit.prefix}gkmlpt/api/all/{ids.category_id(column)}?page=1&sid={ids.sid}"
            for doc in column.docs:
                post = ids.post_id(doc)
                doc.path = f"{unit.prefix}gkmlpt/content/{post // 1_000_000}/{post // 1000}/post_{post}.html"
                place_attachments(doc)

    def write_entry(self, unit: UnitContext) -> None:
        ids = gkmlpt_ids(unit)
        columns = unit.site.columns
        q = ids.quote

        def node(column: Column) -> str:
            children = ", ".join(node(c) for c in columns if c.parent == column.code)
            return f"{{id: {ids.category_id(column)}, name: {q}{column.name}{q}, children: [{children}]}}"

        tree = ", ".join(node(c) for c in columns if c.parent is None)
        notes = "".join(f'<div class="classify-note" data-classify="{ids.category_id(c)}"><h3>{escape(c.name)}</h3>'
                        f"{unit.renderer.note_html(c)}</div>" for c in columns if c.note)
        label = unit.renderer.charset_label
        html = (
            "<!DOCTYPE html>\n"
            f'<html lang="zh-CN"><head><meta http-equiv="Content-Type" content="text/html; charset={label}">'
            f"<title>政府信息公开目录_{escape(unit.spec.name)}</title>\n"
            f"<script>window._CONFIG = {{SID: {q}{ids.sid}{q}, TREE: [{tree}]}};</script>\n"
            '</head><body><div id="app"></div>\n'
            f"<noscript>请开启浏览器的JavaScript功能</noscript>{notes}\n"
            "</body></html>\n"
        )
        unit.write_page(unit.entry_url, html)

    def write_parent(self, unit: UnitContext, column: Column) -> None:
        self.write_column(unit, column)  # a category like any other, listing nothing of its own

    def write_column(self, unit: UnitContext, column: Column) -> None:
        ids = gkmlpt_ids(unit)
        classify = {"id": ids.category_id(column), "name": column.name, "post_count": len(column.docs)}
        if column.note:
            classify["description"] = column.note
        articles = [article(doc, ids, listed_abolished(doc), doc.show_list_date) for doc in newest_first(column.docs)]
        unit.write_data(self.name, f"{ids.category_id(column)}.json", {"classify": classify, "articles": articles})

    def detail_extra(self, unit: UnitContext, doc: Doc, column: Column) -> str:
        ids = gkmlpt_ids(unit)
        detail = {**article(doc, ids, page_abolished(doc), doc.page_shows_date), "classify_id": ids.category_id(column), "classify_name": column.name,
                  "written_date": f"{doc.written_date:%Y-%m-%d}" if doc.written_date else ""}
        payload = json.dumps(detail, ensure_ascii=False, sort_keys=True).replace("</", "<\\/")
        return f"<script>window._CONFIG = window._CONFIG || {{}}; window._CONFIG.DETAIL = {payload};</script>"

    def finish(self, unit: UnitContext) -> None:
        unit.add_route(f"{unit.prefix}gkmlpt/", self.name,
                       {"unit_prefix": unit.prefix, "data": unit.data_dir(self.name), "sid": gkmlpt_ids(unit).sid,
                        "charset": unit.charset})


TWIN = GkmlptTwin()


async def handle(route, request: web.Request, out_dir: Path) -> web.StreamResponse | None:
    params = route.params
    rest = request.path[len(params["unit_prefix"]):]
    if request.method not in ("GET", "HEAD"):
        return None
    if rest == "gkmlpt/index":
        # An extensionless page: served here so that it goes out as HTML.
        path = Path(out_dir) / "sites" / route.host / request.path.lstrip("/")
        if not path.is_file():
            return None
        return web.FileResponse(path, headers={"Content-Type": f"text/html; charset={params['charset']}"})
    match = API.fullmatch(rest)
    if match is None:
        return None
    if request.query.get("sid") != params["sid"]:
        return json_response({"code": 400, "message": "invalid sid"}, status=400)
    data = read_json(out_dir, f"{params['data']}/{match.group(1)}.json")
    if data is None:
        return json_response({"code": 404, "message": "classify not found"}, status=404)
    page = max(int_field(dict(request.query), "page", 1), 1)
    articles = [{**a, "url": absolute(request, a["url"])}
                for a in data["articles"][(page - 1) * PAGE_SIZE:page * PAGE_SIZE]]
    return json_response({"classify": data["classify"], "articles": articles})
