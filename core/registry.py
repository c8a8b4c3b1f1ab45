"""The unit registry: which units to harvest, and where their 政府信息公开 column lives.

A registry is a YAML file::

    allow_private_addresses: false     # true only for test / sample portals on loopback
    resolve:                           # optional, like curl --resolve: hostname -> addresses
      www.bh.zwgk.test: ["127.0.0.1", "::1"]
    politeness:                        # optional per-host overrides of the crawler defaults
      www.bh.zwgk.test: {max_concurrency: 4, min_delay: 0.25}
    hosts:                             # optional per-host access options
      www.eco.zwgk.test:
        ca_bundle: certs/eco-ca.pem    # extra CA trusted for this host (beside the system store)
        render: true                   # gated pages may be rendered in Chromium (arranged with the unit)
    units:
      - id: jyj                        # short stable id, [a-z0-9_-]
        name: 区教育局
        kind: bureau                   # district | zone | bureau | street | town
        url: "https://host/jyj/zfxxgk/"
        # optional: parent, aliases, allowed_hosts, emergency_duties, key_areas,
        #   list_source (force one list adapter for every column of the unit),
        #   column_sources (column URL or name -> adapter, where detection cannot decide)

Loading validates every entry and raises `RegistryError` naming the entry and the problem.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

UNIT_KINDS = ("district", "zone", "bureau", "street", "town")
UNIT_ID_PATTERN = re.compile(r"^[a-z0-9_-]{1,64}$")
REQUIRED_FIELDS = ("id", "name", "kind", "url")
OPTIONAL_FIELDS = ("parent", "aliases", "allowed_hosts", "emergency_duties", "key_areas", "list_source",
                   "column_sources")
TOP_LEVEL_FIELDS = ("units", "allow_private_addresses", "resolve", "politeness", "hosts")
POLITENESS_FIELDS = ("max_concurrency", "min_delay", "timeout", "max_retries")
HOST_FIELDS = ("ca_bundle", "render")
# The harvester's list adapters (assets/harvest/lists, docs/list-mechanisms.md), by the names the
# registry may force them with.
LIST_SOURCES = ("static", "jpage", "xxgk_search", "igs", "gkmlpt", "siteserver", "rendered")

# Kinds that carry emergency duties unless the entry says otherwise (C16).
_EMERGENCY_KINDS = {"district", "zone", "street", "town"}
# The district's column must centre on these areas (notice 五.1); other units declare theirs.
_DISTRICT_KEY_AREAS = ("民生", "环保", "征地", "房屋征收")


class RegistryError(ValueError):
    """A registry file is malformed; the message names the file, the entry and the problem."""


@dataclass(frozen=True)
class Unit:
    id: str
    name: str
    kind: str
    url: str
    parent: str | None = None
    aliases: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()
    emergency_duties: bool = False
    key_areas: tuple[str, ...] = ()
    list_source: str | None = None
    column_sources: tuple[tuple[str, str], ...] = ()  # (column URL or name, adapter name)

    def source_for(self, column_url: str, column_name: str | None) -> str | None:
        """The list adapter the registry forces for a column, if any (by URL, then name, then unit)."""
        for key, source in self.column_sources:
            if key == column_url or (column_name and key == column_name):
                return source
        return self.list_source

    @property
    def host(self) -> str:
        """`hostname:port` of the entry URL: the key that politeness limits are shared on."""
        return urlsplit(self.url).netloc.lower()

    @property
    def scope_prefix(self) -> str:
        """The path prefix the unit owns: the first directory of the entry URL's path.

        `/jyj/zfxxgk/` owns `/jyj/…` on a shared host, so a unit's column may link to its
        own sub-site pages outside the column but never into a sibling unit's sub-site.
        """
        return scope_prefix(self.url)


def scope_prefix(url: str) -> str:
    """The first directory of `url`'s path (`/jyj/` for `/jyj/zfxxgk/`), or `/` for a top-level page."""
    path = urlsplit(url).path or "/"
    parts = [p for p in path.split("/") if p]
    if not parts:
        return "/"
    return "/" + parts[0] + "/" if len(parts) > 1 or path.endswith("/") else "/"


@dataclass(frozen=True)
class HostOptions:
    """Access options for one host: an extra CA to trust, and whether gated pages may be rendered."""

    ca_bundle: str | None = None  # absolute path of a PEM file
    render: bool = False


@dataclass(frozen=True)
class Registry:
    units: tuple[Unit, ...]
    allow_private_addresses: bool = False
    resolve: dict[str, tuple[str, ...]] = field(default_factory=dict)
    politeness: dict[str, dict[str, float]] = field(default_factory=dict)
    hosts: dict[str, HostOptions] = field(default_factory=dict)
    source: str = "<memory>"

    def host_options(self, host: str) -> HostOptions:
        """Options for `hostname:port`, matched as such, then by `hostname`."""
        return self.hosts.get(host) or self.hosts.get(host.rsplit(":", 1)[0]) or HostOptions()

    def get(self, unit_id: str) -> Unit:
        for unit in self.units:
            if unit.id == unit_id:
                return unit
        raise KeyError(f"unit {unit_id!r} is not in registry {self.source}")

    @property
    def ids(self) -> list[str]:
        return [u.id for u in self.units]


def load_registry(path: str | Path) -> Registry:
    """Read and validate a registry YAML file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RegistryError(f"{path}: cannot read registry: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise RegistryError(f"{path}: not UTF-8 text (byte {exc.start}); save the registry as UTF-8") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RegistryError(f"{path}: not valid YAML: {exc}") from exc
    except RecursionError:
        raise RegistryError(f"{path}: nested too deeply to be a registry") from None
    return parse_registry(data, source=str(path))


def parse_registry(data: Any, source: str = "<memory>") -> Registry:
    """Validate an already-parsed registry mapping (see module docstring for the format)."""
    if not isinstance(data, dict):
        raise RegistryError(f"{source}: the top level must be a mapping with a 'units' list")
    unknown = sorted(set(data) - set(TOP_LEVEL_FIELDS))
    if unknown:
        raise RegistryError(f"{source}: unknown top-level field(s) {unknown}; allowed: {list(TOP_LEVEL_FIELDS)}")
    entries = data.get("units")
    if not isinstance(entries, list) or not entries:
        raise RegistryError(f"{source}: 'units' must be a non-empty list")

    allow_private = data.get("allow_private_addresses", False)
    if not isinstance(allow_private, bool):
        raise RegistryError(f"{source}: 'allow_private_addresses' must be true or false")

    resolve = _parse_resolve(data.get("resolve") or {}, source)
    politeness = _parse_politeness(data.get("politeness") or {}, source)
    hosts = _parse_hosts(data.get("hosts") or {}, source)

    units: list[Unit] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        unit = _parse_unit(entry, index, source)
        if unit.id in seen:
            raise RegistryError(
                f"{source}: units[{index}] (id {unit.id!r}): duplicate id, already used by units[{seen[unit.id]}]"
            )
        seen[unit.id] = index
        units.append(unit)

    for index, unit in enumerate(units):
        if unit.parent is not None and unit.parent not in seen:
            raise RegistryError(
                f"{source}: units[{index}] (id {unit.id!r}): parent {unit.parent!r} is not a unit in this registry"
            )
    return Registry(
        units=tuple(units),
        allow_private_addresses=allow_private,
        resolve=resolve,
        politeness=politeness,
        hosts=hosts,
        source=source,
    )


def _parse_unit(entry: Any, index: int, source: str) -> Unit:
    where = f"{source}: units[{index}]"
    if not isinstance(entry, dict):
        raise RegistryError(f"{where}: must be a mapping with fields {list(REQUIRED_FIELDS)}")
    if isinstance(entry.get("id"), str):
        where += f" (id {entry['id']!r})"
    missing = [f for f in REQUIRED_FIELDS if entry.get(f) in (None, "")]
    if missing:
        raise RegistryError(f"{where}: missing required field(s) {missing}")
    unknown = sorted(set(entry) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS))
    if unknown:
        raise RegistryError(f"{where}: unknown field(s) {unknown}; optional fields are {list(OPTIONAL_FIELDS)}")

    unit_id, name, kind, url = (entry[f] for f in REQUIRED_FIELDS)
    if not isinstance(unit_id, str) or not UNIT_ID_PATTERN.match(unit_id):
        raise RegistryError(f"{where}: id {unit_id!r} must match [a-z0-9_-]{{1,64}}")
    if not isinstance(name, str) or not name.strip():
        raise RegistryError(f"{where}: name must be a non-empty string")
    if kind not in UNIT_KINDS:
        raise RegistryError(f"{where}: unknown kind {kind!r}; expected one of {list(UNIT_KINDS)}")
    _check_url(url, where)

    aliases = _string_list(entry.get("aliases"), "aliases", where)
    allowed_hosts = tuple(h.lower() for h in _string_list(entry.get("allowed_hosts"), "allowed_hosts", where))
    key_areas = _string_list(entry.get("key_areas"), "key_areas", where)
    emergency = entry.get("emergency_duties", kind in _EMERGENCY_KINDS)
    if not isinstance(emergency, bool):
        raise RegistryError(f"{where}: emergency_duties must be true or false")
    if "key_areas" not in entry and kind == "district":
        key_areas = _DISTRICT_KEY_AREAS
    parent = entry.get("parent")
    if parent is not None and not isinstance(parent, str):
        raise RegistryError(f"{where}: parent must be a unit id")
    list_source = entry.get("list_source")
    if list_source is not None and list_source not in LIST_SOURCES:
        raise RegistryError(f"{where}: unknown list_source {list_source!r}; expected one of {list(LIST_SOURCES)}")
    column_sources = entry.get("column_sources") or {}
    if not isinstance(column_sources, dict):
        raise RegistryError(f"{where}: column_sources must map column URLs or names to list sources")
    for key, value in column_sources.items():
        if not isinstance(key, str) or not key or value not in LIST_SOURCES:
            raise RegistryError(f"{where}: column_sources[{key!r}]: unknown list source {value!r}; "
                                f"expected one of {list(LIST_SOURCES)}")
    return Unit(
        id=unit_id,
        name=name.strip(),
        kind=kind,
        url=url,
        parent=parent,
        aliases=aliases,
        allowed_hosts=allowed_hosts,
        emergency_duties=emergency,
        key_areas=key_areas,
        list_source=list_source,
        column_sources=tuple(column_sources.items()),
    )


def _check_url(url: Any, where: str) -> None:
    if not isinstance(url, str):
        raise RegistryError(f"{where}: url must be a string")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise RegistryError(f"{where}: malformed url {url!r}: scheme must be http or https")
    if not parts.hostname:
        raise RegistryError(f"{where}: malformed url {url!r}: no host")
    try:
        parts.port
    except ValueError:
        raise RegistryError(f"{where}: malformed url {url!r}: bad port") from None
    if any(ch.isspace() for ch in url):
        raise RegistryError(f"{where}: malformed url {url!r}: contains white space")


def _string_list(value: Any, name: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise RegistryError(f"{where}: {name} must be a list of non-empty strings")
    return tuple(value)


def _parse_resolve(value: Any, source: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise RegistryError(f"{source}: 'resolve' must map host names to lists of IP addresses")
    resolve: dict[str, tuple[str, ...]] = {}
    for host, addresses in value.items():
        if not isinstance(addresses, list) or not addresses:
            raise RegistryError(f"{source}: resolve[{host!r}] must be a non-empty list of IP addresses")
        for address in addresses:
            try:
                ipaddress.ip_address(address)
            except (ValueError, TypeError):
                raise RegistryError(f"{source}: resolve[{host!r}]: {address!r} is not an IP address") from None
        resolve[str(host).lower()] = tuple(addresses)
    return resolve


def _parse_politeness(value: Any, source: str) -> dict[str, dict[str, float]]:
    if not isinstance(value, dict):
        raise RegistryError(f"{source}: 'politeness' must map hosts to settings")
    result: dict[str, dict[str, float]] = {}
    for host, settings in value.items():
        if not isinstance(settings, dict):
            raise RegistryError(f"{source}: politeness[{host!r}] must be a mapping")
        unknown = sorted(set(settings) - set(POLITENESS_FIELDS))
        if unknown:
            raise RegistryError(f"{source}: politeness[{host!r}]: unknown setting(s) {unknown}")
        for key, number in settings.items():
            if not isinstance(number, (int, float)) or isinstance(number, bool) or number < 0:
                raise RegistryError(f"{source}: politeness[{host!r}].{key} must be a non-negative number")
        result[str(host).lower()] = {k: float(v) for k, v in settings.items()}
    return result


def _parse_hosts(value: Any, source: str) -> dict[str, HostOptions]:
    """`hosts:` options; a relative `ca_bundle` is relative to the registry file's directory."""
    if not isinstance(value, dict):
        raise RegistryError(f"{source}: 'hosts' must map host names to options")
    base = Path(source).parent if source != "<memory>" else Path.cwd()
    result: dict[str, HostOptions] = {}
    for host, options in value.items():
        where = f"{source}: hosts[{host!r}]"
        if not isinstance(options, dict):
            raise RegistryError(f"{where} must be a mapping")
        unknown = sorted(set(options) - set(HOST_FIELDS))
        if unknown:
            raise RegistryError(f"{where}: unknown option(s) {unknown}; allowed: {list(HOST_FIELDS)}")
        render = options.get("render", False)
        if not isinstance(render, bool):
            raise RegistryError(f"{where}.render must be true or false")
        bundle = options.get("ca_bundle")
        if bundle is not None:
            if not isinstance(bundle, str) or not bundle:
                raise RegistryError(f"{where}.ca_bundle must be the path of a PEM file")
            path = (base / bundle).resolve()
            if not path.is_file():
                raise RegistryError(f"{where}.ca_bundle: no such file {path}")
            bundle = str(path)
        result[str(host).lower()] = HostOptions(ca_bundle=bundle, render=render)
    return result


def dump_registry(registry: Registry) -> str:
    """Serialize a registry back to YAML (used by the sample portal server)."""
    units = []
    for unit in registry.units:
        entry: dict[str, Any] = {"id": unit.id, "name": unit.name, "kind": unit.kind, "url": unit.url}
        if unit.parent:
            entry["parent"] = unit.parent
        if unit.aliases:
            entry["aliases"] = list(unit.aliases)
        if unit.allowed_hosts:
            entry["allowed_hosts"] = list(unit.allowed_hosts)
        if unit.emergency_duties != (unit.kind in _EMERGENCY_KINDS):
            entry["emergency_duties"] = unit.emergency_duties
        if unit.key_areas and not (unit.kind == "district" and unit.key_areas == _DISTRICT_KEY_AREAS):
            entry["key_areas"] = list(unit.key_areas)
        if unit.list_source:
            entry["list_source"] = unit.list_source
        if unit.column_sources:
            entry["column_sources"] = dict(unit.column_sources)
        units.append(entry)
    data: dict[str, Any] = {"allow_private_addresses": registry.allow_private_addresses}
    if registry.resolve:
        data["resolve"] = {h: list(a) for h, a in registry.resolve.items()}
    if registry.politeness:
        data["politeness"] = registry.politeness
    if registry.hosts:
        data["hosts"] = {
            host: {k: v for k, v in (("ca_bundle", o.ca_bundle), ("render", o.render)) if v}
            for host, o in registry.hosts.items()
        }
    data["units"] = units
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
