"""The supervisors' report, opened in real headless Chromium.

One local http.server on 127.0.0.1 serves both the generated report and a mirror of the units'
pages, so the report's evidence links can be followed like a supervisor would. Chromium is a
hard requirement here: CI installs it (`apt-get install -y chromium`), and a missing browser
must fail the suite, not silently skip the only end-to-end check of the report.
"""

from __future__ import annotations

import functools
import re
import subprocess
import threading
import urllib.request
from datetime import timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from assets.validate import validate_warehouse
from assets.validate.report import build_report, page_name, safe_href
from warehouse_builder import AS_OF, Warehouse

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
XSS_TITLE = '<script>alert("xss")</script>关于印发专项资金管理办法的通知'


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(root directory, base URL) of a local web server that lives as long as the module's tests."""
    root = tmp_path_factory.mktemp("served")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _mirror(root: Path, w: Warehouse) -> None:
    """Put a page at every entry, column and resource URL, as the real site would have."""
    urls = [u.row["url"] for u in w.units.values()]
    urls += [c["url"] for u in w.units.values() for c in u.columns.values()]
    urls += [r["url"] for u in w.units.values() for r in u.resources]
    for url in urls:
        path = root / urlsplit(url).path.lstrip("/")
        if url.endswith("/"):
            path = path / "index.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("<!DOCTYPE html><title>page</title>", encoding="utf-8")


@pytest.fixture(scope="module")
def report(server, tmp_path_factory):
    """A report over two runs of five units: one with a `<script>` in a failing document's title, one
    whose entry is missing, one behind an anti-bot gate (无法核查), and one column nobody could read."""
    root, base = server
    host = urlsplit(base).netloc
    w = Warehouse(tmp_path_factory.mktemp("report") / "warehouse.duckdb")
    w.compliant_unit("qzf", "district", name="滨海新区人民政府", host=host)
    w.compliant_unit("xgjd", "street", name="新港街道", host=host)
    unsafe = w.compliant_unit("jyj", "bureau", name="区教育局", host=host)
    unsafe.docs(doc_kind="规范性文件")[0].update(title=XSS_TITLE, validity_period_text=None, valid_until=None)
    w.compliant_unit("dead", "town", name="中塘镇", host=host, entry_ok=False)
    w.compliant_unit("gated", "zone", name="东疆综合保税区管委会", host=host, entry_ok=False, access="blocked",
                     access_detail="瑞数 challenge (HTTP 412)", emergency_duties=True)
    w.units["xgjd"].columns["guide"].update(access="unreachable", access_detail="timeout: timeout after 20s")
    db = w.write()
    _mirror(root, w)
    validate_warehouse(db, AS_OF - timedelta(days=30), run_id="earlier")
    validate_warehouse(db, AS_OF, run_id="latest")
    index = build_report(db, root / "report")
    return {"db": db, "index": index, "base": base, "url": f"{base}/report/index.html"}


def chromium(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium` (CI must)")
    return subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         "--enable-logging=stderr", "--v=0", *args],
        capture_output=True, text=True, timeout=90, check=True,
    )


def console_messages(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def test_index_renders_without_console_errors(report, tmp_path):
    run = chromium("--dump-dom", report["url"], tmp_path=tmp_path)
    assert console_messages(run.stderr) == []
    dom = run.stdout
    cells = re.findall(r'<td class="cell (s-[a-z]+)"', dom)
    assert len(cells) == 5 * 22, "the heat map has one cell per unit and check"
    assert {"s-pass", "s-fail", "s-veto", "s-na", "s-unverified"} <= set(cells)
    assert dom.count('<tr data-kind="') == 2 * 5  # ranking and heat map
    assert re.search(r'<polyline points="[\d.]+,[\d.]+ [\d.]+,[\d.]+"', dom), "trend over the two runs"
    assert "显示 5 个单位" in dom, "the inline filter script ran"
    for href in re.findall(r'href="(units/[^"#]+)', dom):
        assert (report["index"].parent / href).exists()


def test_kind_filter_hides_other_kinds(report, tmp_path):
    dom = chromium("--dump-dom", report["url"] + "#kind=street", tmp_path=tmp_path).stdout
    assert re.findall(r'<tr data-kind="(\w+)">', dom) == ["street", "street"]
    assert len(re.findall(r'<tr data-kind="\w+" hidden="">', dom)) == 2 * 4


def test_unit_page_escapes_harvested_text_and_links_evidence(report, tmp_path):
    url = f"{report['base']}/report/units/{page_name('jyj')}"
    run = chromium("--dump-dom", url, tmp_path=tmp_path)
    assert console_messages(run.stderr) == []
    dom = run.stdout
    assert "&lt;script&gt;alert(\"xss\")&lt;/script&gt;" in dom
    assert "<script>alert" not in dom
    assert len(re.findall(r'<tr id="C\d\d" class="result', dom)) == 22
    assert "依据：通知 一.3" in dom, "each check shows its legal basis"
    row = re.search(r'<tr id="C10".*?</tr>', dom, re.S).group(0)
    evidence = re.findall(r'<td class="msg evidence"><a href="([^"]+)"', row)
    assert evidence and evidence[0].startswith(report["base"])
    with urllib.request.urlopen(evidence[0], timeout=10) as answer:
        assert answer.status == 200


def test_a_unit_that_could_not_be_read_is_shown_as_its_own_verdict(report, tmp_path):
    """无法核查 has its own count, colour and place in the ranking; its page says why, with evidence."""
    dom = chromium("--dump-dom", report["url"], tmp_path=tmp_path).stdout
    stats = dict(re.findall(r'<div class="stat">(\S+) <span class="en">[^<]*</span><b>(?:<span[^>]*>)?(\d+)', dom))
    assert (stats["合格"], stats["不合格"], stats["无法核查"]) == ("3", "1", "1")
    ranking = re.search(r'<table class="ranking">.*?</table>', dom, re.S).group(0)
    rows = re.findall(r'<tr data-kind="\w+">\s*<td class="num">([^<]*)</td>\s*<td><a [^>]*>([^<]+)</a>', ranking)
    assert rows[-1] == ("—", "东疆综合保税区管委会"), "unranked, after every verified unit"
    assert '<span class="badge unverified">无法核查</span>' in ranking
    assert "合格率按可核查的4个单位计算" in dom

    page = chromium("--dump-dom", f"{report['base']}/report/units/{page_name('gated')}", tmp_path=tmp_path).stdout
    assert "本次未能读取该单位的专栏 — 反爬拦截（瑞数 challenge (HTTP 412)）" in page
    assert page.count('<span class="badge unverified">无法核查</span>') == 1 + 22 - 2  # the verdict; C14, C17 do not apply
    street = chromium("--dump-dom", f"{report['base']}/report/units/{page_name('xgjd')}", tmp_path=tmp_path).stdout
    access = re.search(r'<section id="access">.*?</section>', street, re.S).group(0)
    assert '<span class="badge unverified">无法访问</span>' in access and "timeout after 20s" in access


def test_screenshots_are_saved_as_artifacts(report, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    for name, url in (("report_index.png", report["url"]),
                      ("report_unit.png", f"{report['base']}/report/units/{page_name('jyj')}"),
                      ("report_unit_unverified.png", f"{report['base']}/report/units/{page_name('gated')}")):
        target = ARTIFACTS / name
        target.unlink(missing_ok=True)
        chromium("--window-size=1400,2000", f"--screenshot={target}", url, tmp_path=tmp_path)
        assert target.stat().st_size > 10_000


def test_report_links_gx_data_docs_when_present(report, tmp_path):
    docs = tmp_path / "out" / "gx" / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    docs.parent.mkdir(parents=True)
    docs.write_text("<html></html>", encoding="utf-8")
    index = build_report(report["db"], tmp_path / "out", run_id="earlier")
    html = index.read_text(encoding="utf-8")
    assert 'href="gx/gx/uncommitted/data_docs/local_site/index.html"' in html
    assert "运行 earlier" in html


def test_report_needs_a_run(tmp_path):
    db = Warehouse(tmp_path / "empty.duckdb").write()
    with pytest.raises(ValueError, match="no validation run"):
        build_report(db, tmp_path / "out")


def test_only_web_urls_become_links():
    assert safe_href("https://www.bh.zwgk.test/a.html") == "https://www.bh.zwgk.test/a.html"
    assert safe_href("javascript:alert(1)") is None and safe_href(None) is None
    assert page_name("jyj") == "jyj.html"
    assert page_name("../etc/passwd").startswith("___etc_passwd-") and "/" not in page_name("../etc/passwd")
