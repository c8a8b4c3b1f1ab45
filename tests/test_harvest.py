"""Harvest end to end against the real sample-portal HTTP server: discovery, incremental re-runs,
removals, GBK sites, C18/C19 evidence, and a portal from the sample generator."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from harvest_sites import build_portal, path_of, rows_by_path

from assets.harvest import (
    USER_AGENT,
    HarvestSettings,
    harvest_units,
    open_unit_store,
    read_raw,
)
from sample_portal.server import PortalServer

pytestmark = pytest.mark.slow

FAST = HarvestSettings(polite=False, backoff_base=0.01, timeout=5.0)


@pytest.fixture
def portal(tmp_path):
    spec = build_portal(tmp_path / "portal")
    with PortalServer(spec.out_dir) as server:
        yield spec, server


def harvest(server, unit_ids, store, settings=FAST):
    summaries = harvest_units(server.registry, unit_ids, store, settings)
    assert all(s.failed is None for s in summaries), [s.failed for s in summaries]
    return {s.unit_id: s for s in summaries}


def test_finds_every_column_list_page_item_and_attachment(portal, tmp_path):
    spec, server = portal
    unit = spec.unit("jyj")
    summary = harvest(server, ["jyj"], tmp_path / "store")["jyj"]
    view = open_unit_store(tmp_path / "store", "jyj")

    columns = rows_by_path(view.columns, "column_url")
    expected_columns = {unit.column_urls[c.code]: (c.name, c.kind) for c in unit.columns}
    expected_columns[unit.base + "ysqgk/"] = ("依申请公开", "application")
    assert {path: (c["name"], c["kind"]) for path, c in columns.items()} == expected_columns
    assert columns[unit.base + "ysqgk/"]["error"] == "disallowed by robots.txt"
    assert columns[unit.column_urls["gfxwj"]]["parent_column_url"].endswith(unit.column_urls["fdzdgknr"])
    assert columns[unit.column_urls["fdzdgknr"]]["child_columns"] == 4

    for column in unit.columns:
        if column.style == "parent":
            continue
        row = columns[unit.column_urls[column.code]]
        assert (row["list_pages"], row["item_count"], row["walked_fully"]) == (
            len(unit.list_pages[column.code]), column.items, True), column.code
        listed = [(path_of(r["item_url"]), r["link_text"], r["list_date_text"])
                  for r in view.column_items.to_pylist() if path_of(r["column_url"]) == unit.column_urls[column.code]]
        assert listed == unit.items[column.code], column.code  # every pagination style, in list order
    assert "本栏目暂无信息：相关制度由区政府统一发布。" in columns[unit.column_urls["zd"]]["empty_page_text"]

    pages = rows_by_path(view.pages)
    structure = {unit.base} | set(unit.column_urls.values()) | {p for ps in unit.list_pages.values() for p in ps}
    expected_pages = structure | unit.detail_paths | set(unit.attachments) | {unit.base + "ysqgk/"}
    expected_pages -= {unit.column_urls[c.code] + "index.html" for c in unit.columns}  # /x/ is /x/index.html
    assert set(pages) == expected_pages
    for path in unit.detail_paths:
        assert pages[path]["role"] == "detail" and pages[path]["status"] == 200
        assert read_raw(tmp_path / "store", pages[path]["sha256"]) == (spec.out_dir / "sites/main" / path.lstrip("/")).read_bytes()

    checks = rows_by_path(view.link_checks, "target_url")
    for path, exists in unit.attachments.items():
        if path.startswith("/jyj/private/"):
            assert checks[path]["status"] is None and checks[path]["error"] == "disallowed by robots.txt"
        else:
            assert checks[path]["status"] == (200 if exists else 404), path
    assert checks[next(p for p, e in unit.attachments.items() if e and "private" not in p)]["size"] == 32
    assert [(e.unit_id, path_of(e.url), e.status) for e in summary.errors] == [
        ("jyj", next(p for p, e in unit.attachments.items() if not e), 404)]

    requests = server.requests()
    assert {r["user_agent"] for r in requests} == {USER_AGENT}
    requested = {r["path"] for r in requests}
    assert not any(p.startswith(tuple(spec.disallowed)) for p in requested)  # robots.txt honoured
    assert not any(p.startswith(("/mzj/", "/zwfw/", "/jyj/zfxxgk/secret")) or p == "/" for p in requested)
    assert {r["host"] for r in requests} == {"main"}


def test_rerun_revalidates_lists_with_conditional_requests_and_skips_fresh_details(portal, tmp_path):
    spec, server = portal
    unit = spec.unit("jyj")
    store = tmp_path / "store"
    first = harvest(server, ["jyj"], store)["jyj"]
    server.clear_requests()
    second = harvest(server, ["jyj"], store)["jyj"]
    requests = server.requests()

    structure_pages = 1 + len(unit.column_urls) + sum(len(p) - 1 for p in unit.list_pages.values())
    assert second.not_modified == structure_pages and second.new == second.changed == second.removed == 0
    assert second.skipped_fresh == len(unit.detail_paths)
    assert second.requests <= first.requests / 2
    gets = [r for r in requests if r["method"] == "GET" and r["path"] != "/robots.txt" and not r["range"]]
    assert len(gets) == structure_pages
    assert all(r["if_none_match"] and r["status"] == 304 for r in gets)
    assert not {r["path"] for r in requests} & unit.detail_paths

    server.clear_requests()
    third = harvest(server, ["jyj"], store, HarvestSettings(polite=False, full_recheck=True))["jyj"]
    detail_requests = [r for r in server.requests() if r["path"] in unit.detail_paths]
    assert len(detail_requests) == len(unit.detail_paths) and all(r["status"] == 304 for r in detail_requests)
    assert third.skipped_fresh == 0 and third.fetched <= 2  # robots.txt (and nothing else) has a body


def test_a_list_page_read_again_keeps_the_item_links_of_items_not_revisited(portal, tmp_path):
    """A list page that answers 200 again (a changed ETag, a POST list, a server without
    validators) has its item links checked afresh; items still fresh are not fetched, yet the
    links to them stay C18 evidence, with the status they had when last fetched."""
    spec, server = portal
    unit = spec.unit("jyj")
    store = tmp_path / "store"
    harvest(server, ["jyj"], store)
    before = {(r["source_url"], r["target_url"]): (r["status"], r["checked_at"])
              for r in open_unit_store(store, "jyj").link_checks.to_pylist()}
    list_paths = {p for pages in unit.list_pages.values() for p in pages} | set(unit.column_urls.values())
    for path in list_paths:  # new validators, same bodies: every static list page answers 200 again
        file = spec.out_dir / "sites/main" / path.lstrip("/")
        file = file / "index.html" if file.is_dir() else file
        if not file.is_file():
            continue  # a query-string list page, served dynamically (no validators: 200 each time)
        stat = file.stat()
        os.utime(file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    server.clear_requests()
    second = harvest(server, ["jyj"], store)["jyj"]

    assert second.skipped_fresh == len(unit.detail_paths)  # no detail page fetched again
    after = {(r["source_url"], r["target_url"]): (r["status"], r["checked_at"])
             for r in open_unit_store(store, "jyj").link_checks.to_pylist()}
    item_links = {k for k in before if path_of(k[1]) in unit.detail_paths}
    assert item_links and item_links <= set(after)
    assert {k: after[k] for k in item_links} == {k: before[k] for k in item_links}
    assert set(after) == set(before)


def test_due_details_are_revisited_after_revisit_after(portal, tmp_path):
    spec, server = portal
    harvest(server, ["mzj"], tmp_path / "store")
    server.clear_requests()
    summary = harvest(server, ["mzj"], tmp_path / "store", HarvestSettings(polite=False, revisit_after=timedelta(0)))
    assert summary["mzj"].skipped_fresh == 0
    assert {r["path"] for r in server.requests()} >= spec.unit("mzj").detail_paths


def test_removed_page_is_recorded_and_cleared_when_it_reappears(portal, tmp_path):
    spec, server = portal
    unit = spec.unit("jyj")
    store = tmp_path / "store"
    harvest(server, ["jyj"], store)
    gone_path, gone_title, _ = unit.items["tzgg"][4]  # on page2.html
    list_file = spec.out_dir / "sites/main" / unit.list_pages["tzgg"][1].lstrip("/")
    detail_file = spec.out_dir / "sites/main" / gone_path.lstrip("/")
    original_list, original_detail = list_file.read_bytes(), detail_file.read_bytes()
    entry = f'<li><a href="{gone_path}" title="{gone_title}">{gone_title}</a>'.encode()
    start = original_list.index(entry)
    list_file.write_bytes(original_list[:start] + original_list[original_list.index(b"</li>", start) + 5:])
    detail_file.unlink()

    summary = harvest(server, ["jyj"], store)["jyj"]
    pages = rows_by_path(open_unit_store(store, "jyj").pages)
    assert summary.removed == 1 and summary.error_count == 0  # the gone page is removed, not an error
    assert pages[gone_path]["removed_at"] is not None
    assert [p for p, row in pages.items() if row["removed_at"] is not None] == [gone_path]

    list_file.write_bytes(original_list)
    detail_file.write_bytes(original_detail)
    harvest(server, ["jyj"], store)
    assert rows_by_path(open_unit_store(store, "jyj").pages)[gone_path]["removed_at"] is None


def test_detail_answering_404_on_revalidation_is_removed(portal, tmp_path):
    spec, server = portal
    unit = spec.unit("mzj")
    harvest(server, ["mzj"], tmp_path / "store")
    gone = unit.items["tzgg"][1][0]
    (spec.out_dir / "sites/main" / gone.lstrip("/")).unlink()
    summary = harvest(server, ["mzj"], tmp_path / "store", HarvestSettings(polite=False, full_recheck=True))["mzj"]
    row = rows_by_path(open_unit_store(tmp_path / "store", "mzj").pages)[gone]
    assert (summary.removed, row["status"]) == (1, 404) and row["removed_at"] is not None


def test_gbk_site_links_and_titles_are_decoded(portal, tmp_path):
    spec, server = portal
    unit = spec.unit("ftz")
    summary = harvest(server, ["ftz"], tmp_path / "store")["ftz"]
    view = open_unit_store(tmp_path / "store", "ftz")
    assert summary.error_count == 0
    assert {(c["name"], c["kind"]) for c in view.columns.to_pylist()} >= {
        ("政府信息公开指南", "guide"), ("规范性文件", "normative")}
    listed = [(path_of(r["item_url"]), r["link_text"], r["list_date_text"]) for r in view.column_items.to_pylist()
              if path_of(r["column_url"]) == unit.column_urls["gfxwj"]]
    assert listed == unit.items["gfxwj"]
    assert {r["charset"] for r in view.pages.to_pylist() if r["role"] == "detail"} == {"gb18030"}


def test_ipv6_evidence_per_host(portal, tmp_path):
    _spec, server = portal
    harvest(server, ["mzj", "ftz"], tmp_path / "store")
    main = open_unit_store(tmp_path / "store", "mzj").host_checks.to_pylist()
    gbk = open_unit_store(tmp_path / "store", "ftz").host_checks.to_pylist()
    assert (main[0]["ipv6_ok"], main[0]["ipv6_addresses"], main[0]["http_status"]) == (True, ["::1"], 206)
    assert gbk[0]["ipv6_ok"] is False and gbk[0]["http_status"] is None and "::1" in gbk[0]["error"]
    assert any(r["family"] == 6 and r["host"] == "main" for r in server.requests())
    assert not any(r["family"] == 6 and r["host"] == "gbk" for r in server.requests())


def test_progress_events_count_pages(portal, tmp_path):
    _spec, server = portal
    events = []
    harvest_units(server.registry, ["kw"], tmp_path / "store", FAST, progress=events.append)
    kinds = [e.kind for e in events]
    assert kinds[0] == "unit_started" and kinds[-1] == "unit_finished" and "page_fetched" in kinds
    assert events[-1].summary.unit_id == "kw" and events[-2].done == events[-2].queued


def test_generated_portal_units_match_ground_truth(sample_portal_dir, tmp_path):
    """The lead's generator: broken links/attachments (C18), no IPv6 (C19), a missing column (C01)."""
    truth = json.loads((Path(sample_portal_dir) / "ground_truth.json").read_text(encoding="utf-8"))["units"]
    unit_ids = ["qzf", "btjd", "xcjd", "ftz", "yjbz"]
    with PortalServer(sample_portal_dir, registry_path=tmp_path / "registry.yaml") as server:
        summaries = harvest(server, unit_ids, tmp_path / "store")
    for unit_id in unit_ids:
        checks = truth[unit_id]["checks"]
        view = open_unit_store(tmp_path / "store", unit_id)
        entry = [p for p in view.pages.to_pylist() if p["role"] == "entry"][0]
        assert (entry["status"] == 200) == (checks["C01"]["status"] == "pass"), unit_id
        broken = [c for c in view.link_checks.to_pylist() if c["status"] is None or c["status"] >= 400]
        broken = [c for c in broken if c["error"] != "disallowed by robots.txt"]
        if checks["C01"]["status"] == "pass":
            assert (not broken) == (checks["C18"]["status"] == "pass"), unit_id
            kinds = {c["kind"] for c in view.columns.to_pylist() if c["item_count"] or c["child_columns"]}
            assert {"guide", "system", "statutory", "annual_report"} <= kinds, unit_id
        assert view.host_checks.to_pylist()[0]["ipv6_ok"] == (checks["C19"]["status"] == "pass"), unit_id
    assert summaries["qzf"].error_count == 0 and summaries["qzf"].new > 50
