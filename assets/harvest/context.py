"""What the units of one run share: the HTTP session, per-host limiters, robots.txt cache and downloader."""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass, field
from functools import lru_cache

import aiohttp

from core.registry import Registry

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
    render_downloader: Downloader | None = None  # for requests of rendered pages (no shared cookie jar)
    renderer: object | None = field(default=None)  # rendering.Renderer, attached by the runner when enabled

    @classmethod
    def open(cls, registry: Registry, settings: HarvestSettings) -> HarvestContext:
        """Create the shared objects (call inside the running event loop); close with `close()`."""
        policy = AddressPolicy(registry)
        limiters = HostLimiters(lambda host: settings.host_policy(registry, host))
        session = _session(policy, settings, socket.AF_UNSPEC)
        ipv6_session = _session(policy, settings, socket.AF_INET6)
        ssl_for = _ssl_contexts(registry)
        downloader = Downloader(session, limiters, policy, settings, ssl_for=ssl_for)
        robots = RobotsCache(lambda url: downloader.fetch(url, check_robots=False), limiters, settings)
        downloader.robots_allowed = robots.allowed
        ipv6_downloader = Downloader(ipv6_session, limiters, policy, settings, robots.allowed, ssl_for=ssl_for)
        # Rendered pages' requests: a session of their own (their cookies live in the browser, one jar
        # per render), the same limiters (the same politeness).
        render_session = _session(policy, settings, socket.AF_UNSPEC)
        render_downloader = Downloader(render_session, limiters, policy, settings, robots.allowed, ssl_for=ssl_for)
        return cls(registry, settings, policy, limiters, downloader, ipv6_downloader, robots,
                   (session, ipv6_session, render_session), render_downloader)

    async def close(self) -> None:
        for session in self._sessions:
            await session.close()


def _ssl_contexts(registry: Registry):
    """The TLS context for a host: the system trust store, plus the CA the registry names for it.

    There is deliberately no way to turn verification off: a site whose certificate cannot be
    verified is unreachable (TLS) with the reason recorded, which is itself evidence.
    """

    @lru_cache(maxsize=None)
    def context_for(host: str) -> ssl.SSLContext:
        context = ssl.create_default_context()
        bundle = registry.host_options(host).ca_bundle
        if bundle:
            context.load_verify_locations(cafile=bundle)
        return context

    return context_for


def _session(policy: AddressPolicy, settings: HarvestSettings, family: int) -> aiohttp.ClientSession:
    """A session whose connections obey the address policy; limits are ours (HostLimiter), not aiohttp's.

    No cookies are kept: no list mechanism we know requires a session cookie (Hanweb's JSESSIONID
    is optional), a jar costs ~80 µs per request (measured), and cookies set by anti-bot scripts
    are passed only by rendering, in the browser's own jar per render.
    """
    connector = aiohttp.TCPConnector(
        limit=0, limit_per_host=0, family=family, resolver=PolicyResolver(policy), ttl_dns_cache=300
    )
    return aiohttp.ClientSession(
        connector=connector,
        headers={"User-Agent": settings.user_agent, "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
        cookie_jar=aiohttp.DummyCookieJar(),
    )
