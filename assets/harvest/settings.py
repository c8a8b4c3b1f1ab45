"""Crawler settings, and the effective politeness policy of one host.

Defaults are for real government sites (2 connections, one request start per second). A
registry may override them per host (`politeness:`), and `HarvestSettings(polite=False)`
lifts concurrency and delay limits for benchmarks against our own sample portal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from importlib import metadata

from core.registry import Registry


def _version() -> str:
    try:
        return metadata.version("zwgk")
    except metadata.PackageNotFoundError:
        return "0"


AGENT_TOKEN = "zwgk-harvester"
USER_AGENT = f"{AGENT_TOKEN}/{_version()} (+https://github.com/zwgk; open-government completeness checks)"


@dataclass(frozen=True)
class HostPolicy:
    """The limits that apply to every request to one `hostname:port`, whichever unit sends it."""

    max_concurrency: int
    min_delay: float
    timeout: float
    max_retries: int


@dataclass(frozen=True)
class HarvestSettings:
    polite: bool = True
    max_concurrency: int = 2
    min_delay: float = 1.0
    unpolite_concurrency: int = 16
    timeout: float = 20.0
    max_retries: int = 3
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    max_crawl_delay: float = 60.0
    max_redirects: int = 5
    max_html_bytes: int = 5 * 1024 * 1024
    revisit_after: timedelta = timedelta(days=7)
    full_recheck: bool = False
    max_column_depth: int = 5
    max_list_pages: int = 2000
    max_units_in_flight: int = 8
    flush_rows: int = 1000
    flush_interval: float = 2.0
    user_agent: str = USER_AGENT
    # Rendering fallback (JS-shell columns; gated hosts only where the registry says render: true).
    render: bool = True
    render_timeout: float = 45.0  # polite hosts answer about one request a second
    render_pages: int = 2  # pages rendered at once
    chromium: str | None = None  # executable; None = $ZWGK_CHROMIUM or the system's chromium

    def host_policy(self, registry: Registry, host: str) -> HostPolicy:
        """Defaults, then the registry's entry for `host` (matched as `hostname:port`, then `hostname`).

        With `polite=False` the registry's concurrency and delay are ignored (benchmarks on our own
        servers); its timeout and retry overrides still apply.
        """
        override = registry.politeness.get(host) or registry.politeness.get(host.rsplit(":", 1)[0]) or {}
        if self.polite:
            concurrency = int(override.get("max_concurrency", self.max_concurrency))
            delay = float(override.get("min_delay", self.min_delay))
        else:
            concurrency, delay = self.unpolite_concurrency, 0.0
        return HostPolicy(
            max_concurrency=max(1, concurrency),
            min_delay=delay,
            timeout=float(override.get("timeout", self.timeout)),
            max_retries=int(override.get("max_retries", self.max_retries)),
        )
