"""Generate the sample Binhai portal: static sites, dynamic data, a manifest and the ground truth.

    OUT/portal.json        hosts and units (the server turns it into a crawler registry)
    OUT/ground_truth.json  every unit's expected verdict on every check, as of `as_of`
    OUT/sites/<host>/...   each host's document root
    OUT/dynamic.json       the dynamic endpoints (challenge gate, data proxies, JSON APIs, redirects)
    OUT/dynamic/...        the data those endpoints answer from (kept out of the served tree)
    OUT/tls/...            the HTTPS host's CA, certificate and key (new ones on every run)

Deterministic: the same arguments give the same bytes in sites/, dynamic/, dynamic.json,
portal.json and ground_truth.json (and the same file mtimes in sites/, which the server's ETag
and Last-Modified come from); only tls/ differs between runs. Units are generated and written
one at a time, so 1,000 units × 1,000 documents fit in little memory.

Each unit's list mechanism (sample_portal/mechanisms, docs/list-mechanisms.md) decides where its
pages live and how its lists are served; the template family (render.py) decides how its
pages look.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from . import defects
from .mechanisms import DYNAMIC_FILE, gate, moved
from .mechanisms.base import DYNAMIC_DIR, UnitContext, encode, twin_for
from .model import TEMPLATES, UnitBuilder, UnitSite, unit_rng
from .render import UnitRenderer
from .shapes import unit_shape
from .truth import unit_ground_truth
from .units import BASE_UNITS, HOSTS, HOSTS_BY_KEY, Host, UnitSpec, unit_base, unit_specs

DEFAULT_SEED = 20201130
DEFAULT_AS_OF = date(2021, 3, 1)
DEFAULT_DOCS_PER_UNIT = 60
MANIFEST_VERSION = 2
TLS_DIR = "tls"


@dataclass(frozen=True)
class PortalSummary:
    out_dir: Path
    units: int
    documents: int
    files: int
    bytes: int


def template_for(spec: UnitSpec, position: int) -> str:
    if spec.host == "ftz":
        return "trs4"
    if spec.host == "teda":
        return "span"
    return TEMPLATES[position % len(TEMPLATES)]


def build_sites(seed: int, as_of: date, units: int | None, docs_per_unit: int,
                mechanisms: tuple[str, ...] | None = None) -> Iterator[UnitSite]:
    """Every unit's site with its defects applied, base units first, one at a time."""
    specs = unit_specs(units, mechanisms)
    base_count = min(len(specs), len(BASE_UNITS))

    def build(position: int, spec: UnitSpec) -> UnitSite:
        charset = HOSTS_BY_KEY[spec.host].charset
        return UnitBuilder(spec, seed, as_of, docs_per_unit, template_for(spec, position), charset,
                           unit_shape(spec, seed)).build()

    base_sites = [build(i, spec) for i, spec in enumerate(specs[:base_count])]
    plan = defects.plan_base_defects(base_sites, seed) if base_count == len(BASE_UNITS) else {}
    for site in base_sites:
        defects.apply_defects(site, plan.get(site.spec.id, []), unit_rng(seed, site.spec.id, "defects"), as_of)
        site.settle_list_marks()  # after the defects: they change what pages say
        yield site
    for position, spec in enumerate(specs[base_count:], start=base_count):
        site = build(position, spec)
        rng = unit_rng(seed, spec.id, "defects")
        defects.apply_defects(site, defects.random_defects(site, rng), rng, as_of)
        site.settle_list_marks()
        yield site


class SiteWriter:
    """Writes files under OUT/sites/<host>/ with deterministic mtimes, and the dynamic data
    beside them, counting what it wrote."""

    def __init__(self, out_dir: Path):
        self.out_dir = out_dir
        self.root = out_dir / "sites"
        self.files = 0
        self.bytes = 0
        self._made: set[Path] = set()  # directories known to exist: one mkdir each, not one per file

    def _directory(self, path: Path) -> None:
        if path not in self._made:
            if len(self._made) >= 20_000:  # bounded: a unit's directories are written together
                self._made.clear()
            path.mkdir(parents=True, exist_ok=True)
            self._made.add(path)

    def write_out(self, relative: str, data: bytes) -> None:
        """A file of the portal outside the served tree (OUT/dynamic/…)."""
        target = self.out_dir / relative
        self._directory(target.parent)
        target.write_bytes(data)
        self.files += 1
        self.bytes += len(data)

    def write(self, host: str, path: str, data: bytes, day: date | None) -> None:
        target = self.root / host / path.lstrip("/")
        if path.endswith("/"):
            target = target / "index.html"
        if "?" in path:
            stem, query = path.split("?", 1)
            target = self.root / host / f"{stem.lstrip('/')}@{query}"
        self._directory(target.parent)
        target.write_bytes(data)
        stamp = datetime(*(day or DEFAULT_AS_OF).timetuple()[:3], 8, 0, tzinfo=timezone.utc).timestamp()
        os.utime(target, (stamp, stamp))
        self.files += 1
        self.bytes += len(data)


@dataclass(frozen=True)
class WrittenUnit:
    documents: int
    entry_url: str  # the unit's current entry page
    routes: list[dict]  # its dynamic endpoints (OUT/dynamic.json)


def write_unit(writer: SiteWriter, site: UnitSite, as_of: date, seed: int = DEFAULT_SEED) -> WrittenUnit:
    """Lay out, render and write one unit's pages and list data."""
    spec = site.spec
    unit = UnitContext(site, HOSTS_BY_KEY[spec.host], seed, as_of, writer)
    twin = twin_for(site.mechanism)
    twin.layout(unit)
    for column in site.columns:
        if column.mechanism != site.mechanism:
            twin_for(column.mechanism).layout_column(unit, column)
        if column.article is not None:  # the document is the column's page, not a page of its own
            column.article.path = column.url
    renderer = unit.renderer = UnitRenderer(site, unit.base, unit.entry_url,
                                            date_style="compact" if spec.host == "ftz" else None)
    base = unit.base
    home = base.rsplit("zfxxgk/", 1)[0] if base.endswith("zfxxgk/") else base
    if home != base:
        unit.write_page(home + "index.html", renderer.page(
            spec.name, [], f'<h2>{spec.name}</h2><p><a href="{unit.entry_url}">政府信息公开</a></p>'))
    if not site.reachable:
        return WrittenUnit(0, unit.entry_url, [])
    twin.write_entry(unit)
    unit.write_page(base + "ysqgk/index.html", renderer.page("依申请公开", [(unit.entry_url, "政府信息公开")],
                                                             "<form>在线申请表</form>"))
    documents = 0
    for column in site.columns:
        if any(c.parent == column.code for c in site.columns):
            twin.write_parent(unit, column)
            continue
        if column.article is not None:
            day = column.article.publish_date
            unit.write_page(column.url, renderer.article_column_page(column), day)
            documents += 1
            continue
        twin_for(column.mechanism).write_column(unit, column)
        for doc in column.docs:
            if doc.dead:  # listed, never published: the link is what the defect is about
                continue
            day = doc.publish_date or doc.written_date
            unit.write_page(doc.path, renderer.detail_page(doc, column, twin.detail_extra(unit, doc, column)), day)
            documents += 1
            for attachment in doc.attachments:
                if attachment.exists:
                    writer.write(spec.host, attachment.path, attachment_bytes(attachment.path), doc.publish_date)
    for mechanism in dict.fromkeys([site.mechanism, *(c.mechanism for c in site.columns)]):
        twin_for(mechanism).finish(unit)
    if spec.moved_from:
        unit.routes.append(moved.route(spec.host, spec.moved_from, unit.entry_url))
    return WrittenUnit(documents, unit.entry_url, unit.routes)


def attachment_bytes(path: str) -> bytes:
    """A small deterministic file with the right magic number for its type."""
    filler = hashlib.sha256(path.encode()).hexdigest().encode() * 40
    if path.endswith(".pdf"):
        return b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n" + filler + b"\n%%EOF\n"
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + filler


def write_host_files(writer: SiteWriter, units: list[UnitSpec], entries: dict[str, str], seed: int) -> list[dict]:
    """robots.txt, style sheet and home page of every host; returns the gates' routes."""
    routes = []
    for host in HOSTS:
        on_host = [u for u in units if u.host == host.key]
        disallow = "".join(f"Disallow: {unit_base(u)}ysqgk/\n" for u in on_host)
        robots = f"User-agent: *\nDisallow: /search/\n{disallow}\nUser-agent: BadBot\nDisallow: /\n"
        writer.write(host.key, "/robots.txt", robots.encode(), None)
        writer.write(host.key, "/css/common.css", b"body{font-family:sans-serif}\n", None)
        links = "".join(f'<li><a href="{entries[u.id]}">{u.name}</a></li>' for u in on_host)
        label = "gb2312" if host.charset == "gbk" else "utf-8"
        home = (f'<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset={label}">'
                f"<title>天津市滨海新区人民政府</title></head><body><h1>政府信息公开</h1><ul>{links}</ul></body></html>\n")
        writer.write(host.key, "/index.html", encode(home, host.charset), None)
        if any(u.gated for u in on_host):
            gate.host_files(writer.write, host.key)
            routes.append(gate.route(host.key, seed))
    return routes


def write_tls(out_dir: Path) -> dict[str, dict]:
    """A CA and a certificate per HTTPS host (its name, 127.0.0.1 and ::1), as OUT-relative paths."""
    import trustme

    https = [h for h in HOSTS if h.scheme == "https"]
    if not https:
        return {}
    folder = out_dir / TLS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="zwgk sample portal CA")
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    result = {}
    for host in https:
        cert = ca.issue_cert(host.hostname, "127.0.0.1", "::1")
        cert.private_key_pem.write_to_path(str(folder / f"{host.hostname}.key"))
        (folder / f"{host.hostname}.pem").write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
        result[host.key] = {"cert": f"{TLS_DIR}/{host.hostname}.pem", "key": f"{TLS_DIR}/{host.hostname}.key",
                            "ca": f"{TLS_DIR}/ca.pem"}
    return result


def manifest_host(host: Host, tls: dict[str, dict]) -> dict:
    entry = {"key": host.key, "hostname": host.hostname, "root": f"sites/{host.key}", "ipv6": host.ipv6,
             "charset": host.charset}
    if host.scheme != "http":
        entry["scheme"] = host.scheme
    if host.key in tls:
        entry["tls"] = tls[host.key]
    if host.soft_404:
        entry["not_found"] = host.not_found
    return entry


def manifest_unit(spec: UnitSpec, entry_url: str) -> dict:
    """The unit as the registry will hold it: `path` is the URL it is registered under."""
    aliases = [a for a in (spec.full_name, *spec.aliases) if a and a != spec.name]
    return {"id": spec.id, "name": spec.name, "kind": spec.kind, "host": spec.host,
            "path": spec.moved_from or entry_url, "mechanism": spec.mechanism,
            "aliases": aliases, "emergency_duties": spec.has_emergency_duties, "key_areas": list(spec.areas)}


def generate_portal(out_dir: str | Path, seed: int = DEFAULT_SEED, as_of: date = DEFAULT_AS_OF,
                    units: int | None = None, docs_per_unit: int = DEFAULT_DOCS_PER_UNIT,
                    progress: Callable[[int, int], None] | None = None,
                    synthetic_mechanisms: tuple[str, ...] | None = None) -> PortalSummary:
    """Write the sample portal into `out_dir` (replacing a previous portal there).

    `synthetic_mechanisms` limits the list mechanisms the synthetic scale units cycle through
    (the base units keep theirs).
    """
    out_dir = Path(out_dir)
    for generated in ("sites", DYNAMIC_DIR, TLS_DIR):
        if (out_dir / generated).exists():
            shutil.rmtree(out_dir / generated)
    out_dir.mkdir(parents=True, exist_ok=True)
    specs = unit_specs(units, synthetic_mechanisms)
    writer = SiteWriter(out_dir)
    truth: dict[str, dict] = {}
    entries: dict[str, str] = {}
    unit_routes: list[dict] = []
    documents = 0
    for number, site in enumerate(build_sites(seed, as_of, units, docs_per_unit, synthetic_mechanisms), start=1):
        written = write_unit(writer, site, as_of, seed)
        documents += written.documents
        entries[site.spec.id] = written.entry_url
        unit_routes += written.routes
        truth[site.spec.id] = unit_ground_truth(site, as_of, HOSTS_BY_KEY[site.spec.host].ipv6)
        if progress:
            progress(number, len(specs))
    gate_routes = write_host_files(writer, specs, entries, seed)
    tls = write_tls(out_dir)
    manifest = {
        "generator": "zwgk-sample-portal", "version": MANIFEST_VERSION, "seed": seed, "as_of": as_of.isoformat(),
        "docs_per_unit": docs_per_unit,
        "hosts": [manifest_host(h, tls) for h in HOSTS],
        "units": [manifest_unit(s, entries[s.id]) for s in specs],
    }
    _write_json(out_dir / DYNAMIC_FILE, gate_routes + unit_routes)  # a host's gate before its other routes
    _write_json(out_dir / "portal.json", manifest)
    _write_json(out_dir / "ground_truth.json", {"seed": seed, "as_of": as_of.isoformat(), "units": truth})
    return PortalSummary(out_dir, len(specs), documents, writer.files, writer.bytes)


def _write_json(path: Path, data: dict | list) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)
