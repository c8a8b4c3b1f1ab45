"""The sample portal's list-mechanism twins, exercised over HTTP on the generated default portal.

Each host is served by a small aiohttp application that asks the portal's DynamicRoutes first and
otherwise serves the generated sites/ tree by the static server's conventions (`dir/` →
`dir/index.html`, `?query` → the file `name@query`, a missing `?page=N` → 404, soft 404s where
the host says so), so the twins are tested against the contract of sample_portal/mechanisms
without depending on sample_portal/server.py. The JS the portal ships (the 瑞数-style gate, the
spa shell) is run in Chromium.

`listed_items` walks one column's list through its mechanism, page by page, the way each
mechanism's documentation says the end is found; test_generator uses it to compare every
column's list with the ground truth.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import shutil
from datetime import datetime, timedelta, timezone
from html import unescape
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from sample_portal.mechanisms import DynamicRoutes
from sample_portal.mechanisms import gate as gate_twin
from sample_portal.mechanisms.static import STUB_BYTES
from sample_portal.units import LIST_MECHANISMS
from schemas.vocabulary import ARTICLE_MIN_CHARS, column_note

CONTENT_TYPES = {"html": "text/html", "js": "application/javascript", "css": "text/css", "pdf": "application/pdf"}
SHANGHAI = timezone(timedelta(hours=8))


# ------------------------------------------------------------------ serving a generated portal


def load(portal: Path, name: str) -> dict:
    return json.loads((portal / name).read_text(encoding="utf-8"))


def portal_app(portal: Path, host_key: str) -> web.Application:
    """One host of the portal: its dynamic routes first, then its static files."""
    host = next(h for h in load(portal, "portal.json")["hosts"] if h["key"] == host_key)
    routes = DynamicRoutes.load(portal)
    root = portal / host["root"]

    async def answer(request: web.Request) -> web.StreamResponse:
        response = await routes.handle(host_key, request)
        return response if response is not None else static_answer(root, host, request)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    return app


def static_answer(root: Path, host: dict, request: web.Request) -> web.Response:
    if request.method not in ("GET", "HEAD"):
        return web.Response(status=405, headers={"Allow": "GET, HEAD"})
    relative = request.path.lstrip("/") + ("index.html" if request.path.endswith("/") else "")
    target = root / relative
    query = request.rel_url.raw_query_string
    if query:
        candidate = root / f"{relative}@{query}"
        if candidate.is_file():
            target = candidate
        elif any(p.startswith("page=") for p in query.split("&")):
            return not_found(host)
    if not target.is_file():
        return not_found(host)
    extension = target.name.split("@")[0].rsplit(".", 1)[-1]
    content_type = CONTENT_TYPES.get(extension, "application/octet-stream")
    if content_type == "text/html":
        content_type += f"; charset={host['charset']}"
    return web.Response(body=target.read_bytes(), headers={"Content-Type": content_type})


def not_found(host: dict) -> web.Response:
    status = 200 if host.get("not_found") == "soft" else 404
    return web.Response(status=status, text="<html><body><h1>页面不存在</h1></body></html>", content_type="text/html")


def serve(portal: Path, host_key: str, scenario):
    """Run `await scenario(client)` against one host of the portal; returns its result."""

    async def main():
        async with TestClient(TestServer(portal_app(portal, host_key))) as client:
            return await scenario(client)

    return asyncio.run(main())


# ------------------------------------------------------------------ reading lists, mechanism by mechanism

LIST_LINK = re.compile(r'<li[^>]*>\s*<a [^>]*href="([^"]+)"')
JPAGE_PARAM = re.compile(r"(\w+): ('[^']*'|\d+)")


def links_in(html: str, container: str = r'<ul class="[^"]*list[^"]*">(.*?)</ul>') -> list[str]:
    return [unescape(h) for block in re.findall(container, html, re.S) for h in LIST_LINK.findall(block)]


def jpage_form(page: str) -> tuple[str, dict[str, str], int | None]:
    """proxyUrl, ajaxParam fields and perPage from a jpage column's script."""
    call = re.search(r"\.jpage\(\{(.*)\}\);", page).group(1)
    proxy = re.search(r"proxyUrl: '([^']+)'", call).group(1)
    fields = {k: v.strip("'") for k, v in JPAGE_PARAM.findall(call.split("ajaxParam:", 1)[1])}
    per_page = re.search(r"perPage: (\d+)", call)
    return proxy, fields, int(per_page.group(1)) if per_page else None


def hidden_fields(page: str) -> dict[str, str]:
    return {n: unescape(v) for n, v in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page)}


def stl_dynamic(page: str) -> tuple[str, dict[str, str]] | None:
    """The output.aspx URL and form of a SiteServer column's stlDynamic script, if it has one."""
    url = re.search(r"var url = '([^']+)';", page)
    if url is None:
        return None
    pars = re.search(r"var pars = '([^']+)';", page).group(1)
    return url.group(1), dict(p.split("=", 1) for p in pars.split("&"))


async def text(response) -> str:
    return (await response.read()).decode(response.charset or "utf-8")


async def listed_items(client: TestClient, mechanism: str, column_url: str) -> list[str]:
    """Every item URL one column's lists show, page by page to the end, in list order."""
    if mechanism == "gkmlpt":
        return await _gkmlpt_items(client, column_url)
    response = await client.get(column_url)
    assert response.status == 200, column_url
    page = await text(response)
    return await READERS[mechanism](client, column_url, page)


CONTENT_AREA = re.compile(r'<div class="content-area">(.*)</div></div><div class="footer">', re.S)


def own_text(page: str) -> str:
    """A page's own text as R1 counts it: the content area without links, scripts and markup."""
    area = CONTENT_AREA.search(page)
    body = area.group(1) if area else ""
    body = re.sub(r"<script.*?</script>|<a [^>]*>.*?</a>", "", body, flags=re.S)
    return re.sub(r"\s+", "", unescape(re.sub(r"<[^>]+>", "", body)))


def is_article_page(page: str) -> bool:
    """A single-article column page (R1): no list, no pager, no list script, enough text of its own."""
    area = CONTENT_AREA.search(page)
    body = area.group(1) if area else ""
    # (The span family's metadata block is a <ul> of label/value <li>s: no item links.)
    no_list = not (LIST_LINK.search(body) or re.search(r"<iframe|<script|class=\"pages?\"|<datastore|<form", body))
    return no_list and len(own_text(page)) >= ARTICLE_MIN_CHARS


async def article_items(client: TestClient, column_url: str) -> list[str]:
    """An article column's one item: its own page, when that page is an article."""
    response = await client.get(column_url)
    assert response.status == 200, column_url
    return [column_url] if is_article_page(await text(response)) else []


async def _static_items(client, column_url, page) -> list[str]:
    items, seen_pages = [], {column_url}
    pages = re.search(r'createPageHTML\((\d+), 0, "index", "html"\)', page)
    if pages:  # trs4: the script names the page count; pages past the end are stubs
        for number in range(1, int(pages.group(1))):
            html = await text(await client.get(f"{column_url}index_{number}.html"))
            items += links_in(html)
        return links_in(page) + items
    while True:
        items += links_in(page)
        following = re.search(r'<a href="([^"]+)">下一页</a>', page)
        if not following or following.group(1) in seen_pages or not links_in(page):
            return items
        seen_pages.add(following.group(1))
        page = await text(await client.get(unescape(following.group(1))))


async def _jpage_items(client, column_url, page) -> list[str]:
    embedded = re.findall(r"<record><!\[CDATA\[(.*?)\]\]></record>", page, re.S)
    items = [LIST_LINK.search(r).group(1) for r in embedded]
    proxy, fields, per_page = jpage_form(page)
    size = per_page or len(embedded) or 15
    start = len(embedded) + 1
    while True:
        answer = await client.post(f"{proxy}?startrecord={start}&endrecord={start + size - 1}&perpage={size}",
                                   data=fields, headers={"Referer": str(client.make_url(column_url)),
                                                         "X-Requested-With": "XMLHttpRequest"})
        records = re.findall(r"<record><!\[CDATA\[(.*?)\]\]></record>", await text(answer), re.S)
        if not records:
            return items
        items += [LIST_LINK.search(r).group(1) for r in records]
        start += size


async def _xxgk_items(client, column_url, page) -> list[str]:
    fields = hidden_fields(page)
    action = re.search(r'<form [^>]*action="([^"]+/module/xxgk/search\.jsp)"', page).group(1)
    mine = f"art_{fields['infotypeId']}_"
    items, current = [], 1
    while True:
        answer = await text(await client.post(action, data={**fields, "currpage": str(current)}))
        rows = LIST_ROWS.findall(answer)
        if not rows:
            return items
        items += [u for u in rows if mine in u]
        if current >= int(re.search(r"共(\d+)页", answer).group(1)):
            return items
        current += 1


LIST_ROWS = re.compile(r'<tr class="tr_main_value_(?:odd|even)"><td><a href="([^"]+)"')


async def _igs_items(client, column_url, page) -> list[str]:
    list_url = re.search(r'var listUrl = "([^"]+)";', page).group(1)
    items, number = [], 1
    while True:
        data = await (await client.get(f"{list_url}&pageNumber={number}")).json()
        if not data["page"]["content"]:
            return items
        items += [urlsplit(c["DOCPUBURL"]).path for c in data["page"]["content"]]
        number += 1


async def _gkmlpt_items(client, column_url) -> list[str]:
    base, number, items = column_url.replace("page=1&", "page={}&"), 1, []
    while True:
        data = await (await client.get(base.format(number))).json()
        if not data["articles"]:
            return items
        items += [urlsplit(a["url"]).path for a in data["articles"]]
        number += 1


async def _siteserver_items(client, column_url, page) -> list[str]:
    frame = re.search(r'<iframe [^>]*src="([^"]+)"', page)
    if frame:
        return await _static_items(client, frame.group(1), await text(await client.get(frame.group(1))))
    dynamic = stl_dynamic(page)
    if dynamic is None:
        return await _static_items(client, column_url, page)
    url, form = dynamic
    items, number = links_in(page), 2
    while True:
        fragment = await text(await client.post(url, data={**form, "pageNum": str(number)}))
        found = links_in(fragment)
        if not found:
            return items
        items += found
        number += 1


async def _spa_items(client, column_url, page) -> list[str]:
    api, channel = re.search(r'fetch\("([^"?]+)\?channel=(\w+)&page=', page).groups()
    items, number = [], 1
    while True:
        data = await (await client.get(f"{api}?channel={channel}&page={number}")).json()
        if not data["data"]["list"]:
            return items
        items += [row["url"] for row in data["data"]["list"]]
        number += 1


READERS = {"static": _static_items, "jpage": _jpage_items, "xxgk_search": _xxgk_items, "igs": _igs_items,
           "siteserver": _siteserver_items, "spa": _spa_items}


async def pass_gate(client: TestClient, path: str = "/") -> None:
    """Do what the challenge script does: derive the token from the page's nonce, set the cookie."""
    page = await text(await client.get(path))
    nonce, salt = re.search(r'\$_ts\.cd="(\w+)";\$_ts\.sl="(\w+)"', page).groups()
    client.session.cookie_jar.update_cookies({gate_twin.COOKIE: f"{nonce}.{gate_twin.token_hash(nonce + salt)}"})


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def portal(sample_portal_dir) -> Path:
    return sample_portal_dir


@pytest.fixture(scope="module")
def truth(portal) -> dict:
    return load(portal, "ground_truth.json")["units"]


@pytest.fixture(scope="module")
def manifest(portal) -> dict:
    return load(portal, "portal.json")


def units_of(truth: dict, mechanism: str) -> list[str]:
    return [uid for uid, u in truth.items() if u["mechanism"] == mechanism and u["access"] == "ok"]


def list_columns(unit: dict, mechanism: str | None = None) -> dict[str, dict]:
    """The columns that list items (parents only link their children; an article column is its content)."""
    return {name: c for name, c in unit["columns"].items()
            if c["kind"] != "statutory" and not c["article"] and (mechanism is None or c["mechanism"] == mechanism)}


def host_of(manifest: dict, uid: str) -> str:
    return next(u["host"] for u in manifest["units"] if u["id"] == uid)


def biggest_column(unit: dict, mechanism: str) -> dict:
    return max(list_columns(unit, mechanism).values(), key=lambda c: c["items"])


# ------------------------------------------------------------------ every mechanism


def test_column_notes_are_static_text_in_every_mechanism(portal, truth, manifest):
    """A column's note (说明：…, 本单位暂无…, 暂无相关信息) is on its page whatever serves the list
    (gkmlpt: the entry shell), and it is a note by the shared reading (R2)."""
    shown, styles = set(), set()
    for uid, unit in truth.items():
        if unit["access"] != "ok":
            continue
        host = next(h for h in manifest["hosts"] if h["key"] == host_of(manifest, uid))
        root, charset = portal / host["root"], host["charset"]
        entry = next(u["path"] for u in manifest["units"] if u["id"] == uid)
        for name, column in list_columns(unit).items():
            if column["items"]:
                continue
            if column["mechanism"] == "gkmlpt":
                shell = (root / entry.lstrip("/")).read_text(encoding=charset)
                noted = re.search(rf'<h3>{name}</h3><div class="note">([^<]+)</div>', shell)
            else:
                path = column["path"] + ("index.html" if column["path"].endswith("/") else "")
                noted = re.search(r'<div class="note">([^<]+)</div>', (root / path.lstrip("/")).read_text(encoding=charset))
            if noted:
                assert column_note(unescape(noted.group(1))), noted.group(1)
                shown.add(column["mechanism"])
                styles.add(noted.group(1)[:2])
    assert shown == set(LIST_MECHANISMS)
    assert {"说明", "本单", "暂无", "本栏"} <= styles, styles


# ------------------------------------------------------------------ jpage


def test_jpage_proxy_is_post_only_referer_gated_and_pages_to_an_empty_recordset(portal, truth, manifest):
    uid = max(units_of(truth, "jpage"), key=lambda u: biggest_column(truth[u], "jpage")["items"])
    column = biggest_column(truth[uid], "jpage")
    other = next(c for c in list_columns(truth[uid], "jpage").values() if c["path"] != column["path"])
    assert column["items"] > 15, "the biggest jpage column should need the proxy"

    async def scenario(client):
        page_answer = await client.get(column["path"])
        page = await text(page_answer)
        assert page_answer.status == 200 and "JSESSIONID=" in page_answer.headers["Set-Cookie"]
        assert '<script type="text/xml"><datastore>' in page and "<nextgroup><![CDATA[" in page
        embedded = re.findall(r"<record><!\[CDATA\[", page)
        assert len(embedded) == 15
        proxy, fields, _ = jpage_form(page)
        assert proxy == f"/{uid}/module/web/jpage/dataproxy.jsp"
        assert set(fields) == {"col", "appid", "webid", "path", "columnid", "sourceContentType", "unitid", "webname",
                               "permissiontype"}
        referer = {"Referer": str(client.make_url(column["path"]))}
        query = "?startrecord=16&endrecord=30&perpage=15"
        client.session.cookie_jar.clear()  # the proxy does not need the session cookie
        assert (await client.get(proxy + query)).status == 405
        assert (await client.post(proxy + query, data=fields)).status == 404
        wrong = {"Referer": str(client.make_url(other["path"]))}
        assert (await client.post(proxy + query, data=fields, headers=wrong)).status == 404
        answer = await client.post(proxy + query, data=fields, headers=referer)
        xml = await text(answer)
        assert answer.status == 200 and answer.content_type in ("text/xml", "text/html")
        assert f"<totalrecord>{column['items']}</totalrecord>" in xml
        assert f"<totalpage>{math.ceil(column['items'] / 15)}</totalpage>" in xml
        assert len(re.findall(r"<record>", xml)) == min(15, column["items"] - 15)
        past = column["items"] + 1
        beyond = await text(await client.post(f"{proxy}?startrecord={past}&endrecord={past + 14}&perpage=15",
                                              data=fields, headers=referer))
        assert "<recordset>\n</recordset>" in beyond and f"<totalrecord>{column['items']}</totalrecord>" in beyond
        return await listed_items(client, "jpage", column["path"])

    items = serve(portal, host_of(manifest, uid), scenario)
    assert len(items) == len(set(items)) == column["items"]
    assert all(re.search(rf"/{uid}/art/(\d+/\d+/\d+/)?art_\d+_\d+\.html$", u) for u in items)


def test_jpage_units_vary_their_templates_as_real_sites_do(portal, truth):
    pages = {uid: [(portal / "sites/main" / c["path"].lstrip("/")).read_text(encoding="utf-8")
                   for c in list_columns(truth[uid], "jpage").values()] for uid in units_of(truth, "jpage")}
    split = [uid for uid, texts in pages.items() if any(re.search(r"<span>\d{4}-\n\d\d-\n\d\d</span>", t) for t in texts)]
    silent = [uid for uid, texts in pages.items() if not any("totalRecord:" in t for t in texts)]
    assert split and len(split) < len(pages), "dates split across lines on some units only"
    assert silent and len(silent) < len(pages), "totalRecord/perPage absent on some units only"


# ------------------------------------------------------------------ xxgk_search


def test_xxgk_search_answers_every_column_of_the_unit_with_a_page_count(portal, truth, manifest):
    uid = units_of(truth, "xxgk_search")[0]
    columns = list(list_columns(truth[uid], "xxgk_search").values())
    total = sum(c["items"] for c in columns)

    async def scenario(client):
        first, second = [await text(await client.get(c["path"])) for c in columns[:2]]
        assert "<li" not in first.split('class="content-area"')[1], "the column page has no items of its own"
        fields_a, fields_b = hidden_fields(first), hidden_fields(second)
        assert fields_a["infotypeId"] != fields_b["infotypeId"] and fields_a["jdid"] == fields_b["jdid"]
        action = f"/{uid}/module/xxgk/search.jsp"
        assert f'action="{action}"' in first
        answer_a = await text(await client.post(action, data=fields_a))
        answer_b = await text(await client.post(action, data=fields_b))
        assert answer_a == answer_b, "the search does not filter by column"
        assert f"共 {total} 条记录" in answer_a and f"共{math.ceil(total / 15)}页" in answer_a
        assert len({re.search(r"art_(\d+)_", u).group(1) for u in LIST_ROWS.findall(answer_a)}) > 1
        assert (await client.get(action)).status == 405
        past = await text(await client.post(action, data={**fields_a, "currpage": str(math.ceil(total / 15) + 1)}))
        assert not LIST_ROWS.findall(past)
        return [len(await listed_items(client, "xxgk_search", c["path"])) for c in columns]

    assert serve(portal, host_of(manifest, uid), scenario) == [c["items"] for c in columns]


def test_xxgk_search_marks_validity_in_a_status_column(portal, truth, manifest):
    """R3: a unit with a 状态 column answers a title row naming it and a status cell in every row."""
    marked = [uid for uid in units_of(truth, "xxgk_search")
              if load(portal, f"dynamic/main/{uid}/xxgk_search/items.json").get("status_column")]
    assert marked
    uid = marked[0]
    column = next(iter(list_columns(truth[uid], "xxgk_search").values()))

    async def scenario(client):
        fields = hidden_fields(await text(await client.get(column["path"])))
        return await text(await client.post(f"/{uid}/module/xxgk/search.jsp", data=fields))

    answer = serve(portal, host_of(manifest, uid), scenario)
    assert re.search(r'<tr class="tr_main_title">.*<td>状态</td></tr>', answer)
    rows = re.findall(r'<tr class="tr_main_value_(?:odd|even)">(.*?)</tr>', answer)
    assert rows and all(re.search(r'<td class="zt">(现行有效|已废止|已失效|已修订|)</td>$', r) for r in rows)


# ------------------------------------------------------------------ igs


def test_igs_answers_iso_t_dates_absolute_urls_and_empty_content_past_the_end(portal, truth, manifest):
    uid = next(u for u in units_of(truth, "igs") if host_of(manifest, u) == "main")
    column = biggest_column(truth[uid], "igs")

    async def scenario(client):
        page = await text(await client.get(column["path"]))
        list_url = re.search(r'var listUrl = "([^"]+)";', page).group(1)
        assert list_url.startswith(f"/{uid}/igs/front/search/list.html?") and "filter[WZFL_name]=" in list_url
        assert '$.get(listUrl + "&pageNumber=" + page' in page
        answer = await client.get(f"{list_url}&pageNumber=1")
        assert answer.content_type == "application/json"
        data = (await answer.json())["page"]
        assert data["total"] == column["items"] and data["totalPages"] == math.ceil(column["items"] / 10)
        for item in data["content"]:
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", item["FBRQ"])
            assert item["CWRQ"] is None or re.fullmatch(r"\d{4}-\d\d-\d\dT00:00:00", item["CWRQ"])
            assert item["DOCPUBURL"].startswith(f"http://{client.host}:{client.port}/{uid}/")
            assert item["YXX"] in ("", "0", "1") and "FWZH" in item
        past = await (await client.get(f"{list_url}&pageNumber={data['totalPages'] + 1}")).json()
        assert past["page"]["content"] == [] and past["page"]["total"] == column["items"]
        other = await (await client.get(list_url.replace("WZFL_name]=", "WZFL_name]=不存在") + "&pageNumber=1")).json()
        assert other["page"]["content"] == []
        return await listed_items(client, "igs", column["path"])

    items = serve(portal, "main", scenario)
    assert len(set(items)) == column["items"]


def test_igs_marks_validity_as_yxx(portal, truth):
    flags = set()
    for uid in units_of(truth, "igs"):
        for file in (portal / "dynamic").glob("*/*/igs/*.json"):
            data = json.loads(file.read_text(encoding="utf-8"))
            if isinstance(data, list):
                flags |= {(item["YXX"], bool(item["FWZH"])) for item in data}
    assert ("0", True) in flags and ("", False) in flags


# ------------------------------------------------------------------ gkmlpt


def test_gkmlpt_shell_api_epoch_dates_and_empty_articles(portal, truth, manifest):
    uid = units_of(truth, "gkmlpt")[0]
    column = biggest_column(truth[uid], "gkmlpt")
    entry = next(u["path"] for u in manifest["units"] if u["id"] == uid)
    assert entry == f"/{uid}/gkmlpt/index"

    async def scenario(client):
        shell = await client.get(entry)
        html = await text(shell)
        assert shell.status == 200 and shell.content_type == "text/html"
        config = re.search(r"window\._CONFIG = \{SID: (['\"])(\d+)\1, TREE: \[(.*)\]\};", html)
        assert config, html[:300]
        sid, tree = config.group(2), config.group(3)
        names = re.findall(r"name: ['\"]([^'\"]+)['\"]", tree)
        assert set(names) == set(truth[uid]["columns"])
        assert column["path"].startswith(f"/{uid}/gkmlpt/api/all/") and f"sid={sid}" in column["path"]
        data = await (await client.get(column["path"])).json()
        assert data["classify"]["post_count"] == column["items"]
        dated = [a for a in data["articles"] if a["date"] is not None]
        assert dated and all(isinstance(a["date"], int) for a in dated)
        assert all(a["url"].startswith(f"http://{client.host}:{client.port}/{uid}/gkmlpt/content/") for a in dated)
        # The list's calendar day is the Shanghai one; early-morning posts are the previous day in UTC.
        detail = await text(await client.get(urlsplit(dated[0]["url"]).path))
        published = re.search(r'<meta name="PubDate" content="(\d{4}-\d\d-\d\d)', detail).group(1)
        assert datetime.fromtimestamp(dated[0]["date"], SHANGHAI).strftime("%Y-%m-%d") == published
        assert "window._CONFIG.DETAIL = {" in detail
        past = math.ceil(column["items"] / len(data["articles"])) + 1
        beyond = await (await client.get(column["path"].replace("page=1", f"page={past}"))).json()
        assert beyond["articles"] == [] and beyond["classify"]["post_count"] == column["items"]
        assert (await client.get(column["path"].replace(f"sid={sid}", "sid=1"))).status == 400
        return await listed_items(client, "gkmlpt", column["path"])

    assert len(set(serve(portal, "main", scenario))) == column["items"]


def test_gkmlpt_epoch_dates_cross_the_utc_day(portal, truth):
    shifted = 0
    for file in (portal / "dynamic/main").glob("*/gkmlpt/*.json"):
        for post in json.loads(file.read_text(encoding="utf-8"))["articles"]:
            if post["date"] is not None:
                moment = datetime.fromtimestamp(post["date"], timezone.utc)
                shifted += moment.date() != moment.astimezone(SHANGHAI).date()
    assert shifted > 10


# ------------------------------------------------------------------ siteserver


def test_siteserver_output_aspx_pages_a_dynamic_column(portal, truth, manifest):
    found = []
    for uid in units_of(truth, "siteserver"):
        for column in list_columns(truth[uid], "siteserver").values():
            page = (portal / "sites" / host_of(manifest, uid) / column["path"].lstrip("/")).read_text(encoding="utf-8")
            if stl_dynamic(page) and column["items"] > 10:
                found.append((uid, column, page))
    assert found, "some dynamic SiteServer column has more than one page"
    uid, column, page = found[0]
    url, form = stl_dynamic(page)
    div = form["ajaxDivID"]
    assert url == f"/{uid}/sitefiles/services/cms/dynamic/output.aspx?publishmentSystemID=1"
    assert set(form) == {"pageNodeID", "pageContentID", "pageTemplateID", "isPageRefresh", "templateContent",
                         "ajaxDivID"}
    pages = math.ceil(column["items"] / 10)
    assert f"javascript:stlDynamic_{div}(2)" in page and f"共{pages}页" in page
    assert f"function stlDynamic_{div}(pageNum)" in page

    async def scenario(client):
        second = await client.post(url, data={**form, "pageNum": "2"})
        fragment = await text(second)
        assert second.status == 200 and "<html" not in fragment
        assert len(links_in(fragment)) == min(10, column["items"] - 10) and f"共{pages}页" in fragment
        beyond = await text(await client.post(url, data={**form, "pageNum": str(pages + 1)}))
        assert links_in(beyond) == []
        assert (await client.get(url)).status == 405
        forged = await client.post(url, data={**form, "templateContent": "x", "pageNum": "2"})
        assert forged.status == 400
        return await listed_items(client, "siteserver", column["path"])

    assert len(set(serve(portal, host_of(manifest, uid), scenario))) == column["items"]


def test_siteserver_iframe_shells_and_static_channel_pages(portal, truth, manifest):
    shells, static_pages = [], []
    for uid in units_of(truth, "siteserver"):
        host = host_of(manifest, uid)
        for column in list_columns(truth[uid], "siteserver").values():
            page = (portal / "sites" / host / column["path"].lstrip("/")).read_text(encoding="utf-8")
            if "<iframe" in page and column["items"]:
                shells.append((uid, host, column, page))
            if re.search(r'channels/\d+_2\.html">下一页', page):
                static_pages.append(page)
    assert shells and static_pages
    uid, host, column, page = shells[0]
    assert links_in(page) == [], "the shell lists nothing itself"
    frame = re.search(r'<iframe [^>]*src="([^"]+)"', page).group(1)
    assert frame.startswith(column["path"].removesuffix(".html")) and frame.endswith("_list.html")

    async def scenario(client):
        listed = links_in(await text(await client.get(frame)))
        assert listed and all(re.search(r"/contents/\d+/\d+\.html$", u) for u in listed)
        return await listed_items(client, "siteserver", column["path"])

    assert len(set(serve(portal, host, scenario))) == column["items"]


def test_teda_lists_a_dead_item_answered_as_a_soft_404(portal, truth, manifest):
    host = next(h for h in manifest["hosts"] if h["key"] == "teda")
    assert host["not_found"] == "soft"
    assert truth["teda"]["checks"]["C18"]["status"] == "fail" and "dead_item_soft404" in truth["teda"]["defects"]
    column = truth["teda"]["columns"]["通知公告"]

    async def scenario(client):
        items = await listed_items(client, "siteserver", column["path"])
        missing = [u for u in items if not (portal / "sites/teda" / u.lstrip("/")).is_file()]
        answers = [await client.get(u) for u in missing]
        return items, missing, [(a.status, await text(a)) for a in answers]

    items, missing, answers = serve(portal, "teda", scenario)
    assert len(items) == column["items"] and len(missing) == 1
    assert answers[0][0] == 200 and "页面不存在" in answers[0][1]


# ------------------------------------------------------------------ gate


def test_gate_challenges_the_whole_host_and_lets_the_cookie_through(portal, truth, manifest):
    unit = next(u for u in manifest["units"] if u["id"] == "dj")
    assert truth["dj"]["access"] == "blocked"
    routes = load(portal, "dynamic.json")
    assert routes[0]["host"] == "dj" and routes[0]["mechanism"] == "gate" and routes[0]["prefix"] == "/"

    async def scenario(client):
        answers = [await client.get(p) for p in (unit["path"], "/robots.txt", "/nowhere.html")]
        assert [a.status for a in answers] == [412, 412, 412]
        page = await text(answers[0])
        assert re.search(r"<script[^>]*>\$_ts=window\['\$_ts'\]", page)
        script = re.search(r"<script [^>]*src=\"([^\"]+)\" r='m'>", page).group(1)
        assert (await client.get(script)).status == 200  # the VM script itself is not gated
        assert "location.reload()" in page and "document.cookie" in page
        client.session.cookie_jar.update_cookies({gate_twin.COOKIE: "0123456789abcdef.00000000"})
        assert (await client.get(unit["path"])).status == 412, "a forged token does not pass"
        client.session.cookie_jar.clear()
        await pass_gate(client, unit["path"])
        entry = await client.get(unit["path"])
        return entry.status, await text(entry)

    status, entry = serve(portal, "dj", scenario)
    assert status == 200 and "东疆综合保税区管委会政府信息公开" in entry


# ------------------------------------------------------------------ moved


def test_moved_unit_answers_301_from_its_registered_url(portal, truth, manifest):
    unit = next(u for u in manifest["units"] if u["path"].startswith("/sitefiles/"))
    assert unit["path"] == "/sitefiles/services/cms/page.aspx?s=11813&n=12163"

    async def scenario(client):
        moved = await client.get(unit["path"], allow_redirects=False)
        location = moved.headers.get("Location", "")
        current = await client.get(location)
        other = await client.get("/sitefiles/services/cms/page.aspx?s=11813&n=1", allow_redirects=False)
        return moved.status, location, current.status, await text(current), other.status

    status, location, current_status, current, other = serve(portal, "main", scenario)
    assert status == 301 and re.fullmatch(rf"/{unit['id']}/channels/\d+\.html", location)
    assert current_status == 200 and f"{unit['name']}政府信息公开" in current
    assert other == 404


# ------------------------------------------------------------------ static deep stubs


def test_deep_stub_pages_are_small_itemless_200s(portal, truth):
    stubbed = {"zfb": 1, "ftz": 2, "tjj": 2}
    hosts = {"zfb": "main", "ftz": "ftz", "tjj": "main"}
    for uid, extra in stubbed.items():
        column = next(c for c in list_columns(truth[uid], "static").values() if c["items"])
        pages = math.ceil(column["items"] / 15)

        async def scenario(client, column=column, pages=pages, extra=extra):
            answers = []
            for number in range(pages + 1, pages + extra + 1):
                path = (column["path"] + f"?page={number}" if column["path"].endswith("list.html")
                        else f"{column['path']}index_{number - 1}.html")
                answer = await client.get(path)
                answers.append((answer.status, await answer.read()))
            beyond = column["path"] + f"?page={pages + extra + 1}" if column["path"].endswith("list.html") else \
                f"{column['path']}index_{pages + extra}.html"
            return answers, (await client.get(beyond)).status

        answers, beyond = serve(portal, hosts[uid], scenario)
        assert len(answers) == extra and beyond == 404
        for status, body in answers:
            assert status == 200 and 300 <= len(body) <= 400 and len(body) == STUB_BYTES and b"<li" not in body


# ------------------------------------------------------------------ spa


def test_spa_api_answers_pages_and_nothing_past_the_end(portal, truth):
    spa = [(uid, name, c) for uid, u in truth.items() for name, c in u["columns"].items() if c["mechanism"] == "spa"]
    assert len(spa) == 3 and len({uid for uid, _, _ in spa}) == 3
    uid, name, column = max(spa, key=lambda s: s[2]["items"])

    async def scenario(client):
        shell = await text(await client.get(column["path"]))
        assert "fetch(" in shell and links_in(shell) == [] and '<div id="app"></div>' in shell
        api, channel = re.search(r'fetch\("([^"?]+)\?channel=(\w+)&page=', shell).groups()
        assert api == f"/{uid}/api/content/list"
        first = await (await client.get(f"{api}?channel={channel}&page=1")).json()
        pages = math.ceil(column["items"] / 10)
        assert first["code"] == 0 and first["data"]["pages"] == pages and len(first["data"]["list"]) == min(10, column["items"])
        assert set(first["data"]["list"][0]) == {"title", "url", "time"}
        past = await (await client.get(f"{api}?channel={channel}&page={pages + 1}")).json()
        assert past["code"] == 0 and past["data"]["list"] == []
        assert (await (await client.get(f"{api}?channel=nosuch&page=1")).json())["code"] != 0
        return await listed_items(client, "spa", column["path"])

    assert len(set(serve(portal, "main", scenario))) == column["items"]


# ------------------------------------------------------------------ in Chromium


def chromium_path() -> str:
    found = os.environ.get("ZWGK_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser") \
        or shutil.which("google-chrome")
    assert found, "these tests run the portal's JavaScript in Chromium; set ZWGK_CHROMIUM"
    return found


async def in_chromium(urls: list[str], ready: str) -> list[tuple[str, str]]:
    """Open each URL in a fresh context, wait until `ready` (a JS expression) holds; final URLs and DOMs."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        try:
            results = []
            for url in urls:
                page = await (await browser.new_context()).new_page()
                await page.goto(url)
                await page.wait_for_function(ready, timeout=15_000)
                results.append((page.url, await page.content()))
            return results
        finally:
            await browser.close()


def test_spa_shell_renders_its_rows_and_pager_in_chromium(portal, truth):
    uid, column = next((uid, c) for uid, u in truth.items() for c in u["columns"].values()
                       if c["mechanism"] == "spa" and c["items"] > 10)

    async def scenario(client):
        base = str(client.make_url(column["path"]))
        return await in_chromium([base, base + "?page=2"], "document.querySelectorAll('#app ul.list li').length > 0")

    (_, first), (_, second) = serve(portal, "main", scenario)
    rows_1, rows_2 = links_in(first), links_in(second)
    assert len(rows_1) == 10 and len(rows_2) == min(10, column["items"] - 10) and not set(rows_1) & set(rows_2)
    assert re.search(r'<a href="\?page=2">2</a>', first) and "下一页" in first


def test_gate_challenge_script_passes_in_chromium(portal, manifest):
    entry = next(u["path"] for u in manifest["units"] if u["id"] == "dj")

    async def scenario(client):
        return await in_chromium([str(client.make_url(entry))], "!!document.querySelector('.xxgk-boxes')")

    [(url, html)] = serve(portal, "dj", scenario)
    assert url.endswith(entry) and "东疆综合保税区管委会政府信息公开" in html
