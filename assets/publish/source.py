"""What the publisher reads from the warehouse: units, their current resources, and scores.

One read-only pass over the DuckDB file. Rows come out sorted (the exports must be
reproducible) and already masked: personal information is rewritten here, before any export
sees it, so no code path can publish an unmasked row. Every resource's free-text fields are
masked, not only those flagged `has_pii`: the flag comes from an earlier stage, and a false
negative there must not reach the public.

Scores: by default each unit's latest `unit_scores` row (by checked_at, then run_id), so units
validated in separate runs (one Dagster partition each) are all covered; with `run_id`, that
run's rows only. The check results shown are those of the same (run, unit).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

from core.warehouse import connect
from expectations.catalog import load_catalog

from .pii import mask_personal_info
from .tables import CHECK_RESULTS, DOCUMENT_CHANGES, RESOURCE_TEXT_FIELDS, RESOURCES


@dataclass(frozen=True)
class UnitInfo:
    unit_id: str
    name: str
    kind: str
    url: str


@dataclass(frozen=True)
class Snapshot:
    units: dict[str, UnitInfo]              # current units (not marked removed), by id, sorted
    removed_unit_ids: frozenset[str]        # units the warehouse marks removed from the registry
    resources: dict[str, list[dict]]        # unit_id -> its current resources, masked, sorted
    scores: list[dict]                      # UNIT_SCORES rows (plus run_id, checked_at), best score first
    checks: list[dict]                      # CHECK_RESULTS rows, by unit and check
    document_changes: list[dict] = ()       # DOCUMENT_CHANGES rows of the same (run, unit)s, masked


def read_snapshot(warehouse_path: str | Path, run_id: str | None = None) -> Snapshot:
    """Read everything to publish in one read-only connection (waiting while a writer holds the file)."""
    with connect(warehouse_path, read_only=True) as con:
        units, removed = _units(con)
        scores = _scores(con, run_id)
        return Snapshot(units=units, removed_unit_ids=removed, resources=_resources(con),
                        scores=scores, checks=_checks(con, scores),
                        document_changes=_document_changes(con, scores))


def _units(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, UnitInfo], frozenset[str]]:
    current, removed = {}, set()
    for unit_id, name, kind, url, removed_at in con.execute(
            "SELECT unit_id, name, kind, url, removed_at FROM units ORDER BY unit_id").fetchall():
        if removed_at is None:
            current[unit_id] = UnitInfo(unit_id, name, kind, url)
        else:
            removed.add(unit_id)
    return current, frozenset(removed)


def _resources(con: duckdb.DuckDBPyConnection) -> dict[str, list[dict]]:
    selected = ", ".join(_resource_column(name) for name in RESOURCES.names)
    rows = con.sql(f"""
        SELECT {selected}
        FROM resources r
        JOIN units u ON u.unit_id = r.unit_id AND u.removed_at IS NULL
        LEFT JOIN columns c ON c.column_id = r.column_id
        WHERE r.removed_at IS NULL
        ORDER BY r.unit_id, r.publish_date DESC NULLS LAST, r.resource_id
    """).to_arrow_table().to_pylist()
    by_unit: dict[str, list[dict]] = {}
    for row in rows:
        for field in RESOURCE_TEXT_FIELDS:
            row[field] = mask_personal_info(row[field])
        by_unit.setdefault(row["unit_id"], []).append(row)
    return by_unit


def _resource_column(name: str) -> str:
    if name == "unit_name":
        return "u.name AS unit_name"
    if name == "column_name":
        return "c.name AS column_name"
    return f'r."{name}"'


def _scores(con: duckdb.DuckDBPyConnection, run_id: str | None) -> list[dict]:
    chosen = ("WHERE s.run_id = $run_id" if run_id else
              "QUALIFY row_number() OVER (PARTITION BY s.unit_id ORDER BY s.checked_at DESC, s.run_id DESC) = 1")
    return con.sql(f"""
        SELECT s.run_id, s.as_of, s.unit_id, u.name AS unit_name, u.kind AS unit_kind, s.score, s.verdict,
               s.veto, s.veto_checks, s.checked_at, u.access AS unit_access
        FROM unit_scores s JOIN units u ON u.unit_id = s.unit_id AND u.removed_at IS NULL
        {chosen}
        ORDER BY s.score DESC NULLS LAST, s.unit_id
    """, params={"run_id": run_id} if run_id else None).to_arrow_table().to_pylist()


def _checks(con: duckdb.DuckDBPyConnection, scores: list[dict]) -> list[dict]:
    keys = [f"{s['run_id']}\x1f{s['unit_id']}" for s in scores]
    rows = con.sql("""
        SELECT c.run_id, c.as_of, c.unit_id, c.check_id, c.status, c.severity, c.evidence_url, c.message,
               c.checked_at
        FROM check_results c
        WHERE list_contains($keys, c.run_id || chr(31) || c.unit_id)
        ORDER BY c.unit_id, c.check_id
    """, params={"keys": keys}).to_arrow_table().to_pylist()
    names = {s["unit_id"]: s["unit_name"] for s in scores}
    titles = {c.id: c.title_zh for c in load_catalog().checks}
    for row in rows:
        row["unit_name"] = names[row["unit_id"]]
        row["check_title"] = titles.get(row["check_id"], row["check_id"])
        row["message"] = mask_personal_info(row["message"])
    return [{name: row[name] for name in CHECK_RESULTS.names} for row in rows]


def _document_changes(con: duckdb.DuckDBPyConnection, scores: list[dict]) -> list[dict]:
    """The silent edits validation found in the same (run, unit)s as the scores, masked."""
    keys = [f"{s['run_id']}\x1f{s['unit_id']}" for s in scores]
    try:
        rows = con.sql("""
            SELECT * FROM document_changes
            WHERE list_contains($keys, run_id || chr(31) || unit_id)
            ORDER BY unit_id, url, after_snapshot
        """, params={"keys": keys}).to_arrow_table().to_pylist()
    except duckdb.CatalogException:  # a warehouse from before silent edits were looked for
        return []
    names = {s["unit_id"]: s["unit_name"] for s in scores}
    for row in rows:
        row["unit_name"] = names[row["unit_id"]]
        row["title"] = mask_personal_info(row["title"])
        row["passages"] = json.dumps([{k: mask_personal_info(v) for k, v in p.items()}
                                      for p in json.loads(row["passages"])], ensure_ascii=False)
    return [{name: row[name] for name in DOCUMENT_CHANGES.names} for row in rows]
