"""Silent edits found in the lake's history, as rows of `document_changes` for one validation run.

The history comes from core.history (the change feed of `resources`, read by text hash); the rule
is silent_edits.py. A run lists every silent edit found in its units so far, so the report of a
run shows what that run knew. Edits whose earlier text is no longer in the kept history (snapshots
expired by maintenance) are carried over from the unit's previous run: detections outlive the
snapshots they were found in.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import duckdb
import pyarrow as pa

import schemas
from core import history

from .silent_edits import changed_passages, is_silent_edit

TABLE = "document_changes"


def find_document_changes(con: duckdb.DuckDBPyConnection, unit_ids: list[str], run_id: str, as_of: date,
                          checked_at: datetime) -> pa.Table:
    """The silent edits of `unit_ids`' documents over the kept history, stamped with the run."""
    stamp = {"run_id": run_id, "as_of": as_of, "checked_at": checked_at}
    rows = []
    for resource_id, versions in history.text_versions(con, unit_ids, changed_only=True).items():
        for old, new in zip(versions, versions[1:]):
            before = history.text_at(con, resource_id, old.snapshot.snapshot_id)
            after = history.text_at(con, resource_id, new.snapshot.snapshot_id)
            if not is_silent_edit(before, after, before_title=new.previous_title, after_title=new.title,
                                  before_publish_date=new.previous_publish_date, after_publish_date=new.publish_date,
                                  before_validity=new.previous_validity, after_validity=new.validity):
                continue
            rows.append({**stamp, "unit_id": new.unit_id, "resource_id": resource_id, "url": new.url,
                         "title": new.title, "publish_date": new.publish_date,
                         "before_snapshot": old.snapshot.snapshot_id, "before_seen_at": _utc(old.snapshot.time),
                         "after_snapshot": new.snapshot.snapshot_id, "after_seen_at": _utc(new.snapshot.time),
                         "passages": json.dumps([p.to_dict() for p in changed_passages(before, after)],
                                                ensure_ascii=False)})
    rows += _carried_over(con, unit_ids, run_id, {(r["resource_id"], r["after_snapshot"]) for r in rows}, stamp)
    rows.sort(key=lambda r: (r["unit_id"], r["url"], r["after_snapshot"]))
    return pa.Table.from_pylist(rows, schema=schemas.arrow_schema(TABLE))


def _carried_over(con: duckdb.DuckDBPyConnection, unit_ids: list[str], run_id: str, found: set[tuple[str, int]],
                  stamp: dict) -> list[dict]:
    """The previous run's edits whose earlier text has left the kept history."""
    kept = history.snapshots(con)
    if not kept or not unit_ids:
        return []
    previous = con.execute(f"""
        SELECT * EXCLUDE (run_id, as_of, checked_at) FROM {TABLE}
        WHERE run_id <> $run_id AND list_contains($units, unit_id) AND before_snapshot < $oldest
        QUALIFY checked_at = max(checked_at) OVER (PARTITION BY unit_id)
    """, {"run_id": run_id, "units": unit_ids, "oldest": kept[0].snapshot_id}).to_arrow_table().to_pylist()
    return [{**row, **stamp} for row in previous if (row["resource_id"], row["after_snapshot"]) not in found]


def _utc(moment: datetime) -> datetime:
    """The naive UTC timestamp the schema stores."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment
