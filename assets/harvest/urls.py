"""URL normalisation and the scope of a unit.

Many units share one host (集约化), so a unit's scope is its host *and* its path prefix
(`/jyj/` for `/jyj/zfxxgk/`), plus any `allowed_hosts` the registry lists for it.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urljoin, urlsplit, urlunsplit

from core.registry import Unit, scope_prefix

ATTACHMENT_EXTENSIONS = (".pdf", ".doc", ".docx", ".xls", ".xlsx", ".wps", ".zip", ".rar", ".ofd")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def absolute_url(base: str, href: str) -> str | None:
    """The normalised absolute form of `href` on page `base` (itself normalised), or None for non-HTTP(S) links.

    javascript:, mailto:, tel:, data: and ftp: links (and anything unparsable) are never followed.
    Root-relative links, most links on CMS pages, take a fast path that skips urljoin.
    """
    href = href.strip()
    if not href or href[0] == "#":
        return None
    if href[0] == "/" and not href.startswith("//") and "/." not in href:
        return _origin_of(base) + href.partition("#")[0]
    if href[:7].lower() in ("http://", "https:/"):
        return normalize_url(href)
    try:
        joined = urljoin(base, href)
    except ValueError:
        return None
    return normalize_url(joined)


def _origin_of(url: str) -> str:
    """`scheme://netloc` of a normalised URL, by string slicing (it always has a path)."""
    end = url.find("/", url.find("//") + 2)
    return url if end < 0 else url[:end]


@lru_cache(maxsize=65536)
def normalize_url(url: str) -> str | None:
    """Lower-case scheme and host, drop the default port and the fragment; None if not HTTP(S)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, parts.query, ""))


def netloc(url: str) -> str:
    """`hostname[:port]` of a normalised URL, the key politeness limits are shared on (as `Unit.host`)."""
    start = url.find("//") + 2
    end = url.find("/", start)
    return (url[start:] if end < 0 else url[start:end]).lower()


def url_path(url: str) -> str:
    """The path of a normalised URL (no query), by string slicing."""
    start = url.find("/", url.find("//") + 2)
    return "/" if start < 0 else url[start:].split("?", 1)[0]


def origin(url: str) -> str:
    return _origin_of(url)


def is_attachment(url: str) -> bool:
    path = url.split("?", 1)[0].split("#", 1)[0]
    return path.lower().endswith(ATTACHMENT_EXTENSIONS)


def directory(url: str) -> str:
    """The URL up to and including the last `/` of its path (no query)."""
    parts = urlsplit(url)
    path = parts.path if parts.path.endswith("/") else posixpath.dirname(parts.path) + "/"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


@dataclass(frozen=True)
class UnitScope:
    """Which URLs a unit may crawl, and which hosts it may contact at all."""

    host: str
    prefix: str
    allowed_hosts: frozenset[str]

    @classmethod
    def of(cls, unit: Unit) -> UnitScope:
        host = netloc(normalize_url(unit.url) or unit.url)  # `http://h:80/` is `h`, as our URLs are
        return cls(host, unit.scope_prefix, frozenset(unit.allowed_hosts))

    def moved_to(self, url: str) -> UnitScope:
        """The scope after the unit's entry answered with a redirect to `url` (a newer URL
        generation of the same site): the new location's directory replaces the old one."""
        if netloc(url) != self.host:
            return self  # moved to an allowed host: crawlable there already
        return UnitScope(self.host, scope_prefix(url), self.allowed_hosts)

    def same_site(self, url: str) -> bool:
        """Where the registered entry URL may redirect to: anywhere on its host or an allowed host."""
        return self.contactable(url)

    def _allowed_host(self, url_netloc: str) -> bool:
        return url_netloc in self.allowed_hosts or url_netloc.rsplit(":", 1)[0] in self.allowed_hosts

    def crawlable(self, url: str) -> bool:
        """In scope: the unit's host under its path prefix, or any path on an allowed host."""
        loc = netloc(url)
        if loc == self.host:
            return url_path(url).startswith(self.prefix)
        return self._allowed_host(loc)

    def contactable(self, url: str) -> bool:
        """May be status-checked (C18 evidence): the unit's own host (any path) or an allowed host."""
        loc = netloc(url)
        return loc == self.host or self._allowed_host(loc)


_INDEX_FILE = re.compile(r"/(index|default)\.(s?html?|jsp|php|aspx?)$", re.I)


def dedupe_key(url: str) -> str:
    """`/a/` and `/a/index.html` are one page on the CMSs we crawl: key them alike (first form is kept)."""
    if "?" in url:
        return url
    return _INDEX_FILE.sub("/", url)
