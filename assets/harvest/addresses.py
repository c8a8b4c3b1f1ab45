"""Address policy: which IP addresses the harvester may connect to, and how host names resolve.

Host names resolve through `registry.resolve` first (like curl --resolve: the sample portal's
`*.zwgk.test` names exist only there), then DNS. Loopback, private, link-local, reserved,
multicast and unspecified addresses are refused unless `registry.allow_private_addresses`.

The policy lives in an aiohttp resolver, so it applies at connection time to every request
(redirect hops included) and the request keeps its URL, hence its `Host: hostname:port` header
and its TLS server name, while the socket goes to the resolved address.
"""

from __future__ import annotations

import ipaddress
import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from core.registry import Registry


class AddressRefused(OSError):
    """The host resolves only to addresses the policy forbids (aiohttp wraps it in a connector error)."""


def _is_forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    # `not is_global` also covers shared address space (100.64.0.0/10, where some clouds keep
    # their metadata service) and the other special-purpose ranges `is_private` leaves out.
    return (
        not address.is_global
        or address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )


class AddressPolicy:
    def __init__(self, registry: Registry):
        self.allow_private = registry.allow_private_addresses
        self.resolve_map = {host.lower(): tuple(addrs) for host, addrs in registry.resolve.items()}

    def refusal(self, address: str) -> str | None:
        """Why connecting to `address` is refused, or None when it is allowed."""
        if self.allow_private:
            return None
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return f"{address} is not an IP address"
        if _is_forbidden(ip):
            return (f"{address} is a loopback/private/link-local/reserved address"
                    " (the registry does not allow private addresses)")
        return None

    def check_literal(self, url_netloc: str) -> None:
        """Raise AddressRefused for a forbidden IP-literal host (aiohttp skips the resolver for those)."""
        host = url_netloc.rpartition("@")[2]
        host = host[1 : host.find("]")] if host.startswith("[") else host.partition(":")[0]
        if not host or host[-1].isalpha():  # a host name: the resolver applies the policy
            return
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return
        reason = self.refusal(host)
        if reason:
            raise AddressRefused(reason)

    def mapped(self, hostname: str, family: int = socket.AF_UNSPEC) -> list[str] | None:
        """Addresses from `registry.resolve` for `hostname` of the given family, or None if unmapped."""
        addresses = self.resolve_map.get(hostname.lower().rstrip("."))
        if addresses is None:
            return None
        return [a for a in addresses if family == socket.AF_UNSPEC or _family(a) == family]


def _family(address: str) -> int:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


class PolicyResolver(AbstractResolver):
    """aiohttp resolver applying `AddressPolicy`: registry map, then DNS, then the private-address filter."""

    def __init__(self, policy: AddressPolicy):
        self._policy = policy
        self._dns: ThreadedResolver | None = None

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        mapped = self._policy.mapped(host, family)
        if mapped is not None:
            results = [_result(host, address, port) for address in mapped]
        else:
            self._dns = self._dns or ThreadedResolver()
            results = await self._dns.resolve(host, port, family)
        allowed = [r for r in results if self._policy.refusal(r["host"]) is None]
        if not allowed:
            refused = ", ".join(r["host"] for r in results) or "no address"
            reason = self._policy.refusal(results[0]["host"]) if results else "no address"
            raise AddressRefused(f"refusing to connect to {host} ({refused}): {reason}")
        return allowed

    async def close(self) -> None:
        if self._dns is not None:
            await self._dns.close()


def _result(hostname: str, address: str, port: int) -> ResolveResult:
    return {
        "hostname": hostname,
        "host": address,
        "port": port,
        "family": _family(address),
        "proto": 0,
        "flags": socket.AI_NUMERICHOST,
    }
