"""Headless Chromium for JavaScript shells and anti-bot gates, with every byte fetched by the harvester.

Design
------
Some columns are shells whose list exists only after their scripts ran, and some hosts answer
a challenge page (瑞数 412, 加速乐 521) whose script sets a cookie and reloads; a browser passes
it. Rendering them must not open a second, unpoliced way onto the sites: robots.txt, a unit's
scope, a host's politeness (concurrency, delay, retries) and the address policy live in the
harvester's downloader, so Chromium is never allowed to reach the network itself. Every request
a page makes (document, script, XHR/fetch, redirect hops, reloads) is intercepted with
Playwright routing and answered from a caller-supplied `fetch`, which the harvester implements
with its downloader; `fetch` returning None (robots, scope, address policy) aborts the request.
As a consequence hostnames never need to resolve for Chromium, TLS is the downloader's (with
the registry's CA bundles), and what the page saw is exactly what the fetch log records.

Routing does not see everything: a `<link rel=preconnect>` or a WebSocket opens a connection
without a routed request (measured: both reached a local listener). So Chromium is also given
no DNS and a proxy that refuses every connection (a port bound here and never listened on);
whatever routing misses fails instead of leaving the machine.

Redirects are followed here, never fulfilled as 3xx: Chromium sends the follow-up request of a
fulfilled redirect straight to the network, past the router (measured with Playwright 1.65 and
Chromium 156). A document redirect becomes a new navigation to the target, so the page's URL
and its relative links are right (Playwright's own HAR replay does the same); a sub-resource
redirect is followed inside the route handler and the final answer fulfils the request. The
cookies set by redirect responses are put in the context's jar first. (The document case uses
Playwright's internal `redirectNavigationRequest`; without it the hop is followed inside too.)

Images, media, fonts and style sheets are aborted without a fetch: list rows never depend on
them, and each would cost a polite request slot. Service workers are blocked (they would
cache and replay outside routing).

One Chromium (and one Playwright driver process) serves every render of a `Browser`; each
render has a fresh context, so cookies are isolated between renders but work within one as in
a browser: `Set-Cookie` in a fulfilled response and `document.cookie` both reach later requests,
and the resulting `Cookie` header is passed to `fetch` in `BrowserRequest.headers`.

A render is settled when the main document has loaded and no routed request has been in flight
for a short quiet period; a main-frame navigation (a challenge's reload) starts the wait anew.
A document that is not 2xx gets a longer quiet period, because challenge scripts reload from a
timer. The whole render is bounded by `timeout`; on timeout the DOM as it stands is returned
with `error` set (empty when a script never yields: a busy renderer cannot serialise its DOM).

No Dagster here; the harvester decides when to render and records the result as rendered.
"""

from __future__ import annotations

import asyncio
import logging
import os
import posixpath
import shutil
import socket
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Awaitable, Callable
from urllib.parse import urljoin, urlsplit

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import async_playwright

log = logging.getLogger("zwgk.harvest.browser")

# What a page may load without us asking the site: nothing a list is made of. Each of these
# would otherwise take a polite request slot on a government host.
SKIPPED_RESOURCE_TYPES = frozenset(
    {"image", "media", "font", "stylesheet", "texttrack", "manifest", "ping", "cspviolationreport", "prefetch"}
)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5

# Response headers describing the transfer, not the content: the fetch already decoded the body
# (aiohttp undoes Content-Encoding), and Playwright sets Content-Length for the body it sends.
_TRANSFER_HEADERS = frozenset(
    {"content-encoding", "content-length", "transfer-encoding", "connection", "keep-alive"}
)

# Quiet period after the last routed request before a page counts as settled (Playwright's
# "networkidle" uses 500 ms). A non-2xx document (a challenge) gets longer: 加速乐-style scripts
# reload from a timer about a second after loading.
_QUIET = 0.5
_CHALLENGE_QUIET = 3.0
_POLL = 0.05
# Bounds on calls into a page whose script may be spinning (a busy renderer answers nothing).
_PAGE_CALL_TIMEOUT = 2.0

LAUNCH_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    # Defence in depth, see the module docstring: nothing routing misses may resolve a name or
    # open a connection (the proxy is a port we hold closed, loopback included).
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-bypass-list=<-loopback>",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
)


@dataclass(frozen=True)
class BrowserRequest:
    """One request the page makes, as Chromium would send it (headers include Cookie and Referer)."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    resource_type: str
    is_navigation: bool


@dataclass(frozen=True)
class BrowserResponse:
    """The site's answer. A 3xx with Location is followed by the browser (asking `fetch` again)."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


# None: the request is refused (robots.txt, scope, address policy) and aborted in the page.
Fetch = Callable[[BrowserRequest], Awaitable["BrowserResponse | None"]]


@dataclass
class Rendered:
    url: str  # final URL of the document
    status: int | None  # status of the last document response (None: the document was refused)
    html: str  # serialized DOM after scripts ran
    requests: list[tuple[str, str, int | None]]  # (method, url, status or None if aborted/refused), in order
    error: str | None  # e.g. "timeout after 20s"; html is then what rendered so far


class BrowserUnavailable(RuntimeError):
    """Chromium cannot be used: none installed, or it would not start (the message says why)."""


def find_chromium() -> str | None:
    """$ZWGK_CHROMIUM, then Debian's /usr/bin/chromium, then chromium-browser / google-chrome on PATH."""
    configured = os.environ.get("ZWGK_CHROMIUM")
    if configured:
        # An explicit setting is used as given, even if wrong: start() then says what is wrong
        # with it instead of silently rendering with some other browser.
        return configured
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    """One Chromium serving up to `max_pages` concurrent renders. Use `await Browser.start()`."""

    def __init__(
        self, playwright: Any, browser: Any, executable: str, max_pages: int, user_agent: str | None,
        dead_proxy: socket.socket,
    ):
        self._playwright = playwright
        self._dead_proxy = dead_proxy
        self._browser = browser
        self.executable = executable
        self._slots = asyncio.Semaphore(max_pages)
        self._user_agent = user_agent
        self._closed = False

    @classmethod
    async def start(
        cls, executable: str | None = None, max_pages: int = 2, *, user_agent: str | None = None
    ) -> Browser:
        """Start the Playwright driver and Chromium; raises BrowserUnavailable with the reason.

        `user_agent` overrides `navigator.userAgent` and the header Chromium puts in
        `BrowserRequest.headers` (Chromium's own, "HeadlessChrome/…", by default).
        """
        if max_pages < 1:
            raise ValueError(f"max_pages must be at least 1, not {max_pages}")
        executable = executable or find_chromium()
        if executable and os.sep not in executable:
            executable = shutil.which(executable) or executable  # a bare name: look it up on PATH
        if executable is None:
            raise BrowserUnavailable(
                "no Chromium found ($ZWGK_CHROMIUM, /usr/bin/chromium, chromium-browser, google-chrome): "
                "apt-get install chromium"
            )
        if not (os.path.isfile(executable) and os.access(executable, os.X_OK)):
            raise BrowserUnavailable(f"Chromium executable {executable!r} does not exist or is not executable")
        # The proxy Chromium is told to use: a port bound and never listened on refuses every
        # connection, and holding it keeps anyone else from listening there.
        dead_proxy = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        dead_proxy.bind(("127.0.0.1", 0))
        args = [*LAUNCH_ARGS, f"--proxy-server=http://127.0.0.1:{dead_proxy.getsockname()[1]}"]
        try:
            playwright = await async_playwright().start()
        except BaseException as exc:  # the driver is a Node process shipped in the wheel
            dead_proxy.close()
            if isinstance(exc, Exception):
                raise BrowserUnavailable(f"cannot start the Playwright driver: {exc}") from exc
            raise
        try:
            browser = await playwright.chromium.launch(
                executable_path=executable, headless=True, args=args, timeout=30_000
            )
        except BaseException as exc:  # cancelled too: never leave the driver running
            await _quietly(playwright.stop())
            dead_proxy.close()
            if isinstance(exc, Exception):
                # Playwright's message ends with the browser's own output: keep its tail.
                raise BrowserUnavailable(f"cannot launch Chromium {executable!r}: {_tail(str(exc))}") from exc
            raise
        return cls(playwright, browser, executable, max_pages, user_agent, dead_proxy)

    @property
    def connected(self) -> bool:
        """False once Chromium has gone away (crashed or killed): start a new Browser then."""
        return not self._closed and self._browser.is_connected()

    async def __aenter__(self) -> Browser:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close Chromium and the driver (idempotent); their processes are gone when this returns."""
        if self._closed:
            return
        self._closed = True
        try:
            await _quietly(self._browser.close(), timeout=10)
        finally:
            await _quietly(self._playwright.stop(), timeout=10)
            self._dead_proxy.close()

    async def render(
        self, url: str, fetch: Fetch, *, timeout: float = 20.0, referer: str | None = None
    ) -> Rendered:
        """Load `url` in a fresh context with every request answered by `fetch`, and return the DOM.

        `timeout` bounds the render from the moment a page slot is free (waiting for a slot,
        when `max_pages` renders are running, is not counted).
        """
        if self._closed:
            raise BrowserUnavailable("the browser is closed")
        async with self._slots:
            return await self._render(url, fetch, timeout, referer)

    async def _render(self, url: str, fetch: Fetch, timeout: float, referer: str | None) -> Rendered:
        deadline = time.monotonic() + timeout
        try:
            context = await self._browser.new_context(
                service_workers="block",
                accept_downloads=False,
                user_agent=self._user_agent,
                # The sites are Chinese; scripts that format dates or pick a language see China.
                locale="zh-CN",
                timezone_id="Asia/Shanghai",
            )
        except PlaywrightError as exc:
            raise BrowserUnavailable(f"Chromium is gone: {_tail(str(exc))}") from exc
        session = _Session(context, fetch)
        try:
            await context.route("**/*", session.handle)
            page = await context.new_page()
            session.page = page
            page.on("framenavigated", session.on_frame_navigated)
            page.on("crash", session.on_crash)
            error = await session.settle(url, referer, deadline, timeout)
            if session.document_refused or session.navigations == 0 or session.crashed:
                html = ""  # Chromium's error page, about:blank or nothing: not the site's content
            else:
                # After a timeout the page may be busy: give the DOM read less time.
                html = await _content(page, 1.0 if error else _PAGE_CALL_TIMEOUT)
            final_url = page.url
            if final_url in ("", "about:blank") or final_url.startswith("chrome-error:"):
                final_url = session.document_url or url
            return Rendered(final_url, session.document_status, html, session.request_log(), error)
        except PlaywrightError as exc:
            if not self._browser.is_connected():
                # Chromium died under us: every later render would fail the same way.
                raise BrowserUnavailable(f"Chromium is gone: {_tail(str(exc))}") from exc
            message = f"browser error: {_first_line(str(exc))}"
            return Rendered(session.document_url or url, None, "", session.request_log(), message)
        finally:
            await session.close()


@dataclass
class _Entry:
    """One line of `Rendered.requests`; the status is filled in when the answer is known."""

    method: str
    url: str
    status: int | None = None


@dataclass(eq=False)
class _Session:
    """The state of one render: its context, request log, in-flight count and main document."""

    context: Any
    fetch: Fetch
    page: Any = None
    entries: list[_Entry] = field(default_factory=list)
    in_flight: int = 0
    last_activity: float = field(default_factory=time.monotonic)
    navigations: int = 0  # main-frame documents committed
    document_status: int | None = None
    document_url: str | None = None
    document_refused: bool = False
    fetch_error: str | None = None
    crashed: bool = False
    tasks: set[asyncio.Task] = field(default_factory=set)

    # -- waiting ------------------------------------------------------------------------------

    async def settle(self, url: str, referer: str | None, deadline: float, timeout: float) -> str | None:
        """Navigate and wait until the page is settled; returns the render's error, if any."""
        goto = asyncio.ensure_future(
            self.page.goto(url, referer=referer, wait_until="commit", timeout=max(1000.0, timeout * 1000))
        )
        self.tasks.add(goto)
        goto.add_done_callback(self.tasks.discard)
        # Its failure is read below when it matters (no document at all); an interrupted goto
        # (a challenge reload) is normal and must not be reported as never retrieved.
        goto.add_done_callback(lambda task: task.cancelled() or task.exception())
        timed_out = f"timeout after {timeout:g}s"
        while True:
            now = time.monotonic()
            if now >= deadline:
                return timed_out
            if self.crashed:
                return "page crashed"
            if goto.done() and self.navigations == 0 and goto.exception() is not None:
                # No document was ever committed: the first request was refused or failed.
                if self.fetch_error is not None:
                    return self.fetch_error
                if self.document_refused:
                    return f"document refused: {url}"
                return f"navigation failed: {_first_line(str(goto.exception()))}"
            if goto.done() and self.navigations and self.document_refused:
                # A later document (a reload) was refused: the page shows Chromium's error page.
                return f"document refused: {self.document_url}"
            quiet = _QUIET if self.document_status is not None and self.document_status < 300 else _CHALLENGE_QUIET
            if goto.done() and self.navigations and self.in_flight == 0 and now - self.last_activity >= quiet:
                if await self._loaded(deadline):
                    # Re-check: the load check itself takes time during which a request may start.
                    if self.in_flight == 0 and time.monotonic() - self.last_activity >= quiet:
                        return self.fetch_error
            await asyncio.sleep(_POLL)

    async def _loaded(self, deadline: float) -> bool:
        """The main document has finished loading (scripts ran, load event fired)."""
        budget = min(_PAGE_CALL_TIMEOUT, max(0.0, deadline - time.monotonic()))
        try:
            state = await asyncio.wait_for(self.page.evaluate("document.readyState"), budget)
        except (PlaywrightError, asyncio.TimeoutError):
            return False  # navigating (context destroyed) or a busy script: not settled
        return state == "complete"

    def on_crash(self, page: Any) -> None:
        self.crashed = True  # out of memory, usually; the render ends at once instead of timing out

    def on_frame_navigated(self, frame: Any) -> None:
        if frame.parent_frame is None:
            self.navigations += 1
            self.last_activity = time.monotonic()

    # -- routing ------------------------------------------------------------------------------

    async def handle(self, route: Any) -> None:
        """Answer one intercepted request from `fetch` (or abort it)."""
        request = route.request
        entry = _Entry(request.method, request.url)
        self.entries.append(entry)
        self.in_flight += 1
        self.last_activity = time.monotonic()
        try:
            if request.resource_type in SKIPPED_RESOURCE_TYPES:
                await route.abort("blockedbyclient")
                return
            main_document = self._is_main_document(request)
            if main_document:
                self.document_url, self.document_status, self.document_refused = request.url, None, False
            # A task of our own, so that the end of the render can cancel a fetch still waiting
            # (for a polite slot, say) instead of letting it run on for a page that is gone.
            task = asyncio.ensure_future(self._answer(route, request, entry, main_document))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
            await task
        except (PlaywrightError, asyncio.CancelledError):
            pass  # the page or context went away (render over); nothing is waiting for this answer
        except Exception:
            log.exception("routing %s failed", request.url)
            await _quietly(route.abort())
        finally:
            self.in_flight -= 1
            self.last_activity = time.monotonic()

    def _is_main_document(self, request: Any) -> bool:
        if not request.is_navigation_request():
            return False
        try:
            return request.frame == self.page.main_frame
        except PlaywrightError:  # a popup's first request has no frame yet
            return False

    async def _answer(self, route: Any, request: Any, entry: _Entry, main_document: bool) -> None:
        current = BrowserRequest(
            method=request.method,
            url=request.url,
            headers=await self._request_headers(request),
            body=request.post_data_buffer,
            resource_type=request.resource_type,
            is_navigation=request.is_navigation_request(),
        )
        for _hop in range(MAX_REDIRECTS + 1):
            response = await self._fetch(current)
            entry.status = response.status if response is not None else None
            if response is None:
                if main_document:
                    self.document_refused = True
                await route.abort("blockedbyclient")
                return
            location = _header(response.headers, "location")
            if response.status not in REDIRECT_STATUSES or not location:
                break
            target = urljoin(current.url, location)
            if urlsplit(target).scheme not in ("http", "https"):
                break  # a redirect to javascript:/data: is answered as the 3xx it is, unfollowed
            await self._store_cookies(current.url, response.headers)
            if current.is_navigation and await _redirect_navigation(route, target):
                # A new navigation to the target, routed here again like any request.
                return
            current = _redirected(current, response.status, target, await self._cookie_header(target))
            entry = _Entry(current.method, current.url)
            self.entries.append(entry)
        else:
            entry.status = None
            await route.abort("blockedbyclient")  # too many redirects
            return
        headers = _fulfil_headers(response.headers)
        if current.url != request.url and "set-cookie" in headers:
            # Followed here: Chromium would scope these cookies to the first URL, not this one.
            await self._store_cookies(current.url, response.headers)
            del headers["set-cookie"]
        if main_document:
            self.document_status = response.status
        await route.fulfill(status=response.status, headers=headers, body=response.body)

    async def _fetch(self, request: BrowserRequest) -> BrowserResponse | None:
        try:
            return await self.fetch(request)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # A broken fetch must not look like a site that refused: say so in Rendered.error.
            log.exception("fetch for %s failed", request.url)
            if self.fetch_error is None:
                self.fetch_error = f"fetch failed for {request.url}: {type(exc).__name__}: {exc}"
            return None

    async def _request_headers(self, request: Any) -> dict[str, str]:
        """The headers Chromium would send, Cookie included (routing's `headers` omits it)."""
        try:
            headers = await asyncio.wait_for(request.all_headers(), _PAGE_CALL_TIMEOUT)
        except (PlaywrightError, asyncio.TimeoutError):
            headers = dict(request.headers)
        headers = {name: value for name, value in headers.items() if not name.startswith(":")}
        if "cookie" not in headers:
            cookie = await self._cookie_header(request.url)
            if cookie:
                headers["cookie"] = cookie
        return headers

    async def _cookie_header(self, url: str) -> str | None:
        cookies = await self.context.cookies([url])
        return "; ".join(f"{c['name']}={c['value']}" for c in cookies) or None

    async def _store_cookies(self, url: str, headers: list[tuple[str, str]]) -> None:
        """Put the Set-Cookie headers of a response Chromium never saw (a redirect hop) in the jar."""
        for name, value in headers:
            if name.lower() != "set-cookie":
                continue
            for line in value.split("\n"):
                cookie = parse_set_cookie(line, url)
                if cookie is None:
                    continue
                try:
                    if cookie.get("expires", -1) != -1 and cookie["expires"] <= time.time():
                        await self.context.clear_cookies(
                            name=cookie["name"], domain=cookie["domain"], path=cookie["path"]
                        )
                    else:
                        await self.context.add_cookies([cookie])
                except PlaywrightError as exc:  # a cookie Chromium rejects (SameSite=None without Secure …)
                    log.debug("cookie from %s not stored: %s", url, exc)

    # -- results and cleanup ------------------------------------------------------------------

    def request_log(self) -> list[tuple[str, str, int | None]]:
        return [(e.method, e.url, e.status) for e in self.entries]

    async def close(self) -> None:
        """Stop outstanding fetches (the render is over) and close the context."""
        for task in list(self.tasks):
            task.cancel()
        # Closing the context ends its routing too; unroute_all() first would wait for a page
        # whose script never yields.
        await _quietly(self.context.close(), timeout=10)
        if self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)


async def _redirect_navigation(route: Any, target: str) -> bool:
    """Turn a document request into a navigation to `target` (what Playwright's HAR replay does).

    This is Playwright's internal `redirectNavigationRequest`; if a future version lacks it, the
    redirect is followed inside the handler instead (the page then keeps the first URL).
    """
    impl = getattr(route, "_impl_obj", route)
    redirect = getattr(impl, "_redirect_navigation_request", None)
    if redirect is None:
        return False
    await redirect(target)
    return True


def _redirected(request: BrowserRequest, status: int, target: str, cookie: str | None) -> BrowserRequest:
    """The follow-up request of a redirect, as a browser makes it."""
    method, body = request.method, request.body
    headers = dict(request.headers)
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        method, body = "GET", None
        for name in ("content-type", "content-length", "origin"):
            headers.pop(name, None)
    headers.pop("cookie", None)
    if cookie:
        headers["cookie"] = cookie
    return BrowserRequest(method, target, headers, body, request.resource_type, request.is_navigation)


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def _fulfil_headers(headers: list[tuple[str, str]]) -> dict[str, str]:
    """Response headers as route.fulfill takes them: one value per name, Set-Cookie lines joined by newlines."""
    merged: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        if key in _TRANSFER_HEADERS:
            continue
        if key in merged:
            merged[key] += ("\n" if key == "set-cookie" else ", ") + value
        else:
            merged[key] = value
    return merged


def parse_set_cookie(line: str, url: str) -> dict[str, Any] | None:
    """A Set-Cookie header line as a Playwright cookie for `url` (RFC 6265 §5.2, leniently); None if invalid."""
    pair, *attributes = line.split(";")
    name, sep, value = pair.partition("=")
    name, value = name.strip(), value.strip()
    if not sep or not name:
        return None
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    cookie: dict[str, Any] = {
        "name": name,
        "value": value,
        "domain": host,  # host-only unless a Domain attribute says otherwise
        "path": _default_cookie_path(parts.path),
        "secure": False,
        "httpOnly": False,
    }
    max_age = expires = None
    for attribute in attributes:
        key, _, val = attribute.partition("=")
        key, val = key.strip().lower(), val.strip()
        if key == "domain" and val:
            domain = val.lstrip(".").lower()
            if host != domain and not host.endswith("." + domain):
                return None  # a cookie for someone else's domain is refused, as a browser does
            cookie["domain"] = "." + domain
        elif key == "path" and val.startswith("/"):
            cookie["path"] = val
        elif key == "max-age":
            try:
                max_age = int(val)
            except ValueError:
                pass
        elif key == "expires":
            try:
                expires = parsedate_to_datetime(val).timestamp()
            except (TypeError, ValueError):
                pass
        elif key == "secure":
            cookie["secure"] = True
        elif key == "httponly":
            cookie["httpOnly"] = True
        elif key == "samesite" and val.lower() in ("strict", "lax", "none"):
            cookie["sameSite"] = val.capitalize()
    if max_age is not None:
        cookie["expires"] = time.time() + max_age if max_age > 0 else 0
    elif expires is not None:
        cookie["expires"] = expires
    return cookie


def _default_cookie_path(path: str) -> str:
    if not path.startswith("/") or path.count("/") == 1:
        return "/"
    return posixpath.dirname(path)


async def _content(page: Any, timeout: float) -> str:
    """The serialized DOM; retried briefly while a navigation is replacing the document."""
    for _ in range(3):
        try:
            return await asyncio.wait_for(page.content(), timeout)
        except asyncio.TimeoutError:
            return ""  # the renderer is busy (a script that never yields): nothing to read
        except PlaywrightError:
            await asyncio.sleep(0.2)
    return ""


async def _quietly(awaitable: Awaitable[Any], timeout: float | None = None) -> None:
    """Await cleanup that may fail because the thing is already gone."""
    try:
        await asyncio.wait_for(awaitable, timeout)
    except (PlaywrightError, asyncio.TimeoutError, OSError) as exc:
        log.debug("cleanup: %s", exc)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def _tail(text: str, limit: int = 1500) -> str:
    text = text.strip()
    return text if len(text) <= limit else "…" + text[-limit:]
