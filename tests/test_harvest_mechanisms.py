"""Every list mechanism of the default sample portal, harvested over real HTTP(S) by the production
harvester: complete lists, access outcomes with evidence, and the gating quirks.

The shared `pipeline_data` fixture serves the default portal (every mechanism on several units, a
unit behind a 瑞数-style gate, a unit registered at an old URL generation, an HTTPS host trusted
through the registry's CA bundle, soft 404s on one host) and harvests it once. Tests that need
another registry (rendering allowed, no CA) start their own server.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from assets.harvest import HarvestSettings, harvest_units, open_unit_store, read_fetch_log
from assets.harvest.storeview import UnitStoreView
from sample_portal.server import PortalServer
from core.registry import HostOptions

pytestmark = pytest.mark.slow

FAST = HarvestSettings(polite=False, backoff_base=0.01, timeout=10.0)


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture(scope="module")
def truth(pipeline_data) -> dict:
    return json.loads((pipeline_data.portal_dir / "ground_truth.json").read_text(encoding="utf-8"))["units"]


def _view(pipeline_data, unit_id: str) -> UnitStoreView:
    return open_unit_store(pipeline_data.store_dir, unit_id)


def _access(view: UnitStoreView) -> dict[str, dict]:
    return {("entry" if r["role"] == "entry" else r["url"]): r for r in view.access.to_pylist()}


def test_every_mechanism_is_on_several_units(truth):
    mechanisms = Counter(u["mechanism"] for u in truth.values())
    assert set(mechanisms) == {"static", "jpage", "xxgk_search", "igs", "gkmlpt", "siteserver"}
    assert min(mechanisms.values()) >= 3, mechanisms


def test_every_column_of_every_mechanism_is_harvested_completely(pipeline_data, truth):
    """Item counts per column equal the ground truth: paging (GET, POST, JSON, iframes, rendered
    shells) read to the end, and nothing past it (stubs, empty recordsets) taken for items."""
    mismatches, walked = [], Counter()
    for unit_id, expected in truth.items():
        if expected["access"] != "ok":
            continue
        view = _view(pipeline_data, unit_id)
        columns = {c["name"]: c for c in view.columns.to_pylist()}
        access = _access(view)
        for name, column in expected["columns"].items():
            got = columns.get(name)
            if got is None:
                mismatches.append(f"{unit_id} {name}: not found")
                continue
            if got["item_count"] != column["items"] or not got["walked_fully"]:
                mismatches.append(f"{unit_id} {name}: {got['item_count']} items (expected {column['items']}), "
                                  f"walked fully: {got['walked_fully']}, {got['error']}")
            walked[access[got["column_url"]]["list_source"]] += 1
    assert not mismatches, "\n".join(mismatches)
    assert {"static", "jpage", "xxgk_search", "igs", "gkmlpt", "siteserver", "rendered"} <= set(walked), walked


def test_each_column_is_read_by_the_adapter_of_its_mechanism(pipeline_data, truth):
    """Detection by page signature: nothing in the registry says which mechanism a unit uses."""
    for unit_id, expected in truth.items():
        if expected["access"] != "ok":
            continue
        view = _view(pipeline_data, unit_id)
        access = _access(view)
        by_name = {c["name"]: access[c["column_url"]] for c in view.columns.to_pylist() if c["column_url"] in access}
        for name, column in expected["columns"].items():
            want = {"spa": "rendered"}.get(column["mechanism"], column["mechanism"])
            got = by_name[name]["list_source"]
            # A column whose page is only links to sub-columns is read by the static rules whatever its site's
            # mechanism; an iframe shell's list is read where the frame leads.
            # A single-article column is a page, not a list: whichever adapter claimed the site reads it.
            if column["items"] and not column.get("article"):
                assert got == want, (unit_id, name, got, want)
    registry = pipeline_data.registry
    assert all(u.list_source is None and not u.column_sources for u in registry.units)


def test_paged_posts_carry_the_column_page_as_referer(pipeline_data, truth):
    """jpage's dataproxy and xxgk's search answer only POSTs, and the portal's dataproxy refuses
    requests without the column page as Referer (404): every one of them answered 200."""
    for unit_id in (u for u, t in truth.items() if t["mechanism"] in ("jpage", "xxgk_search")):
        log = read_fetch_log(pipeline_data.store_dir, unit_id).to_pylist()
        posts = [r for r in log if r["method"] == "POST"]
        assert posts, unit_id
        assert {r["status"] for r in posts} == {200}, (unit_id, Counter(r["status"] for r in posts))


def test_a_gated_unit_is_blocked_with_evidence_and_never_read_as_empty(pipeline_data, truth):
    [gated] = [u for u, t in truth.items() if t["access"] == "blocked"]
    view = _view(pipeline_data, gated)
    entry = _access(view)["entry"]
    assert (entry["outcome"], entry["status"]) == ("blocked", 412)
    assert "瑞数" in entry["detail"] and entry["excerpt"] is not None
    assert view.columns.num_rows == 0 and not any(p["role"] == "detail" for p in view.pages.to_pylist())
    summary = next(s for s in pipeline_data.harvest if s.unit_id == gated)
    assert summary.access == "blocked"


def test_a_soft_404_never_becomes_a_document_and_breaks_its_link(pipeline_data, truth):
    soft = [u for u, t in truth.items() if "dead_item_soft404" in t["defects"]]
    assert soft
    for unit_id in soft:
        view = _view(pipeline_data, unit_id)
        dead = [c for c in view.link_checks.to_pylist() if (c["error"] or "").startswith("soft_404")]
        assert dead, unit_id
        assert all(c["status"] == 200 for c in dead)  # the site said 200; the page said 页面不存在
        pages = {p["url"]: p for p in view.pages.to_pylist()}
        for check in dead:
            page = pages.get(check["target_url"])
            assert page is None or page["sha256"] is None, "a soft 404 was stored as content"
        assert truth[unit_id]["checks"]["C18"]["status"] == "fail"


def test_a_unit_registered_at_an_old_url_follows_it_and_reports_the_move(pipeline_data, truth):
    registry = pipeline_data.registry
    [moved] = [u for u in registry.units if "/sitefiles/" in u.url]
    entry = _access(_view(pipeline_data, moved.id))["entry"]
    assert entry["outcome"] == "ok" and entry["detail"].startswith("moved:")
    assert f"/{moved.id}/" in entry["final_url"]
    assert truth[moved.id]["checks"]["C02"]["status"] == "pass"  # its columns, under the new path, were read


def test_the_https_host_is_harvested_with_the_registry_ca(pipeline_data, truth):
    registry = pipeline_data.registry
    secure = [u for u in registry.units if u.url.startswith("https://")]
    assert secure
    for unit in secure:
        assert registry.host_options(unit.host).ca_bundle
        view = _view(pipeline_data, unit.id)
        assert _access(view)["entry"]["outcome"] == "ok"
        assert sum(c["item_count"] for c in view.columns.to_pylist()) > 0


def test_deep_list_stubs_end_the_list_without_error(pipeline_data, truth):
    """Pagers that announce pages past the end: those answer 200 with a ~360-byte stub."""
    stubbed = 0
    for unit_id, expected in truth.items():
        if expected["mechanism"] != "static" or expected["access"] != "ok":
            continue
        view = _view(pipeline_data, unit_id)
        small = [p for p in view.pages.to_pylist() if p["role"] == "list" and p["status"] == 200
                 and (p["bytes"] or 0) < 1000]
        stubbed += len(small)
        assert all(c["walked_fully"] for c in view.columns.to_pylist() if c["list_pages"]), unit_id
    assert stubbed > 0


# -- registries other than the portal's own ----------------------------------------------------------

@pytest.fixture(scope="module")
def served(sample_portal_dir, tmp_path_factory):
    with PortalServer(sample_portal_dir, registry_path=tmp_path_factory.mktemp("reg") / "registry.yaml") as server:
        yield server


def _gated(served) -> str:
    return next(u.id for u in served.registry.units if u.host.startswith("www.dj."))


def test_a_gated_host_the_registry_allows_is_rendered_through_the_challenge(served, tmp_path):
    unit_id = _gated(served)
    host = served.registry.get(unit_id).host.rsplit(":", 1)[0]
    registry = replace(served.registry, hosts={**served.registry.hosts, host: HostOptions(render=True)})
    [summary] = harvest_units(registry, [unit_id], tmp_path / "store", FAST)
    view = open_unit_store(tmp_path / "store", unit_id)
    entry = _access(view)["entry"]
    assert (summary.access, entry["outcome"], entry["rendered"]) == ("ok", "ok", True)
    details = [p for p in view.pages.to_pylist() if p["role"] == "detail" and p["sha256"]]
    assert details and all(p["rendered"] for p in details)
    log = read_fetch_log(tmp_path / "store", unit_id).to_pylist()
    assert 412 in {r["status"] for r in log} and 200 in {r["status"] for r in log}


def test_without_its_ca_the_https_host_is_unreachable_tls_never_empty(served, tmp_path):
    unit = next(u for u in served.registry.units if u.url.startswith("https://"))
    registry = replace(served.registry, hosts={})
    [summary] = harvest_units(registry, [unit.id], tmp_path / "store", replace(FAST, max_retries=0))
    entry = _access(open_unit_store(tmp_path / "store", unit.id))["entry"]
    assert (summary.access, entry["outcome"]) == ("unreachable", "unreachable")
    assert entry["detail"].startswith("TLS") and "certificate" in entry["detail"].lower()


def test_without_rendering_a_js_shell_column_is_unreadable_never_empty(served, tmp_path, sample_portal_dir):
    truth = json.loads((Path(sample_portal_dir) / "ground_truth.json").read_text(encoding="utf-8"))["units"]
    unit_id, name = next((u, n) for u, t in truth.items() for n, c in t["columns"].items() if c["mechanism"] == "spa")
    [summary] = harvest_units(served.registry, [unit_id], tmp_path / "store", replace(FAST, render=False))
    view = open_unit_store(tmp_path / "store", unit_id)
    column = next(c for c in view.columns.to_pylist() if c["name"] == name)
    outcome = _access(view)[column["column_url"]]
    assert (outcome["outcome"], column["item_count"]) == ("unreadable", 0)
    assert "JS shell" in outcome["detail"]


def test_every_listed_item_keeps_its_link_evidence_when_harvested_again(served, sample_portal_dir, tmp_path):
    """C18 counts the links from list pages to their items. Re-reading a list page (every POST
    list page answers 200 again) must not lose the links to items that are not fetched again, nor
    may the pages of one POST list (one URL) drop each other's links."""
    truth = json.loads((sample_portal_dir / "ground_truth.json").read_text(encoding="utf-8"))["units"]
    by_mechanism = {}
    for unit_id, unit in sorted(truth.items()):
        by_mechanism.setdefault(unit["mechanism"], unit_id)
    unit_ids = sorted(by_mechanism.values())
    assert len(unit_ids) >= 6, by_mechanism

    def item_links(unit_id: str) -> tuple[set[str], dict[tuple[str, str], int | None]]:
        view = open_unit_store(tmp_path / "store", unit_id)
        # (a column whose page is its one article lists itself: no link to check)
        listed = {r["item_url"] for r in view.column_items.to_pylist() if r["item_url"] != r["column_url"]}
        checks = {(r["source_url"], r["target_url"]): r["status"] for r in view.link_checks.to_pylist()}
        return listed, checks

    harvest_units(served.registry, unit_ids, tmp_path / "store", FAST)
    first = {u: item_links(u) for u in unit_ids}
    second_run = harvest_units(served.registry, unit_ids, tmp_path / "store", FAST)
    assert all(s.skipped_fresh > 0 for s in second_run), [(s.unit_id, s.skipped_fresh) for s in second_run]
    for unit_id in unit_ids:
        listed, checks = item_links(unit_id)
        assert listed, unit_id
        assert listed <= {target for _, target in checks}, (unit_id, by_mechanism)
        assert checks == first[unit_id][1], unit_id

