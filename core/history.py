"""The lake's history: which snapshot a run or a day ended at, and what documents said over time.

Every write commits one DuckLake snapshot, and zwgk's writers tag theirs with the run they belong
to (`core.warehouse.RunTag`: commit message and JSON extra info). Nothing here keeps history of
its own: runs are found in `ducklake_snapshots()`, old states are read by attaching the lake at a
`SNAPSHOT_VERSION`, and a document's earlier texts come from the change feed (`table_changes`).

Days are Beijing time (Asia/Shanghai, UTC+8, no daylight saving): the supervisors are in China, so
`--at 2021-03-01` means the lake as it was at the end of 1 March in Tianjin.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import duckdb

from core import lake

# China Standard Time has had no daylight saving since 1991, so a fixed offset is exact.
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")


class HistoryError(ValueError):
    """The lake has no snapshot for what was asked (a run it never saw, a day before its first
    snapshot, a snapshot expired by maintenance)."""


@dataclass(frozen=True)
class Snapshot:
    snapshot_id: int
    time: datetime  # aware, UTC as DuckLake records it
    run_id: str | None = None
    stage: str | None = None
    as_of: date | None = None

    @property
    def beijing_time(self) -> datetime:
        return self.time.astimezone(BEIJING)

    @property
    def label(self) -> str:
        """How the report names the snapshot: its number and its Beijing time."""
        return f"快照 {self.snapshot_id}（{self.beijing_time:%Y-%m-%d %H:%M:%S} 北京时间）"


def new_run_id(now: datetime | None = None) -> str:
    """A new run id: sortable UTC time plus a random suffix (two runs in one second differ)."""
    now = now or datetime.now(timezone.utc)
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


def daily_run_id(now: datetime | None = None) -> str:
    """The run id Dagster's partitions share on one day (UTC), so the report's trend is one point
    a day and every stage of the day's runs tags its snapshots alike."""
    now = now or datetime.now(timezone.utc)
    return f"daily-{now:%Y%m%d}"


def snapshots(con: duckdb.DuckDBPyConnection) -> list[Snapshot]:
    """The lake's kept snapshots, oldest first (expired ones are gone from the catalog)."""
    rows = con.execute(f"SELECT snapshot_id, snapshot_time, commit_extra_info FROM ducklake_snapshots('{lake.LAKE}') "
                       "ORDER BY snapshot_id").fetchall()
    return [_snapshot(*row) for row in rows]


def _snapshot(snapshot_id: int, when: datetime, extra_info: str | None) -> Snapshot:
    info = {}
    if extra_info:
        try:
            info = json.loads(extra_info)
        except ValueError:  # written by another tool: not one of our runs
            info = {}
    as_of = info.get("as_of")
    return Snapshot(snapshot_id, when.astimezone(timezone.utc), info.get("run_id"), info.get("stage"),
                    date.fromisoformat(as_of) if as_of else None)


def current_snapshot(con: duckdb.DuckDBPyConnection) -> Snapshot:
    """The snapshot the connection reads (the latest, or the one it was opened at)."""
    [(snapshot_id,)] = con.execute(f"SELECT id FROM {lake.LAKE}.current_snapshot()").fetchall()
    return next(s for s in snapshots(con) if s.snapshot_id == snapshot_id)


def snapshot_of_run(con: duckdb.DuckDBPyConnection, run_id: str) -> Snapshot:
    """The last snapshot written by run `run_id`: the lake as that run left it."""
    kept = snapshots(con)
    tagged = [s for s in kept if s.run_id == run_id]
    if tagged:
        return tagged[-1]
    recorded = _run_recorded(con, run_id)
    oldest = _describe(kept[0]) if kept else "none"
    if recorded:
        raise HistoryError(f"run {run_id!r}: its snapshots are no longer kept (expired by maintenance, or written "
                           f"before runs were tagged); the oldest kept snapshot is {oldest}")
    raise HistoryError(f"no run {run_id!r} in this lake (give a validation run id or a date YYYY-MM-DD)")


def day_end(day: date) -> datetime:
    """The end of `day` in Beijing (UTC): the first instant of the next day there."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=BEIJING).astimezone(timezone.utc)


def snapshot_at_end_of(con: duckdb.DuckDBPyConnection, day: date) -> Snapshot:
    """The last snapshot committed on or before `day` (Beijing time)."""
    end = day_end(day)
    kept = snapshots(con)
    before = [s for s in kept if s.time < end]
    if not before:
        oldest = _describe(kept[0]) if kept else "none"
        raise HistoryError(f"no snapshot on or before {day.isoformat()} (Beijing time): the oldest kept snapshot is "
                           f"{oldest} (earlier ones were expired by maintenance, or the lake did not exist yet)")
    return before[-1]


def resolve(con: duckdb.DuckDBPyConnection, at: str) -> Snapshot:
    """`at` as the report takes it: a date (YYYY-MM-DD, Beijing time) or a run id."""
    try:
        day = date.fromisoformat(at)
    except ValueError:
        return snapshot_of_run(con, at)
    return snapshot_at_end_of(con, day)


def _describe(snapshot: Snapshot) -> str:
    return f"{snapshot.snapshot_id} at {snapshot.beijing_time:%Y-%m-%d %H:%M:%S} Beijing time"


def _run_recorded(con: duckdb.DuckDBPyConnection, run_id: str) -> bool:
    try:
        [(count,)] = con.execute("SELECT count(*) FROM unit_scores WHERE run_id = ?", [run_id]).fetchall()
    except duckdb.CatalogException:
        return False
    return count > 0


# -- documents over time -----------------------------------------------------------------------

@dataclass(frozen=True)
class TextVersion:
    """One text a document had, from the snapshot it was first seen with it; `previous_*` are the
    document's fields in the row just before this text appeared (None for its first text)."""
    resource_id: str
    unit_id: str
    url: str
    snapshot: Snapshot
    text_sha256: str
    title: str | None
    publish_date: date | None
    validity: str | None
    previous_title: str | None = None
    previous_publish_date: date | None = None
    previous_validity: str | None = None


def text_versions(con: duckdb.DuckDBPyConnection, unit_ids: list[str], *,
                  changed_only: bool = False) -> dict[str, list[TextVersion]]:
    """resource_id → the distinct texts each document of `unit_ids` had over the kept history,
    oldest first. Only the texts' hashes are read (the change feed over every run is long);
    `text_at` fetches the text of the few versions that matter. With `changed_only`, only the
    documents with two texts or more (at a million documents, the others would be a million
    Python objects for nothing).

    Rows written before the schema had `text_sha256` (1.3.0) are not compared: history starts with
    the first run that recorded text hashes.
    """
    kept = snapshots(con)
    current = current_snapshot(con)
    if not kept or not unit_ids or not _has_column(con, "resources", "text_sha256"):
        return {}
    by_id = {s.snapshot_id: s for s in kept}
    rows = con.execute("""
        WITH changes AS (
            SELECT snapshot_id, resource_id, unit_id, url, text_sha256, title, publish_date, validity
            FROM table_changes('resources', $first, $last)
            WHERE change_type IN ('insert', 'update_postimage') AND text_sha256 IS NOT NULL
              AND list_contains($units, unit_id)),
        ordered AS (
            SELECT *, lag(text_sha256) OVER w AS previous_sha256, lag(title) OVER w AS previous_title,
                   lag(publish_date) OVER w AS previous_publish_date, lag(validity) OVER w AS previous_validity
            FROM changes WINDOW w AS (PARTITION BY resource_id ORDER BY snapshot_id)),
        distinct_texts AS (
            SELECT *, count(*) OVER (PARTITION BY resource_id) AS texts
            FROM ordered
            WHERE previous_sha256 IS NULL OR previous_sha256 <> text_sha256)
        SELECT snapshot_id, resource_id, unit_id, url, text_sha256, title, publish_date, validity,
               previous_title, previous_publish_date, previous_validity
        FROM distinct_texts
        WHERE texts >= $least
        ORDER BY resource_id, snapshot_id
    """, {"first": kept[0].snapshot_id, "last": current.snapshot_id, "units": unit_ids,
          "least": 2 if changed_only else 1}).fetchall()
    versions: dict[str, list[TextVersion]] = {}
    for (snapshot_id, resource_id, unit_id, url, sha, title, publish_date, validity, previous_title,
         previous_publish_date, previous_validity) in rows:
        history = versions.setdefault(resource_id, [])
        first = not history
        history.append(TextVersion(resource_id, unit_id, url, by_id[snapshot_id], sha, title, publish_date, validity,
                                   None if first else previous_title, None if first else previous_publish_date,
                                   None if first else previous_validity))
    return versions


def text_at(con: duckdb.DuckDBPyConnection, resource_id: str, snapshot_id: int) -> str:
    """A document's body text as it was at a snapshot."""
    rows = con.execute(f"SELECT body_text FROM resources AT (VERSION => {int(snapshot_id)}) WHERE resource_id = ?",
                       [resource_id]).fetchall()
    if not rows:
        raise HistoryError(f"resource {resource_id}: not in snapshot {snapshot_id}")
    return rows[0][0] or ""


def _has_column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    return bool(con.execute(
        "SELECT 1 FROM duckdb_columns() WHERE database_name = current_database() AND table_name = ? "
        "AND column_name = ?", [table, column]).fetchall())
