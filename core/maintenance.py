"""Lake maintenance: expire old snapshots, compact small files, delete files nothing needs.

Every step is one of DuckLake's own maintenance functions, called in the order its CHECKPOINT runs
them (ducklake.select, "Maintenance"): `ducklake_flush_inlined_data`, `ducklake_expire_snapshots`,
`ducklake_merge_adjacent_files`, `ducklake_rewrite_data_files`, `ducklake_cleanup_old_files`,
`ducklake_delete_orphaned_files`. They are called one by one rather than through CHECKPOINT so that
the retention is explicit per run and each step's result can be counted for the summary.

Retention: snapshots are how an old state of the warehouse (an old run's report, `zwgk report
--at`) is shown again, so they are kept long: 400 days unless `ZWGK_LAKE_RETENTION_DAYS` or the
caller says otherwise. The latest snapshot is never expired (DuckLake refuses to), so the current
state is always intact.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb

from core import lake

DEFAULT_RETENTION_DAYS = 400.0
RETENTION_ENV = "ZWGK_LAKE_RETENTION_DAYS"
# With a shared (PostgreSQL) catalog another machine may be writing right now: the files its
# transaction has written are not in the catalog until it commits, so they look orphaned. Only
# files older than this are deleted there. The embedded catalog has one writer (this process
# holds its lock), so nothing is in flight and nothing needs a grace period.
SHARED_CATALOG_GRACE = timedelta(days=1)
# Row groups of the files DuckLake writes, merged files included. Merging puts many units' rows in
# one file; with Parquet's default (122,880 rows, ~170 MB of resources) a one-unit read (normalize
# reads every unit's previous rows) then decodes most of the file, 5-10x slower than before the
# merge. Row groups of a few units' rows keep it within ~1.5x, and full scans as fast
# (measured on 100 units x 1,000 resources: 16,384 rows ~4x, 4,096 rows ~1.5x; bench/bench_load.py).
ROW_GROUP_ROWS = 4_096


def retention_days(configured: float | None = None) -> float:
    """The retention in days: the caller's, else `ZWGK_LAKE_RETENTION_DAYS`, else 400."""
    if configured is None:
        text = os.environ.get(RETENTION_ENV, "").strip()
        if not text:
            return DEFAULT_RETENTION_DAYS
        try:
            configured = float(text)
        except ValueError:
            raise ValueError(f"{RETENTION_ENV}={text!r} is not a number of days") from None
    if configured < 0:
        raise ValueError(f"retention must be 0 days or more, not {configured:g}")
    return configured


@dataclass
class LakeFiles:
    """The data files the current snapshot reads (what a query opens)."""
    data_files: int
    delete_files: int
    bytes: int


@dataclass
class MaintenanceSummary:
    retention_days: float
    dry_run: bool
    snapshots_before: int
    snapshots_expired: int
    files_before: LakeFiles
    files_after: LakeFiles
    files_merged: int = 0          # small files read by compaction
    files_written: int = 0         # files compaction and rewriting wrote in their place
    files_rewritten: int = 0       # files rewritten to drop their deleted rows
    files_deleted: int = 0         # files no snapshot needs any more, removed from storage
    orphans_deleted: int = 0       # files no snapshot ever named (a crashed write), removed
    bytes_freed: int | None = 0    # None where the data path is not a local folder

    def lines(self) -> list[str]:
        """The summary as the CLI and the Dagster op print it."""
        verb = "would expire" if self.dry_run else "expired"
        freed = "unknown (data not on a local disk)" if self.bytes_freed is None else _size(self.bytes_freed)
        lines = [f"retention {self.retention_days:g} days: {verb} {self.snapshots_expired} of "
                 f"{self.snapshots_before} snapshots"]
        if self.dry_run:
            lines.append(f"would delete {self.files_deleted} old and {self.orphans_deleted} orphaned files "
                         f"already unneeded ({freed}); compaction is not estimated in a dry run")
        else:
            lines.append(f"merged {self.files_merged} small files and rewrote {self.files_rewritten} "
                         f"into {self.files_written}; deleted {self.files_deleted} old and "
                         f"{self.orphans_deleted} orphaned files, {freed} freed")
        lines.append(f"current snapshot reads {self.files_before.data_files} -> {self.files_after.data_files} "
                     f"data files, {self.files_before.delete_files} -> {self.files_after.delete_files} delete files")
        return lines


def current_files(con: duckdb.DuckDBPyConnection) -> LakeFiles:
    """Data and delete files of the current snapshot, from the catalog's own tables (DuckLake spec)."""
    meta = f"__ducklake_metadata_{lake.LAKE}"
    [(data, size)] = con.execute(
        f"SELECT count(*), coalesce(sum(file_size_bytes), 0) FROM {meta}.ducklake_data_file "
        "WHERE end_snapshot IS NULL").fetchall()
    [(deletes,)] = con.execute(
        f"SELECT count(*) FROM {meta}.ducklake_delete_file WHERE end_snapshot IS NULL").fetchall()
    return LakeFiles(data, deletes, int(size))


def snapshot_count(con: duckdb.DuckDBPyConnection) -> int:
    [(count,)] = con.execute(f"SELECT count(*) FROM ducklake_snapshots('{lake.LAKE}')").fetchall()
    return count


def maintain(con: duckdb.DuckDBPyConnection, catalog: lake.Catalog, *, keep_days: float | None = None,
             dry_run: bool = False, now: datetime | None = None) -> MaintenanceSummary:
    """Expire snapshots older than the retention, compact, and delete the files nothing needs.

    `con` is a writable connection on the lake (core.warehouse.connect); `catalog` says whether
    another machine may be writing (a shared catalog), which bounds what orphan cleanup may delete.
    """
    days = retention_days(keep_days)
    now = now or datetime.now(timezone.utc)
    cutoff = now - timedelta(days=days)
    name = lake.LAKE
    if not dry_run:  # small inserts live in the catalog until flushed to Parquet (a snapshot of its own)
        con.execute(f"CALL ducklake_flush_inlined_data('{name}')")
    summary = MaintenanceSummary(days, dry_run, snapshot_count(con), 0, current_files(con), current_files(con))
    summary.snapshots_expired = len(con.execute(
        f"CALL ducklake_expire_snapshots('{name}', older_than => ?, dry_run => ?)", [cutoff, dry_run]).fetchall())
    if not dry_run:
        con.execute(f"CALL ducklake_set_option('{name}', 'parquet_row_group_size', {ROW_GROUP_ROWS})")
        for _, _, processed, created in con.execute(f"CALL ducklake_merge_adjacent_files('{name}')").fetchall():
            summary.files_merged += processed
            summary.files_written += created
        for _, _, processed, created in con.execute(f"CALL ducklake_rewrite_data_files('{name}')").fetchall():
            summary.files_rewritten += processed
            summary.files_written += created
    # Merged and rewritten files are only scheduled for deletion by the steps above; the embedded
    # catalog has no reader in another process (its lock), so they can go now.
    if catalog.embedded:
        scope, params = "cleanup_all => true", []
    else:
        scope, params = "older_than => ?", [now - SHARED_CATALOG_GRACE]
    old = _delete(con, f"CALL ducklake_cleanup_old_files('{name}', dry_run => ?, {scope})", dry_run, params)
    orphans = _delete(con, f"CALL ducklake_delete_orphaned_files('{name}', dry_run => ?, {scope})", dry_run, params)
    summary.files_deleted, summary.orphans_deleted = len(old[0]), len(orphans[0])
    summary.bytes_freed = None if old[1] is None or orphans[1] is None else old[1] + orphans[1]
    summary.files_after = current_files(con)
    return summary


def _delete(con: duckdb.DuckDBPyConnection, call: str, dry_run: bool, params: list) -> tuple[list[str], int | None]:
    """Run a cleanup function; the paths it (would) delete and their bytes, measured beforehand."""
    listed = [path for (path,) in con.execute(call, [True, *params]).fetchall()]
    sizes = [_local_size(path) for path in listed]
    if not dry_run and listed:
        listed = [path for (path,) in con.execute(call, [False, *params]).fetchall()]
    freed = None if any(s is None for s in sizes) else sum(sizes)
    return listed, freed


def _local_size(path: str) -> int | None:
    if "://" in path:
        return None
    try:
        return Path(path).stat().st_size
    except FileNotFoundError:
        return 0


def _size(count: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:,.0f} {unit}" if unit == "B" else f"{count:,.1f} {unit}"
        count /= 1024
    return f"{count} B"


def maintain_warehouse(path: str | Path, *, keep_days: float | None = None, dry_run: bool = False,
                       now: datetime | None = None, wait_seconds: float | None = None) -> MaintenanceSummary:
    """`maintain` on the warehouse at `path`; waits for another writer like every write does
    (`wait_seconds`, default `ZWGK_LOCK_WAIT`)."""
    from core.warehouse import connect

    catalog = lake.catalog_for(path)
    if catalog.embedded and not Path(path).exists():
        raise FileNotFoundError(f"warehouse {path} does not exist: nothing to maintain")
    with connect(path, wait_seconds=wait_seconds) as con:
        return maintain(con, catalog, keep_days=keep_days, dry_run=dry_run, now=now)
