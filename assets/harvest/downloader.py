"""The downloader: one resource, with politeness, redirects, size limits, truncation checks and retries.

Every attempt goes through the host's `HostLimiter` (one limiter per hop for redirects to
another host), is retried with exponential backoff and jitter on 5xx, timeouts, connection
errors and truncated bodies (never on 4xx), and is reported to `on_attempt` so the store's
fetch_log keeps every attempt, not only the last.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import re
import ssl
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from typing import Awaitable, Callable
from urllib.parse import urlencode

import aiohttp

from .addresses import AddressPolicy, AddressRefused
from .politeness import HostLimiters
from .settings import HarvestSettings
from .urls import absolute_url, netloc

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CONTENT_RANGE_TOTAL = re.compile(r"/\s*(\d+)\s*$")
# Error pages are read this far: enough to recognise an anti-bot challenge or a WAF page.
_ERROR_BODY_LIMIT = 64 * 1024


def utcnow() -> datetime:
    """Naive UTC timestamp: what the store's TIMESTAMP columns hold."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass(eq=False)
class FetchResult:
    url: str
    method: str
    fetched_at: datetime = field(default_factory=utcnow)
    status: int | None = None
    final_url: str | None = None
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    http_charset: str | None = None
    size: int | None = None
    error: str | None = None
    retryable: bool = False
    attempt: int = 1
    elapsed: float = 0.0
    probe: bool = False
    headers: list[tuple[str, str]] | None = None  # every response header, when asked for (rendering)
    charset: str | None = None  # the charset the body was decoded with (set by the reader)

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300

    @property
    def not_modified(self) -> bool:
        return self.error is None and self.status == 304

    @cached_property
    def sha256(self) -> str | None:
        return hashlib.sha256(self.body).hexdigest() if self.ok and self.method != "HEAD" and not self.probe else None


class _Failure(Exception):
    """A failed exchange whose message is the error recorded for the URL."""

    def __init__(self, message: str, retryable: bool):
        super().__init__(message)
        self.retryable = retryable


class Downloader:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        limiters: HostLimiters,
        policy: AddressPolicy,
        settings: HarvestSettings,
        robots_allowed: Callable[[str], Awaitable[bool]] | None = None,
        ssl_for: Callable[[str], ssl.SSLContext | bool] | None = None,
    ):
        self._session = session
        self._limiters = limiters
        self._policy = policy
        self._settings = settings
        self.robots_allowed = robots_allowed
        self._ssl_for = ssl_for or (lambda host: True)

    async def fetch(
        self,
        url: str,
        *,
        method: str = "GET",
        etag: str | None = None,
        last_modified: str | None = None,
        probe: bool = False,
        check_robots: bool = True,
        max_retries: int | None = None,
        on_attempt: Callable[[FetchResult], None] | None = None,
        may_follow: Callable[[str], bool] | None = None,
        form: tuple[tuple[str, str], ...] | None = None,
        extra_headers: tuple[tuple[str, str], ...] | dict[str, str] = (),
        body: bytes | None = None,
        follow_redirects: bool = True,
        keep_headers: bool = False,
        urgent: bool = False,
    ) -> FetchResult:
        """Fetch `url`, retrying transient failures; `probe` reads headers only (HEAD / Range checks).

        The caller checks robots.txt for `url` itself; redirect targets are checked here unless
        `check_robots` is False (the robots.txt fetch itself). `max_retries` overrides the host's.
        `form` is sent as an x-www-form-urlencoded body (list paging by POST), `body` as is;
        `extra_headers` (Referer, X-Requested-With …) go with every hop. Without
        `follow_redirects` a 3xx is the result (a browser being served follows it itself), and
        `keep_headers` keeps every response header in `result.headers`. `urgent` requests take
        the host's next free connection first (a rendered page's, which has a deadline).
        """
        headers = dict(extra_headers)
        if form is not None:
            body = urlencode(form).encode("utf-8")
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        if probe and method == "GET":
            headers["Range"] = "bytes=0-0"
        if max_retries is None:
            max_retries = self._limiters.get(netloc(url)).policy.max_retries
        options = _Options(probe, check_robots, may_follow, body, follow_redirects, keep_headers, urgent)
        attempt = 1
        while True:
            result = await self._attempt(url, method, headers, options)
            result.attempt = attempt
            if on_attempt is not None:
                on_attempt(result)
            if not result.retryable or attempt > max_retries:
                return result
            await asyncio.sleep(self._backoff(attempt))
            attempt += 1

    def _backoff(self, attempt: int) -> float:
        base = min(self._settings.backoff_max, self._settings.backoff_base * 2 ** (attempt - 1))
        return base * random.uniform(0.5, 1.5)

    async def _attempt(self, url: str, method: str, headers: dict[str, str], options: _Options) -> FetchResult:
        result = FetchResult(url=url, method=method, probe=options.probe)
        started = time.monotonic()
        try:
            await self._follow_redirects(result, headers, options)
        except _Failure as failure:
            result.error, result.retryable = str(failure), failure.retryable
        except AddressRefused as exc:
            result.error = f"address refused: {exc}"
        except asyncio.TimeoutError:
            timeout = self._limiters.get(netloc(result.final_url or url)).policy.timeout
            result.error, result.retryable = f"timeout after {timeout:g}s", True
        except aiohttp.ClientConnectorDNSError as exc:
            refused = isinstance(exc.os_error, AddressRefused)
            result.error = f"address refused: {exc.os_error}" if refused else f"cannot resolve host: {exc.os_error}"
            result.retryable = not refused
        except aiohttp.ClientPayloadError as exc:
            result.error, result.retryable = f"truncated body: {exc}", True
        except (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError, ssl.SSLError) as exc:
            # A certificate the system store (and the host's registry CA) does not vouch for: the
            # site is unreachable for us, and no retry will change that.
            result.error = f"TLS error: {_tls_reason(exc)}"
        except aiohttp.ClientConnectionError as exc:
            result.error, result.retryable = f"connection error: {exc or type(exc).__name__}", True
        except (aiohttp.ClientResponseError, aiohttp.InvalidURL) as exc:
            result.error = f"bad response: {exc}"
        result.elapsed = time.monotonic() - started
        return result

    async def _follow_redirects(self, result: FetchResult, headers: dict[str, str], options: _Options) -> None:
        """Follow redirects, never to a place the caller may not go (`may_follow`: the unit's scope)."""
        current, method, body = result.url, result.method, options.body
        may_follow, check_robots = options.may_follow, options.check_robots
        visited = {current}
        for _hop in range(self._settings.max_redirects + 1):
            location = await self._exchange(result, current, method, headers, body, options)
            if location is None or not options.follow_redirects:
                return
            if location in visited:
                raise _Failure(f"redirect loop: {current} -> {location}", retryable=False)
            if may_follow is not None and not may_follow(location):
                raise _Failure(f"redirect out of scope to {location}", retryable=False)
            if check_robots and self.robots_allowed is not None and not await self.robots_allowed(location):
                raise _Failure(f"redirect to {location} is disallowed by robots.txt", retryable=False)
            visited.add(location)
            current = location
            if result.status == 303 or (result.status in (301, 302) and method == "POST"):
                method, body = "GET", None  # what browsers do
                headers = {k: v for k, v in headers.items() if k != "Content-Type"}
        raise _Failure(f"too many redirects (more than {self._settings.max_redirects})", retryable=False)

    async def _exchange(
        self, result: FetchResult, url: str, method: str, headers: dict[str, str], body: bytes | None,
        options: _Options,
    ) -> str | None:
        """One request/response; returns the redirect target, or None once `result` is final."""
        host = netloc(url)
        self._policy.check_literal(host)
        limiter = self._limiters.get(host)
        timeout = aiohttp.ClientTimeout(total=limiter.policy.timeout)
        result.final_url = url
        ssl_context = self._ssl_for(host) if url.startswith("https:") else True
        async with limiter.slot(options.urgent):
            async with self._session.request(
                method, url, headers=headers, data=body, allow_redirects=False, timeout=timeout, ssl=ssl_context
            ) as response:
                result.status = response.status
                if options.keep_headers:
                    result.headers = list(response.headers.items())
                if response.status in REDIRECT_STATUSES and "Location" in response.headers:
                    location = absolute_url(url, response.headers["Location"])
                    if location is None:
                        raise _Failure(f"redirect to a non-HTTP location {response.headers['Location']!r}", False)
                    if options.follow_redirects:
                        return location
                    _copy_headers(result, response)
                    return location
                _copy_headers(result, response)
                if options.probe or method == "HEAD":
                    pass
                elif response.status == 200:
                    result.body = await self._read_body(response)
                    result.size = len(result.body)
                elif response.status >= 400:
                    # Read the error page too (bounded): an anti-bot challenge or a WAF page says
                    # what it is only in its body.
                    # A browser being served (keep_headers) needs a challenge page whole: its script
                    # may be long.
                    limit = self._settings.max_html_bytes if options.keep_headers else _ERROR_BODY_LIMIT
                    result.body = await response.content.read(limit)
        if result.status >= 400:
            result.error, result.retryable = f"HTTP {result.status}", result.status >= 500
        return None

    async def _read_body(self, response: aiohttp.ClientResponse) -> bytes:
        """The whole body, refusing more than `max_html_bytes` and bodies shorter than Content-Length."""
        limit = self._settings.max_html_bytes
        length = response.content_length
        if length is not None and length > limit:
            raise _Failure(f"too large: Content-Length {length} exceeds {limit} bytes", retryable=False)
        if length is not None:
            body = await response.read()
            if len(body) < length and response.headers.get("Content-Encoding", "identity") == "identity":
                raise _Failure(f"truncated body: got {len(body)} of {length} bytes", retryable=True)
            return body
        chunks, total = [], 0
        async for chunk in response.content.iter_any():
            total += len(chunk)
            if total > limit:
                raise _Failure(f"too large: more than {limit} bytes", retryable=False)
            chunks.append(chunk)
        return b"".join(chunks)


@dataclass(frozen=True, slots=True)
class _Options:
    """How one fetch behaves across its attempts and hops."""

    probe: bool
    check_robots: bool
    may_follow: Callable[[str], bool] | None
    body: bytes | None
    follow_redirects: bool
    keep_headers: bool
    urgent: bool = False


def _tls_reason(exc: BaseException) -> str:
    """The certificate problem in words (aiohttp wraps the ssl error; its text names the cause)."""
    cause = getattr(exc, "certificate_error", None) or getattr(exc, "os_error", None) or exc
    return str(cause) or type(cause).__name__


def _copy_headers(result: FetchResult, response: aiohttp.ClientResponse) -> None:
    headers = response.headers
    result.etag = headers.get("ETag")
    result.last_modified = headers.get("Last-Modified")
    if "Content-Type" in headers:
        result.content_type = response.content_type
        result.http_charset = response.charset
    total = _CONTENT_RANGE_TOTAL.search(headers.get("Content-Range", ""))
    result.size = int(total.group(1)) if total else response.content_length
