"""What every twin shares: one unit being written, the default (TRS-style) site layout, serving helpers.

Generation: the generator makes a `UnitContext` per unit and asks the unit's twin (a `Twin`
subclass, one per module) to lay the unit out (entry URL, column URLs, document paths), then to
write the entry page, the parent-column pages and each column's list. A column served by another
mechanism than its unit (the `spa` shells) is laid out and written by that mechanism's twin;
its documents keep the unit's URL shape. Data that dynamic endpoints answer from goes to
OUT/dynamic/<host>/<unit>/<mechanism>/, never into the served sites/ tree, and each twin adds
the routes (OUT/dynamic.json, see __init__.py) its endpoints need.

Serving: `read_json` caches the data files by path and mtime; the response helpers keep every
twin's answers alike (charset, no caching).
"""

from __future__ import annotations

import importlib
import json
import math
import os
import random
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..model import Column, Doc, UnitSite, unit_rng
from ..units import Host, unit_base, unit_prefix

if TYPE_CHECKING:
    from ..render import UnitRenderer

DYNAMIC_DIR = "dynamic"


def encode(html: str, charset: str) -> bytes:
    return html.encode(charset, errors="xmlcharrefreplace")


def dumps(data: Any) -> bytes:
    """Deterministic compact JSON (data files are compared byte for byte across runs)."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def newest_first(docs: list[Doc]) -> list[Doc]:
    """The order every list shows: newest first, undated last, ties by key."""
    return sorted(docs, key=lambda d: (d.publish_date or date.min, d.key), reverse=True)


def page_count(items: int, size: int) -> int:
    return math.ceil(items / size) if items else 0


@dataclass
class UnitContext:
    """One unit while it is written: its site, renderer and output, and the routes its twins add."""

    site: UnitSite
    host: Host
    seed: int
    as_of: date
    writer: Any  # generator.SiteWriter: write(host key, path, bytes, mtime day), write_out(OUT path, bytes)
    entry_url: str = ""
    renderer: UnitRenderer | None = None
    routes: list[dict] = field(default_factory=list)

    @property
    def spec(self):
        return self.site.spec

    @property
    def prefix(self) -> str:
        """Every URL of the unit starts with this (`/jyj/`, or an own host's CMS directory)."""
        return unit_prefix(self.spec)

    @property
    def base(self) -> str:
        """The unit's TRS-style directory (`/jyj/zfxxgk/`)."""
        return unit_base(self.spec)

    @property
    def charset(self) -> str:
        return self.site.charset

    def rng(self, purpose: str) -> random.Random:
        """A stream of the unit's own for one purpose, so CMS ids never shift the content's stream."""
        return unit_rng(self.seed, self.spec.id, purpose)

    def write_page(self, path: str, html: str, day: date | None = None) -> None:
        self.writer.write(self.host.key, path, encode(html, self.charset), day or self.as_of)

    def data_dir(self, mechanism: str) -> str:
        """OUT-relative directory of one mechanism's data for this unit."""
        return f"{DYNAMIC_DIR}/{self.host.key}/{self.prefix.strip('/')}/{mechanism}"

    def write_data(self, mechanism: str, name: str, data: Any) -> None:
        self.writer.write_out(f"{self.data_dir(mechanism)}/{name}", dumps(data))

    def add_route(self, prefix: str, mechanism: str, params: dict) -> None:
        self.routes.append({"host": self.host.key, "prefix": prefix, "mechanism": mechanism, "params": params})


def twin_for(mechanism: str) -> Twin:
    return importlib.import_module(f"{__package__}.{mechanism}").TWIN


class Twin:
    """The default layout, a TRS-style static site, which mechanisms override where they differ.

    Entry `/<unit>/zfxxgk/`, a column per directory (`…/fdzdgknr/zcwj/`), documents at
    `…/zcwj/202009/t20200915_00012.html` with their attachments beside them.
    """

    name = ""  # the mechanism (module) name: data directories and routes are named after it

    # -- layout -------------------------------------------------------------------------------
    def layout(self, unit: UnitContext) -> None:
        unit.entry_url = unit.base
        for column in unit.site.columns:
            column.path = self.trs_column_dir(unit, column)
            column.url = column.path
            for doc in column.docs:
                self.place_trs_doc(column, doc)

    def layout_column(self, unit: UnitContext, column: Column) -> None:
        """Take over one column of a unit laid out by another twin (only `spa` does)."""

    @staticmethod
    def trs_column_dir(unit: UnitContext, column: Column) -> str:
        if column.parent:
            return f"{unit.base}{column.parent}/{column.code}/"
        return f"{unit.base}{column.code}/"

    @staticmethod
    def place_trs_doc(column: Column, doc: Doc) -> None:
        day = doc.publish_date or doc.written_date
        if day:
            doc.path = f"{column.path}{day:%Y%m}/t{day:%Y%m%d}_{doc.serial:05d}.html"
        else:
            doc.path = f"{column.path}art/content_{doc.serial:05d}.html"
        place_attachments(doc)

    # -- pages --------------------------------------------------------------------------------
    def write_entry(self, unit: UnitContext) -> None:
        unit.write_page(unit.entry_url, unit.renderer.entry_page())

    def write_parent(self, unit: UnitContext, column: Column) -> None:
        unit.write_page(column.url, unit.renderer.parent_column_page(column))

    def write_column(self, unit: UnitContext, column: Column) -> None:
        raise NotImplementedError

    def detail_extra(self, unit: UnitContext, doc: Doc, column: Column) -> str:
        """Markup a mechanism adds to a document page beside the unit's metadata template."""
        return ""

    def finish(self, unit: UnitContext) -> None:
        """After every column is written: unit-wide data and the routes of the mechanism."""


def place_attachments(doc: Doc) -> None:
    """Attachments sit in the document's directory, named as TRS names its files (P0…)."""
    day = doc.publish_date or doc.written_date or date(2020, 1, 1)
    directory = doc.path.rsplit("/", 1)[0]
    for index, attachment in enumerate(doc.attachments):
        stem = f"P0{day:%Y%m%d}{doc.serial:05d}{index}"
        attachment.path = f"{directory}/{stem}.{attachment.path.rsplit('.', 1)[-1]}"


# -- serving -----------------------------------------------------------------------------------

@lru_cache(maxsize=512)
def _read_json_cached(path: str, mtime_ns: int, size: int) -> Any:
    with open(path, "rb") as handle:
        return json.loads(handle.read())


def read_json(out_dir: Path, relative: str) -> Any | None:
    """A data file written at generation time, or None when there is none."""
    path = os.path.join(out_dir, relative)
    try:
        st = os.stat(path)
    except OSError:
        return None
    return _read_json_cached(path, st.st_mtime_ns, st.st_size)


def site_file(out_dir: Path, host_key: str, path: str) -> Path | None:
    """The generated file for a request path on one host (only plain names: no `..`, no queries)."""
    parts = [p for p in path.split("/") if p]
    if not parts or any(p in (".", "..") for p in parts):
        return None
    target = Path(out_dir) / "sites" / host_key / "/".join(parts)
    if path.endswith("/"):
        target = target / "index.html"
    return target if target.is_file() else None


NO_STORE = {"Cache-Control": "no-cache"}


def html_response(text: str, charset: str = "utf-8", status: int = 200, headers: dict | None = None) -> web.Response:
    return web.Response(body=encode(text, charset), status=status, content_type="text/html", charset=charset,
                        headers={**NO_STORE, **(headers or {})})


def json_response(data: Any, status: int = 200) -> web.Response:
    body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    return web.Response(body=body, status=status, content_type="application/json", charset="utf-8",
                        headers=NO_STORE)


def method_not_allowed(allowed: str) -> web.Response:
    return web.Response(status=405, text="method not allowed\n", headers={"Allow": allowed})


def absolute(request: web.Request, path: str) -> str:
    """A root-relative path as the absolute URL the real APIs answer with (DOCPUBURL, url)."""
    return f"{request.scheme}://{request.host}{path}"


async def form_fields(request: web.Request) -> dict[str, str]:
    """Query-string fields overlaid by the form body: real endpoints read both."""
    fields = {k: v for k, v in request.query.items()}
    if request.method == "POST":
        body = await request.post()
        fields.update({k: v for k, v in body.items() if isinstance(v, str)})
    return fields


def int_field(fields: dict[str, str], name: str, default: int) -> int:
    try:
        return int(fields.get(name, ""))
    except ValueError:
        return default
