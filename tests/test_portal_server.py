"""The sample portal's HTTP server (aiohttp.web underneath), over real sockets on loopback.

Throughput is measured by ``bench/bench_portal_server.py`` against the previous hand-written
server, each alone in its process, with an aiohttp client in another (2-core machine, busy with
other work; one run, medians of 3 alternations, 12,802 files): ~3,800 requests/s on 16 or 32
keep-alive connections for both, the client being the limit; the server's own cost is
0.24-0.25 CPU ms per request with its cache warm (old: 0.17-0.18) and 0.40 cold (old: 0.35), and
a harvest of the same portal ran at 466 pages/s against it (old: 473).
`test_keep_alive_throughput` runs its client in the server's process (sharing the GIL), so it
only asserts a low floor.
"""

from __future__ import annotations

import asyncio
import email.utils
import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
import types
import urllib.parse
from pathlib import Path

import aiohttp
import pytest
import trustme
from aiohttp import web
from aiohttp.abc import AbstractResolver

from sample_portal.server import (
    NOT_FOUND_TEXT,
    Host,
    PortalServer,
    assign_ports,
    load_manifest,
    parse_range,
)
from core.registry import load_registry

MTIME_NS = 1_614_556_800_123_456_789  # 2021-03-01, with nanoseconds, as the generator sets them
LIST_PAGE = "<html><body>区教育局 信息公开目录 第1页</body></html>\n"
LIST_PAGE_2 = "<html><body>区教育局 信息公开目录 第2页</body></html>\n"
FTZ_PAGE = '<html><head><meta charset="gbk"></head><body>自贸区政务公开</body></html>\n'
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"
BIG = bytes(i * 7 % 251 for i in range(700_000))  # above the in-memory cache limit: sent with sendfile
SECRET = b"outside-the-document-root"
REPO = Path(__file__).resolve().parents[1]


def write(path: Path, data: bytes | str, encoding: str = "utf-8") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    os.utime(path, ns=(MTIME_NS, MTIME_NS))


def build_portal(out: Path) -> Path:
    manifest = {
        "generator": "zwgk-sample-portal",
        "version": 1,
        "seed": 1,
        "as_of": "2021-03-01",
        "hosts": [
            {"key": "main", "hostname": "www.bh.zwgk.test", "root": "sites/main", "ipv6": True, "charset": "utf-8"},
            {"key": "ftz", "hostname": "www.ftz.zwgk.test", "root": "sites/ftz", "ipv6": False, "charset": "gbk"},
        ],
        "units": [
            {"id": "bh", "name": "滨海新区人民政府", "kind": "district", "host": "main", "path": "/zfxxgk/"},
            {"id": "jyj", "name": "区教育局", "kind": "bureau", "host": "main", "path": "/jyj/zfxxgk/",
             "parent": "bh", "aliases": ["教育局"], "emergency_duties": False, "key_areas": ["招生录取"]},
            {"id": "ftz", "name": "自贸区管委会", "kind": "zone", "host": "ftz", "path": "/zwgk/", "parent": "bh"},
        ],
    }
    write(out / "portal.json", json.dumps(manifest, ensure_ascii=False))
    write(out / "secret.txt", SECRET)
    main, ftz = out / "sites/main", out / "sites/ftz"
    write(main / "index.html", "<html><body>滨海新区</body></html>\n")
    write(main / "robots.txt", "User-agent: *\nDisallow: /private/\n")
    write(main / "zfxxgk/index.html", "<html><body>政府信息公开</body></html>\n")
    write(main / "jyj/zfxxgk/index.html", "<html><body>区教育局</body></html>\n")
    write(main / "jyj/zfxxgk/list.html", LIST_PAGE)
    write(main / "jyj/zfxxgk/list.html@page=2", LIST_PAGE_2)
    write(main / "jyj/files/report.pdf", PDF)
    write(main / "jyj/files/big.pdf", BIG)
    write(main / "中文/说明.txt", "说明")
    (main / "link.txt").symlink_to(out / "secret.txt")
    write(ftz / "index.html", FTZ_PAGE, encoding="gbk")
    write(ftz / "robots.txt", "User-agent: *\nDisallow:\n")
    return out


@pytest.fixture(scope="module")
def portal_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_portal(tmp_path_factory.mktemp("portal"))


@pytest.fixture(scope="module")
def server(portal_dir: Path):
    with PortalServer(portal_dir) as running:
        yield running


@pytest.fixture(autouse=True)
def clean_state(request: pytest.FixtureRequest):
    yield
    if "server" in request.fixturenames:
        running = request.getfixturevalue("server")
        running.clear_faults()
        running.clear_requests()


# ------------------------------------------------------------------ helpers


def get(server: PortalServer, host: str, path: str, headers: dict | None = None, method: str = "GET"):
    """One request on a fresh connection: (status, lower-cased headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.ports[host], timeout=5)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


def exchange(port: int, data: bytes, family: int = socket.AF_INET, timeout: float = 5.0) -> bytes:
    """Send raw bytes on a fresh connection; everything received until the server closes."""
    address = ("::1" if family == socket.AF_INET6 else "127.0.0.1", port)
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(address)
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def split_response(data: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def raw_get(port: int, target: str, family: int = socket.AF_INET) -> tuple[int, dict[str, str], bytes]:
    return split_response(exchange(port, f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode(), family))


# ------------------------------------------------------------------ static files


def test_get_serves_file_with_nginx_style_validators(server: PortalServer) -> None:
    status, headers, body = get(server, "main", "/jyj/zfxxgk/list.html")
    size = len(LIST_PAGE.encode())
    assert status == 200
    assert body.decode() == LIST_PAGE
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["etag"] == f'"{size:x}-{MTIME_NS:x}"'
    assert headers["last-modified"] == email.utils.formatdate(MTIME_NS // 10**9, usegmt=True)
    assert headers["content-length"] == str(size)


def test_if_none_match_gives_304_without_body(server: PortalServer) -> None:
    _, first, _ = get(server, "main", "/jyj/files/report.pdf")
    status, headers, body = get(server, "main", "/jyj/files/report.pdf", {"If-None-Match": first["etag"]})
    assert (status, body) == (304, b"")
    assert headers["etag"] == first["etag"]
    status, _, body = get(server, "main", "/jyj/files/report.pdf", {"If-None-Match": '"0-0"'})
    assert (status, body) == (200, PDF)


def test_if_modified_since_gives_304_unless_stale(server: PortalServer) -> None:
    _, first, _ = get(server, "main", "/index.html")
    status, _, body = get(server, "main", "/index.html", {"If-Modified-Since": first["last-modified"]})
    assert (status, body) == (304, b"")
    earlier = email.utils.formatdate(MTIME_NS // 10**9 - 3600, usegmt=True)
    status, _, body = get(server, "main", "/index.html", {"If-Modified-Since": earlier})
    assert status == 200 and body
    # If-None-Match wins over If-Modified-Since when both are sent.
    both = {"If-Modified-Since": first["last-modified"], "If-None-Match": '"stale"'}
    assert get(server, "main", "/index.html", both)[0] == 200


def test_ipv6_only_on_hosts_that_have_it(server: PortalServer) -> None:
    status, _, body = raw_get(server.ports["main"], "/index.html", socket.AF_INET6)
    assert status == 200 and "滨海新区" in body.decode()
    with pytest.raises(ConnectionRefusedError):
        raw_get(server.ports["ftz"], "/index.html", socket.AF_INET6)
    assert raw_get(server.ports["ftz"], "/index.html")[0] == 200


def test_gbk_host_declares_and_serves_gbk(server: PortalServer) -> None:
    status, headers, body = get(server, "ftz", "/")
    assert status == 200
    assert headers["content-type"] == "text/html; charset=gbk"
    assert body.decode("gbk") == FTZ_PAGE
    status, headers, body = get(server, "ftz", "/missing.html")
    assert status == 404 and "页面不存在" in body.decode("gbk")


def test_directory_index_and_slash_redirect(server: PortalServer) -> None:
    assert "区教育局" in get(server, "main", "/jyj/zfxxgk/")[2].decode()
    assert "滨海新区" in get(server, "main", "/")[2].decode()
    status, headers, _ = get(server, "main", "/jyj/zfxxgk?from=nav")
    assert status == 301 and headers["location"] == "/jyj/zfxxgk/?from=nav"
    assert get(server, "main", "/jyj/")[0] == 404  # no index.html there, and no listing


def test_query_string_maps_to_at_file(server: PortalServer) -> None:
    assert get(server, "main", "/jyj/zfxxgk/list.html?page=2")[2].decode() == LIST_PAGE_2
    status, _, body = get(server, "main", "/jyj/zfxxgk/list.html?page=3")
    assert status == 404 and "页面不存在" in body.decode()
    assert get(server, "main", "/jyj/zfxxgk/list.html?utm_source=rss")[2].decode() == LIST_PAGE
    assert get(server, "main", "/jyj/zfxxgk/list.html?x=/etc")[0] == 400
    assert get(server, "main", "/jyj/zfxxgk/list.html?x=..")[0] == 400


def test_percent_encoded_utf8_paths(server: PortalServer) -> None:
    status, headers, body = get(server, "main", "/%E4%B8%AD%E6%96%87/%E8%AF%B4%E6%98%8E.txt")
    assert (status, body.decode()) == (200, "说明")
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert get(server, "main", "/%FF.html")[0] == 400


@pytest.mark.parametrize(
    "target",
    [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/jyj/%2E%2E/%2e%2e/%2e%2e/secret.txt",
        "/..%2f..%2fsecret.txt",
        "//../../secret.txt",
        "/jyj/..%2F..%2F..%2Fportal.json",
        "/link.txt",  # symlink pointing out of the root
        "http://www.bh.zwgk.test/../../secret.txt",
    ],
)
def test_path_traversal_never_leaves_the_root(server: PortalServer, target: str) -> None:
    status, _, body = raw_get(server.ports["main"], target)
    assert status in (400, 404)
    assert SECRET not in body and b"zwgk-sample-portal" not in body


def test_head_sends_headers_only_and_keeps_the_connection(server: PortalServer) -> None:
    request = b"HEAD /jyj/files/report.pdf HTTP/1.1\r\nHost: x\r\n\r\nGET /robots.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    data = exchange(server.ports["main"], request)
    head, _, rest = data.partition(b"\r\n\r\n")
    status, headers, _ = split_response(head + b"\r\n\r\n")
    assert status == 200
    assert headers["content-length"] == str(len(PDF)) and headers["content-type"] == "application/pdf"
    assert rest.startswith(b"HTTP/1.1 200 OK")  # the next answer follows at once: no body was sent
    assert rest.endswith(b"Disallow: /private/\n")


def test_keep_alive_reuses_one_connection(server: PortalServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.ports["main"], timeout=5)
    try:
        sockets = set()
        for path in ("/", "/robots.txt", "/jyj/zfxxgk/list.html?page=2"):
            conn.request("GET", path)
            assert conn.getresponse().read()
            sockets.add(id(conn.sock))
        assert len(sockets) == 1
    finally:
        conn.close()
    http10 = exchange(server.ports["main"], b"GET /robots.txt HTTP/1.0\r\n\r\n")  # closes by default
    assert http10.startswith(b"HTTP/1.1 200") and b"Connection: close" in http10
    kept = b"GET /robots.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /robots.txt HTTP/1.0\r\n\r\n"
    answers = exchange(server.ports["main"], kept).split(b"HTTP/1.1 200 OK")
    assert len(answers) == 3 and b"Connection: keep-alive" in answers[1] and b"Connection: close" in answers[2]


def test_range_requests(server: PortalServer) -> None:
    status, headers, body = get(server, "main", "/jyj/files/report.pdf", {"Range": "bytes=0-3"})
    assert (status, body, headers["content-range"]) == (206, b"%PDF", f"bytes 0-3/{len(PDF)}")
    assert get(server, "main", "/jyj/files/report.pdf", {"Range": "bytes=-6"})[2] == PDF[-6:]
    status, headers, body = get(server, "main", "/jyj/files/big.pdf", {"Range": "bytes=600000-600099"})
    assert (status, body) == (206, BIG[600000:600100])
    assert get(server, "main", "/jyj/files/big.pdf")[2] == BIG
    status, headers, _ = get(server, "main", "/jyj/files/report.pdf", {"Range": "bytes=99999-"})
    assert status == 416 and headers["content-range"] == f"bytes */{len(PDF)}"


def test_parse_range_edge_cases() -> None:
    assert parse_range("bytes=5-", 10) == (5, 9)
    assert parse_range("bytes=5-100", 10) == (5, 9)
    assert parse_range("bytes=0-1,4-5", 10) is None  # multiple ranges: whole file
    assert parse_range("items=0-1", 10) is None
    assert parse_range("bytes=7-3", 10) is None


def test_other_methods_get_405(server: PortalServer) -> None:
    status, headers, _ = get(server, "main", "/index.html", method="DELETE")
    assert status == 405 and headers["allow"] == "GET, HEAD"


def test_keep_alive_throughput(server: PortalServer) -> None:
    """A floor, not the benchmark: the client here competes with the server for the GIL."""
    request = b"GET /jyj/zfxxgk/list.html HTTP/1.1\r\nHost: www.bh.zwgk.test\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.ports["main"]), timeout=5) as sock:
        reader = sock.makefile("rb")
        count, started = 0, time.perf_counter()
        while time.perf_counter() - started < 0.5:
            sock.sendall(request)
            assert reader.readline().startswith(b"HTTP/1.1 200")
            length = 0
            while (line := reader.readline()) != b"\r\n":
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            reader.read(length)
            count += 1
    rate = count / (time.perf_counter() - started)
    print(f"in-process keep-alive throughput: {rate:.0f} requests/s")
    assert rate > 300


# ------------------------------------------------------------------ faults


def test_delay_fault(server: PortalServer) -> None:
    server.add_fault(host="main", path="/robots.txt", kind="delay", seconds=0.3)
    started = time.monotonic()
    status, _, body = get(server, "main", "/robots.txt")
    assert time.monotonic() - started >= 0.3
    assert status == 200 and b"Disallow" in body


def test_status_fault_is_used_up_after_times(server: PortalServer) -> None:
    server.add_fault(host="*", path="/jyj/*", kind="status", code=503, times=2, retry_after=7)
    first = get(server, "main", "/jyj/zfxxgk/")
    assert (first[0], first[1]["retry-after"]) == (503, "7")
    assert get(server, "main", "/jyj/zfxxgk/")[0] == 503
    assert get(server, "main", "/jyj/zfxxgk/")[0] == 200
    assert server.faults() == []
    assert [r["fault"] for r in server.requests()] == ["status", "status", None]


def test_fault_is_limited_to_its_host(server: PortalServer) -> None:
    server.add_fault(host="ftz", kind="status", code=500)
    assert get(server, "main", "/")[0] == 200
    assert get(server, "ftz", "/")[0] == 500


def test_timeout_fault_answers_nothing_then_closes(server: PortalServer) -> None:
    server.add_fault(path="/index.html", kind="timeout", seconds=0.3)
    started = time.monotonic()
    data = exchange(server.ports["main"], b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")
    assert data == b""
    assert 0.3 <= time.monotonic() - started < 3
    assert server.requests()[-1]["status"] is None


def test_truncate_fault_sends_less_than_content_length(server: PortalServer) -> None:
    server.add_fault(path="/jyj/files/*", kind="truncate", times=2)
    keep_alive = b"GET /jyj/files/report.pdf HTTP/1.1\r\nHost: x\r\n\r\n"
    status, headers, body = split_response(exchange(server.ports["main"], keep_alive, timeout=2))  # server closes
    assert status == 200
    assert int(headers["content-length"]) == len(PDF) and len(body) == len(PDF) // 2
    _, headers, body = raw_get(server.ports["main"], "/jyj/files/big.pdf")  # the sendfile path
    assert int(headers["content-length"]) == len(BIG) and body == BIG[: len(BIG) // 2]


def test_redirect_loop_fault_keeps_redirecting(server: PortalServer) -> None:
    server.add_fault(path="/jyj/zfxxgk/list.html", kind="redirect_loop")
    target, seen = "/jyj/zfxxgk/list.html", []
    for _ in range(6):
        status, headers, _ = get(server, "main", target)
        assert status == 302
        target = headers["location"]
        seen.append(target)
    assert seen == [f"/jyj/zfxxgk/list.html?loop={n}" for n in range(1, 7)]


def test_reset_fault_closes_without_answer(server: PortalServer) -> None:
    server.add_fault(path="/robots.txt", kind="reset", times=1)
    with pytest.raises(ConnectionResetError):  # an RST, not an orderly close
        raw_get(server.ports["main"], "/robots.txt")
    assert get(server, "main", "/robots.txt")[0] == 200


def test_huge_fault_streams_a_valid_page_of_the_given_size(server: PortalServer) -> None:
    server.add_fault(path="/jyj/zfxxgk/", kind="huge", size=300_000)
    status, headers, body = get(server, "main", "/jyj/zfxxgk/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert len(body) == int(headers["content-length"]) == 300_000
    assert body.startswith(b"<!DOCTYPE html>") and body.endswith(b"</body></html>\n")


def test_wrong_charset_fault(server: PortalServer) -> None:
    server.add_fault(host="main", path="/index.html", kind="wrong_charset")
    server.add_fault(host="ftz", path="/index.html", kind="wrong_charset", charset="big5")
    status, headers, body = get(server, "main", "/index.html")
    assert headers["content-type"] == "text/html; charset=gbk" and "滨海新区" in body.decode()
    assert get(server, "ftz", "/index.html")[1]["content-type"] == "text/html; charset=big5"


def test_binary_as_html_fault(server: PortalServer) -> None:
    server.add_fault(path="/zfxxgk/", kind="binary_as_html", size=4096)
    status, headers, body = get(server, "main", "/zfxxgk/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert len(body) == 4096
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")


@pytest.mark.parametrize(
    "fault",
    [{"kind": "explode"}, {"kind": "delay", "times": 0}, {"kind": "delay", "speed": 1}, {"kind": "status", "code": 999},
     {"kind": "delay", "host": "nowhere"}, {"kind": "huge", "size": -1}],
)
def test_invalid_faults_are_rejected(server: PortalServer, fault: dict) -> None:
    with pytest.raises(ValueError):
        server.add_fault(**fault)


def test_control_endpoint(server: PortalServer) -> None:
    port = server.ports["ftz"]
    body = json.dumps({"host": "*", "path": "/robots.txt", "kind": "status", "code": 500, "times": 1})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("POST", "/__zwgk__/faults", body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        assert response.status == 201 and json.loads(response.read())["faults"][0]["code"] == 500
        conn.request("POST", "/__zwgk__/faults", body=json.dumps({"kind": "nope"}))
        response = conn.getresponse()
        assert response.status == 400 and "nope" in json.loads(response.read())["error"]
    finally:
        conn.close()
    assert get(server, "main", "/robots.txt")[0] == 500
    assert get(server, "main", "/robots.txt")[0] == 200

    server.add_fault(path="/never", kind="reset")
    status, _, body = get(server, "ftz", "/__zwgk__/faults", method="DELETE")
    assert (status, json.loads(body)) == (200, {"cleared": 1}) and server.faults() == []

    status, _, body = get(server, "ftz", "/__zwgk__/requests")
    logged = json.loads(body)["requests"]
    assert [(r["status"], r["path"]) for r in logged] == [(500, "/robots.txt"), (200, "/robots.txt")]
    assert json.loads(get(server, "ftz", "/__zwgk__/requests", method="DELETE")[2]) == {"cleared": 2}
    assert server.requests() == []  # control requests themselves are never logged


def test_request_log_records_family_and_headers(server: PortalServer) -> None:
    request = (
        "GET /jyj/files/report.pdf?v=1 HTTP/1.1\r\nHost: x\r\nUser-Agent: zwgk-test/1.0\r\n"
        'If-None-Match: "abc"\r\nIf-Modified-Since: Mon, 01 Mar 2021 00:00:00 GMT\r\nRange: bytes=0-9\r\n'
        "Connection: close\r\n\r\n"
    )
    exchange(server.ports["main"], request.encode(), socket.AF_INET6)
    get(server, "ftz", "/robots.txt")
    v6, v4 = server.requests()
    assert (v6["family"], v6["host"], v6["method"], v6["path"]) == (6, "main", "GET", "/jyj/files/report.pdf?v=1")
    assert (v6["status"], v6["bytes"]) == (206, 10)
    assert v6["user_agent"] == "zwgk-test/1.0" and v6["if_none_match"] == '"abc"'
    assert v6["if_modified_since"] == "Mon, 01 Mar 2021 00:00:00 GMT" and v6["range"] == "bytes=0-9"
    assert (v4["family"], v4["host"], v4["status"]) == (4, "ftz", 200)
    assert v6["mono"] <= v4["mono"] <= time.monotonic() and abs(v4["time"] - time.time()) < 5


# ------------------------------------------------------------------ registry, ports, lifecycle


def test_registry_is_written_and_loads(server: PortalServer, portal_dir: Path) -> None:
    assert server.registry_path == portal_dir / "registry.yaml"
    registry = load_registry(server.registry_path)
    main, ftz = server.ports["main"], server.ports["ftz"]
    assert registry.allow_private_addresses is True
    assert registry.resolve == {"www.bh.zwgk.test": ("127.0.0.1", "::1"), "www.ftz.zwgk.test": ("127.0.0.1", "::1")}
    assert registry.get("jyj").url == f"http://www.bh.zwgk.test:{main}/jyj/zfxxgk/"
    assert registry.get("ftz").url == f"http://www.ftz.zwgk.test:{ftz}/zwgk/"
    jyj = registry.get("jyj")
    assert (jyj.parent, jyj.aliases, jyj.key_areas, jyj.emergency_duties) == ("bh", ("教育局",), ("招生录取",), False)
    assert registry.get("ftz").emergency_duties is True  # kind default, as the registry defines it
    assert server.registry.units == registry.units
    assert server.base_url("ftz") == f"http://127.0.0.1:{ftz}"


def test_assign_ports() -> None:
    hosts = [Host("main", "a.test", "/a"), Host("teda", "b.test", "/b"), Host("ftz", "c.test", "/c")]
    assert assign_ports(hosts, None, 8701) == {"main": 8701, "teda": 8702, "ftz": 8703}
    assert assign_ports(hosts, {"teda": 9000}, None) == {"main": 0, "teda": 9000, "ftz": 0}
    assert assign_ports(hosts, None, None) == {"main": 0, "teda": 0, "ftz": 0}
    with pytest.raises(ValueError):
        assign_ports(hosts, {"main": 1}, 8701)
    with pytest.raises(ValueError):
        assign_ports(hosts, {"nowhere": 1}, None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_explicit_ports_and_stop(portal_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    registry_path = tmp_path / "reg.yaml"
    with PortalServer(portal_dir, ports={"ftz": port}, registry_path=registry_path, bind_ipv6=False) as other:
        assert other.ports["ftz"] == port
        assert raw_get(port, "/robots.txt")[0] == 200
        with pytest.raises(ConnectionRefusedError):  # bind_ipv6=False: no ::1 listener at all
            raw_get(other.ports["main"], "/", socket.AF_INET6)
        assert load_registry(registry_path).resolve["www.bh.zwgk.test"] == ("127.0.0.1",)
    with pytest.raises(ConnectionRefusedError):
        raw_get(port, "/robots.txt")


def test_start_reports_a_port_in_use(portal_dir: Path, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = PortalServer(portal_dir, ports={"main": taken.getsockname()[1]}, registry_path=tmp_path / "r.yaml")
        with pytest.raises(OSError):
            server.start()
    assert not (tmp_path / "r.yaml").exists()


def test_command_line_serves_until_sigterm(portal_dir: Path, tmp_path: Path) -> None:
    faults = tmp_path / "faults.yaml"
    faults.write_text("- {host: ftz, path: /robots.txt, kind: status, code: 503}\n", encoding="utf-8")
    registry_path = tmp_path / "cli-registry.yaml"
    process = subprocess.Popen(
        [sys.executable, "-m", "sample_portal.server", str(portal_dir), "--faults", str(faults), "--registry", str(registry_path)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    try:
        lines = [process.stdout.readline() for _ in range(3)]
        assert re.fullmatch(r"host www\.bh\.zwgk\.test → http://127\.0\.0\.1:\d+ \(IPv4\+IPv6\)\n", lines[0])
        assert lines[1].endswith("(IPv4 only)\n")
        assert lines[2] == f"registry written to {registry_path}\n"
        ftz_port = int(re.search(r":(\d+) ", lines[1]).group(1))
        assert raw_get(ftz_port, "/robots.txt")[0] == 503
        assert load_registry(registry_path).get("ftz").url.endswith(f":{ftz_port}/zwgk/")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


# ------------------------------------------------------------------ dynamic routes

ECHO_MECHANISM = "zwgk_test_echo"  # a module name no real mechanism uses


def echo_mechanism(calls: list[str]) -> types.ModuleType:
    """A fake list mechanism: answers POSTs under its prefix from the form, lets GETs through."""
    module = types.ModuleType(f"sample_portal.mechanisms.{ECHO_MECHANISM}")

    async def handle(route, request: web.Request, out_dir: Path) -> web.StreamResponse | None:
        calls.append(f"{request.method} {request.path_qs}")
        if request.path.endswith("/boom"):
            raise RuntimeError("a bug in the mechanism")
        if request.method != "POST":
            return None  # the static file (or the 405) answers
        form = await request.post()
        response = web.Response(text=f"第{form['pageNum']}页 of {route.params['column']}", content_type="text/html")
        response.set_cookie("JSESSIONID", "abc123")
        return response

    module.handle = handle
    return module


@pytest.fixture
def dynamic_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The test portal plus a dynamic.json routing /jyj/ of the main host to the fake mechanism."""
    portal = build_portal(tmp_path / "portal")
    routes = [{"host": "main", "prefix": "/jyj/", "mechanism": ECHO_MECHANISM, "params": {"column": "col123"}}]
    write(portal / "dynamic.json", json.dumps(routes))
    calls: list[str] = []
    monkeypatch.setitem(sys.modules, f"sample_portal.mechanisms.{ECHO_MECHANISM}", echo_mechanism(calls))
    with PortalServer(portal, registry_path=tmp_path / "registry.yaml") as running:
        yield running, calls


def post_form(conn: http.client.HTTPConnection, path: str, form: dict, headers: dict | None = None):
    body = urllib.parse.urlencode(form)
    conn.request("POST", path, body=body, headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})
    response = conn.getresponse()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()


def test_dynamic_route_answers_a_posted_form(dynamic_server) -> None:
    server, calls = dynamic_server
    conn = http.client.HTTPConnection("127.0.0.1", server.ports["main"], timeout=5)
    try:
        headers = {"Referer": "http://www.bh.zwgk.test/jyj/col/col123/index.html", "Cookie": "JSESSIONID=old"}
        status, answer_headers, body = post_form(conn, "/jyj/module/dataproxy.jsp?startrecord=16", {"pageNum": "2"}, headers)
        assert (status, body.decode()) == (200, "第2页 of col123")
        assert answer_headers["content-type"] == "text/html; charset=utf-8"
        assert "JSESSIONID=abc123" in answer_headers["set-cookie"]
        conn.request("GET", "/jyj/zfxxgk/list.html")  # the same connection: the form body was consumed
        assert conn.getresponse().read().decode() == LIST_PAGE
    finally:
        conn.close()
    assert calls == ["POST /jyj/module/dataproxy.jsp?startrecord=16", "GET /jyj/zfxxgk/list.html"]
    posted, fetched = server.requests()
    assert (posted["method"], posted["path"], posted["status"]) == ("POST", "/jyj/module/dataproxy.jsp?startrecord=16", 200)
    assert posted["bytes"] == len("第2页 of col123".encode())
    assert posted["referer"] == headers["Referer"] and posted["cookie"] == "JSESSIONID=old"
    assert (fetched["method"], fetched["status"], fetched["referer"], fetched["cookie"]) == ("GET", 200, None, None)


def test_dynamic_route_falls_through_to_static_files(dynamic_server) -> None:
    server, calls = dynamic_server
    assert get(server, "main", "/jyj/zfxxgk/list.html?page=2")[2].decode() == LIST_PAGE_2
    assert get(server, "main", "/index.html")[0] == 200  # outside the prefix: the mechanism is not asked
    status, headers, _ = get(server, "main", "/jyj/zfxxgk/list.html", method="PUT")  # declined, then static
    assert (status, headers["allow"]) == (405, "GET, HEAD")
    assert calls == ["GET /jyj/zfxxgk/list.html?page=2", "PUT /jyj/zfxxgk/list.html"]
    assert [r["status"] for r in server.requests()] == [200, 200, 405]


def test_a_failing_mechanism_answers_500(dynamic_server, caplog: pytest.LogCaptureFixture) -> None:
    server, _ = dynamic_server
    assert get(server, "main", "/jyj/boom")[0] == 500
    assert get(server, "main", "/jyj/zfxxgk/list.html")[0] == 200  # the server carries on
    assert [(r["path"], r["status"]) for r in server.requests()] == [("/jyj/boom", 500), ("/jyj/zfxxgk/list.html", 200)]
    assert "a bug in the mechanism" in caplog.text


def test_faults_apply_before_dynamic_routes(dynamic_server) -> None:
    server, calls = dynamic_server
    server.add_fault(path="/jyj/module/*", kind="status", code=503, times=1)
    server.add_fault(path="/jyj/module/*", kind="truncate", bytes=3, times=1)
    conn = http.client.HTTPConnection("127.0.0.1", server.ports["main"], timeout=5)
    try:
        assert post_form(conn, "/jyj/module/dataproxy.jsp", {"pageNum": "1"})[0] == 503
    finally:
        conn.close()
    assert calls == []  # the fault answered; the mechanism was never asked
    request = b"POST /jyj/module/dataproxy.jsp HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 9\r\n\r\npageNum=3"
    status, headers, body = split_response(exchange(server.ports["main"], request))  # the truncated answer closes
    full = "第3页 of col123".encode()
    assert (status, int(headers["content-length"]), body) == (200, len(full), full[:3])
    assert [(r["fault"], r["status"]) for r in server.requests()] == [("status", 503), ("truncate", 200)]
    assert server.requests()[1]["bytes"] == 3


# ------------------------------------------------------------------ TLS and soft 404s

ECO_PAGE = "<html><body>生态城 政务公开</body></html>\n"


def build_special_portal(out: Path) -> Path:
    """A portal with an HTTPS host (certificate from a throwaway CA) and a soft-404 host."""
    ca = trustme.CA()
    leaf = ca.issue_cert("www.eco.zwgk.test", "127.0.0.1", "::1")
    (out / "certs").mkdir(parents=True)
    leaf.private_key_pem.write_to_path(str(out / "certs/eco-key.pem"))
    write(out / "certs/eco-chain.pem", b"".join(pem.bytes() for pem in leaf.cert_chain_pems))
    ca.cert_pem.write_to_path(str(out / "certs/ca.pem"))
    tls = {"cert": "certs/eco-chain.pem", "key": "certs/eco-key.pem", "ca": "certs/ca.pem"}
    manifest = {
        "hosts": [
            {"key": "eco", "hostname": "www.eco.zwgk.test", "root": "sites/eco", "scheme": "https", "tls": tls},
            {"key": "soft", "hostname": "www.soft.zwgk.test", "root": "sites/soft", "not_found": "soft"},
        ],
        "units": [
            {"id": "eco", "name": "生态城管委会", "kind": "zone", "host": "eco", "path": "/zwgk/"},
            {"id": "soft", "name": "区民政局", "kind": "bureau", "host": "soft", "path": "/mzj/"},
        ],
    }
    write(out / "portal.json", json.dumps(manifest, ensure_ascii=False))
    write(out / "sites/eco/zwgk/index.html", ECO_PAGE)
    write(out / "sites/soft/mzj/index.html", "<html><body>区民政局</body></html>\n")
    write(out / "sites/soft/mzj/files/a.pdf", PDF)
    return out


@pytest.fixture(scope="module")
def special_server(tmp_path_factory: pytest.TempPathFactory):
    portal = build_special_portal(tmp_path_factory.mktemp("special"))
    with PortalServer(portal) as running:
        yield running


class RegistryResolver(AbstractResolver):
    """Resolve names as the crawler does: from the registry's ``resolve`` map only."""

    def __init__(self, resolve: dict[str, tuple[str, ...]]) -> None:
        self._resolve = resolve

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[dict]:
        return [
            {"hostname": host, "host": address, "port": port, "proto": 0, "flags": socket.AI_NUMERICHOST,
             "family": socket.AF_INET6 if ":" in address else socket.AF_INET}
            for address in self._resolve[host]
        ]

    async def close(self) -> None:
        pass


async def fetch(url: str, resolve: dict, ssl_context: ssl.SSLContext | bool) -> tuple[int, str]:
    connector = aiohttp.TCPConnector(resolver=RegistryResolver(resolve), ssl=ssl_context)
    async with aiohttp.ClientSession(connector=connector) as session, session.get(url) as response:
        return response.status, await response.text()


def test_https_host_is_trusted_through_the_registry_ca(special_server: PortalServer) -> None:
    registry = load_registry(special_server.registry_path)
    url = registry.get("eco").url
    port = special_server.ports["eco"]
    assert url == f"https://www.eco.zwgk.test:{port}/zwgk/"
    assert special_server.base_url("eco") == f"https://127.0.0.1:{port}"
    assert registry.get("soft").url.startswith("http://www.soft.zwgk.test:")
    ca_bundle = registry.host_options("www.eco.zwgk.test").ca_bundle
    assert ca_bundle == str((special_server.out_dir / "certs/ca.pem").resolve())
    assert registry.host_options("www.soft.zwgk.test").ca_bundle is None

    trusting = ssl.create_default_context(cafile=ca_bundle)  # that CA only, not the system store
    assert asyncio.run(fetch(url, registry.resolve, trusting)) == (200, ECO_PAGE)
    with pytest.raises(aiohttp.ClientConnectorCertificateError):
        asyncio.run(fetch(url, registry.resolve, True))  # the default trust store does not know the CA
    assert [(r["host"], r["status"]) for r in special_server.requests()] == [("eco", 200)]


def test_https_host_refuses_plain_http(special_server: PortalServer) -> None:
    try:
        answer = exchange(special_server.ports["eco"], b"GET /zwgk/ HTTP/1.1\r\nHost: x\r\n\r\n", timeout=3)
    except ConnectionResetError:
        answer = b""
    assert not answer.startswith(b"HTTP/")


def test_soft_404_host_answers_missing_pages_with_200(special_server: PortalServer) -> None:
    for path in ("/mzj/missing.html", "/mzj/gone.jsp?id=3", "/mzj/nothing/", "/mzj/index.html?page=9"):
        status, headers, body = get(special_server, "soft", path)
        assert status == 200, path
        assert headers["content-type"] == "text/html; charset=utf-8" and NOT_FOUND_TEXT in body.decode()
    assert get(special_server, "soft", "/mzj/files/missing.pdf")[0] == 404
    assert get(special_server, "soft", "/mzj/files/a.pdf")[2] == PDF
    _, _, hard = get(special_server, "soft", "/mzj/files/missing.pdf")
    assert get(special_server, "soft", "/mzj/missing.html")[2] == hard  # the same page, another status


def test_manifest_host_options_default_to_a_plain_site(portal_dir: Path, tmp_path: Path) -> None:
    main = load_manifest(portal_dir).hosts[0]
    assert (main.scheme, main.tls, main.not_found) == ("http", None, "hard")
    special = load_manifest(build_special_portal(tmp_path / "special")).hosts[0]
    assert special.scheme == "https" and special.tls.ca == str((tmp_path / "special/certs/ca.pem").resolve())
    for bad in ({"scheme": "ftp"}, {"not_found": "maybe"}, {"scheme": "https"}):
        manifest = {"hosts": [{"key": "x", "hostname": "x.test", "root": "sites/x", **bad}], "units": []}
        write(tmp_path / "bad/portal.json", json.dumps(manifest))
        with pytest.raises(ValueError):
            load_manifest(tmp_path / "bad")
