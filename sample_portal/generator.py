"""Generate the sample Binhai portal: static sites, a manifest and the ground truth.

    OUT/portal.json        hosts and units (the server turns it into a crawler registry)
    OUT/ground_truth.json  every unit's expected verdict on every check, as of `as_of`
    OUT/sites/<host>/...   each host's document root

Deterministic: the same arguments give the same bytes (and the same file mtimes, which the
server's ETag and Last-Modified come from). Units are generated and written one at a time, so
1,000 units × 1,000 documents fit in little memory.
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
from .model import TEMPLATES, UnitBuilder, UnitSite, unit_rng
from .render import UnitRenderer
from .truth import unit_ground_truth
from .units import BASE_UNITS, HOSTS, UnitSpec, unit_specs

DEFAULT_SEED = 20201130
DEFAULT_AS_OF = date(2021, 3, 1)
DEFAULT_DOCS_PER_UNIT = 60
MANIFEST_VERSION = 1
HOSTS_BY_KEY = {h.key: h for h in HOSTS}
# Own-host zones keep their column at a path of their own CMS, not under a unit prefix.
OWN_HOST_BASES = {"teda": "/xxgk/", "ftz": "/zwgk/zfxxgk/"}


@dataclass(frozen=True)
class PortalSummary:
    out_dir: Path
    units: int
    documents: int
    files: int
    bytes: int


def unit_base(spec: UnitSpec) -> str:
    return OWN_HOST_BASES.get(spec.id, f"/{spec.id}/zfxxgk/")


def template_for(spec: UnitSpec, position: int) -> str:
    if spec.host == "ftz":
        return "trs4"
    if spec.host == "teda":
        return "span"
    return TEMPLATES[position % len(TEMPLATES)]


def build_sites(seed: int, as_of: date, units: int | None, docs_per_unit: int) -> Iterator[UnitSite]:
    """Every unit's site with its defects applied, base units first, one at a time."""
    specs = unit_specs(units)
    base_count = min(len(specs), len(BASE_UNITS))

    def build(position: int, spec: UnitSpec) -> UnitSite:
        charset = HOSTS_BY_KEY[spec.host].charset
        return UnitBuilder(spec, seed, as_of, docs_per_unit, template_for(spec, position), charset).build()

    base_sites = [build(i, spec) for i, spec in enumerate(specs[:base_count])]
    plan = defects.plan_base_defects(base_sites, seed) if base_count == len(BASE_UNITS) else {}
    for site in base_sites:
        defects.apply_defects(site, plan.get(site.spec.id, []), unit_rng(seed, site.spec.id, "defects"), as_of)
        yield site
    for position, spec in enumerate(specs[base_count:], start=base_count):
        site = build(position, spec)
        rng = unit_rng(seed, spec.id, "defects")
        defects.apply_defects(site, defects.random_defects(site, rng), rng, as_of)
        yield site


class SiteWriter:
    """Writes files under OUT/sites/<host>/ with deterministic mtimes, counting what it wrote."""

    def __init__(self, out_dir: Path):
        self.root = out_dir / "sites"
        self.files = 0
        self.bytes = 0

    def write(self, host: str, path: str, data: bytes, day: date | None) -> None:
        target = self.root / host / path.lstrip("/")
        if path.endswith("/"):
            target = target / "index.html"
        if "?" in path:
            stem, query = path.split("?", 1)
            target = self.root / host / f"{stem.lstrip('/')}@{query}"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        stamp = datetime(*(day or DEFAULT_AS_OF).timetuple()[:3], 8, 0, tzinfo=timezone.utc).timestamp()
        os.utime(target, (stamp, stamp))
        self.files += 1
        self.bytes += len(data)


def encode(html: str, charset: str) -> bytes:
    return html.encode(charset, errors="xmlcharrefreplace")


def write_unit(writer: SiteWriter, site: UnitSite, as_of: date) -> int:
    """Render and write one unit's pages; returns the number of documents written."""
    spec = site.spec
    base = unit_base(spec)
    renderer = UnitRenderer(site, base, date_style="compact" if spec.host == "ftz" else None)
    host, charset = spec.host, site.charset
    out = lambda path, html, day=as_of: writer.write(host, path, encode(html, charset), day)  # noqa: E731
    home = base.rsplit("zfxxgk/", 1)[0] if base.endswith("zfxxgk/") else base
    if home != base:
        out(home + "index.html", renderer.page(spec.name, [], f'<h2>{spec.name}</h2><p><a href="{base}">政府信息公开</a></p>'))
    if not site.reachable:
        return 0
    out(base + "index.html", renderer.entry_page())
    out(base + "ysqgk/index.html", renderer.page("依申请公开", [(base, "政府信息公开")], "<form>在线申请表</form>"))
    documents = 0
    for column in site.columns:
        if any(c.parent == column.code for c in site.columns):
            out(renderer.column_url(column), renderer.parent_column_page(column))
            continue
        for path, html in renderer.list_pages(column):
            out(path, html)
        for doc in column.docs:
            out(doc.path, renderer.detail_page(doc, column), doc.publish_date or doc.written_date)
            documents += 1
            for attachment in doc.attachments:
                if attachment.exists:
                    writer.write(host, attachment.path, attachment_bytes(attachment.path), doc.publish_date)
    return documents


def attachment_bytes(path: str) -> bytes:
    """A small deterministic file with the right magic number for its type."""
    filler = hashlib.sha256(path.encode()).hexdigest().encode() * 40
    if path.endswith(".pdf"):
        return b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n" + filler + b"\n%%EOF\n"
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + filler


def write_host_files(writer: SiteWriter, units: list[UnitSpec]) -> None:
    for host in HOSTS:
        on_host = [u for u in units if u.host == host.key]
        disallow = "".join(f"Disallow: {unit_base(u)}ysqgk/\n" for u in on_host)
        robots = f"User-agent: *\nDisallow: /search/\n{disallow}\nUser-agent: BadBot\nDisallow: /\n"
        writer.write(host.key, "/robots.txt", robots.encode(), None)
        writer.write(host.key, "/css/common.css", b"body{font-family:sans-serif}\n", None)
        links = "".join(f'<li><a href="{unit_base(u)}">{u.name}</a></li>' for u in on_host)
        label = "gb2312" if host.charset == "gbk" else "utf-8"
        home = (f'<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset={label}">'
                f"<title>天津市滨海新区人民政府</title></head><body><h1>政府信息公开</h1><ul>{links}</ul></body></html>\n")
        writer.write(host.key, "/index.html", encode(home, host.charset), None)


def manifest_unit(spec: UnitSpec) -> dict:
    aliases = [a for a in (spec.full_name, *spec.aliases) if a and a != spec.name]
    entry = {"id": spec.id, "name": spec.name, "kind": spec.kind, "host": spec.host, "path": unit_base(spec),
             "aliases": aliases, "emergency_duties": spec.has_emergency_duties, "key_areas": list(spec.areas)}
    return entry


def generate_portal(out_dir: str | Path, seed: int = DEFAULT_SEED, as_of: date = DEFAULT_AS_OF,
                    units: int | None = None, docs_per_unit: int = DEFAULT_DOCS_PER_UNIT,
                    progress: Callable[[int, int], None] | None = None) -> PortalSummary:
    """Write the sample portal into `out_dir` (replacing a previous portal there)."""
    out_dir = Path(out_dir)
    if (out_dir / "sites").exists():
        shutil.rmtree(out_dir / "sites")
    out_dir.mkdir(parents=True, exist_ok=True)
    specs = unit_specs(units)
    writer = SiteWriter(out_dir)
    write_host_files(writer, specs)
    truth: dict[str, dict] = {}
    documents = 0
    for number, site in enumerate(build_sites(seed, as_of, units, docs_per_unit), start=1):
        documents += write_unit(writer, site, as_of)
        truth[site.spec.id] = unit_ground_truth(site, as_of, HOSTS_BY_KEY[site.spec.host].ipv6)
        if progress:
            progress(number, len(specs))
    manifest = {
        "generator": "zwgk-sample-portal", "version": MANIFEST_VERSION, "seed": seed, "as_of": as_of.isoformat(),
        "docs_per_unit": docs_per_unit,
        "hosts": [{"key": h.key, "hostname": h.hostname, "root": f"sites/{h.key}", "ipv6": h.ipv6,
                   "charset": h.charset} for h in HOSTS],
        "units": [manifest_unit(s) for s in specs],
    }
    _write_json(out_dir / "portal.json", manifest)
    _write_json(out_dir / "ground_truth.json", {"seed": seed, "as_of": as_of.isoformat(), "units": truth})
    return PortalSummary(out_dir, len(specs), documents, writer.files, writer.bytes)


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)
