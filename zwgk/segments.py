"""Parquet segments: how the warehouse keeps its big per-unit tables (today: `resources`).

DuckDB appends wide, text-heavy rows at 100-200k rows/s on our machines; pyarrow writes the same
rows to Parquet several times faster (bench/bench_load.py). So a segmented table is a directory of
write-once Parquet files next to the warehouse file, a manifest table (`segment_files`) naming the
file that holds each unit's current rows, and a view with the table's name that reads exactly
those rows. Readers only ever see the view. The layout follows DuckLake: catalog in DuckDB, data
in Parquet.

A write is atomic per batch of units: the new file is written and renamed first, then the
manifest and the view change inside the caller's DuckDB transaction. A crash before the commit
leaves an unreferenced file (deleted by the next write) and the previous rows intact. Files never
change once written. When most of a file's rows are superseded, or there are too many files, its
remaining units are carried into the next segment written (compaction); a file nothing refers to
is deleted.

Every write happens while the writer holds the warehouse's DuckDB write lock, so no other process
reads or writes the directory meanwhile.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

import schemas

MANIFEST = "segment_files"
SCHEMA_FILE = "_schema.parquet"  # zero rows, the current schema: gives the view every column
TARGET_ROWS = 100_000  # compaction fills a new segment with carried rows up to this size
MAX_FILES = 32  # beyond this many files, each write merges the smallest into its segment

_MANIFEST_DDL = f"""CREATE TABLE IF NOT EXISTS {MANIFEST} (
    table_name VARCHAR NOT NULL,
    unit_id VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    rows BIGINT NOT NULL
)"""


def database_path(con: duckdb.DuckDBPyConnection) -> Path:
    [(path,)] = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    if not path:
        raise ValueError("segmented tables need a warehouse file, not an in-memory database")
    return Path(path).resolve()


def segment_dir(con: duckdb.DuckDBPyConnection, table: str) -> Path:
    """`<warehouse>.segments/<table>/` next to the warehouse file."""
    db = database_path(con)
    return db.with_name(db.stem + ".segments") / table


def setup(con: duckdb.DuckDBPyConnection) -> None:
    """Create the manifest and the views (write mode); move an old DuckDB table into segments."""
    con.execute(_MANIFEST_DDL)
    for table in schemas.segmented_tables():
        directory = segment_dir(con, table)
        directory.mkdir(parents=True, exist_ok=True)
        _write_schema_file(directory, table)
        if _is_base_table(con, table):
            _migrate(con, table)
        elif not _view_points_at(con, table, directory):
            con.execute(_view_sql(con, table, directory))


def attach_read_only(con: duckdb.DuckDBPyConnection) -> None:
    """Read-only: if the warehouse was moved, point a temporary view at the files' new place."""
    has_manifest = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [MANIFEST]).fetchall()[0][0]
    if not has_manifest:
        return  # a warehouse written before segments existed: its tables are still DuckDB tables
    for table in schemas.segmented_tables():
        directory = segment_dir(con, table)
        if not _view_points_at(con, table, directory):
            con.execute(_view_sql(con, table, directory, temporary=True))


@dataclass
class StagedSegment:
    """A segment written but not yet committed: `discard()` it if the transaction rolls back."""
    table: str
    path: Path | None

    def discard(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def stage(con: duckdb.DuckDBPyConnection, table: str, unit_ids: list[str], rows: pa.Table) -> StagedSegment:
    """Replace the rows of `unit_ids` by `rows`: write one new segment, update manifest and view.

    Call inside a transaction; after COMMIT call `collect_garbage`, after ROLLBACK `discard()`.
    """
    directory = segment_dir(con, table)
    rows = schemas.conform(table, rows)
    replaced = set(unit_ids)
    strays = set(pc.unique(rows["unit_id"]).to_pylist()) - replaced
    if strays:
        raise ValueError(f"{table}: rows of units {sorted(strays)[:5]} that are not being replaced")
    carried_units = _units_to_carry(con, table, directory, replaced, rows.num_rows)
    parts = [rows]
    if carried_units:
        parts.append(_read_units(con, table, directory, carried_units))
    data = pa.concat_tables(parts)
    path = _write(directory, table, data) if data.num_rows else None
    try:
        changed = sorted(replaced | set(carried_units))
        con.register("_changed_units", pa.table({"unit_id": pa.array(changed, pa.string())}))
        con.execute(f"DELETE FROM {MANIFEST} WHERE table_name = ? AND unit_id IN (SELECT unit_id FROM _changed_units)",
                    [table])
        con.unregister("_changed_units")
        if path is not None:
            counts = data.group_by("unit_id").aggregate([("unit_id", "count")])
            con.register("_new_files", pa.table({
                "table_name": pa.array([table] * counts.num_rows, pa.string()),
                "unit_id": counts["unit_id"], "file": pa.array([path.name] * counts.num_rows, pa.string()),
                "rows": counts["unit_id_count"]}))
            con.execute(f"INSERT INTO {MANIFEST} BY NAME SELECT * FROM _new_files")
            con.unregister("_new_files")
        con.execute(_view_sql(con, table, directory))
    except Exception:
        StagedSegment(table, path).discard()
        raise
    return StagedSegment(table, path)


def collect_garbage(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """Delete the table's files that the (committed) manifest no longer names; returns how many."""
    directory = segment_dir(con, table)
    referenced = {f for (f,) in con.execute(f"SELECT DISTINCT file FROM {MANIFEST} WHERE table_name = ?",
                                            [table]).fetchall()}
    removed = 0
    for path in directory.iterdir():
        if path.name != SCHEMA_FILE and path.name not in referenced:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def read_units(con: duckdb.DuckDBPyConnection, table: str, unit_ids: list[str]) -> pa.Table:
    """The current rows of these units, reading only the files that hold them."""
    return _read_units(con, table, segment_dir(con, table), unit_ids)


def _read_units(con, table: str, directory: Path, unit_ids: list[str]) -> pa.Table:
    con.register("_wanted_units", pa.table({"unit_id": pa.array(list(unit_ids), pa.string())}))
    try:
        located = con.execute(f"SELECT file, unit_id FROM {MANIFEST} WHERE table_name = ? "
                              "AND unit_id IN (SELECT unit_id FROM _wanted_units)", [table]).fetchall()
    finally:
        con.unregister("_wanted_units")
    if not located:
        return schemas.arrow_schema(table).empty_table()
    wanted = pa.table({"path": [str(directory / f) for f, _ in located], "unit_id": [u for _, u in located]})
    files = sorted(set(wanted["path"].to_pylist()))
    con.register("_wanted_rows", wanted)
    try:
        result = con.sql(f"SELECT {_columns(table)} FROM read_parquet({_sql_list([directory / SCHEMA_FILE, *files])}, "
                         "union_by_name = true, filename = true) AS r "
                         "WHERE (r.filename, r.unit_id) IN (SELECT path, unit_id FROM _wanted_rows)").to_arrow_table()
    finally:
        con.unregister("_wanted_rows")
    return schemas.conform(table, result)


# -- internals -------------------------------------------------------------------------------

def _units_to_carry(con, table: str, directory: Path, replaced: set[str], new_rows: int) -> list[str]:
    """Units to rewrite into the new segment, so that sparse files and surplus files can go.

    A file this write leaves with less than half its rows current is emptied; when there would
    be more than MAX_FILES files, the smallest are merged until half as many remain. Files are emptied whole (their units
    are carried together), smallest first, while the new segment stays under TARGET_ROWS. So a
    batch write rarely carries anything and a one-unit write carries a bounded amount.
    """
    live: dict[str, dict[str, int]] = {}
    for file, unit_id, count in con.execute(f"SELECT file, unit_id, rows FROM {MANIFEST} WHERE table_name = ?",
                                            [table]).fetchall():
        live.setdefault(file, {})[unit_id] = count
    sparse, others = [], []
    for file, units in live.items():
        remaining = {u: n for u, n in units.items() if u not in replaced}
        if not remaining:
            continue
        entry = (sum(remaining.values()), file, sorted(remaining))
        touched = len(remaining) < len(units)
        if touched and entry[0] * 2 < pq.read_metadata(directory / file).num_rows:
            sparse.append(entry)
        else:
            others.append(entry)
    candidates = sparse
    if len(sparse) + len(others) + 1 > MAX_FILES:  # merge down to half, so merges stay rare
        candidates += sorted(others)[:len(sparse) + len(others) + 1 - MAX_FILES // 2]
    carried: list[str] = []
    budget = TARGET_ROWS - new_rows
    for kept_rows, _, units in sorted(candidates):
        if kept_rows > budget:
            break
        carried += units
        budget -= kept_rows
    return carried


def _write(directory: Path, table: str, data: pa.Table) -> Path:
    """Write a segment durably under a fresh name (tmp file, fsync, rename)."""
    storage = schemas.table(table).storage
    path = directory / f"{uuid.uuid4().hex}.parquet"
    tmp = path.with_suffix(".parquet.tmp")
    pq.write_table(data, tmp, compression="snappy", use_dictionary=list(storage.dictionary),
                   write_statistics=list(storage.statistics))
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return path


def _write_schema_file(directory: Path, table: str) -> None:
    path = directory / SCHEMA_FILE
    expected = schemas.arrow_schema(table)
    if path.exists() and pq.read_schema(path).equals(expected, check_metadata=True):
        return
    tmp = path.with_suffix(".parquet.tmp")
    pq.write_table(expected.empty_table(), tmp)
    os.replace(tmp, path)


def _is_base_table(con, table: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND NOT temporary",
                            [table]).fetchall()[0][0])


def _migrate(con, table: str) -> None:
    """Move a warehouse's DuckDB table (written before segments existed) into segments."""
    rows = con.sql(f'SELECT * FROM "{table}"').to_arrow_table()
    unit_ids = sorted(set(rows["unit_id"].to_pylist()))
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f'DROP TABLE "{table}"')
        staged = stage(con, table, unit_ids, rows)
    except Exception:
        con.execute("ROLLBACK")
        raise
    try:
        con.execute("COMMIT")
    except Exception:
        staged.discard()
        raise
    collect_garbage(con, table)


def _view_sql(con, table: str, directory: Path, temporary: bool = False) -> str:
    files = [directory / f for (f,) in con.execute(
        f"SELECT DISTINCT file FROM {MANIFEST} WHERE table_name = ? ORDER BY file", [table]).fetchall()]
    prefix = str(directory) + os.sep
    return (f'CREATE OR REPLACE {"TEMP " if temporary else ""}VIEW "{table}" AS '
            f"SELECT {_columns(table)} FROM read_parquet({_sql_list([directory / SCHEMA_FILE, *files])}, "
            "union_by_name = true, filename = true) AS r "
            f"WHERE (r.filename, r.unit_id) IN (SELECT {_sql_string(prefix)} || file, unit_id FROM {MANIFEST} "
            f"WHERE table_name = {_sql_string(table)})")


def _view_points_at(con, table: str, directory: Path) -> bool:
    found = con.execute("SELECT sql FROM duckdb_views() WHERE view_name = ? AND NOT temporary", [table]).fetchall()
    return bool(found) and _sql_string(str(directory / SCHEMA_FILE)) in found[0][0]


def _columns(table: str) -> str:
    return ", ".join(f'r."{name}"' for name in schemas.table(table).field_names)


def _sql_list(paths: list) -> str:
    return "[" + ", ".join(_sql_string(str(p)) for p in paths) + "]"


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
