"""robots.txt, fetched once per origin per run and shared by every unit on that host.

Decisions (RFC 9309 with one deliberate deviation):
- 2xx: parsed with protego; Disallow rules for our agent token are honoured always (also with
  `polite=False`), Crawl-delay raises the host's minimum delay when polite (capped at
  `max_crawl_delay`, so a hostile value cannot stall a harvest for hours).
- 4xx (404, 410, 403 ...): no usable robots.txt, allow all (RFC 9309 §2.3.1.3).
- 5xx / timeout / connection error: retried like any fetch (exponential backoff); if it still
  fails we ALLOW ALL for this run and log a warning naming the host. RFC 9309 says to assume a
  full disallow, but that would fail C01 for every unit on a shared host on a transient server
  error; the failed fetch stays in each unit's fetch_log as evidence.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

from protego import Protego

from .downloader import FetchResult
from .encoding import decode_html
from .politeness import HostLimiters
from .settings import AGENT_TOKEN, HarvestSettings
from .urls import netloc, origin

log = logging.getLogger("zwgk.harvest")


class RobotsCache:
    def __init__(
        self,
        fetch: Callable[[str], Awaitable[FetchResult]],  # must not consult robots.txt itself
        limiters: HostLimiters,
        settings: HarvestSettings,
    ):
        self._fetch = fetch
        self._limiters = limiters
        self._settings = settings
        self._rules: dict[str, asyncio.Future[tuple[Protego | None, FetchResult]]] = {}

    async def load(self, url: str) -> tuple[Protego | None, FetchResult]:
        """The rules for `url`'s origin (None = allow all) and the fetch that produced them."""
        key = origin(url)
        future = self._rules.get(key)
        if future is None:
            future = self._rules[key] = asyncio.ensure_future(self._load(key))
        if future.done():
            return future.result()
        return await asyncio.shield(future)

    async def allowed(self, url: str) -> bool:
        future = self._rules.get(origin(url))
        rules = future.result()[0] if future is not None and future.done() else (await self.load(url))[0]
        return rules is None or rules.can_fetch(url, AGENT_TOKEN)

    async def _load(self, key: str) -> tuple[Protego | None, FetchResult]:
        result = await self._fetch(f"{key}/robots.txt")
        if result.ok:
            text, _ = decode_html(result.body, result.http_charset)
            rules = Protego.parse(text)
            self._apply_crawl_delay(key, rules)
            return rules, result
        if result.status is not None and 400 <= result.status < 500:
            return None, result
        log.warning("robots.txt of %s unavailable after retries (%s): allowing all for this run", key, result.error)
        return None, result

    def _apply_crawl_delay(self, key: str, rules: Protego) -> None:
        delay = rules.crawl_delay(AGENT_TOKEN)
        if not delay or not self._settings.polite:
            return
        if delay > self._settings.max_crawl_delay:
            delay, asked = self._settings.max_crawl_delay, delay
            log.warning("robots.txt of %s asks Crawl-delay %ss; capped at %ss", key, asked, delay)
        self._limiters.get(netloc(key)).raise_min_delay(float(delay))
