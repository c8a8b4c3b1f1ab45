"""The rendering module against a real local HTTP server and the system's Chromium.

The pages live on made-up hostnames (`*.zwgk.test`) that the test's `fetch` maps to the local
server, as the harvester's downloader would fetch them: the pages only render if Chromium sends
every request through `fetch`, because it cannot resolve those names itself. The server also
notes every request that did not come through `fetch` (a leak), and the tests assert none did.

There is no pytest-asyncio here: one event loop per module runs the server, the aiohttp client
and one shared Browser, and each test drives it with `run(...)`.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp import web

from assets.harvest.browser import (
    Browser,
    BrowserRequest,
    BrowserResponse,
    BrowserUnavailable,
    Rendered,
    find_chromium,
    parse_set_cookie,
)

VIA = "X-Via-Fetch"  # set by the test's fetch; a request without it reached the server directly
ROWS = [
    (f"/shell/art/2024/{n:03d}.html", f"关于第{n}批政府信息公开事项的通知", f"2024-03-{n:02d}")
    for n in range(1, 13)
]


def _chromium() -> str:
    path = find_chromium()
    if path is None:
        pytest.fail("Chromium is not installed: apt-get install chromium (scripts/test.sh installs it)")
    return path


# -- the site ---------------------------------------------------------------------------------

SHELL = """<!doctype html><html><head><meta charset="utf-8"><title>政务公开</title>
<link rel="stylesheet" href="/static/site.css">
<style>@font-face{font-family:gov;src:url(/static/gov.woff2)} body{font-family:gov}</style>
</head><body><div id="app">加载中…</div><img src="/static/logo.png">
<script src="/shell/app.js"></script></body></html>"""

# Written like the twin's `spa` shell: a JSON list API turned into `<ul class="list">` rows.
APP_JS = """
fetch('%s?channel=zfxxgk&page=1', {headers: {'X-Requested-With': 'XMLHttpRequest'}})
  .then(r => r.json())
  .then(j => {
    const ul = document.createElement('ul'); ul.className = 'list';
    for (const it of j.data.list) {
      const li = document.createElement('li'), a = document.createElement('a'), s = document.createElement('span');
      a.href = it.url; a.title = it.title; a.textContent = it.title; s.textContent = it.time;
      li.append(a, s); ul.append(li);
    }
    const app = document.getElementById('app'); app.textContent = ''; app.append(ul);
  });
"""

GATE_CHALLENGE = """<!doctype html><html><head><meta charset="utf-8">
<script type="text/javascript">$_ts=window['$_ts'];if(!$_ts)$_ts={};$_ts.nsd=31704;$_ts.cd="qAb";</script>
<script type="text/javascript" r='m' src="/gate/c.FxJzG50F.js"></script>
</head><body></body></html>"""
GATE_JS = "document.cookie = 'FSSBBIl1UgzbN7N80T=' + $_ts.nsd + '; path=/'; location.reload();"
GATE_PAGE = """<!doctype html><html><head><meta charset="utf-8"></head><body>
<ul class="list"><li><a href="/gate/art/1.html" title="通过验证的页面">通过验证的页面</a><span>2024-05-01</span></li></ul>
</body></html>"""

REFUSE = """<!doctype html><html><body><div id="out"></div><script>
const out = document.getElementById('out');
fetch('/refuse/secret.json').then(r => r.text()).then(t => out.insertAdjacentHTML('beforeend', '<p id="secret">' + t + '</p>'))
  .catch(() => out.insertAdjacentHTML('beforeend', '<p id="refused">refused</p>'));
fetch('/refuse/ok.json').then(r => r.json()).then(j => out.insertAdjacentHTML('beforeend', '<ul class="list"><li><a href="' + j.url + '">' + j.title + '</a></li></ul>'));
</script></body></html>"""

POLL = """<!doctype html><html><body><p id="started">开始轮询</p><script>
let n = 0; setInterval(() => fetch('/poll/tick?n=' + (n++)).then(r => r.text()).then(t => document.title = t), 100);
</script></body></html>"""

# Sets a cookie both ways (server header and script), then shows what the server received.
COOKIE_SET = """<!doctype html><html><body><p id="echo"></p><script>
document.cookie = 'from_script=' + location.pathname.split('/').pop() + '; path=/';
fetch('/cookie/echo').then(r => r.text()).then(t => document.getElementById('echo').textContent = 'seen:' + t);
</script></body></html>"""
COOKIE_LOOK = """<!doctype html><html><body><p id="echo"></p><script>
fetch('/cookie/echo').then(r => r.text()).then(t => document.getElementById('echo').textContent = 'seen:' + t);
</script></body></html>"""

# A document redirect, and a sub-resource redirect whose hop sets a cookie the target needs.
OLD_SHELL = """<!doctype html><html><body><div id="app"></div>
<script>
fetch('/api/old-list').then(r => r.json()).then(j => {
  document.getElementById('app').innerHTML = '<ul class="list">' +
    j.data.list.map(it => '<li><a href="' + it.url + '">' + it.title + '</a></li>').join('') + '</ul>';
});
</script></body></html>"""


@dataclass
class Site:
    port: int
    leaks: list[str] = field(default_factory=list)  # requests that did not come through fetch
    hits: list[str] = field(default_factory=list)  # path?query of every request, in order


def _list_json() -> dict:
    items = [{"title": title, "url": url, "time": time_} for url, title, time_ in ROWS]
    return {"code": 0, "data": {"list": items, "pages": 1}}


def _html(text: str, status: int = 200, **kwargs) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8", **kwargs)


def _app(site: Site) -> web.Application:
    @web.middleware
    async def record(request: web.Request, handler):
        site.hits.append(request.path_qs)
        if request.headers.get(VIA) != "1":
            site.leaks.append(f"{request.method} {request.host}{request.path_qs}")
        return await handler(request)

    routes = web.RouteTableDef()

    @routes.get("/shell/index.html")
    async def shell(request):
        return _html(SHELL)

    @routes.get("/shell/app.js")
    async def app_js(request):
        return web.Response(text=APP_JS % "/shell/api/list", content_type="application/javascript")

    @routes.get("/shell/api/list")
    async def shell_api(request):
        return web.json_response(_list_json())

    @routes.get("/static/{name}")
    async def static(request):
        return web.Response(body=b"x", content_type="application/octet-stream")

    @routes.get("/gate/index.html")
    async def gate(request):
        if request.cookies.get("FSSBBIl1UgzbN7N80T") == "31704" and request.cookies.get("FSSBBIl1UgzbN7N80S"):
            return _html(GATE_PAGE)
        # Like 瑞数: a first cookie from the server, the second computed by the script.
        headers = {"Set-Cookie": "FSSBBIl1UgzbN7N80S=srv; Path=/; HttpOnly"}
        return _html(GATE_CHALLENGE, status=412, headers=headers)

    @routes.get("/gate/c.FxJzG50F.js")
    async def gate_js(request):
        return web.Response(text=GATE_JS, content_type="application/javascript")

    @routes.get("/refuse/index.html")
    async def refuse(request):
        return _html(REFUSE)

    @routes.get("/refuse/secret.json")
    async def refuse_secret(request):
        return web.Response(text="SECRET")

    @routes.get("/refuse/ok.json")
    async def refuse_ok(request):
        return web.json_response({"url": "/refuse/art/1.html", "title": "仍然可见的条目"})

    @routes.get("/poll/index.html")
    async def poll(request):
        return _html(POLL)

    @routes.get("/poll/tick")
    async def tick(request):
        return web.Response(text=request.query.get("n", ""))

    @routes.get("/cookie/set/{who}")
    async def cookie_set(request):
        who = request.match_info["who"]
        return _html(COOKIE_SET, headers={"Set-Cookie": f"from_server={who}; Path=/"})

    @routes.get("/cookie/look")
    async def cookie_look(request):
        return _html(COOKIE_LOOK)

    @routes.get("/cookie/echo")
    async def cookie_echo(request):
        pairs = sorted(f"{k}={v}" for k, v in request.cookies.items())
        return web.Response(text=",".join(pairs) or "none")

    @routes.get("/moved")
    async def moved(request):
        raise web.HTTPMovedPermanently("/old/index.html")

    @routes.get("/old/index.html")
    async def old(request):
        return _html(OLD_SHELL)

    @routes.get("/api/old-list")
    async def old_list(request):
        response = web.HTTPFound("/api/new-list")
        response.set_cookie("hop", "1", path="/api/")
        raise response

    @routes.get("/api/new-list")
    async def new_list(request):
        if request.cookies.get("hop") != "1":
            return web.json_response({"code": 1, "data": {"list": []}})
        return web.json_response(_list_json())

    app = web.Application(middlewares=[record])
    app.add_routes(routes)
    return app


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="module")
def run(loop):
    def run(coro, timeout: float = 60):
        return loop.run_until_complete(asyncio.wait_for(coro, timeout))

    return run


@pytest.fixture(scope="module")
def site(run):
    site = Site(port=0)

    async def start():
        runner = web.AppRunner(_app(site))
        await runner.setup()
        tcp = web.TCPSite(runner, "127.0.0.1", 0)
        await tcp.start()
        site.port = tcp._server.sockets[0].getsockname()[1]
        return runner

    runner = run(start())
    yield site
    run(runner.cleanup())


@pytest.fixture(scope="module")
def client(run):
    async def open_():
        # No cookie jar: the browser's cookies come in BrowserRequest.headers, as in the harvester.
        return aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())

    session = run(open_())
    yield session
    run(session.close())


@pytest.fixture(scope="module")
def browser(run):
    started = run(Browser.start(_chromium(), max_pages=2))
    yield started
    run(started.close())


@pytest.fixture(autouse=True)
def no_leaks(request):
    """Every request the server sees came through fetch."""
    yield
    if "site" in request.fixturenames:
        site = request.getfixturevalue("site")
        assert site.leaks == [], f"Chromium reached the server directly: {site.leaks}"


class Fetcher:
    """The test's fetch: maps `*.zwgk.test` to the local server and records what it was asked."""

    def __init__(self, site: Site, client: aiohttp.ClientSession, refuse=lambda request: False):
        self.site, self.client, self.refuse = site, client, refuse
        self.seen: list[BrowserRequest] = []

    async def __call__(self, request: BrowserRequest) -> BrowserResponse | None:
        self.seen.append(request)
        if self.refuse(request):
            return None
        parts = urlsplit(request.url)
        target = f"http://127.0.0.1:{self.site.port}{parts.path}" + (f"?{parts.query}" if parts.query else "")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        headers["Host"] = parts.netloc
        headers[VIA] = "1"
        async with self.client.request(
            request.method, target, headers=headers, data=request.body, allow_redirects=False
        ) as response:
            body = await response.read()
            return BrowserResponse(response.status, list(response.headers.items()), body)

    def paths(self) -> list[str]:
        return [urlsplit(r.url).path for r in self.seen]


# -- tests --------------------------------------------------------------------------------------


def test_shell_renders_every_row_from_its_json_api(browser, site, client, run):
    fetch = Fetcher(site, client)
    column = "http://shell.zwgk.test/shell/index.html"
    rendered = run(browser.render(column, fetch, timeout=15, referer="http://shell.zwgk.test/"))

    assert rendered.error is None, rendered.error
    assert rendered.status == 200
    assert rendered.url == column
    assert fetch.seen[0].is_navigation and fetch.seen[0].resource_type == "document"
    assert fetch.seen[0].headers.get("referer") == "http://shell.zwgk.test/"
    assert '<ul class="list">' in rendered.html
    for url, title, date in ROWS:
        assert f'<a href="{url}" title="{title}">{title}</a><span>{date}</span>' in rendered.html
    assert "加载中" not in rendered.html
    # The script and the XHR went through fetch, with the page's own headers.
    api = next(r for r in fetch.seen if r.url.endswith("/shell/api/list?channel=zfxxgk&page=1"))
    assert api.resource_type == "fetch" and not api.is_navigation
    assert api.headers.get("x-requested-with") == "XMLHttpRequest"
    assert api.headers.get("referer") == "http://shell.zwgk.test/shell/index.html"
    assert ("GET", "http://shell.zwgk.test/shell/app.js", 200) in rendered.requests
    assert rendered.requests[0] == ("GET", "http://shell.zwgk.test/shell/index.html", 200)


def test_gate_challenge_sets_cookie_reloads_and_renders_the_real_page(browser, site, client, run):
    fetch = Fetcher(site, client)
    url = "http://gate.zwgk.test/gate/index.html"
    rendered = run(browser.render(url, fetch, timeout=15))

    assert rendered.error is None, rendered.error
    assert rendered.status == 200
    assert "通过验证的页面" in rendered.html and "$_ts" not in rendered.html
    documents = [status for method, u, status in rendered.requests if u == url]
    assert documents == [412, 200], rendered.requests
    # The reload carried both cookies: the server's Set-Cookie and the script's document.cookie.
    reload = [r for r in fetch.seen if r.url == url][-1]
    assert reload.is_navigation and reload.resource_type == "document"
    assert "FSSBBIl1UgzbN7N80S=srv" in reload.headers["cookie"]
    assert "FSSBBIl1UgzbN7N80T=31704" in reload.headers["cookie"]


def test_images_fonts_and_stylesheets_never_reach_fetch(browser, site, client, run):
    fetch = Fetcher(site, client)
    rendered = run(browser.render("http://shell.zwgk.test/shell/index.html", fetch, timeout=15))

    assert rendered.error is None
    assert not [p for p in fetch.paths() if p.startswith("/static/")], fetch.paths()
    assert not [h for h in site.hits if h.startswith("/static/")]
    # The page did ask for them: they are logged as aborted.
    asked = {u.rsplit("/", 1)[-1]: s for m, u, s in rendered.requests if "/static/" in u}
    assert asked.get("site.css", "missing") is None and asked.get("logo.png", "missing") is None, rendered.requests


def test_refused_request_is_aborted_and_the_page_still_renders(browser, site, client, run):
    fetch = Fetcher(site, client, refuse=lambda r: r.url.endswith("/secret.json"))
    rendered = run(browser.render("http://refuse.zwgk.test/refuse/index.html", fetch, timeout=15))

    assert rendered.error is None, rendered.error
    assert 'id="refused"' in rendered.html and "SECRET" not in rendered.html
    assert "仍然可见的条目" in rendered.html
    assert ("GET", "http://refuse.zwgk.test/refuse/secret.json", None) in rendered.requests
    assert "/refuse/secret.json" not in site.hits


def test_refused_document_is_an_error_not_a_page(browser, site, client, run):
    fetch = Fetcher(site, client, refuse=lambda r: True)
    rendered = run(browser.render("http://refuse.zwgk.test/refuse/index.html", fetch, timeout=15))

    assert rendered.status is None
    assert rendered.error and "refused" in rendered.error
    assert rendered.html == ""


def test_page_that_never_goes_quiet_times_out_with_what_rendered(browser, site, client, run):
    fetch = Fetcher(site, client)
    started = time.monotonic()
    rendered = run(browser.render("http://poll.zwgk.test/poll/index.html", fetch, timeout=2))
    elapsed = time.monotonic() - started

    assert elapsed < 2 + 2.5, f"render took {elapsed:.1f}s for a 2s timeout"
    assert rendered.error == "timeout after 2s"
    assert "开始轮询" in rendered.html  # what rendered so far
    assert rendered.status == 200
    assert sum(1 for r in fetch.seen if "/poll/tick" in r.url) >= 5


def test_script_that_never_yields_still_returns_in_time(browser, run):
    """A busy renderer answers nothing (no DOM either): the render still ends, with the error."""
    page = b"<html><body><p>before</p><script>setTimeout(() => { while (true) {} }, 50)</script></body></html>"

    async def fetch(request: BrowserRequest) -> BrowserResponse | None:
        return BrowserResponse(200, [("Content-Type", "text/html")], page)

    started = time.monotonic()
    rendered = run(browser.render("http://busy.zwgk.test/", fetch, timeout=2))
    elapsed = time.monotonic() - started
    assert elapsed < 2 + 2.5, f"render took {elapsed:.1f}s for a 2s timeout"
    assert rendered.error == "timeout after 2s"
    # The browser is still usable afterwards.
    after = run(browser.render("http://busy.zwgk.test/", _static(b"<html><body>fine</body></html>"), timeout=10))
    assert after.error is None and "fine" in after.html


def test_renders_do_not_share_cookies(browser, site, client, run):
    first = Fetcher(site, client)
    one = run(browser.render("http://cookie.zwgk.test/cookie/set/alice", first, timeout=15))
    # Within a render, both the server's and the script's cookie reach later requests.
    assert "seen:from_script=alice,from_server=alice" in one.html, one.html

    second = Fetcher(site, client)
    two = run(browser.render("http://cookie.zwgk.test/cookie/look", second, timeout=15))
    assert "seen:none" in two.html, two.html
    assert all("cookie" not in r.headers for r in second.seen), [r.headers for r in second.seen]


def test_redirects_are_followed_through_fetch(browser, site, client, run):
    fetch = Fetcher(site, client)
    rendered = run(browser.render("http://old.zwgk.test/moved", fetch, timeout=15))

    assert rendered.error is None, rendered.error
    # A document redirect moves the page (relative URLs resolve against the new one) ...
    assert rendered.url == "http://old.zwgk.test/old/index.html"
    assert rendered.status == 200
    # ... and a sub-resource redirect is followed with the cookie its hop set.
    for _url, title, _date in ROWS:
        assert title in rendered.html
    assert rendered.requests[:2] == [
        ("GET", "http://old.zwgk.test/moved", 301),
        ("GET", "http://old.zwgk.test/old/index.html", 200),
    ]
    assert ("GET", "http://old.zwgk.test/api/old-list", 302) in rendered.requests
    assert ("GET", "http://old.zwgk.test/api/new-list", 200) in rendered.requests
    hop = next(r for r in fetch.seen if r.url.endswith("/api/new-list"))
    assert hop.headers.get("cookie") == "hop=1"


def test_chromium_never_touches_the_network_itself(browser, site, client, run):
    """Loopback URLs this time, which Chromium could reach: only fetch may connect anywhere.

    A raw TCP listener counts connections, so a preconnect or a WebSocket (which routing does
    not see) is caught even when it sends no HTTP request.
    """
    connections: list[bytes] = []

    async def trap(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(await reader.read(100))
        writer.close()

    async def serve():
        return await asyncio.start_server(trap, "127.0.0.1", 0)

    trap_server = run(serve())
    trap_port = trap_server.sockets[0].getsockname()[1]
    page = f"""<!doctype html><html><head>
    <link rel="preconnect" href="http://127.0.0.1:{trap_port}"><link rel="dns-prefetch" href="//leak.zwgk.test">
    </head><body><p id="done">ok</p><script>
    try {{ new WebSocket('ws://127.0.0.1:{trap_port}/ws'); }} catch (e) {{}}
    fetch('/api/old-list');  // a redirect: Chromium would follow a fulfilled 3xx on its own
    </script></body></html>"""
    base = f"http://127.0.0.1:{site.port}"
    inner = Fetcher(site, client)

    async def fetch(request: BrowserRequest) -> BrowserResponse | None:
        if request.url == f"{base}/leak-test":
            await inner(request)  # logged, but answered with the page above
            return BrowserResponse(200, [("Content-Type", "text/html; charset=utf-8")], page.encode())
        return await inner(request)

    try:
        rendered = run(browser.render(f"{base}/leak-test", fetch, timeout=15))
        run(asyncio.sleep(0.5))  # give a stray connection time to arrive
    finally:
        trap_server.close()
    assert rendered.error is None, rendered.error
    assert 'id="done"' in rendered.html
    assert ("GET", f"{base}/api/new-list", 200) in rendered.requests
    assert site.leaks == []
    assert connections == [], f"Chromium connected by itself: {connections}"


def test_max_pages_bounds_concurrent_renders(browser, run):
    """With max_pages=2 a third render waits: its page is not even requested until one ends."""

    async def scenario() -> tuple[list[int], list[int], list[Rendered]]:
        release = asyncio.Event()
        arrived: list[int] = []

        def fetch_for(n: int):
            async def fetch(request: BrowserRequest) -> BrowserResponse | None:
                arrived.append(n)
                await release.wait()
                return BrowserResponse(200, [("Content-Type", "text/html")], f"<p>page {n}</p>".encode())

            return fetch

        renders = [
            asyncio.ensure_future(browser.render(f"http://c{n}.zwgk.test/", fetch_for(n), timeout=30))
            for n in range(3)
        ]
        deadline = time.monotonic() + 20
        while len(arrived) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # time enough for a third page to ask, were it allowed to run
        while_blocked = list(arrived)
        release.set()
        results = await asyncio.gather(*renders)
        return while_blocked, arrived, results

    while_blocked, arrived, results = run(scenario())
    assert len(while_blocked) == 2, while_blocked
    assert sorted(arrived) == [0, 1, 2]
    assert [f"page {n}" in r.html for n, r in enumerate(results)] == [True, True, True]


def test_concurrent_renders_are_independent(browser, site, client, run):
    async def both():
        fetches = [Fetcher(site, client) for _ in range(3)]
        urls = ["http://shell.zwgk.test/shell/index.html", "http://gate.zwgk.test/gate/index.html",
                "http://cookie.zwgk.test/cookie/set/carol"]
        return await asyncio.gather(*(browser.render(u, f, timeout=15) for u, f in zip(urls, fetches)))

    shell, gate, cookie = run(both())
    assert shell.error is None and ROWS[0][1] in shell.html
    assert gate.status == 200 and "通过验证的页面" in gate.html
    assert "from_server=carol" in cookie.html and "FSSBB" not in cookie.html


def test_bogus_executable_is_unavailable_with_the_path(run):
    with pytest.raises(BrowserUnavailable, match="/nonexistent/chromium"):
        run(Browser.start("/nonexistent/chromium"))


def test_launch_failure_is_unavailable_with_the_reason(run, tmp_path):
    fake = tmp_path / "fake-chromium"
    fake.write_text("#!/bin/sh\necho 'fake chromium refuses to start' >&2\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(BrowserUnavailable) as raised:
        run(Browser.start(str(fake)))
    assert str(fake) in str(raised.value)
    assert "fake chromium refuses to start" in str(raised.value)


def test_no_chromium_is_left_running_after_close(run, site, client):
    chromium = _chromium()

    async def session() -> tuple[set[int], Rendered]:
        others = _chromium_descendants()  # the module's shared browser, if it is running
        browser = await Browser.start(chromium, user_agent="zwgk-test-agent/1")
        fetch = Fetcher(site, client)
        try:
            rendered = await browser.render("http://shell.zwgk.test/shell/index.html", fetch)
            assert {r.headers.get("user-agent") for r in fetch.seen} == {"zwgk-test-agent/1"}
            pids = _chromium_descendants() - others
        finally:
            await browser.close()
        return pids, rendered

    pids, rendered = run(session())
    assert rendered.error is None and ROWS[0][1] in rendered.html
    assert pids, "no Chromium process found under this test process while the browser ran"
    deadline = time.monotonic() + 5
    while _alive(pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pids), f"Chromium processes left after close(): {sorted(_alive(pids))}"


def test_chromium_dying_is_unavailable_not_a_hang(run, site, client):
    """Kill the Chromium this test started: render says so loudly, and close() still returns."""
    chromium = _chromium()

    ours: set[int] = set()

    async def scenario() -> tuple[BaseException | None, bool]:
        others = _chromium_descendants()
        browser = await Browser.start(chromium)
        try:
            ours.update(_chromium_descendants() - others)
            main = [pid for pid in ours if b"--type=" not in _cmdline(pid)]
            assert len(main) == 1, main
            os.kill(main[0], signal.SIGKILL)
            for _ in range(100):
                if not browser.connected:
                    break
                await asyncio.sleep(0.05)
            try:
                await browser.render("http://shell.zwgk.test/shell/index.html", Fetcher(site, client), timeout=10)
            except BrowserUnavailable as exc:
                return exc, browser.connected
            return None, browser.connected
        finally:
            await asyncio.wait_for(browser.close(), 30)

    raised, connected = run(scenario())
    assert isinstance(raised, BrowserUnavailable) and "gone" in str(raised)
    assert connected is False
    deadline = time.monotonic() + 5
    while _alive(ours) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(ours), f"processes of the killed Chromium left: {sorted(_alive(ours))}"


def test_find_chromium_prefers_the_environment(monkeypatch):
    monkeypatch.setenv("ZWGK_CHROMIUM", "/opt/other/chrome")
    assert find_chromium() == "/opt/other/chrome"
    monkeypatch.delenv("ZWGK_CHROMIUM")
    assert os.access(find_chromium(), os.X_OK)


def test_parse_set_cookie_defaults_and_attributes():
    cookie = parse_set_cookie("sid=abc; Path=/x; HttpOnly; SameSite=Lax; Max-Age=60", "http://a.gov.cn/y/z.html")
    assert cookie["name"] == "sid" and cookie["value"] == "abc"
    assert cookie["domain"] == "a.gov.cn" and cookie["path"] == "/x"
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["expires"] > time.time()
    assert parse_set_cookie("a=1", "http://a.gov.cn/y/z.html")["path"] == "/y"
    assert parse_set_cookie("a=1; Domain=.gov.cn", "http://a.gov.cn/")["domain"] == ".gov.cn"
    assert parse_set_cookie("a=1; Domain=evil.com", "http://a.gov.cn/") is None
    assert parse_set_cookie("no-equals-sign", "http://a.gov.cn/") is None


def _static(body: bytes):
    async def fetch(request: BrowserRequest) -> BrowserResponse | None:
        return BrowserResponse(200, [("Content-Type", "text/html; charset=utf-8")], body)

    return fetch


# -- process helpers ------------------------------------------------------------------------------


def _chromium_descendants() -> set[int]:
    """Chromium processes below this test process (other Chromiums on the machine are not ours)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    ours, frontier = set(), {os.getpid()}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - ours
        ours |= frontier
    found = set()
    for pid in ours:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"chrom" in cmdline:
            found.add(pid)
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _alive(pids: set[int]) -> set[int]:
    """The pids that still exist and are not zombies."""
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive
