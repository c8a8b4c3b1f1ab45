"""C19 evidence: does a host answer over IPv6?

The host's IPv6 addresses come from `registry.resolve` (its AAAA-equivalent) or AAAA DNS; we
connect over IPv6 and request the entry path with the normal `Host` header. Any HTTP status
counts as an answer (a 404 over IPv6 still proves the IPv6 service is up).
"""

from __future__ import annotations

import asyncio
import socket
from urllib.parse import urlsplit

from .context import HarvestContext
from .downloader import utcnow


async def check_ipv6(ctx: HarvestContext, url: str) -> dict:
    """A `host_checks` row for the host of `url` (the entry URL of a unit on that host)."""
    parts = urlsplit(url)
    row = {"host": parts.netloc.lower(), "ipv6_addresses": [], "ipv6_ok": False, "http_status": None,
           "error": None, "checked_at": utcnow()}
    addresses = await _ipv6_addresses(ctx, parts.hostname or "", parts.port or 0)
    row["ipv6_addresses"] = addresses
    if not addresses:
        row["error"] = "no IPv6 (AAAA) address"
        return row
    refusals = [ctx.policy.refusal(a) for a in addresses]
    if all(refusals):
        row["error"] = f"address refused: {refusals[0]}"
        return row
    if not await ctx.robots.allowed(url):
        url = f"{parts.scheme}://{parts.netloc}/robots.txt"
    # No retries: a refused or failing IPv6 connection is the answer we are looking for.
    result = await ctx.ipv6_downloader.fetch(url, method="GET", probe=True, max_retries=0)
    row["http_status"] = result.status
    row["ipv6_ok"] = result.status is not None
    row["error"] = None if row["ipv6_ok"] else result.error
    return row


async def _ipv6_addresses(ctx: HarvestContext, hostname: str, port: int) -> list[str]:
    mapped = ctx.policy.mapped(hostname, socket.AF_INET6)
    if mapped is not None:
        return mapped
    if ctx.policy.mapped(hostname) is not None:
        return []  # the registry pins this host to IPv4 addresses only
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(hostname, port, family=socket.AF_INET6,
                                                             type=socket.SOCK_STREAM)
    except socket.gaierror:
        return []
    return sorted({info[4][0] for info in infos})
