"""Normalize one unit: its harvested pages become rows of the resource schema in the warehouse.

Reads only the harvest stage's public API (`open_unit_store`, `read_raw`). Pages whose content
hash and schema version are unchanged since the last run keep their extracted rows, so a re-run
only parses what changed. History: `first_seen` is kept from the first run, `last_seen` follows
the harvest, and a page that disappeared keeps its row with `removed_at` set.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable

import pyarrow as pa

import schemas
from assets.harvest import open_unit_store, read_raw
from schemas.vocabulary import column_note, list_mark_validity
from core.registry import Unit

from core import history, warehouse
from core.rebuild import rebuilding
from .dates import parse_date
from .extract import ExtractionError, extract_page
from .report_table import report_figures

# Access outcomes as the harvest records them (assets/harvest/access.py; docs/list-mechanisms.md).
OK, EMPTY, UNREACHABLE = "ok", "empty", "unreachable"
OUT_OF_SCOPE = "out of scope: not crawled"

log = logging.getLogger("zwgk.normalize")

RESOURCE_FIELDS = (
    "url title index_no publisher doc_number written_date publish_date subject genre keywords validity valid_until "
    "validity_period_text is_marked_abolished disclosure non_disclosure_reason summary body_text doc_kind has_pii "
    "encoding"
).split()
JSON_FIELDS = ("pii_findings", "raw_labels", "links", "warnings")


def stable_id(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:20]


def text_sha256(body_text: str | None) -> str:
    """The hash of a document's text, so history can tell which snapshots changed it (silent
    edits) without reading every text of every run; the raw page hash also moves with the chrome."""
    return hashlib.sha256((body_text or "").encode("utf-8")).hexdigest()


@dataclass
class NormalizeSummary:
    unit_id: str
    resources: int = 0
    extracted: int = 0
    reused: int = 0
    removed: int = 0
    columns: int = 0
    errors: list[str] = field(default_factory=list)
    skipped_columns: list[str] = field(default_factory=list)  # robots.txt forbids reading them
    not_harvested: bool = False


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def normalize_unit(unit: Unit, store_dir: str | Path, warehouse_path: str | Path, *, now: datetime | None = None,
                   tag: warehouse.RunTag | None = None) -> NormalizeSummary:
    """Extract one unit's harvested pages and replace its rows in the warehouse.

    Raises FileNotFoundError when the unit was never harvested into `store_dir`.
    """
    [summary] = normalize_units([unit], store_dir, warehouse_path, now=now, tag=tag)
    if summary.not_harvested:
        raise FileNotFoundError(summary.errors[0])
    return summary


def normalize_units(units: list[Unit], store_dir: str | Path, warehouse_path: str | Path, *,
                    now: datetime | None = None, batch_size: int = 50,
                    progress: Callable[[NormalizeSummary], None] | None = None,
                    registered: list[str] | None = None, tag: warehouse.RunTag | None = None
                    ) -> list[NormalizeSummary]:
    """Normalize units, writing each batch of units in one transaction (fast bulk loading).

    A unit with no harvest store is reported (`not_harvested`) and its previous rows are kept.
    With `registered` (every unit id in the registry), units dropped from it are marked removed:
    their rows stay, but validation and publishing no longer treat them as current.
    Each write's lake snapshot is tagged with `tag` (default: a new run id of its own).
    """
    now = now or _utcnow()
    tag = tag or warehouse.RunTag(history.new_run_id(), "normalize")
    summaries = []
    with warehouse.connect(warehouse_path) as con:
        for start in range(0, len(units), batch_size):
            built = [_build_unit(con, unit, Path(store_dir), now) for unit in units[start:start + batch_size]]
            ready = [b for b in built if b.tables is not None]
            warehouse.replace_units(con, [b.summary.unit_id for b in ready], [b.tables for b in ready],
                                    hosts=[b.hosts for b in ready], tag=tag)
            for b in built:
                summaries.append(b.summary)
                if progress:
                    progress(b.summary)
        if registered is not None:
            for unit_id in warehouse.mark_removed_units(con, registered, now, tag=tag):
                log.info("unit %s is no longer in the registry: marked removed", unit_id)
    return summaries


class RebuildIncompleteError(RuntimeError):
    """A rebuild could not read every unit: the current warehouse was kept."""


def rebuild_units(units: list[Unit], store_dir: str | Path, warehouse_path: str | Path, *,
                  now: datetime | None = None, batch_size: int = 50,
                  progress: Callable[[NormalizeSummary], None] | None = None,
                  registered: list[str] | None = None, tag: warehouse.RunTag | None = None
                  ) -> list[NormalizeSummary]:
    """Re-extract every unit from the harvest store (raw pages) into a new warehouse beside the
    current one, and swap it in only when every unit was read (core/rebuild.py).

    Nothing is taken from the current warehouse but the validation history (check_results,
    unit_scores) when it opens: the rows are what a first normalize of the harvest store gives.
    """
    with rebuilding(warehouse_path) as staging:
        summaries = normalize_units(units, store_dir, staging, now=now, batch_size=batch_size,
                                    progress=progress, registered=registered, tag=tag)
        missing = [s.unit_id for s in summaries if s.not_harvested]
        if missing:
            raise RebuildIncompleteError(
                f"rebuild of {warehouse_path} stopped, the current warehouse is kept: no harvest store under "
                f"{store_dir} for unit(s) {', '.join(missing)}; harvest them first (or drop them from the registry)")
    return summaries


@dataclass
class _BuiltUnit:
    summary: NormalizeSummary
    tables: dict[str, pa.Table] | None = None
    hosts: pa.Table | None = None


def _build_unit(con, unit: Unit, store_dir: Path, now: datetime) -> _BuiltUnit:
    summary = NormalizeSummary(unit.id)
    try:
        view = open_unit_store(store_dir, unit.id)
    except FileNotFoundError as exc:
        summary.not_harvested = True
        summary.errors.append(f"unit {unit.id}: not normalized: {exc}")
        return _BuiltUnit(summary)
    builder = _UnitRows(unit, view, store_dir, warehouse.existing_resources(con, unit.id),
                        warehouse.existing_attachments(con, unit.id), summary, now)
    unit_row = builder.unit_row(warehouse.existing_unit(con, unit.id))
    if not unit_row["entry_ok"] and warehouse.has_rows(con, unit.id):
        # The site is down this run: C01 fails on the fresh units row, and the last good content
        # stays as it was (a harvest of nothing must not erase what was published before).
        summary.errors.append(f"unit {unit.id}: entry page {unit.url} not read "
                              f"({unit_row['entry_error'] or unit_row['entry_status']}): keeping the last good rows")
        tables = warehouse.unit_rows(con, unit.id)
        tables["units"] = _table("units", [unit_row])
        return _BuiltUnit(summary, tables, _table("hosts", builder.host_rows()))
    tables = {"units": _table("units", [unit_row]), "resources": _table("resources", builder.resource_rows())}
    tables["columns"] = _table("columns", builder.column_rows(warehouse.existing_columns(con, unit.id)))
    tables["list_items"] = _table("list_items", builder.list_item_rows())
    tables["attachments"] = _table("attachments", builder.attachment_rows())
    tables["link_checks"] = _table("link_checks", builder.link_check_rows())
    summary.resources = tables["resources"].num_rows
    summary.columns = tables["columns"].num_rows
    return _BuiltUnit(summary, tables, _table("hosts", builder.host_rows()))


def _table(name: str, rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=schemas.arrow_schema(name))


class _UnitRows:
    """Builds one unit's rows from its harvest store view."""

    def __init__(self, unit: Unit, view, store_dir: Path, previous: dict[str, dict],
                 previous_attachments: dict[str, list[dict]], summary: NormalizeSummary, now: datetime):
        self.unit, self.view, self.store_dir = unit, view, store_dir
        self.previous, self.previous_attachments = previous, previous_attachments
        self.summary, self.now = summary, now
        self.pages = view.pages.to_pylist()
        self.columns = {c["column_url"]: c for c in view.columns.to_pylist()}
        self.items = view.column_items.to_pylist()
        self.list_dates = {i["item_url"]: parse_date(i["list_date_text"])[0] for i in self.items}
        # Single-article columns: the column's page is its one item (harvest lists it as such).
        self.articles = {i["item_url"] for i in self.items if i["item_url"] == i["column_url"]}
        self.resources: list[dict] = []
        # Access outcomes by role: "entry", and each column URL.
        rows = view.access.to_pylist()
        self.access = {("entry" if r["role"] == "entry" else r["url"]): r for r in rows}

    def column_id(self, column_url: str | None) -> str | None:
        return stable_id(self.unit.id, column_url) if column_url else None

    # -- units -------------------------------------------------------------------------------
    def unit_row(self, previous: dict | None) -> dict:
        entry = next((p for p in self.pages if p["role"] == "entry"), None)
        access = self.access.get("entry") or {}
        status = entry["status"] if entry else None
        is_html = bool(entry and "html" in (entry["content_type"] or "html"))
        if access:
            entry_ok = access["outcome"] in (OK, EMPTY)
        else:  # stored by a harvester that did not record access outcomes
            entry_ok = status == 200 and is_html
        return {
            "unit_id": self.unit.id, "name": self.unit.name, "kind": self.unit.kind, "url": self.unit.url,
            "host": self.unit.host, "entry_ok": entry_ok, "entry_status": status,
            "entry_error": (entry["error"] if entry else "entry page not harvested"),
            "parent": self.unit.parent, "aliases": list(self.unit.aliases),
            "emergency_duties": self.unit.emergency_duties, "key_areas": list(self.unit.key_areas),
            "first_seen": previous["first_seen"] if previous else self.now, "last_seen": self.now,
            "removed_at": None, "schema_version": schemas.SCHEMA_VERSION,
            "access": access.get("outcome") or ((OK if entry_ok else None) if entry else UNREACHABLE),
            "access_detail": access.get("detail") or (None if entry else "entry page not harvested"),
            "access_url": access.get("final_url") or self.unit.url,
            "access_excerpt": access.get("excerpt"),
        }

    # -- resources ---------------------------------------------------------------------------
    def resource_rows(self) -> list[dict]:
        rows = []
        for page in self.pages:
            if page["role"] != "detail" and page["url"] not in self.articles:
                continue
            row = self._resource(page)
            if row is not None:
                rows.append(row)
        self._resolve_interpretations(rows)
        self.resources = rows
        return rows

    def _resource(self, page: dict) -> dict | None:
        resource_id = stable_id(self.unit.id, page["url"])
        old = self.previous.get(resource_id)
        if not page["sha256"]:
            if old is not None:  # fetch failed this time: keep what we had
                return dict(old, attachments=self.previous_attachments.get(resource_id, []))
            self.summary.errors.append(f"unit {self.unit.id}: {page['url']}: no content ({page['error'] or page['status']})")
            return None
        column_url = page["url"] if page["url"] in self.articles else page["column_url"]
        column = self.columns.get(column_url or "")
        if old and old["content_sha256"] == page["sha256"] and old["schema_version"] == schemas.SCHEMA_VERSION:
            row = dict(old, attachments=self.previous_attachments.get(resource_id, []))
            self.summary.reused += 1
        else:
            row = self._extract(page, column, resource_id)
            if row is None:  # unreadable this time: the last good row stays
                return dict(old, attachments=self.previous_attachments.get(resource_id, [])) if old else None
            self.summary.extracted += 1
        row.update(
            column_id=self.column_id(column_url), column_kind=column["kind"] if column else None,
            list_date=self.list_dates.get(page["url"]),
            first_seen=min(old["first_seen"], page["first_seen"] or self.now) if old else (page["first_seen"] or self.now),
            last_seen=page["last_seen"] or self.now, removed_at=page["removed_at"],
        )
        if row["removed_at"]:
            self.summary.removed += 1
        return row

    def _extract(self, page: dict, column: dict | None, resource_id: str) -> dict | None:
        raw = read_raw(self.store_dir, page["sha256"])
        try:
            record = extract_page(raw, page["url"], charset=page["charset"],
                                  column_kind=column["kind"] if column else None,
                                  column_name=column["name"] if column else None)
        except ExtractionError as exc:
            self.summary.errors.append(f"unit {self.unit.id}: {exc}")
            log.warning("unit %s: %s", self.unit.id, exc)
            return None
        except Exception as exc:  # noqa: BLE001 - one bad page must not stop its batch of units
            self.summary.errors.append(f"unit {self.unit.id}: {page['url']}: extraction failed: "
                                       f"{type(exc).__name__}: {exc}")
            log.exception("unit %s: %s: extraction failed", self.unit.id, page["url"])
            return None
        row = {name: record.get(name) for name in RESOURCE_FIELDS}
        if isinstance(row["keywords"], list):
            row["keywords"] = "；".join(row["keywords"]) or None
        for name in JSON_FIELDS:
            row[name] = json.dumps(record.get(name) or ([] if name != "raw_labels" else {}), ensure_ascii=False)
        hint = record.get("interprets_hint") or {}
        row.update(
            resource_id=resource_id, unit_id=self.unit.id, content_sha256=page["sha256"],
            text_sha256=text_sha256(row["body_text"]),
            interprets=None, interprets_title=hint.get("title"), _interprets_url=hint.get("url"),
            attachments=record.get("attachments") or [],
            report_figures=None, schema_version=schemas.SCHEMA_VERSION,
        )
        if row["doc_kind"] == "年度报告":
            figures = report_figures(raw.decode(record.get("encoding") or "utf-8", errors="replace"))
            row["report_figures"] = json.dumps(figures, ensure_ascii=False) if figures else None
        return row

    def _resolve_interpretations(self, rows: list[dict]) -> None:
        """Point each 解读 at the document it explains: by its link, else by the title it names."""
        by_url = {r["url"]: r["resource_id"] for r in rows}
        by_title = {r["title"]: r["resource_id"] for r in rows if r["doc_kind"] == "规范性文件" and r["title"]}
        for row in rows:
            if row["doc_kind"] != "政策解读":
                continue
            target = by_url.get(row.pop("_interprets_url", None) or "")
            if target is None and row.get("interprets_title"):
                target = by_title.get(row["interprets_title"])
            row["interprets"] = target or row.get("interprets")

    # -- columns -----------------------------------------------------------------------------
    def column_rows(self, previous: dict[str, dict]) -> list[dict]:
        dates_by_column: dict[str, list[date]] = {}
        by_url = {r["url"]: r for r in self.resources if not r["removed_at"]}
        counts: dict[str, int] = {}
        for item in self.items:
            counts[item["column_url"]] = counts.get(item["column_url"], 0) + 1
            resource = by_url.get(item["item_url"])
            day = (resource or {}).get("publish_date") or self.list_dates.get(item["item_url"])
            if day:
                dates_by_column.setdefault(item["column_url"], []).append(day)
        children: dict[str, int] = {}
        for column in self.columns.values():
            known = column["list_pages"] or self.column_id(column["column_url"]) in previous \
                or column["column_url"] in self.access
            if column["parent_column_url"] and known and "robots" not in (column["error"] or ""):
                children[column["parent_column_url"]] = children.get(column["parent_column_url"], 0) + 1
        rows = []
        for url, column in self.columns.items():
            column_id = self.column_id(url)
            access = self.access.get(url) or {}
            outcome = access.get("outcome")
            if "robots" in (column["error"] or ""):
                self.summary.skipped_columns.append(url)  # robots.txt forbids reading it: never judged
                continue
            if not column["list_pages"]:
                if outcome is None:
                    # Out of scope, or stored by a harvester that did not record access: the last good
                    # row stays, if there is one.
                    if column["error"] and column["error"] != OUT_OF_SCOPE:
                        self.summary.errors.append(f"unit {self.unit.id}: column {column['name']} {url}: not read "
                                                   f"({column['error']})")
                    if column_id in previous:
                        rows.append(previous[column_id])
                    continue
                # Not read this run (blocked, unreachable, unreadable, gone): the row says so, keeping
                # what was counted last time as history; validation judges on the outcome, not the counts.
                self.summary.errors.append(f"unit {self.unit.id}: column {column['name']} {url}: not read "
                                           f"({outcome}: {access.get('detail')})")
                row = dict(previous[column_id]) if column_id in previous else self._column_row(
                    column, column_id, url, 0, None, None, children, previous)
                row.update(self._access_fields(access), last_seen=self.now, schema_version=schemas.SCHEMA_VERSION)
                rows.append(row)
                continue
            item_count = counts.get(url, 0)
            note = column["empty_page_text"] if not item_count else None
            row = self._column_row(column, column_id, url, item_count, max(dates_by_column.get(url, []), default=None),
                                   note, children, previous)
            row.update(self._access_fields(access))
            rows.append(row)
        return rows

    def _column_row(self, column: dict, column_id: str, url: str, item_count: int, newest: date | None,
                    page_text: str | None, children: dict[str, int], previous: dict[str, dict]) -> dict:
        note = column_note(page_text)
        return {
            "column_id": column_id, "unit_id": self.unit.id, "name": column["name"], "kind": column["kind"],
            "url": url, "parent_column_id": self.column_id(column["parent_column_url"]),
            "item_count": item_count, "child_count": children.get(url, 0),
            "newest_item_date": newest,
            "has_note": note is not None, "note_text": note or page_text,
            "list_pages": column["list_pages"], "walked_fully": column["walked_fully"],
            "first_seen": previous[column_id]["first_seen"] if column_id in previous else self.now,
            "last_seen": self.now,
            "schema_version": schemas.SCHEMA_VERSION,
        }

    @staticmethod
    def _access_fields(access: dict) -> dict:
        return {"access": access.get("outcome"), "access_detail": access.get("detail"),
                "access_url": access.get("final_url"), "list_source": access.get("list_source"),
                "rendered": access.get("rendered")}

    def list_item_rows(self) -> list[dict]:
        """What the lists showed of each item, marks included (C11 compares them with the pages)."""
        rows = []
        for item in self.items:
            if item["column_url"] not in self.columns:
                continue
            mark, validity = list_mark(item.get("meta"))
            rows.append({"unit_id": self.unit.id, "column_id": self.column_id(item["column_url"]),
                         "item_url": item["item_url"], "title": item["link_text"] or None,
                         "list_date": self.list_dates.get(item["item_url"]), "list_validity": validity,
                         "list_mark": mark, "list_page_url": item["list_page_url"], "position": item["position"]})
        return rows

    # -- evidence ----------------------------------------------------------------------------
    def link_check_rows(self) -> list[dict]:
        return [{"unit_id": self.unit.id, "source_url": c["source_url"], "target_url": c["target_url"],
                 "kind": c["kind"], "status": c["status"], "error": c["error"], "checked_at": c["checked_at"]}
                for c in self.view.link_checks.to_pylist()]

    def attachment_rows(self) -> list[dict]:
        checks = {(c["source_url"], c["target_url"]): c for c in self.view.link_checks.to_pylist()}
        rows = []
        for resource in self.resources:
            for attachment in resource.pop("attachments", None) or []:
                check = checks.get((resource["url"], attachment["url"]), {})
                rows.append({
                    "attachment_id": stable_id(resource["resource_id"], attachment["url"]),
                    "resource_id": resource["resource_id"], "unit_id": self.unit.id, "url": attachment["url"],
                    "name": attachment.get("text"), "ext": attachment.get("ext"), "status": check.get("status"),
                    "size": check.get("size"), "content_type": check.get("content_type"), "error": check.get("error"),
                    "schema_version": schemas.SCHEMA_VERSION,
                })
        return rows

    def host_rows(self) -> list[dict]:
        return [{"host": h["host"], "ipv6_addresses": h["ipv6_addresses"], "ipv6_ok": bool(h["ipv6_ok"]),
                 "http_status": h["http_status"], "error": h["error"], "checked_at": h["checked_at"]}
                for h in self.view.host_checks.to_pylist()]


# What JSON list sources say of a document's validity (docs/list-mechanisms.md): Tianjin IGS
# `YXX` ('0' 有效, '1' 失效), gkmlpt `is_abolished`; HTML rows carry the mark as shown.
_FLAG_VALIDITY = {("YXX", "0"): "有效", ("YXX", "1"): "失效", ("is_abolished", "true"): "废止",
                  ("is_abolished", "True"): "废止", ("is_abolished", "1"): "废止"}


def list_mark(meta: str | None) -> tuple[str | None, str | None]:
    """(the mark as shown, the validity it states) for a list row (column_items.meta); Nones when
    the row states no validity."""
    if not meta:
        return None, None
    fields = json.loads(meta)
    if fields.get("mark"):
        return fields["mark"], list_mark_validity(fields["mark"])
    for key in ("YXX", "is_abolished"):
        found = _FLAG_VALIDITY.get((key, str(fields.get(key))))
        if found:
            return f"{key}={fields[key]}", found
    return None, None
