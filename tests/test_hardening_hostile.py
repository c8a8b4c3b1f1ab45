"""Hostile content end to end: a hand-made portal whose pages carry script tags, an `<img onerror>`
unit name, spreadsheet formulas as titles, attachment links named `../../etc/passwd`, a 1 MB
attribute and personal information goes through the real pipeline (sample-portal server → harvest →
normalize → validate → report → publish plan → the real local CKAN). Everything must come out as
inert text: nothing runs in Chromium, no CSV cell is a formula, no file lands outside the output
directories, and the unit with personal information is withheld from the catalog.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import urllib.request
import uuid
from datetime import date
from pathlib import Path

import ckanapi
import duckdb
import pyarrow.parquet as pq
import pytest
from hostile_content import (
    CSV_INJECTION_TITLES,
    HUGE_ATTRIBUTE,
    ID_NUMBER,
    IMG_UNIT_NAME,
    MOBILE,
    SCRIPT_TITLE,
    TRAVERSAL_NAMES,
    build_hostile_portal,
)

from assets.harvest import HarvestSettings, harvest_units
from assets.normalize.build import normalize_unit
from assets.publish import publish_catalog
from assets.publish.exports import FORMULA_PREFIXES
from assets.publish.metadata import DEFAULT_CONTACT
from assets.publish.names import Names
from assets.publish.plan import plan_catalog
from assets.publish.source import read_snapshot
from assets.validate import validate_warehouse
from assets.validate.report import build_report, page_name
from sample_portal.server import PortalServer
from core.warehouse import connect as warehouse_connect

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The hostile portal through harvest, normalize, validate and the report; files before/after."""
    work = tmp_path_factory.mktemp("hostile")
    spec = build_hostile_portal(work / "portal")
    before = _files(work)
    with PortalServer(spec.out_dir, registry_path=work / "registry.yaml") as server:
        registry = server.registry
        harvest = harvest_units(registry, None, work / "harvest", HarvestSettings(polite=False, max_retries=0))
        requests = server.requests()
    normalize = [normalize_unit(unit, work / "harvest", work / "zwgk.duckdb") for unit in registry.units]
    validation = validate_warehouse(work / "zwgk.duckdb", date(2021, 3, 1), run_id="hostile")
    index = build_report(work / "zwgk.duckdb", work / "report")
    return {"work": work, "spec": spec, "registry": registry, "harvest": harvest, "requests": requests,
            "normalize": normalize, "validation": validation, "index": index, "before": before}


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def _query(run, sql, *params):
    with warehouse_connect(run["work"] / "zwgk.duckdb", read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def chromium_dom(url: str, profile: Path) -> subprocess.CompletedProcess:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium` (CI must)")
    return subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
         "--allow-file-access-from-files", "--enable-logging=stderr", "--v=0", "--dump-dom", url],
        capture_output=True, text=True, timeout=90, check=True,
    )


def test_hostile_pages_are_harvested_and_extracted_as_text(run):
    assert all(s.failed is None for s in run["harvest"])
    assert all(not n.errors for n in run["normalize"]), [n.errors for n in run["normalize"]]
    titles = {t for (t,) in _query(run, "SELECT title FROM resources WHERE unit_id = 'xss'")}
    assert SCRIPT_TITLE in titles  # kept verbatim as data; escaping is the renderer's job
    assert set(CSV_INJECTION_TITLES) <= titles
    [(body,)] = _query(run, "SELECT body_text FROM resources WHERE title = ?", CSV_INJECTION_TITLES[0])
    assert "A" * 1000 not in body  # the 1 MB attribute is markup, not text
    [(name,)] = _query(run, "SELECT name FROM units WHERE unit_id = 'xss'")
    assert name == IMG_UNIT_NAME


def test_crawler_follows_no_hostile_link(run):
    """javascript:, file: and data: links on a page are never requested; a traversal href stays on the host."""
    paths = {r["path"] for r in run["requests"]}
    assert {r["host"] for r in run["requests"]} == {"main"}
    assert not [p for p in paths if re.search(r"javascript|file:|data:|alert", p, re.I)]
    # ../../../../etc/passwd resolves against the page to /etc/passwd on the same host: a status check
    # (HEAD, C18 evidence), never a GET of its body, and the server refuses to leave its root (404).
    passwd = [r for r in run["requests"] if r["path"] == "/etc/passwd"]
    assert passwd and {r["method"] for r in passwd} <= {"HEAD"} and {r["status"] for r in passwd} == {404}
    attachments = _query(run, "SELECT name, url, status FROM attachments WHERE unit_id = 'xss'")
    assert {n for n, _, _ in attachments} <= set(TRAVERSAL_NAMES)
    assert all(u.startswith("http://www.hostile.zwgk.test:") and s == 404 for _, u, s in attachments)


def test_report_renders_hostile_text_inertly_in_chromium(run, tmp_path):
    index = run["index"]
    unit_page = index.parent / "units" / page_name("xss")
    html = unit_page.read_text(encoding="utf-8")
    assert "&lt;script&gt;document.body.setAttribute" in html  # C10/C13 name the document, escaped
    assert "<script>document.body" not in html and "<img src=x" not in html
    for page in (index, unit_page):
        run_ = chromium_dom(page.resolve().as_uri(), tmp_path / "profile")
        dom = run_.stdout
        assert "data-pwned" not in dom.split("<body", 1)[1].split(">", 1)[0], page  # no script ran
        assert "<title>PWNED</title>" not in dom
        assert not re.search(r"<img[^>]*onerror", dom), page
        assert "区教育局\"&gt;&lt;img src=x onerror=" in dom, "the unit name is shown as text"
        assert not [line for line in run_.stderr.splitlines() if "Uncaught" in line], run_.stderr[-2000:]
    dom = chromium_dom(unit_page.resolve().as_uri(), tmp_path / "profile").stdout
    assert "&lt;script&gt;document.body.setAttribute('data-pwned','1');document.title='PWNED'&lt;/script&gt;" in dom


def test_report_and_pipeline_write_nothing_outside_their_directories(run):
    work = run["work"]
    created = _files(work) - run["before"]
    allowed = (work / "harvest", work / "report", work / "portal", work / "zwgk.lake")
    stray = [p for p in created if not any(p.is_relative_to(a) for a in allowed)
             and not p.name.startswith(("zwgk.duckdb", "registry.yaml"))]
    assert stray == []
    assert sorted(p.name for p in (work / "report" / "units").iterdir()) == sorted(
        page_name(u) for u in ("xss", "pii"))
    assert not [p for p in _files(work) if p.name in ("passwd", "win.ini.pdf") or "win.ini" in p.name]


def _plan(run, prefix: str = "t-"):
    return plan_catalog(read_snapshot(run["work"] / "zwgk.duckdb"), Names(prefix), DEFAULT_CONTACT)


def test_csv_export_neutralizes_formulas_and_withholds_personal_information(run):
    catalog = _plan(run)
    assert catalog.blocked_units == ["pii"]  # C20 veto: its directory is not planned
    files = {f"{d.name}/{r.file.file_name}": r.file.data for d in catalog.datasets for r in d.resources}
    assert not any(name.startswith("t-pii-") for name in files)
    for name, data in files.items():
        text = str(pq.read_table(io.BytesIO(data)).to_pylist()) if name.endswith(".parquet") else data.decode("utf-8")
        assert ID_NUMBER not in text and MOBILE not in text, name
        if name.endswith(".csv"):
            rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
            formulas = [cell for row in rows[1:] for cell in row if cell.startswith(FORMULA_PREFIXES)]
            assert formulas == [], (name, formulas[:3])
        if name.endswith(".json"):
            json.loads(data)  # still valid JSON with the hostile text inside
    directory = next(d for n, d in files.items() if n.startswith("t-xss-zfxxgk-ml/") and n.endswith(".csv"))
    rows = list(csv.DictReader(io.StringIO(directory.decode("utf-8-sig"), newline="")))
    titles = {row["名称"] for row in rows}
    assert {"'" + t for t in CSV_INJECTION_TITLES} <= titles
    assert SCRIPT_TITLE in titles  # CSV is not HTML: the text is kept as it was published
    assert all(len(v) < HUGE_ATTRIBUTE for row in rows for v in row.values())


def _download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as answer:  # anonymous: no token
        return answer.read()


def test_ckan_serves_hostile_text_as_inert_text(run, tmp_path):
    from catalog.local import ensure_stack

    stack = ensure_stack()
    names = Names(f"h{uuid.uuid4().hex[:8]}-")
    ckan = ckanapi.RemoteCKAN(stack.url, apikey=stack.token())
    try:
        summary = publish_catalog(run["work"] / "zwgk.duckdb", stack.url, stack.token(), out_dir=tmp_path / "publish",
                                  name_prefix=names.prefix, retries=2, backoff=0.2)
        assert summary.blocked_units == ["pii"] and names.directory("pii") not in summary.created
        directory = ckan.action.package_show(id=names.directory("xss"))
        csv_resource = next(r for r in directory["resources"] if r["format"] == "CSV")
        rows = list(csv.DictReader(io.StringIO(_download(csv_resource["url"]).decode("utf-8-sig"), newline="")))
        assert {"'" + t for t in CSV_INJECTION_TITLES} <= {row["名称"] for row in rows}
        assert not any(v.startswith(FORMULA_PREFIXES) for row in rows for v in row.values())
        # The same rows in the DataStore, downloaded as CSV from the table (its dump): neutral too.
        table = next(r for r in directory["resources"] if r.get("url_type") == "datastore"
                     and r["name"].startswith("政府信息公开目录"))
        dumped = list(csv.DictReader(io.StringIO(_download(table["url"]).decode("utf-8-sig"), newline="")))
        assert {"'" + t for t in CSV_INJECTION_TITLES} <= {row["title"] for row in dumped}
        assert not any(v.startswith(FORMULA_PREFIXES) for row in dumped for v in row.values())
        for dataset in ckan.action.package_search(fq=names.search_filter, rows=100)["results"]:
            for resource in dataset["resources"]:
                body = _download(resource["url"])
                text = (str(pq.read_table(io.BytesIO(body)).to_pylist()) if resource["format"] == "Parquet"
                        else body.decode("utf-8"))
                assert ID_NUMBER not in text and MOBILE not in text, resource["url"]
        page = _download(f"{stack.url}/dataset/{names.directory('xss')}").decode("utf-8")
        assert "<img src=x onerror" not in page and "onerror=\"document.body" not in page
        assert "&lt;img src=x onerror=" in page or "&lt;img src=x" in page, "CKAN shows the name as text"
        assert sorted(os.listdir(tmp_path / "publish")) == sorted(d.name for d in _plan(run, names.prefix).datasets)
    finally:
        for dataset in ckan.action.package_search(fq=names.search_filter, rows=1000, include_private=True)["results"]:
            ckan.action.dataset_purge(id=dataset["id"])
        for org in ckan.action.organization_list(limit=1000):
            if org == names.platform_org or org.startswith(names.platform_org + "-"):
                ckan.action.organization_purge(id=org)


def test_a_valueless_href_on_one_page_does_not_stop_normalize(tmp_path):
    """`<a href>打印</a>` (an attribute without a value, as some CMS templates emit) on one detail
    page: that page still becomes a resource, and the other units of the batch are normalized."""
    from harvest_sites import build_portal

    from assets.normalize.build import normalize_units

    spec = build_portal(tmp_path / "portal")
    path = spec.unit("mzj").items["tzgg"][0][0]
    page = spec.out_dir / "sites" / "main" / path.lstrip("/")
    page.write_bytes(page.read_bytes().replace(b"</h1>", b"</h1><a href>\xe6\x89\x93\xe5\x8d\xb0</a>", 1))
    with PortalServer(spec.out_dir) as server:
        registry = server.registry
        assert all(s.failed is None for s in harvest_units(registry, ["mzj", "kw"], tmp_path / "store",
                                                           HarvestSettings(polite=False)))
    units = [registry.get("kw"), registry.get("mzj")]
    summaries = normalize_units(units, tmp_path / "store", tmp_path / "zwgk.duckdb")
    assert [s.unit_id for s in summaries] == ["kw", "mzj"]
    with warehouse_connect(tmp_path / "zwgk.duckdb", read_only=True) as con:
        urls = {u for (u,) in con.execute("SELECT url FROM resources WHERE unit_id = 'mzj'").fetchall()}
    assert any(u.endswith(path) for u in urls)
