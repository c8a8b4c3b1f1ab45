"""One unit's rows of the resource schema, built from its harvest store view (pure: no warehouse).

`UnitRows` turns a `UnitStoreView` into rows of units, columns, resources, list_items,
attachments, link_checks and hosts. What the warehouse held before (history, rows to reuse) is
handed in; extraction results are handed in too (assets/normalize/pool.py produces them), so this
module neither reads the warehouse nor parses a page.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime

import schemas
from core.registry import Unit
from schemas.vocabulary import column_note, list_mark_validity

from .dates import parse_date
from .pool import Extracted, PageJob

# Access outcomes as the harvest records them (assets/harvest/access.py; docs/list-mechanisms.md).
OK, EMPTY, UNREACHABLE = "ok", "empty", "unreachable"
OUT_OF_SCOPE = "out of scope: not crawled"


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


class UnitRows:
    """Builds one unit's rows from its harvest store view."""

    def __init__(self, unit: Unit, view, summary: NormalizeSummary, now: datetime):
        self.unit, self.view, self.summary, self.now = unit, view, summary, now
        self.previous: dict[str, dict] = {}  # the warehouse's resources of the unit, by resource_id
        self.previous_attachments: dict[str, list[dict]] = {}
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

    # -- what the rows are built from ----------------------------------------------------------
    def input_fingerprints(self) -> dict[str, str]:
        """A hash of everything each group of tables is built from: `resources` (resources and
        attachments), `list_items` and `link_checks`.

        Equal to the last run's: that group's rows would come out the same, so they are not
        rewritten (a daily re-run of an unchanged site writes almost nothing). Entry, column and
        list pages are revalidated every run and change their timestamps; they feed the units
        and columns rows, which are always rebuilt, not these.
        """
        documents = sorted(((p["url"], p["sha256"], p["charset"], p["role"], p["column_url"], p["status"],
                             p["error"], p["first_seen"], p["last_seen"], p["removed_at"])
                            for p in self._document_pages()), key=_first)
        columns = sorted(((c["column_url"], c["kind"], c["name"]) for c in self.columns.values()), key=_first)
        items = [(i["column_url"], i["item_url"], i["link_text"], i["list_date_text"], i["position"],
                  i["list_page_url"], i["meta"]) for i in self.items]
        link_checks = self.view.link_checks.to_pylist()
        checks = sorted((tuple(c.values()) for c in link_checks), key=_first_two)
        attachment_checks = [c for c in checks if c[2] == "attachment"]  # (source, target, kind, …)
        return {
            "resources": _digest(schemas.SCHEMA_VERSION, documents, columns, items, attachment_checks),
            "list_items": _digest(schemas.SCHEMA_VERSION, columns, items),
            "link_checks": _digest(schemas.SCHEMA_VERSION, checks),
        }

    def extraction_jobs(self) -> list[PageJob]:
        """The pages to extract: new, changed since the last run, or extracted by an older schema."""
        jobs = []
        for page in self._document_pages():
            old = self.previous.get(stable_id(self.unit.id, page["url"]))
            if not page["sha256"] or _reusable(old, page):
                continue
            column = self.columns.get(self._column_url(page) or "")
            jobs.append(PageJob(self.unit.id, page["url"], page["sha256"], page["charset"],
                                column["kind"] if column else None, column["name"] if column else None))
        return jobs

    def _document_pages(self) -> list[dict]:
        return [p for p in self.pages if p["role"] == "detail" or p["url"] in self.articles]

    def _column_url(self, page: dict) -> str | None:
        return page["url"] if page["url"] in self.articles else page["column_url"]

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
    def resource_rows(self, extracted: dict[str, Extracted]) -> list[dict]:
        """The unit's resources; `extracted` holds the pages of `extraction_jobs()`, by URL."""
        rows = []
        for page in self._document_pages():
            row = self._resource(page, extracted.get(page["url"]))
            if row is not None:
                rows.append(row)
        self._resolve_interpretations(rows)
        self.resources = rows
        return rows

    def _resource(self, page: dict, extracted: Extracted | None) -> dict | None:
        resource_id = stable_id(self.unit.id, page["url"])
        old = self.previous.get(resource_id)
        if not page["sha256"]:
            if old is not None:  # fetch failed this time: keep what we had
                return dict(old, attachments=self.previous_attachments.get(resource_id, []))
            self.summary.errors.append(f"unit {self.unit.id}: {page['url']}: no content ({page['error'] or page['status']})")
            return None
        column_url = self._column_url(page)
        column = self.columns.get(column_url or "")
        if _reusable(old, page):
            row = dict(old, attachments=self.previous_attachments.get(resource_id, []))
            self.summary.reused += 1
        elif extracted is None or extracted.row is None:
            if extracted is not None:
                self.summary.errors.append(extracted.error)
            # unreadable this time: the last good row stays
            return dict(old, attachments=self.previous_attachments.get(resource_id, [])) if old else None
        else:
            row = dict(extracted.row)
            row.update(resource_id=resource_id, unit_id=self.unit.id, content_sha256=page["sha256"],
                       text_sha256=text_sha256(row["body_text"]), interprets=None)
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
    def column_rows(self, previous: dict[str, dict], newest: dict[str, date | None] | None = None) -> list[dict]:
        """The unit's columns; `newest` (newest item date by column URL) stands in for the
        resources when they were not rebuilt this run (their inputs did not change)."""
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
            newest_date = newest.get(url) if newest is not None else max(dates_by_column.get(url, []), default=None)
            row = self._column_row(column, column_id, url, item_count, newest_date, note, children, previous)
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


def _reusable(old: dict | None, page: dict) -> bool:
    """The warehouse's row of the page was extracted from these bytes by this schema."""
    return bool(old and page["sha256"] and old["content_sha256"] == page["sha256"]
                and old["schema_version"] == schemas.SCHEMA_VERSION)


def _digest(*parts) -> str:
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()


def _first(row: tuple):
    return row[0] or ""


def _first_two(row: tuple):
    return (row[0] or "", row[1] or "")
