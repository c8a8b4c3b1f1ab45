"""Per-host politeness: a cap on parallel requests and a minimum gap between request starts.

One `HostLimiter` exists per `hostname:port` for the whole run, so every unit on a shared
(集约化) host draws from the same budget.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator, Callable

from .settings import HostPolicy

log = logging.getLogger("zwgk.harvest")


class HostLimiter:
    def __init__(self, host: str, policy: HostPolicy):
        self.host = host
        self.policy = policy
        self._slots = asyncio.Semaphore(policy.max_concurrency)
        self._min_delay = policy.min_delay
        self._next_start = 0.0
        self._turn = asyncio.Lock()

    def raise_min_delay(self, delay: float) -> None:
        """Apply a robots.txt Crawl-delay (only ever lengthens the configured gap)."""
        if delay > self._min_delay:
            log.info("host %s: robots.txt Crawl-delay %.2fs raises the minimum delay", self.host, delay)
            self._min_delay = delay

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the host's connections; the request starts no sooner than `min_delay` after the last."""
        async with self._slots:
            await self._wait_turn()
            yield

    async def _wait_turn(self) -> None:
        if self._min_delay <= 0:
            return
        # Starts are serialised and the next one is timed from the actual start, so a start delayed
        # by a busy event loop never lets the following one come early.
        async with self._turn:
            loop = asyncio.get_running_loop()
            wait = self._next_start - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self._next_start = loop.time() + self._min_delay


class HostLimiters:
    """Creates each host's limiter on first use, with the policy the factory gives for that host."""

    def __init__(self, policy_for: Callable[[str], HostPolicy]):
        self._policy_for = policy_for
        self._limiters: dict[str, HostLimiter] = {}

    def get(self, host: str) -> HostLimiter:
        limiter = self._limiters.get(host)
        if limiter is None:
            limiter = self._limiters[host] = HostLimiter(host, self._policy_for(host))
        return limiter
