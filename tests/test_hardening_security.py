"""Security, against real servers: the crawler stays in a unit's scope and on HTTP(S), including
across redirects; it connects to no private, loopback, link-local or otherwise non-public address
unless the registry allows it; and the CKAN API token appears in no log, output or error.

What test_harvest*.py already shows is not repeated here: links with javascript:/mailto:/tel:/data:/
ftp: schemes and other units' links are not followed (test_harvest.py), a host resolving to loopback
and a redirect to a literal loopback address are refused (test_harvest_faults.py).
"""

from __future__ import annotations

import io
import logging
import os
import socket
import stat
import subprocess
import sys
import traceback
import uuid
from dataclasses import replace
from pathlib import Path

import ckanapi
import pytest
from hostile_content import RedirectSite
from publish_builder import small_warehouse
from rich.console import Console

from assets.harvest import HarvestSettings, harvest_units, open_unit_store
from assets.publish import PublishError, publish_catalog
from assets.publish.client import CkanClient, CkanUnavailable
from assets.publish.console import publish_with_progress
from assets.publish.names import Names
from core.registry import parse_registry

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parents[1]
A, B = "www.a.scope.zwgk.test", "www.b.scope.zwgk.test"
FAST = HarvestSettings(polite=False, max_retries=0, timeout=3.0)
PAGE = "<html><body><h1>关于开展检查的通知</h1><p>正文。</p></body></html>"


# -- scope and schemes across redirects ------------------------------------------------------------


@pytest.fixture
def sites():
    """Unit jyj on host A (a real HTTP server), a second host B; both resolve to loopback, allowed."""
    with RedirectSite() as a, RedirectSite() as b:
        base = f"http://{A}:{a.port}"
        registry = parse_registry({
            "allow_private_addresses": True, "resolve": {A: ["127.0.0.1"], B: ["127.0.0.1"]},
            "units": [{"id": "jyj", "name": "区教育局", "kind": "bureau", "url": f"{base}/jyj/zfxxgk/"}]})
        yield a, b, base, registry


def _unit_with_redirects(a: RedirectSite, targets: dict[str, str], extra_links: str = "") -> None:
    nav = '<div class="side xxgk-nav"><ul><li><a href="/jyj/zfxxgk/tzgg/">通知公告</a></li></ul></div>'
    items = "".join(f'<li><a href="/jyj/zfxxgk/tzgg/{key}.html">关于第{n}号事项的通知</a>'
                    f'<span class="date">2020-09-{n:02d}</span></li>' for n, key in enumerate(targets, start=1))
    a.html("/jyj/zfxxgk/", f"<html><body>{nav}{extra_links}</body></html>")
    a.html("/jyj/zfxxgk/tzgg/", f"<html><body>{nav}<ul class='list'>{items}</ul></body></html>")
    for key, location in targets.items():
        a.redirect(f"/jyj/zfxxgk/tzgg/{key}.html", location)


def test_redirects_to_non_http_schemes_are_refused_and_reported(sites, tmp_path):
    a, b, base, registry = sites
    targets = {"file": "file:///etc/passwd", "ftp": f"ftp://{A}/pub/x.html", "js": "javascript:alert(1)",
               "data": "data:text/html,<script>alert(1)</script>", "ok": f"{base}/jyj/zfxxgk/tzgg/ok.html"}
    _unit_with_redirects(a, targets, f'<a href="file:///etc/passwd">本地</a><a href="gopher://{A}/x">x</a>')
    a.html("/jyj/zfxxgk/tzgg/ok.html", PAGE)
    summary = harvest_units(registry, None, tmp_path / "store", FAST)[0]
    errors = {e.url.rsplit("/", 1)[1]: e.error for e in summary.errors}
    assert errors == {f"{k}.html": f"redirect to a non-HTTP location {v!r}" for k, v in targets.items() if k != "ok"}
    pages = {p["url"].rsplit("/", 1)[1]: p for p in open_unit_store(tmp_path / "store", "jyj").pages.to_pylist()}
    assert pages["ok.html"]["sha256"] and all(pages[f"{k}.html"]["sha256"] is None for k in targets if k != "ok")
    assert b.requests == [] and all(path.startswith(("/jyj/", "/robots.txt")) for _, path in a.requests)


def test_a_redirect_to_another_host_is_not_followed(sites, tmp_path):
    """A unit's page that redirects to a host outside its scope (not its host, not an allowed host)
    must not make the crawler contact that host, nor store that host's page as the unit's."""
    a, b, _base, registry = sites
    _unit_with_redirects(a, {"away": f"http://{B}:{b.port}/steal.html"})
    b.html("/steal.html", PAGE)
    summary = harvest_units(registry, None, tmp_path / "store", FAST)[0]
    assert b.requests == [], "the crawler left the unit's scope through a redirect"
    page = next(p for p in open_unit_store(tmp_path / "store", "jyj").pages.to_pylist() if p["url"].endswith("away.html"))
    assert page["sha256"] is None and page["error"] and [e.url for e in summary.errors] == [page["url"]]


def test_a_redirect_to_another_units_path_is_not_harvested_as_this_units_page(sites, tmp_path):
    """Scope is host *and* path prefix (集约化: units share hosts): a detail page redirecting into
    another unit's column must not be fetched as this unit's page."""
    a, _b, base, registry = sites
    _unit_with_redirects(a, {"other": f"{base}/mzj/zfxxgk/secret.html"})
    a.html("/mzj/zfxxgk/secret.html", PAGE)
    harvest_units(registry, None, tmp_path / "store", FAST)
    assert ("GET", "/mzj/zfxxgk/secret.html") not in a.requests
    page = next(p for p in open_unit_store(tmp_path / "store", "jyj").pages.to_pylist() if p["url"].endswith("other.html"))
    assert page["sha256"] is None and page["error"]


# -- private and other non-public addresses ---------------------------------------------------------

NON_PUBLIC = [
    "127.0.0.2", "10.1.2.3", "172.16.5.4", "192.168.1.1", "169.254.169.254", "0.0.0.0", "224.0.0.1", "198.18.0.1",
    "::1", "::ffff:127.0.0.1", "::ffff:a01:203", "fe80::1", "fc00::1", "64:ff9b::7f00:1",
    "100.64.0.1",       # RFC 6598 shared address space (carrier-grade NAT): not public
    "100.100.100.200",  # ... and in it, Alibaba Cloud's instance metadata service
]


@pytest.fixture
def listener():
    """A real server on loopback that must never be reached."""
    with RedirectSite() as site:
        site.html("/jyj/zfxxgk/", PAGE)
        yield site


@pytest.mark.parametrize("address", NON_PUBLIC)
def test_a_host_resolving_to_a_non_public_address_is_refused_before_connecting(address, listener, tmp_path):
    registry = parse_registry({"allow_private_addresses": False, "resolve": {A: [address]}, "units": [
        {"id": "jyj", "name": "区教育局", "kind": "bureau", "url": f"http://{A}:{listener.port}/jyj/zfxxgk/"}]})
    summary = harvest_units(registry, None, tmp_path / "store", replace(FAST, timeout=1.0))[0]
    assert [e.error.split(":")[0] for e in summary.errors] == ["address refused"], [e.error for e in summary.errors]
    assert listener.requests == []


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "[::ffff:127.0.0.1]", "[0:0:0:0:0:ffff:7f00:1]", "0x7f000001",
                                  "2130706433", "0177.0.0.1", "127.1", "localhost", "169.254.169.254"])
def test_loopback_in_any_spelling_is_never_connected_to(host, listener, tmp_path):
    registry = parse_registry({"allow_private_addresses": False, "units": [
        {"id": "jyj", "name": "区教育局", "kind": "bureau", "url": f"http://{A}/jyj/zfxxgk/"}]})
    unit = replace(registry.units[0], url=f"http://{host}:{listener.port}/jyj/zfxxgk/")
    summary = harvest_units(registry, [unit], tmp_path / "store", replace(FAST, timeout=1.0))[0]
    assert summary.errors and summary.errors[0].error.startswith(("address refused", "bad response")), summary.errors
    assert listener.requests == []


# -- the CKAN API token -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack():
    from catalog.local import ensure_stack

    return ensure_stack()


def test_the_token_file_is_readable_by_its_owner_only(stack):
    assert stat.S_IMODE(stack.token_file.stat().st_mode) & 0o077 == 0


def _chain_text(exc: BaseException) -> str:
    """Everything an error could show: str, repr and the formatted traceback of the whole chain."""
    return "".join(traceback.format_exception(exc)) + repr(exc) + str(exc) + repr(getattr(exc, "__dict__", ""))


def test_a_real_publish_logs_and_prints_no_token(stack, tmp_path, caplog, capfd):
    names = Names(f"s{uuid.uuid4().hex[:8]}-")
    token = stack.token()
    warehouse = small_warehouse().write(tmp_path / "w.duckdb")
    console_text = io.StringIO()
    caplog.set_level(logging.DEBUG)  # every logger: urllib3, requests, ckanapi, ours
    ckan = ckanapi.RemoteCKAN(stack.url, apikey=token)
    try:
        publish_with_progress(warehouse, stack.url, token, out_dir=tmp_path / "out", name_prefix=names.prefix,
                              console=Console(file=console_text, force_terminal=True, width=200), retries=1,
                              backoff=0.1)
        captured = capfd.readouterr()
        logged = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)
        assert caplog.records, "DEBUG logging captured nothing: the check would be vacuous"
        for where, text in (("log", logged), ("console", console_text.getvalue()), ("stdout", captured.out),
                            ("stderr", captured.err)):
            assert token not in text, where
        written = b"".join(p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file())
        assert token.encode() not in written
    finally:
        for dataset in ckan.action.package_search(fq=names.search_filter, rows=1000, include_private=True)["results"]:
            ckan.action.dataset_purge(id=dataset["id"])
        for org in ckan.action.organization_list(limit=1000):
            if org == names.platform_org or org.startswith(names.platform_org + "-"):
                ckan.action.organization_purge(id=org)


def test_a_wrong_token_is_rejected_without_being_echoed(stack, tmp_path, caplog):
    wrong = f"wrong-{uuid.uuid4().hex}"
    caplog.set_level(logging.DEBUG)
    warehouse = small_warehouse().write(tmp_path / "w.duckdb")
    with pytest.raises(PublishError) as failure:  # CKAN answers 403 on the first write
        publish_catalog(warehouse, stack.url, wrong, out_dir=tmp_path / "out",
                        name_prefix=f"s{uuid.uuid4().hex[:8]}-", retries=0)
    assert "rejected" in str(failure.value) and "Authorization" in str(failure.value)
    assert wrong not in _chain_text(failure.value)
    assert wrong not in "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)


def test_zwgk_publish_with_a_wrong_token_exits_without_echoing_it(stack, tmp_path):
    wrong = f"wrong-{uuid.uuid4().hex}"
    warehouse = small_warehouse().write(tmp_path / "w.duckdb")
    env = {**os.environ, "ZWGK_CKAN_URL": stack.url, "ZWGK_CKAN_TOKEN": wrong, "COLUMNS": "200"}
    result = subprocess.run([sys.executable, "-m", "zwgk.cli", "publish", "--db", str(warehouse),
                             "--out-dir", str(tmp_path / "out")], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 1 and "publish failed" in output, output[-3000:]
    assert wrong not in output


def test_a_crash_in_zwgk_publish_does_not_print_the_token_in_its_traceback(stack, tmp_path):
    secret = f"secret-{uuid.uuid4().hex}"
    env = {**os.environ, "ZWGK_CKAN_URL": stack.url, "ZWGK_CKAN_TOKEN": secret, "COLUMNS": "200"}
    result = subprocess.run([sys.executable, "-m", "zwgk.cli", "publish", "--db", str(tmp_path / "missing.duckdb"),
                             "--out-dir", str(tmp_path / "out")], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0
    assert secret not in result.stdout + result.stderr


def test_unreachable_ckan_errors_carry_no_token(tmp_path):
    secret = f"secret-{uuid.uuid4().hex}"
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(CkanUnavailable) as failure:
        CkanClient(f"http://127.0.0.1:{port}", secret, retries=1, backoff=0.01, timeout=1).read("package_search")
    assert secret not in _chain_text(failure.value)


def test_a_server_reflecting_the_request_does_not_put_the_token_in_the_error():
    """A proxy or a debug error page that echoes the request headers (in a 5xx or a 4xx body) must
    not carry the token into the error message, which the CLI prints and the run logs keep."""
    secret = f"secret-{uuid.uuid4().hex}"
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    import threading

    class Reflect(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = f"upstream error; request headers were:\n{self.headers}".encode()
            self.send_response(502 if "package_search" in self.path else 403)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Reflect)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        client = CkanClient(f"http://127.0.0.1:{httpd.server_port}", secret, retries=0, backoff=0.01, timeout=5)
        leaks = {}
        for action, call in (("package_search", lambda: client.read("package_search")),
                             ("package_create", lambda: client.write("package_create", "x-zfxxgk-ml", name="x"))):
            with pytest.raises(PublishError) as failure:
                call()
            if secret in _chain_text(failure.value):
                leaks[action] = str(failure.value)[:300]
        assert leaks == {}
    finally:
        httpd.shutdown()
        httpd.server_close()
