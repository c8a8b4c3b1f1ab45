"""Harvest under adverse conditions, against the real sample-portal server: faults, politeness,
the private-address policy, and a SIGKILL in the middle of a harvest."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pytest
from harvest_sites import build_portal, path_of, rows_by_path

from assets.harvest import HarvestSettings, harvest_units, open_unit_store
from sample_portal.server import PortalServer
from core.registry import dump_registry

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def portal(tmp_path):
    spec = build_portal(tmp_path / "portal")
    with PortalServer(spec.out_dir) as server:
        yield spec, server


def test_each_fault_is_reported_for_its_url_while_the_unit_completes(portal, tmp_path):
    spec, server = portal
    unit = spec.unit("jyj")
    detail = {code: [path for path, _, _ in items] for code, items in unit.items.items()}
    faults = {
        detail["gfxwj"][1]: dict(kind="timeout", seconds=5),
        detail["zcjd"][1]: dict(kind="status", code=503),
        detail["gzdt"][1]: dict(kind="truncate"),
        detail["ndbg"][1]: dict(kind="redirect_loop"),
        detail["gzdt"][2]: dict(kind="huge", size=6 * 1024 * 1024),
        detail["tzgg"][2]: dict(kind="reset"),
    }
    for path, fault in faults.items():
        server.add_fault(host="main", path=path, **fault)
    recovering = detail["tzgg"][1]
    server.add_fault(host="main", path=recovering, kind="status", code=503, times=2)

    settings = HarvestSettings(polite=False, timeout=0.5, max_retries=2, backoff_base=0.01)
    summary = harvest_units(server.registry, ["jyj"], tmp_path / "store", settings)[0]

    errors = {path_of(e.url): e.error for e in summary.errors if not e.url.endswith(".docx")}
    assert set(errors) == set(faults)
    assert errors[detail["gfxwj"][1]] == "timeout after 0.5s"
    assert errors[detail["zcjd"][1]] == "HTTP 503"
    assert errors[detail["gzdt"][1]].startswith("truncated body")
    assert errors[detail["ndbg"][1]] == "too many redirects (more than 5)"
    assert errors[detail["gzdt"][2]].startswith("too large")
    assert errors[detail["tzgg"][2]].startswith("connection error")
    assert all(e.unit_id == "jyj" for e in summary.errors)

    attempts = [r for r in server.requests() if r["path"] == detail["zcjd"][1]]
    assert [r["status"] for r in attempts] == [503, 503, 503]  # retried max_retries times, then reported
    assert [r["status"] for r in server.requests() if r["path"] == recovering] == [503, 503, 200]
    huge = [r for r in server.requests() if r["path"] == detail["gzdt"][2]]
    assert len(huge) == 1 and huge[0]["bytes"] < 6 * 1024 * 1024  # not retried, not read to the end

    pages = rows_by_path(open_unit_store(tmp_path / "store", "jyj").pages)
    ok = unit.detail_paths - set(faults)
    assert all(pages[path]["status"] == 200 and pages[path]["sha256"] for path in ok)
    assert pages[recovering]["status"] == 200
    assert all(pages[path]["error"] == errors[path] for path in faults)


def test_mislabelled_pages_are_decoded_or_reported(portal, tmp_path):
    spec, server = portal
    unit = spec.unit("ftz")
    mislabelled, binary = unit.items["gfxwj"][0], unit.items["gfxwj"][1]
    server.add_fault(host="gbk", path=unit.column_urls["gfxwj"], kind="wrong_charset")  # says utf-8
    server.add_fault(host="gbk", path=binary[0], kind="binary_as_html", size=4096)
    summary = harvest_units(server.registry, ["ftz"], tmp_path / "store", HarvestSettings(polite=False))[0]
    assert {r["fault"] for r in server.requests()} == {None, "wrong_charset", "binary_as_html"}
    view = open_unit_store(tmp_path / "store", "ftz")
    listed = [(path_of(r["item_url"]), r["link_text"]) for r in view.column_items.to_pylist()
              if path_of(r["column_url"]) == unit.column_urls["gfxwj"]]
    assert (mislabelled[0], mislabelled[1]) in listed  # GBK bytes labelled utf-8: <meta charset> wins
    assert rows_by_path(view.pages)[unit.column_urls["gfxwj"]]["charset"] == "gb18030"
    assert [(path_of(e.url), e.error) for e in summary.errors] == [(binary[0], "binary body served as text/html")]


def test_attachment_check_falls_back_to_a_range_get_when_head_is_refused(portal, tmp_path):
    spec, server = portal
    attachment = next(p for p in spec.unit("mzj").attachments)
    server.add_fault(host="main", path=attachment, kind="status", code=405, times=1)
    harvest_units(server.registry, ["mzj"], tmp_path / "store", HarvestSettings(polite=False))
    probes = [(r["method"], r["status"], r["range"]) for r in server.requests() if r["path"] == attachment]
    assert probes == [("HEAD", 405, None), ("GET", 206, "bytes=0-0")]
    check = rows_by_path(open_unit_store(tmp_path / "store", "mzj").link_checks, "target_url")[attachment]
    assert (check["status"], check["size"], check["content_type"]) == (206, 32, "application/pdf")


def test_one_units_failure_does_not_stop_the_others(portal, tmp_path):
    _spec, server = portal
    store = tmp_path / "store"
    (store / "units" / "kw.duckdb").mkdir(parents=True)  # a directory where the unit's database should be
    summaries = {s.unit_id: s for s in harvest_units(server.registry, ["kw", "mzj"], store, HarvestSettings(polite=False))}
    assert summaries["kw"].failed and "kw.duckdb" in summaries["kw"].failed
    assert summaries["mzj"].failed is None and summaries["mzj"].new > 0


def test_rate_limit_is_shared_by_units_on_one_host(portal, tmp_path):
    _spec, server = portal
    host = "www.bh.zwgk.test"
    registry = replace(server.registry, politeness={host: {"max_concurrency": 2, "min_delay": 0.2}})
    summaries = harvest_units(registry, ["mzj", "kw"], tmp_path / "store", HarvestSettings())
    assert all(s.error_count == 0 and s.failed is None for s in summaries)
    starts = sorted(r["mono"] for r in server.requests() if r["host"] == "main")
    units_seen = {r["path"].split("/")[1] for r in server.requests() if r["path"] != "/robots.txt"}
    assert {"mzj", "kw"} <= units_seen and len(starts) >= 12
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert min(gaps) >= 0.19, gaps


def test_private_addresses_are_refused_unless_allowed(portal, tmp_path):
    _spec, server = portal
    registry = replace(server.registry, allow_private_addresses=False)
    summary = harvest_units(registry, ["kw"], tmp_path / "store", HarvestSettings(polite=False, max_retries=1))[0]
    assert server.requests() == []
    entry = registry.get("kw").url
    assert [(e.unit_id, e.url) for e in summary.errors] == [("kw", entry)]
    assert summary.errors[0].error.startswith("address refused: refusing to connect to www.bh.zwgk.test")
    host_check = open_unit_store(tmp_path / "store", "kw").host_checks.to_pylist()[0]
    assert host_check["ipv6_ok"] is False and host_check["error"].startswith("address refused")


def test_redirect_to_a_literal_private_address_is_refused(portal, tmp_path):
    spec, server = portal
    registry = replace(server.registry, allow_private_addresses=False,
                       resolve={h: ("127.0.0.1",) for h in server.registry.resolve})
    unit = replace(registry.get("kw"), url=registry.get("kw").url.replace("www.bh.zwgk.test", "127.0.0.1"))
    summary = harvest_units(registry, [unit], tmp_path / "store", HarvestSettings(polite=False, max_retries=0))[0]
    assert server.requests() == [] and "loopback" in summary.errors[0].error


KILLED_HARVEST = textwrap.dedent("""
    import sys
    from assets.harvest import HarvestSettings, harvest_units
    from core.registry import load_registry
    harvest_units(load_registry(sys.argv[1]), ["jyj"], sys.argv[2], HarvestSettings(flush_interval=0.2))
""")


def test_sigkill_mid_harvest_then_rerun_equals_an_uninterrupted_run(portal, tmp_path):
    spec, server = portal
    registry_path = tmp_path / "slow-registry.yaml"
    slow = replace(server.registry, politeness={"www.bh.zwgk.test": {"max_concurrency": 2, "min_delay": 0.08}})
    registry_path.write_text(dump_registry(slow), encoding="utf-8")
    killed_store = tmp_path / "killed"
    child = subprocess.Popen([sys.executable, "-c", KILLED_HARVEST, str(registry_path), str(killed_store)],
                             cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        deadline = time.monotonic() + 60
        while len(server.requests()) < 45 and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert child.poll() is None, "the harvest finished before it could be killed"
        child.send_signal(signal.SIGKILL)
        child.wait()
    finally:
        child.kill()
    flushed = {path_of(p["url"]) for p in open_unit_store(killed_store, "jyj").pages.to_pylist()}
    assert 0 < len(flushed) < 60  # some pages were committed before the kill, not all

    server.clear_requests()
    resumed = harvest_units(server.registry, ["jyj"], killed_store, HarvestSettings(polite=False))[0]
    refetched = {r["path"] for r in server.requests() if r["status"] == 200}
    assert not refetched & (flushed & spec.unit("jyj").detail_paths)  # stored details were not fetched again
    reference = harvest_units(server.registry, ["jyj"], tmp_path / "reference", HarvestSettings(polite=False))[0]
    assert resumed.failed is None and reference.failed is None
    assert _state(killed_store) == _state(tmp_path / "reference")


def _state(store: Path) -> dict:
    view = open_unit_store(store, "jyj")
    return {
        "pages": sorted((path_of(p["url"]), p["role"], p["status"], p["sha256"], p["removed_at"] is None)
                        for p in view.pages.to_pylist()),
        "items": sorted((path_of(i["column_url"]), i["position"], path_of(i["item_url"]), i["list_date_text"])
                        for i in view.column_items.to_pylist()),
        "columns": sorted((path_of(c["column_url"]), c["name"], c["list_pages"], c["item_count"], c["walked_fully"])
                          for c in view.columns.to_pylist()),
        "checks": sorted((path_of(c["target_url"]), c["status"]) for c in view.link_checks.to_pylist()),
    }
