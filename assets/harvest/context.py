"""What the units of one run share: the HTTP session, per-host limiters, robots.txt cache and downloader."""

from __future__ import annotations

import socket
from dataclasses import dataclass

import aiohttp

from zwgk.registry import Registry

from .addresses import AddressPolicy, PolicyResolver
from .downloader import Downloader
from .politeness import HostLimiters
from .robots import RobotsCache
from .settings import HarvestSettings


@dataclass
class HarvestContext:
    registry: Registry
    settings: HarvestSettings
    policy: AddressPolicy
    limiters: HostLimiters
    downloader: Downloader
    ipv6_downloader: Downloader
    robots: RobotsCache
    _sessions: tuple[aiohttp.ClientSession, ...]

    @classmethod
    def open(cls, registry: Registry, settings: HarvestSettings) -> HarvestContext:
        """Create the shared objects (call inside the running event loop); close with `close()`."""
        policy = AddressPolicy(registry)
        limiters = HostLimiters(lambda host: settings.host_policy(registry, host))
        session = _session(policy, settings, socket.AF_UNSPEC)
        ipv6_session = _session(policy, settings, socket.AF_INET6)
        downloader = Downloader(session, limiters, policy, settings)
        robots = RobotsCache(lambda url: downloader.fetch(url, check_robots=False), limiters, settings)
        downloader.robots_allowed = robots.allowed
        ipv6_downloader = Downloader(ipv6_session, limiters, policy, settings, robots.allowed)
        return cls(registry, settings, policy, limiters, downloader, ipv6_downloader, robots, (session, ipv6_session))

    async def close(self) -> None:
        for session in self._sessions:
            await session.close()


def _session(policy: AddressPolicy, settings: HarvestSettings, family: int) -> aiohttp.ClientSession:
    """A session whose connections obey the address policy; limits are ours (HostLimiter), not aiohttp's."""
    connector = aiohttp.TCPConnector(
        limit=0, limit_per_host=0, family=family, resolver=PolicyResolver(policy), ttl_dns_cache=300
    )
    return aiohttp.ClientSession(
        connector=connector,
        headers={"User-Agent": settings.user_agent, "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
        cookie_jar=aiohttp.DummyCookieJar(),
    )
