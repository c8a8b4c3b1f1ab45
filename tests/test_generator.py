"""The sample portal generator: deterministic, realistic, and with a complete ground truth."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import ssl
from collections import Counter
from pathlib import Path

from test_mechanisms import listed_items, pass_gate, serve

from expectations.catalog import load_catalog
from sample_portal.generator import generate_portal
from sample_portal.units import BASE_UNITS, LIST_MECHANISMS


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
                items = await listed_items(client, column["mechanism"], column["path"])
                walked[column["mechanism"]] += 1
                if len(items) != column["items"] or len(set(items)) != len(items):
                    mismatches.append(f"{uid} {name} ({column['mechanism']}): {len(items)} != {column['items']}")
        return mismatches

    mismatches = [m for host, unit_ids in host_units.items()
                  for m in serve(sample_portal_dir, host, lambda client, ids=unit_ids: walk(client, ids))]
    assert not mismatches, "\n".join(mismatches)
    assert set(walked) == set(LIST_MECHANISMS) | {"spa"} and sum(walked.values()) > 450
