"""The rendering fallback: JS-shell columns (and gated hosts the registry allows) read in Chromium.

One headless Chromium per harvest run, started on first need. Every request a rendered page
makes is answered by the harvester's own downloader (see browser.py), so the unit's scope,
robots.txt, the host's politeness limits and the address policy hold for rendered pages as for
any other, and each request lands in the unit's fetch log. When Chromium is missing or fails to
start, rendering is unavailable for the rest of the run and such pages are `unreadable`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Callable

from .downloader import Downloader, FetchResult
from .robots import RobotsCache
from .settings import HarvestSettings

log = logging.getLogger("zwgk.harvest")

# Headers a page's own requests carry that the server may need (cookies from a challenge script,
# Referer-gated endpoints, form posts); the downloader sets User-Agent and Accept itself.
_FORWARDED = ("cookie", "referer", "content-type", "x-requested-with", "accept")
# Headers that described the wire form of a body the downloader has already decoded.
_WIRE_HEADERS = {"content-encoding", "content-length", "transfer-encoding", "connection"}


@dataclass(frozen=True)
class RenderOutcome:
    html: str | None  # the rendered DOM; None when the page could not be rendered
    final_url: str
    status: int | None
    error: str | None


class Renderer:
    def __init__(self, downloader: Downloader, robots: RobotsCache, settings: HarvestSettings):
        self._downloader = downloader
        self._robots = robots
        self._settings = settings
        self._browser = None  # browser.Browser, started on first need
        self._unavailable: str | None = None
        self._lock = asyncio.Lock()

    async def render(self, url: str, *, may_fetch: Callable[[str], bool],
                     on_attempt: Callable[[FetchResult], None], referer: str | None = None) -> RenderOutcome:
        browser = await self._start()
        if browser is None:
            return RenderOutcome(None, url, None, f"rendering unavailable: {self._unavailable}")

        from .browser import BrowserResponse

        async def fetch(request) -> BrowserResponse | None:
            if not may_fetch(request.url) or not await self._robots.allowed(request.url):
                return None
            headers = {k: v for k, v in request.headers.items() if k.lower() in _FORWARDED}
            result = await self._downloader.fetch(
                request.url, method=request.method, body=request.body, extra_headers=headers,
                follow_redirects=False, keep_headers=True, on_attempt=on_attempt, may_follow=may_fetch,
                urgent=True,  # the page holds a browser tab and a deadline: its requests go first
            )
            if result.status is None:  # no answer at all (refused, timeout, TLS): the browser sees a network error
                return None
            kept = [(k, v) for k, v in (result.headers or []) if k.lower() not in _WIRE_HEADERS]
            return BrowserResponse(result.status, kept, result.body)

        from .browser import BrowserUnavailable

        try:
            rendered = await browser.render(url, fetch, timeout=self._settings.render_timeout, referer=referer)
        except BrowserUnavailable as exc:  # Chromium died: start a new one for the next page
            log.warning("Chromium stopped while rendering %s: %s", url, exc)
            async with self._lock:
                if self._browser is browser:
                    self._browser = None
                    await browser.close()
            return RenderOutcome(None, url, None, f"rendering failed: {exc}")
        return RenderOutcome(rendered.html, rendered.url, rendered.status, rendered.error)

    async def _start(self):
        from .browser import Browser, BrowserUnavailable  # Playwright is imported only when a page needs it

        async with self._lock:
            if self._browser is None and self._unavailable is None:
                try:
                    self._browser = await Browser.start(self._settings.chromium, max_pages=self._settings.render_pages,
                                                        user_agent=self._settings.user_agent)
                except BrowserUnavailable as exc:
                    self._unavailable = str(exc)
                    log.warning("rendering unavailable for this run: %s", exc)
            return self._browser

    async def close(self) -> None:
        if self._browser is not None:
            await self._browser.close()
            self._browser = None
