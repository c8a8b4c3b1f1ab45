"""The sample portal generator: deterministic, realistic, and with a complete ground truth."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import ssl
from collections import Counter
from pathlib import Path

from test_mechanisms import article_items, is_article_page, listed_items, own_text, pass_gate, serve

from expectations.catalog import load_catalog
from sample_portal import content
from sample_portal.defects import CLEAN_UNITS, DEFECTS
from sample_portal.generator import DEFAULT_AS_OF, DEFAULT_SEED, build_sites, generate_portal
from sample_portal.shapes import BASE_UNDATED_NEWS_PAGES
from sample_portal.units import BASE_UNITS, LIST_MECHANISMS, unit_prefix
from schemas.vocabulary import classify_column, column_note, list_mark_validity


def tree_digest(root: Path) -> dict[str, tuple[str, int]]:
    """Content hash of every file, and the mtime of every served file (ETags derive from it).

    tls/ is left out: a new CA and certificate are made on every run.
    """
    return {
        str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest(),
                                   p.stat().st_mtime_ns if "sites" in p.parts else 0)
        for p in sorted(root.rglob("*")) if p.is_file() and p.relative_to(root).parts[0] != "tls"
    }


def load(portal: Path, name: str) -> dict | list:
    return json.loads((portal / name).read_text(encoding="utf-8"))


def test_same_seed_gives_same_bytes_and_mtimes(tmp_path, sample_portal_dir):
    again = generate_portal(tmp_path / "again")
    assert again.files > 2000
    digest = tree_digest(tmp_path / "again")
    assert digest == tree_digest(sample_portal_dir)
    tops = {Path(name).parts[0] for name in digest}
    assert {"sites", "dynamic", "dynamic.json", "portal.json", "ground_truth.json"} <= tops
    assert (tmp_path / "again" / "tls" / "ca.pem").read_bytes() != (sample_portal_dir / "tls" / "ca.pem").read_bytes()


def test_another_seed_gives_another_portal(tmp_path, sample_portal_dir):
    generate_portal(tmp_path / "other", seed=7)
    assert (tmp_path / "other" / "ground_truth.json").read_bytes() != (sample_portal_dir / "ground_truth.json").read_bytes()


def test_manifest_has_the_jiyuehua_shape(sample_portal_dir):
    manifest = json.loads((sample_portal_dir / "portal.json").read_text(encoding="utf-8"))
    units = manifest["units"]
    assert len(units) >= 40
    kinds = {u["kind"] for u in units}
    assert kinds == {"district", "zone", "bureau", "street", "town"}
    main_units = [u for u in units if u["host"] == "main"]
    assert len(main_units) >= 40 and len({u["path"].split("/")[1] for u in main_units}) == len(main_units)
    own_host_zones = [u for u in units if u["host"] != "main"]
    assert len(own_host_zones) >= 2 and all(u["kind"] == "zone" for u in own_host_zones)
    hosts = {h["key"]: h for h in manifest["hosts"]}
    assert {hosts[u["host"]]["charset"] for u in own_host_zones} == {"utf-8", "gbk"}
    assert all("list_source" not in u and "column_sources" not in u for u in units), "mechanisms are recognised"


def test_ground_truth_has_a_pass_and_a_fail_for_every_check(sample_portal_dir):
    truth = json.loads((sample_portal_dir / "ground_truth.json").read_text(encoding="utf-8"))
    assert truth["as_of"] == "2021-03-01"
    for check_id in load_catalog().ids:
        statuses = {u["checks"][check_id]["status"] for u in truth["units"].values()}
        assert {"pass", "fail"} <= statuses, f"{check_id}: {statuses}"
    verdicts = {(u["verdict"], u["veto"]) for u in truth["units"].values()}
    assert ("合格", False) in verdicts and ("不合格", True) in verdicts
    assert ("不合格", False) in verdicts, "a unit should fail on score alone, without a veto"


def test_gbk_zone_pages_are_gbk_and_decode(sample_portal_dir):
    assert len(list((sample_portal_dir / "sites" / "ftz").rglob("t*.html"))) > 20
    pages = sorted((sample_portal_dir / "sites" / "ftz").rglob("tzgg/*/t*.html"))
    raw = pages[0].read_bytes()
    assert b'charset=gb2312' in raw
    try:
        raw.decode("utf-8")
        decodes_as_utf8 = True
    except UnicodeDecodeError:
        decodes_as_utf8 = False
    assert not decodes_as_utf8
    text = raw.decode("gbk")
    assert "保税区管委会" in text and "索引号" in text


def test_template_families_and_pagination_styles(sample_portal_dir):
    main = sample_portal_dir / "sites" / "main"
    html = {p: p.read_text(encoding="utf-8") for p in main.glob("*/zfxxgk/fdzdgknr/*/*/t*.html")}
    joined = "\n".join(html.values())
    assert 'class="xxgk_table"' in joined and 'colspan="3"' in joined  # 4-column table
    assert 'class="meta-table"' in joined and "信息索引号:" in joined  # 2-column table
    assert '<span class="lbl">标　　题：</span>' in joined  # label/value spans, ideographic spaces
    news = [t for p, t in html.items() if "/gzdt/" in str(p)]
    assert news and all('name="ArticleTitle"' in t and "索引号" not in t for t in news)  # meta-only
    assert list(main.glob("*/zfxxgk/fdzdgknr/gzdt/index_1.html")), "TRS index_N.html pages"
    assert list(main.glob("*/zfxxgk/fdzdgknr/gzdt/list.html@page=2")), "?page=N pages"
    lists = "\n".join(p.read_text(encoding="utf-8") for p in main.glob("*/zfxxgk/fdzdgknr/gzdt/index.html"))
    assert re.search(r'createPageHTML\(\d+, 0, "index", "html"\)', lists) and "下一页" in lists


def test_annual_reports_carry_six_sections_and_the_table(sample_portal_dir):
    reports = list((sample_portal_dir / "sites" / "main" / "qzf").rglob("ndbg/*/t*.html"))
    assert len(reports) == 3
    text = reports[0].read_text(encoding="utf-8")
    for section in ("总体情况", "主动公开政府信息情况", "收到和处理政府信息公开申请情况",
                    "政府信息公开行政复议、行政诉讼情况", "存在的主要问题及改进情况", "其他需要报告的事项"):
        assert section in text
    assert "本年新收" in text and "结转下年度" in text and "总计" in text


def test_interpretations_link_their_documents_and_attachments_exist(sample_portal_dir):
    main = sample_portal_dir / "sites" / "main"
    truth = json.loads((sample_portal_dir / "ground_truth.json").read_text(encoding="utf-8"))["units"]
    clean = [uid for uid, u in truth.items() if u["checks"]["C18"]["status"] == "pass" and (main / uid).exists()]
    linked, mechanisms = 0, set()
    for uid in clean:
        for page in (main / uid).rglob("*.html"):
            text = page.read_text(encoding="utf-8")
            match = re.search(r'相关文件：<a href="([^"]+)"', text)
            if match:
                assert (main / match.group(1).lstrip("/")).exists()
                linked += 1
                mechanisms.add(truth[uid]["mechanism"])
            for href in re.findall(r'href="([^"]+\.(?:pdf|doc|xls))"', text):
                assert (main / href.lstrip("/")).exists(), f"{uid}: {href}"
    assert linked > 10 and len(mechanisms) >= 4


def test_robots_disallows_the_application_forms(sample_portal_dir):
    robots = (sample_portal_dir / "sites" / "main" / "robots.txt").read_text()
    assert "Disallow: /jyj/zfxxgk/ysqgk/" in robots
    assert (sample_portal_dir / "sites" / "main" / "jyj" / "zfxxgk" / "ysqgk" / "index.html").exists()


def test_scale_knob(tmp_path):
    summary = generate_portal(tmp_path / "big", units=60, docs_per_unit=30)
    manifest = json.loads((tmp_path / "big" / "portal.json").read_text(encoding="utf-8"))
    assert summary.units == len(manifest["units"]) == 60
    assert manifest["units"][-1]["id"] == "u0060"
    truth = json.loads((tmp_path / "big" / "ground_truth.json").read_text(encoding="utf-8"))
    assert len(truth["units"]) == 60
    assert 25 <= summary.documents / 60 <= 45
    last = manifest["units"][-1]
    entry = tmp_path / "big" / "sites" / "main" / last["path"].lstrip("/")
    assert (entry / "index.html" if last["path"].endswith("/") else entry).exists() or \
        truth["units"]["u0060"]["checks"]["C01"]["status"] == "fail"


def test_base_units_do_not_change_when_units_are_added(tmp_path, sample_portal_dir):
    generate_portal(tmp_path / "more", units=50)
    for unit, mechanism in (("jyj", "jpage"), ("rsj", "gkmlpt"), ("gxq", "siteserver")):
        for tree in ("sites", "dynamic"):
            base = tree_digest(sample_portal_dir / tree / "main" / unit)
            assert base and tree_digest(tmp_path / "more" / tree / "main" / unit) == base, (unit, tree)


# ------------------------------------------------------------------ list mechanisms and special hosts


def test_every_mechanism_serves_at_least_three_base_units(sample_portal_dir):
    manifest = load(sample_portal_dir, "portal.json")
    counts = Counter(u["mechanism"] for u in manifest["units"])
    assert set(counts) == set(LIST_MECHANISMS) and min(counts.values()) >= 3
    assert counts.most_common(1)[0][0] == "static"
    truth = load(sample_portal_dir, "ground_truth.json")["units"]
    spa = [uid for uid, u in truth.items() if any(c["mechanism"] == "spa" for c in u["columns"].values())]
    assert len(spa) == 3 and all(sum(c["mechanism"] == "spa" for c in truth[uid]["columns"].values()) == 1 for uid in spa)
    paths = {u["mechanism"]: u["path"] for u in manifest["units"] if not u["path"].startswith("/sitefiles/")}
    assert re.fullmatch(r"/\w+/gkmlpt/index", paths["gkmlpt"])
    assert re.fullmatch(r"/\w+/channels/\d+\.html", paths["siteserver"])
    assert re.fullmatch(r"/\w+/col/col\d+/index\.html", paths["jpage"])


def test_every_url_of_a_unit_stays_under_its_prefix(sample_portal_dir):
    """The harvester scopes a unit by its path prefix: pages, data routes and list items stay inside."""
    manifest = load(sample_portal_dir, "portal.json")
    truth = load(sample_portal_dir, "ground_truth.json")["units"]
    main_units = {u["id"] for u in manifest["units"] if u["host"] == "main"}
    host_files = {"robots.txt", "index.html", "css"}
    tops = {p.relative_to(sample_portal_dir / "sites" / "main").parts[0]
            for p in (sample_portal_dir / "sites" / "main").rglob("*") if p.is_file()}
    assert tops - host_files == main_units
    for route in load(sample_portal_dir, "dynamic.json"):
        if route["mechanism"] not in ("gate", "moved"):
            assert route["prefix"].startswith(route["params"]["unit_prefix"]) and route["params"]["unit_prefix"] != "/"
    for uid, unit in truth.items():
        prefix = next(u["path"] for u in manifest["units"] if u["id"] == uid).split("/")[1]
        if uid == "fgw":  # registered at the old generation's URL; its columns live under /fgw/
            prefix = "fgw"
        assert all(c["path"].startswith(f"/{prefix}/") for c in unit["columns"].values()), uid


def test_every_mechanism_is_spread_over_a_300_unit_portal(tmp_path):
    generate_portal(tmp_path / "scale", units=300, docs_per_unit=1)
    manifest = load(tmp_path / "scale", "portal.json")
    synthetic = Counter(u["mechanism"] for u in manifest["units"][len(BASE_UNITS):])
    assert set(synthetic) == set(LIST_MECHANISMS) and min(synthetic.values()) >= 40
    truth = load(tmp_path / "scale", "ground_truth.json")["units"]
    synthetic_truth = [u for uid, u in truth.items() if uid.startswith("u0")]
    assert len(synthetic_truth) == 256 and Counter(u["mechanism"] for u in synthetic_truth) == synthetic
    assert all(c["mechanism"] != "spa" and u["access"] != "blocked" for u in synthetic_truth for c in u["columns"].values())
    routes = load(tmp_path / "scale", "dynamic.json")
    routed = {r["mechanism"] for r in routes if r["prefix"].startswith("/u0")}
    assert routed == set(LIST_MECHANISMS) - {"static"}


def test_special_hosts_gate_moved_unit_https_and_soft_404s(sample_portal_dir):
    manifest = load(sample_portal_dir, "portal.json")
    hosts = {h["key"]: h for h in manifest["hosts"]}
    units = {u["id"]: u for u in manifest["units"]}
    assert units["dj"]["host"] == "dj" and [u for u in units.values() if u["host"] == "dj"] == [units["dj"]]
    assert units["fgw"]["path"] == "/sitefiles/services/cms/page.aspx?s=11813&n=12163"
    assert hosts["teda"]["not_found"] == "soft" and "not_found" not in hosts["main"]
    eco = hosts["eco"]
    assert eco["scheme"] == "https" and units["stc"]["host"] == "eco"
    assert all("scheme" not in h and "tls" not in h for k, h in hosts.items() if k != "eco")
    routes = load(sample_portal_dir, "dynamic.json")
    assert routes[0] == {"host": "dj", "prefix": "/", "mechanism": "gate", "params": routes[0]["params"]}
    assert not list((sample_portal_dir / "sites").rglob("*.pem")) and not list((sample_portal_dir / "sites").rglob("*.json"))

    tls = {k: str(sample_portal_dir / v) for k, v in eco["tls"].items()}
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_side.load_cert_chain(tls["cert"], tls["key"])
    client_side = ssl.create_default_context(cafile=tls["ca"])

    async def handshake(server_hostname: str) -> str:
        async def greet(reader, writer):
            writer.write(b"ok")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(greet, "127.0.0.1", 0, ssl=server_side)
        port = server.sockets[0].getsockname()[1]
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=client_side,
                                                           server_hostname=server_hostname)
            answer = await reader.read()
            writer.close()
            return answer.decode()
        finally:
            server.close()
            await server.wait_closed()

    assert asyncio.run(handshake(eco["hostname"])) == "ok"
    assert asyncio.run(handshake("127.0.0.1")) == "ok"


# ------------------------------------------------------------------ the new truth fields


def test_gated_and_missing_units_cannot_be_checked(sample_portal_dir):
    truth = load(sample_portal_dir, "ground_truth.json")["units"]
    gated = truth["dj"]
    assert gated["access"] == "blocked" and gated["defects"] == []
    assert {(c["status"], c["reason"]) for c in gated["checks"].values()} == {("n/a", "无法核查：反爬拦截")}
    assert len(gated["checks"]) == 22
    assert (gated["verdict"], gated["score"], gated["veto"]) == ("无法核查", None, False)
    missing = [u for u in truth.values() if "no_column" in u["defects"]]
    assert len(missing) == 1 and missing[0]["access"] == "not_found" and missing[0]["columns"] == {}
    checks = missing[0]["checks"]
    assert checks["C01"]["status"] == "fail" and checks["C19"]["status"] in ("pass", "fail")
    assert {(c["status"], c["reason"]) for k, c in checks.items() if k not in ("C01", "C19")} == \
        {("n/a", "无法核查：专栏入口不存在")}
    assert (missing[0]["verdict"], missing[0]["veto"]) == ("不合格", True)
    others = [u for u in truth.values() if u["access"] not in ("blocked", "not_found")]
    assert len(others) == 42 and all(u["access"] == "ok" and u["columns"] for u in others)


def test_every_column_lists_as_many_items_as_the_truth_says(sample_portal_dir):
    """Walk every column of every unit through its mechanism, over HTTP, to the end of its list."""
    truth = load(sample_portal_dir, "ground_truth.json")["units"]
    manifest = load(sample_portal_dir, "portal.json")
    host_units: dict[str, list[str]] = {}
    for unit in manifest["units"]:
        if truth[unit["id"]]["columns"]:
            host_units.setdefault(unit["host"], []).append(unit["id"])
    walked = Counter()

    async def walk(client, unit_ids):
        mismatches = []
        if any(truth[uid]["access"] == "blocked" for uid in unit_ids):
            await pass_gate(client)
        for uid in unit_ids:
            for name, column in truth[uid]["columns"].items():
                if column["kind"] == "statutory":  # a parent column: it links its children
                    continue
                if column["article"]:  # the column's page is its one item
                    items = await article_items(client, column["path"])
                else:
                    items = await listed_items(client, column["mechanism"], column["path"])
                walked[column["mechanism"]] += 1
                if len(items) != column["items"] or len(set(items)) != len(items):
                    mismatches.append(f"{uid} {name} ({column['mechanism']}): {len(items)} != {column['items']}")
        return mismatches

    mismatches = [m for host, unit_ids in host_units.items()
                  for m in serve(sample_portal_dir, host, lambda client, ids=unit_ids: walk(client, ids))]
    assert not mismatches, "\n".join(mismatches)
    assert set(walked) == set(LIST_MECHANISMS) | {"spa"} and sum(walked.values()) > 450


# ------------------------------------------------------------------ the rule readings (R1–R6)


def served(portal: Path, manifest: dict, uid: str, path: str) -> str:
    """The generated file a unit's host serves at `path` (dir/ → index.html, ?q → name@q), decoded."""
    host = next(h for h in manifest["hosts"] if h["key"] == unit_host(manifest, uid))
    relative = path.lstrip("/").replace("?", "@") + ("index.html" if path.endswith("/") else "")
    return (portal / host["root"] / relative).read_text(encoding=host["charset"])


def unit_host(manifest: dict, uid: str) -> str:
    return next(u["host"] for u in manifest["units"] if u["id"] == uid)


def units_with(truth: dict, defect: str) -> list[str]:
    return [uid for uid, u in truth.items() if defect in u["defects"]]


GUIDE_WORDS = ("依申请公开", "工作机构|受理机构", "地址|办公地点", "办公时间|受理时间|工作时间", "电话")


def test_article_columns_are_content_pages_counted_as_one_item(sample_portal_dir):
    """R1: a guide or rules column that opens onto its text is served at the column's URL in the
    unit's chrome, lists nothing and is one item, present (C02/C03) and judged on its text (C09)."""
    truth, manifest = load(sample_portal_dir, "ground_truth.json")["units"], load(sample_portal_dir, "portal.json")
    articles = [(uid, name, c) for uid, u in truth.items() for name, c in u["columns"].items() if c["article"]]
    assert {c["kind"] for _, _, c in articles} == {"guide", "system"}
    unit_mechanisms = {truth[uid]["mechanism"] for uid, _, _ in articles}
    assert {"static", "siteserver"} <= unit_mechanisms and unit_mechanisms & {"jpage", "igs"}
    bare, with_metadata = [], []
    for uid, name, column in articles:
        page = served(sample_portal_dir, manifest, uid, column["path"])
        assert (column["items"], column["mechanism"]) == (1, "static")
        assert f'<h2 class="lm-title">{name}</h2>' in page and is_article_page(page), (uid, name)
        assert truth[uid]["checks"]["C02" if column["kind"] == "guide" else "C03"]["status"] == "pass"
        (with_metadata if "索引号" in page or "信息索引号" in page or "索　引　号" in page else bare).append(uid)
        if column["kind"] == "guide":
            complete = all(re.search(words, own_text(page)) for words in GUIDE_WORDS)
            assert truth[uid]["checks"]["C09"]["status"] == ("pass" if complete else "fail")
    assert with_metadata and bare
    # The column's content, not a listed document: a bare page owes no 索引号 (C13).
    metadata_defects = {d.key for d in DEFECTS if d.check == "C13"}
    assert all(truth[uid]["checks"]["C13"]["status"] == "pass" for uid in bare
               if not metadata_defects & set(truth[uid]["defects"]))
    # The document is the column page: not served again at a URL of its own.
    for uid, name, column in articles:
        if column["path"].endswith("/"):
            folder = sample_portal_dir / "sites" / unit_host(manifest, uid) / column["path"].lstrip("/")
            assert [p.name for p in folder.rglob("*") if p.is_file()] == ["index.html"]


def test_an_emptied_rules_column_is_a_blank_list_page(sample_portal_dir):
    """R1's failing counterpart: an empty list (here the static twin's placeholder) is blank, not an article."""
    truth, manifest = load(sample_portal_dir, "ground_truth.json")["units"], load(sample_portal_dir, "portal.json")
    for uid in units_with(truth, "empty_system"):
        column = truth[uid]["columns"]["政府信息公开制度"]
        assert (column["items"], column["article"]) == (0, False)
        assert truth[uid]["checks"]["C03"]["status"] == truth[uid]["checks"]["C06"]["status"] == "fail"
        page = served(sample_portal_dir, manifest, uid, column["path"])
        assert not is_article_page(page)
        if truth[uid]["mechanism"] == "static":
            assert '<div class="empty">暂无信息</div>' in page and column_note("暂无信息") is None


def test_a_unit_without_unexplained_empty_columns_is_not_blank(sample_portal_dir):
    """R2 on every unit: C06 fails exactly when some empty list column carries no note."""
    truth, manifest = load(sample_portal_dir, "ground_truth.json")["units"], load(sample_portal_dir, "portal.json")
    styles = set()
    for uid, unit in truth.items():
        if unit["access"] != "ok":
            continue
        entry = next(u["path"] for u in manifest["units"] if u["id"] == uid)
        unexplained = 0
        for name, column in unit["columns"].items():
            if column["items"] or column["kind"] == "statutory":
                continue
            page = served(sample_portal_dir, manifest, uid, entry if column["mechanism"] == "gkmlpt" else column["path"])
            pattern = (rf'<h3>{name}</h3><div class="note">([^<]+)</div>' if column["mechanism"] == "gkmlpt"
                       else r'<div class="note">([^<]+)</div>')
            note = re.search(pattern, page)
            if note and column_note(note.group(1)):
                styles.add(note.group(1))
            else:
                unexplained += 1
        assert unit["checks"]["C06"]["status"] == ("fail" if unexplained else "pass"), uid
    assert set(content.NOTES) <= styles, set(content.NOTES) - styles


ROW = re.compile(r"<(li|tr)\b[^>]*>(.*?)</\1>", re.S)
PAGE_VALIDITY = re.compile(r"(?:有效性|时效性)[:：]</(?:td|th|span)><(?:td|span)[^>]*>([^<]*)<")


def row_marks(html: str) -> list[tuple[str, str | None]]:
    """(item URL, the validity its row states) for each list row of `html` with a link."""
    found = []
    for _, row in ROW.findall(html):
        link = re.search(r'<a [^>]*href="([^"]+)"[^>]*>([^<]*)</a>', row)
        if link is None:
            continue
        suffix = re.search(r"（([^（）]+)）$", link.group(2))
        status = re.search(r'<span class="status">([^<]*)</span>|<td class="zt">([^<]*)</td>', row)
        word = (suffix.group(1) if suffix else "") + (status.group(status.lastindex) if status and status.lastindex else "")
        found.append((link.group(1), list_mark_validity(word)))
    return found


def listed_marks(portal: Path, uid: str, mechanism: str) -> dict[str, str | None]:
    """Every list row's validity mark of one unit, by item path, from what its mechanism serves."""
    prefix = unit_prefix(next(u for u in BASE_UNITS if u.id == uid)).strip("/")
    data = next((portal / "dynamic").glob(f"*/{prefix}"), None)
    marks: dict[str, str | None] = {}
    if mechanism in ("static", "siteserver"):
        for page in (portal / "sites").glob(f"*/{prefix}/**/*"):
            if page.is_file() and (page.suffix == ".html" or "@" in page.name):
                text = page.read_bytes().decode("utf-8", errors="replace")
                if "xxgk-list-ul" in text or '<ul class="list">' in text:  # a list page (or a frame of one)
                    marks.update(row_marks(text))
    elif mechanism == "jpage":
        for file in (data / "jpage").glob("*.json"):
            marks.update(row_marks("".join(json.loads(file.read_text(encoding="utf-8"))["records"])))
    elif mechanism == "xxgk_search":
        rows = json.loads((data / "xxgk_search" / "items.json").read_text(encoding="utf-8"))["rows"]
        marks.update(row_marks("".join(f"<tr>{r}</tr>" for r in rows)))
    elif mechanism == "igs":
        for file in (data / "igs").glob("*.json"):
            items = json.loads(file.read_text(encoding="utf-8"))
            if isinstance(items, list):
                marks.update((i["DOCPUBURL"], {"0": "有效", "1": "失效"}.get(i["YXX"])) for i in items)
    elif mechanism == "gkmlpt":
        for file in (data / "gkmlpt").glob("*.json"):
            marks.update((a["url"], "废止" if a["is_abolished"] else None)
                         for a in json.loads(file.read_text(encoding="utf-8"))["articles"])
    return marks


def lapsed(validity: str | None) -> bool:
    return validity in ("失效", "废止", "已修订")


def test_list_marks_follow_the_pages_except_where_a_defect_makes_them_differ(sample_portal_dir):
    """R3: every mechanism's list marks (status span, 状态 cell, （已废止） suffix, YXX, is_abolished)
    agree with the document pages, save on the units whose defect is exactly that."""
    truth, manifest = load(sample_portal_dir, "ground_truth.json")["units"], load(sample_portal_dir, "portal.json")
    styles, disagreeing, list_only = Counter(), set(), set()
    for uid, unit in truth.items():
        if unit["access"] != "ok":
            continue
        for path, mark in listed_marks(sample_portal_dir, uid, unit["mechanism"]).items():
            if mark is None:
                continue
            styles[unit["mechanism"]] += 1
            page = served(sample_portal_dir, manifest, uid, path)
            stated = PAGE_VALIDITY.search(page)
            page_validity = stated.group(1) if stated else ("废止" if "【已废止】" in page else None)
            if page_validity is None:
                list_only.add(uid)
            elif lapsed(page_validity) != lapsed(mark):
                disagreeing.add(uid)
    assert disagreeing == set(units_with(truth, "list_page_disagree"))
    assert list_only == set(units_with(truth, "list_mark_only"))
    assert set(styles) >= {"static", "siteserver", "jpage", "xxgk_search", "igs"}, styles


def test_every_list_mark_style_is_served(sample_portal_dir):
    sites = "\n".join(p.read_text(encoding="utf-8", errors="replace")
                      for p in (sample_portal_dir / "sites" / "main").rglob("*.html"))
    data = "\n".join(p.read_text(encoding="utf-8") for p in (sample_portal_dir / "dynamic").rglob("*.json"))
    assert re.search(r'</a><span class="date">[^<]*</span><span class="status">已废止</span></li>', sites)
    assert re.search(r'</a><span class="date">[^<]*</span><span class="status">有效</span></li>', sites)
    assert "（已废止）</a>" in sites or "（已废止）</a>" in data
    assert '<td class=\\"zt\\">现行有效</td>' in data and '"status_column":true' in data
    assert '"YXX":"1"' in data and '"YXX":"0"' in data


def test_superseded_document_marked_only_in_its_list_passes_with_a_warning(sample_portal_dir):
    truth, manifest = load(sample_portal_dir, "ground_truth.json")["units"], load(sample_portal_dir, "portal.json")
    [uid] = units_with(truth, "list_mark_only")
    unit = truth[uid]
    assert unit["checks"]["C11"]["status"] == "pass"
    assert unit["checks"]["C10"]["status"] == "fail", "its page states no validity at all"
    [warning] = [w for w in unit["warnings"] if w["check"] == "C11"]
    assert warning["kind"] == "list_mark_only" and warning["text"] == "仅在列表中标注为已废止，文件页面未标注"
    list_url, doc_url = warning["urls"]
    assert list_url == unit["columns"]["行政规范性文件"]["path"]
    page = served(sample_portal_dir, manifest, uid, doc_url)
    assert not PAGE_VALIDITY.search(page) and "【已废止】" not in page
    assert lapsed(listed_marks(sample_portal_dir, uid, unit["mechanism"])[doc_url])


def test_list_and_page_that_disagree_fail_c11(sample_portal_dir):
    truth = load(sample_portal_dir, "ground_truth.json")["units"]
    [uid] = units_with(truth, "list_page_disagree")
    check = truth[uid]["checks"]["C11"]
    assert check["status"] == "fail" and check["reason"].startswith("列表与文件页面有效性标注不一致：列表标注“")


def test_copy_of_a_lapsed_document_fails_and_an_orphan_interpretation_only_warns(sample_portal_dir):
    """R4: copies count whatever the document's validity; a 解读 of a document the unit does not have warns."""
    truth, manifest = load(sample_portal_dir, "ground_truth.json")["units"], load(sample_portal_dir, "portal.json")
    [copied] = units_with(truth, "interpretation_copy_lapsed")
    assert truth[copied]["checks"]["C12"] == {"status": "fail", "reason": "政策解读照搬原文"}
    site = next(s for s in build_sites(DEFAULT_SEED, DEFAULT_AS_OF, None, 60) if s.spec.id == copied)
    by_key = {d.key: d for d in site.docs()}
    copies = [(i, by_key[i.interprets]) for i in site.column("zcjd").docs
              if i.interprets and set(by_key[i.interprets].paragraphs) <= set(i.paragraphs)]
    assert any(lapsed(target.validity) for _, target in copies)

    [orphaned] = units_with(truth, "orphan_interpretation")
    assert truth[orphaned]["checks"]["C12"]["reason"] != "规范性文件缺少政策解读"
    [warning] = [w for w in truth[orphaned]["warnings"] if w["check"] == "C12"]
    assert warning["kind"] == "orphan_interpretation" and len(warning["urls"]) == 1
    title = re.search(r"《([^》]+)》", warning["text"]).group(1)
    page = served(sample_portal_dir, manifest, orphaned, warning["urls"][0])
    assert f"《{title}》" in page and f'title="{title}"' not in page
    assert all(not w["kind"] == "orphan_interpretation" for uid, u in truth.items() if uid != orphaned
               for w in u["warnings"])


def test_update_windows_thresholds_and_undated_items(sample_portal_dir):
    """R5/R6: undated items do not count; five stale window columns or ten columns a year old are a veto."""
    truth, manifest = load(sample_portal_dir, "ground_truth.json")["units"], load(sample_portal_dir, "portal.json")
    for uid, u in truth.items():  # kinds are what the link texts say
        assert all(classify_column(name) == c["kind"] for name, c in u["columns"].items()), uid
    [undated] = units_with(truth, "undated_news")
    assert "栏目“工作动态”的信息均未注明发布时间，视为不更新" in truth[undated]["checks"]["C07"]["reason"]
    [window] = units_with(truth, "stale_columns_veto")
    assert truth[window]["checks"]["C07"]["status"] == "fail" and truth[window]["veto"]
    assert truth[window]["checks"]["C07"]["reason"].count("未及时更新") >= 5
    [year_old] = units_with(truth, "long_stale_veto")
    assert truth[year_old]["checks"]["C07"]["status"] == "fail" and truth[year_old]["veto"]
    assert int(re.match(r"(\d+)个栏目超过一年未更新", truth[year_old]["checks"]["C07"]["reason"]).group(1)) >= 10
    # Below the thresholds: a stale column fails C07 without a veto.
    window_defects = {"stale_news", "stale_notice", "undated_news"}
    harmless = {"no_guide", "empty_system", "report_missing_section", "normative_no_period", "no_power_list"}
    below = [uid for uid, u in truth.items()
             if window_defects & set(u["defects"]) and set(u["defects"]) <= window_defects | harmless]
    assert below and all(truth[uid]["checks"]["C07"]["status"] == "fail" and not truth[uid]["veto"] for uid in below)
    # Pages without dates whose list rows show them: dated (R5), so the news column stays fresh.
    for uid in BASE_UNDATED_NEWS_PAGES:
        if {"undated_news", "stale_news", "long_stale_veto", "stale_columns_veto"} & set(truth[uid]["defects"]):
            continue
        assert "工作动态" not in truth[uid]["checks"]["C07"]["reason"], uid
        dated_rows = news_rows(sample_portal_dir, manifest, uid, truth[uid])
        assert dated_rows and all(day for _, day in dated_rows), uid
        for url, _ in dated_rows[:3]:
            page = served(sample_portal_dir, manifest, uid, url)
            assert 'name="PubDate"' not in page and not re.search(r"\d{4}年\d{1,2}月\d{1,2}日", own_text(page))


def news_rows(portal: Path, manifest: dict, uid: str, unit: dict) -> list[tuple[str, str]]:
    """(page URL, list date) of the first rows of a unit's 工作动态 list."""
    column = unit["columns"]["工作动态"]
    if column["mechanism"] == "igs":
        data = next((portal / "dynamic").glob(f"*/{uid}/igs/gzdt.json"))
        return [(i["DOCPUBURL"], i["FBRQ"] or "") for i in json.loads(data.read_text(encoding="utf-8"))]
    if column["mechanism"] == "jpage":
        data = next(p for p in (portal / "dynamic").glob(f"*/{uid}/jpage/*.json")
                    if json.loads(p.read_text(encoding="utf-8"))["page"] == column["path"])
        html = "".join(json.loads(data.read_text(encoding="utf-8"))["records"])
    else:
        html = served(portal, manifest, uid, column["path"])
    return re.findall(r'<a href="([^"]+)"[^>]*>[^<]*</a><span[^>]*>([\d\-/\n]+)</span>', html)


def test_every_defect_is_on_a_base_unit_and_clean_units_stay_clean(sample_portal_dir):
    truth = load(sample_portal_dir, "ground_truth.json")["units"]
    carried = {key for u in truth.values() for key in u["defects"]}
    assert carried == {d.key for d in DEFECTS}
    for uid in CLEAN_UNITS:
        unit = truth[uid]
        assert unit["defects"] == [] and unit["warnings"] == []
        assert {k for k, c in unit["checks"].items() if c["status"] == "fail"} <= {"C19"}, uid
    warned = [uid for uid, u in truth.items() if u["warnings"]]
    assert sorted(warned) == sorted(units_with(truth, "list_mark_only") + units_with(truth, "orphan_interpretation"))
