"""The CKAN client's retry policy and counters, against a scripted local HTTP server."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from assets.publish.client import CkanClient, CkanRejected, CkanUnavailable

OK = (200, {"success": True, "result": {"name": "x"}})
CONFLICT = (409, {"success": False, "error": {"__type": "Validation Error", "name": ["URL已被占用"]}})
FORBIDDEN = (403, {"success": False, "error": {"__type": "Authorization Error", "message": "no"}})
BROKEN = (503, {"success": False})
SLOW = (200, {"success": True, "result": {}}, 1.0)  # answers after a second


@pytest.fixture
def server():
    """Answers each request with the next scripted (status, body[, delay]); records the actions."""
    script: list[tuple] = []
    actions: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            actions.append(self.path.rsplit("/", 1)[-1])
            status, body, *delay = script.pop(0)
            time.sleep(delay[0] if delay else 0)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}", script, actions
    httpd.shutdown()


def client(url: str) -> CkanClient:
    return CkanClient(url, "token", retries=2, backoff=0.01, timeout=0.3)


def test_5xx_is_retried_and_every_attempt_counted(server):
    url, script, actions = server
    script += [BROKEN, BROKEN, OK]
    ckan = client(url)
    assert ckan.write("package_create", "jyj-zfxxgk-ml", name="x") == {"name": "x"}
    assert actions == ["package_create"] * 3
    assert (ckan.api_calls, ckan.write_calls) == (3, 3)


def test_timeout_is_retried(server):
    url, script, actions = server
    script += [SLOW, OK]
    assert client(url).write("package_patch", "jyj-zfxxgk-ml", id="x") == {"name": "x"}
    assert actions == ["package_patch"] * 2


def test_persistent_5xx_names_the_dataset_and_url(server):
    url, script, _ = server
    script += [BROKEN] * 3
    with pytest.raises(CkanUnavailable, match=rf"package_patch for dataset 'jyj-zfxxgk-ml' failed at "
                                              rf"{url}/api/action/package_patch: CKAN unavailable after 3"):
        client(url).write("package_patch", "jyj-zfxxgk-ml", id="x")


@pytest.mark.parametrize("answer, conflict", [(CONFLICT, True), (FORBIDDEN, False)])
def test_4xx_is_never_retried(server, answer, conflict):
    url, script, actions = server
    script.append(answer)
    ckan = client(url)
    with pytest.raises(CkanRejected) as rejected:
        ckan.write("package_create", "jyj-zfxxgk-ml", name="x")
    assert rejected.value.is_conflict is conflict
    assert actions == ["package_create"] and ckan.api_calls == 1


def test_reads_are_counted_apart_from_writes(server):
    url, script, _ = server
    script += [OK, OK]
    ckan = client(url)
    ckan.read("package_search", q="*:*")
    ckan.write("resource_create", "d", upload=("a.csv", b"a,b\n"), package_id="p")
    assert (ckan.api_calls, ckan.write_calls) == (2, 1)
    assert dict(ckan.calls_by_action) == {"package_search": 1, "resource_create": 1}


def test_connection_refused_is_retried_then_reported():
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ckan = client(f"http://127.0.0.1:{port}")
    with pytest.raises(CkanUnavailable, match="ConnectionError"):
        ckan.read("package_search")
    assert ckan.api_calls == 3 and ckan.write_calls == 0
