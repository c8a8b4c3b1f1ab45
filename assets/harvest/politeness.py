"""Per-host politeness: a cap on parallel requests and a minimum gap between request starts.

One `HostLimiter` exists per `hostname:port` for the whole run, so every unit on a shared
(集约化) host draws from the same budget.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator, Callable

from .settings import HostPolicy

log = logging.getLogger("zwgk.harvest")


class _Slots:
    """A counting semaphore whose urgent waiters go first (FIFO within each class)."""

    def __init__(self, count: int):
        self._free = count
        self._waiters: dict[bool, collections.deque[asyncio.Future]] = {True: collections.deque(),
                                                                          False: collections.deque()}

    async def acquire(self, urgent: bool) -> None:
        if self._free > 0 and not self._waiters[True] and not self._waiters[False]:
            self._free -= 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters[urgent].append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed a slot just as it was cancelled: pass it on
            else:
                self._waiters[urgent].remove(waiter)
            raise

    def release(self) -> None:
        for urgent in (True, False):
            queue = self._waiters[urgent]
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)  # the slot passes straight to the waiter
                    return
        self._free += 1


class HostLimiter:
    def __init__(self, host: str, policy: HostPolicy):
        self.host = host
        self.policy = policy
        self._slots = _Slots(policy.max_concurrency)
        self._min_delay = policy.min_delay
        self._next_start = 0.0
        self._turn = asyncio.Lock()

    def raise_min_delay(self, delay: float) -> None:
        """Apply a robots.txt Crawl-delay (only ever lengthens the configured gap)."""
        if delay > self._min_delay:
            log.info("host %s: robots.txt Crawl-delay %.2fs raises the minimum delay", self.host, delay)
            self._min_delay = delay

    @asynccontextmanager
    async def slot(self, urgent: bool = False) -> AsyncIterator[None]:
        """Hold one of the host's connections; the request starts no sooner than `min_delay` after the last.

        `urgent` requests (those of a page being rendered, which holds a browser tab and a deadline)
        get the next free connection before queued ordinary ones; the host's limits are the same.
        """
        await self._slots.acquire(urgent)
        try:
            await self._wait_turn()
            yield
        finally:
            self._slots.release()

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
