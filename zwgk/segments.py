"""Parquet segments: how the warehouse keeps its big per-unit tables (today: `resources`).

DuckDB appends wide, text-heavy rows at 30-150k rows/s on our 2-core machines; pyarrow writes the
same rows to Parquet about ten times faster (bench/bench_load.py). So a segmented table is a
directory of write-once Parquet files next to the warehouse file, a manifest table
(`segment_files`) naming the file that holds each unit's current rows, and a view with the
table's name that reads exactly those rows. Readers only ever see the view. The layout follows
DuckLake: catalog in DuckDB, data in Parquet.

A write is atomic per batch of units: the manifest changes inside the caller's DuckDB
transaction while the new files are written in background threads, and COMMIT waits until they
are durable. A crash before the commit leaves unreferenced files (deleted by the next write) and
the previous rows intact. Files never change once written. When most of a file's rows are
superseded, or there are too many small files, their remaining units are carried into the next
segment written (compaction); a file nothing refers to is renamed out of the view's sight and
deleted.

Every write happens while the writer holds the warehouse's DuckDB write lock, so no other process
reads or writes the directory meanwhile.
"""

from __future__ import annotations

import os
import uuid
from concurrent.futures import Future, ThreadPoolExecutor, wait
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
SMALL_FILE_ROWS = 25_000  # a file with fewer current rows is small; bigger batches are split in files this big
MAX_SMALL_FILES = 16  # beyond this many small files, a write merges the smallest into its segment
WRITE_THREADS = min(4, os.cpu_count() or 1)  # pyarrow encodes one file per thread, without the GIL

_pools: dict[str, ThreadPoolExecutor] = {}
_pending_deletions: list[Future] = []


def _pool(name: str, workers: int) -> ThreadPoolExecutor:
    if name not in _pools:
        _pools[name] = ThreadPoolExecutor(workers, thread_name_prefix=f"zwgk-segment-{name}")
    return _pools[name]


def _forget_pools_in_child() -> None:
    # A forked child (Celery prefork, multiprocessing) has none of its parent's threads.
    _pools.clear()
    _pending_deletions.clear()


os.register_at_fork(after_in_child=_forget_pools_in_child)

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


def segments_root(warehouse: Path) -> Path:
    """`<warehouse>.segments/` next to the warehouse file: one directory per segmented table."""
    return warehouse.with_name(warehouse.stem + ".segments")


def segment_dir(con: duckdb.DuckDBPyConnection, table: str) -> Path:
    return segments_root(database_path(con)) / table


def setup(con: duckdb.DuckDBPyConnection) -> None:
    """Create the manifest and the views (write mode); move an old DuckDB table into segments."""
    con.execute(_MANIFEST_DDL)
    for table in schemas.segmented_tables():
        directory = segment_dir(con, table)
        directory.mkdir(parents=True, exist_ok=True)
        schema_changed = _write_schema_file(directory, table)
        if _is_base_table(con, table):
            _migrate(con, table, directory)
        elif schema_changed or not _view_points_at(con, table, directory):
            con.execute(_view_sql(table, directory))


def attach_read_only(con: duckdb.DuckDBPyConnection) -> None:
    """Read-only: if the warehouse was moved, point a temporary view at the files' new place."""
    has_manifest = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [MANIFEST]).fetchall()[0][0]
    if not has_manifest:
        return  # a warehouse written before segments existed: its tables are still DuckDB tables
    for table in schemas.segmented_tables():
        directory = segment_dir(con, table)
        if not _view_points_at(con, table, directory):
            con.execute(_view_sql(table, directory, temporary=True))


@dataclass
class StagedSegment:
    """A segment being written for an open transaction. `settle()` it before COMMIT (the files
    are then durable), or `discard()` it when the transaction rolls back."""
    table: str
    directory: Path
    paths: list[Path]
    writes: list[Future]

    def settle(self) -> None:
        for write in self.writes:
            write.result()  # raises what the write raised
        if self.writes:
            _fsync(self.directory)  # the new names survive a power cut, too

    def discard(self) -> None:
        wait(self.writes)
        for path in self.paths:
            path.unlink(missing_ok=True)
            path.with_suffix(".parquet.tmp").unlink(missing_ok=True)


def stage(con: duckdb.DuckDBPyConnection, table: str, unit_ids: list[str], rows: pa.Table) -> StagedSegment:
    """Replace the rows of `unit_ids` by `rows` in the manifest, and start writing their segment.

    Call inside a transaction, then `commit` (or `roll_back` on an error). The files are written
    in background threads, several in parallel for a big segment (each unit's rows in one file),
    while the transaction goes on with its other statements.
    """
    directory = segment_dir(con, table)
    rows = schemas.conform(table, rows)
    replaced = set(unit_ids)
    strays = set(pc.unique(rows["unit_id"]).to_pylist()) - replaced
    if strays:
        raise ValueError(f"{table}: rows of units {sorted(strays)[:5]} that are not being replaced")
    carried_units = _units_to_carry(con, table, directory, replaced, rows.num_rows)
    if carried_units:
        rows = pa.concat_tables([rows, _read_units(con, table, directory, carried_units)])
    parts = _parts(rows)
    staged = StagedSegment(table, directory, [directory / f"{uuid.uuid4().hex}.parquet" for _ in parts], [])
    writers = _pool("write", WRITE_THREADS)
    staged.writes = [writers.submit(_write, path, table, part) for path, (part, _) in zip(staged.paths, parts)]
    try:
        changed = sorted(replaced | set(carried_units))
        con.register("_changed_units", pa.table({"unit_id": pa.array(changed, pa.string())}))
        con.execute(f"DELETE FROM {MANIFEST} WHERE table_name = ? AND unit_id IN (SELECT unit_id FROM _changed_units)",
                    [table])
        con.unregister("_changed_units")
        for path, (_, counts) in zip(staged.paths, parts):
            con.register("_new_files", pa.table({
                "table_name": pa.array([table] * counts.num_rows, pa.string()),
                "unit_id": counts["unit_id"], "file": pa.array([path.name] * counts.num_rows, pa.string()),
                "rows": counts["rows"]}))
            con.execute(f"INSERT INTO {MANIFEST} BY NAME SELECT * FROM _new_files")
            con.unregister("_new_files")
    except BaseException:
        staged.discard()
        raise
    return staged


def commit(con: duckdb.DuckDBPyConnection, staged: list[StagedSegment]) -> None:
    """COMMIT the open transaction once its segments are durable; then delete superseded files.

    On an error the transaction is still open (or already rolled back by DuckDB): the caller
    rolls back and discards the segments."""
    for segment in staged:
        segment.settle()
    con.execute("COMMIT")
    for segment in staged:
        collect_garbage(con, segment.table, segment.directory)


def replace(con: duckdb.DuckDBPyConnection, table: str, unit_ids: list[str], rows: pa.Table, *,
            first: str | None = None) -> None:
    """`stage` and `commit` in a transaction of its own, after the SQL `first` if given."""
    con.execute("BEGIN TRANSACTION")
    staged: list[StagedSegment] = []
    try:
        if first:
            con.execute(first)
        staged.append(stage(con, table, unit_ids, rows))
        commit(con, staged)
    except BaseException:
        roll_back(con, staged)
        raise


def roll_back(con: duckdb.DuckDBPyConnection, staged: list[StagedSegment]) -> None:
    """ROLLBACK the open transaction and delete the segments it was writing."""
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass  # a failed COMMIT has rolled back already
    for segment in staged:
        segment.discard()


def collect_garbage(con: duckdb.DuckDBPyConnection, table: str, directory: Path | None = None) -> int:
    """Delete the table's files that the (committed) manifest no longer names; returns how many.

    They leave the view's sight at once; the space is freed in the background (`finish_deletions`)."""
    directory = directory or segment_dir(con, table)
    referenced = {f for (f,) in con.execute(f"SELECT DISTINCT file FROM {MANIFEST} WHERE table_name = ?",
                                            [table]).fetchall()}
    garbage = []
    for path in directory.iterdir():
        if path.name == SCHEMA_FILE or path.name in referenced:
            continue
        if path.suffix == ".parquet":  # out of the view's sight at once: it lists *.parquet
            path = path.rename(path.with_suffix(".parquet.gone"))
        garbage.append(path)
    # Freeing a big file takes the file system milliseconds: done while the next batch is encoded.
    _pending_deletions.append(_pool("gc", 1).submit(lambda: [path.unlink(missing_ok=True) for path in garbage]))
    return len(garbage)


def finish_deletions() -> None:
    """Wait until the files `collect_garbage` dropped are gone (the warehouse does on close)."""
    while _pending_deletions:
        _pending_deletions.pop().result()


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
        result = con.sql(_select_current(table, _sql_list([directory / SCHEMA_FILE, *files]),
                                         "SELECT path, unit_id FROM _wanted_rows")).to_arrow_table()
    finally:
        con.unregister("_wanted_rows")
    return schemas.conform(table, result)


# -- internals -------------------------------------------------------------------------------

def _units_to_carry(con, table: str, directory: Path, replaced: set[str], new_rows: int) -> list[str]:
    """Units to rewrite into the new segment, so that sparse and small files can go.

    A file this write leaves with less than half its rows current is emptied. When there would be
    more than MAX_SMALL_FILES small files, the smallest are merged until half as many remain.
    Files are emptied whole (their units are carried together), smallest first, while the new
    segment stays under TARGET_ROWS. So a batch write rarely carries anything, and a one-unit
    write (a Dagster partition) carries a bounded amount.
    """
    live: dict[str, dict[str, int]] = {}
    for file, unit_id, count in con.execute(f"SELECT file, unit_id, rows FROM {MANIFEST} WHERE table_name = ?",
                                            [table]).fetchall():
        live.setdefault(file, {})[unit_id] = count
    sparse, small = [], []
    for file, units in live.items():
        remaining = {u: n for u, n in units.items() if u not in replaced}
        if not remaining:
            continue
        entry = (sum(remaining.values()), file, sorted(remaining))
        touched = len(remaining) < len(units)
        if touched and entry[0] * 2 < pq.read_metadata(directory / file).num_rows:
            sparse.append(entry)
        elif entry[0] < SMALL_FILE_ROWS:
            small.append(entry)
    candidates = sparse
    small_files = len(small) + (new_rows < SMALL_FILE_ROWS)
    if small_files > MAX_SMALL_FILES:
        candidates += sorted(small)[:small_files - MAX_SMALL_FILES // 2]
    carried: list[str] = []
    budget = TARGET_ROWS - new_rows
    for kept_rows, _, units in sorted(candidates):
        if kept_rows > budget:
            break
        carried += units
        budget -= kept_rows
    return carried


def _parts(rows: pa.Table) -> list[tuple[pa.Table, pa.Table]]:
    """The files to write `rows` as: one per writer thread for a big segment, each with whole
    units; with each part, its row count per unit."""
    if not rows.num_rows:
        return []
    runs = _unit_runs(rows)
    if runs is None:  # a unit's rows are not contiguous
        rows = rows.sort_by("unit_id")
        runs = _unit_runs(rows)
    return _split(rows, runs, min(WRITE_THREADS, max(1, rows.num_rows // SMALL_FILE_ROWS)))


def _unit_runs(rows: pa.Table) -> pa.Table | None:
    """(unit_id, end) of each run of equal unit ids; None when a unit has more than one run."""
    encoded = pc.run_end_encode(rows["unit_id"].combine_chunks())
    if len(encoded.values) != len(pc.unique(encoded.values)):
        return None
    return pa.table({"unit_id": encoded.values, "end": encoded.run_ends.cast(pa.int64())})


def _split(rows: pa.Table, runs: pa.Table, count: int) -> list[tuple[pa.Table, pa.Table]]:
    """Up to `count` slices of about equal size that keep each unit's rows together; with each
    slice, a table of its units and their row counts."""
    ends = runs["end"].to_pylist()
    units = runs["unit_id"].to_pylist()
    # Slice k ends with the first unit whose rows reach k/count of the table.
    last_runs = sorted({next(i for i, end in enumerate(ends) if end >= rows.num_rows * k // count)
                        for k in range(1, count + 1)})
    parts, first_run, start = [], 0, 0
    for last in last_runs:
        stop = ends[last]
        run_starts = [start, *ends[first_run:last]]
        counts = pa.table({"unit_id": pa.array(units[first_run:last + 1], pa.string()),
                           "rows": pa.array([end - begin for begin, end in zip(run_starts, ends[first_run:last + 1])],
                                            pa.int64())})
        parts.append((rows.slice(start, stop - start), counts))
        first_run, start = last + 1, stop
    return parts


def _write(path: Path, table: str, rows: pa.Table) -> None:
    """Write one segment file durably under its fresh name (tmp file, fsync, rename)."""
    spec = schemas.table(table)
    tmp = path.with_suffix(".parquet.tmp")
    compression = {name: "none" if name in spec.storage.uncompressed else "snappy" for name in spec.field_names}
    pq.write_table(rows, tmp, compression=compression, use_dictionary=list(spec.storage.dictionary),
                   write_statistics=list(spec.storage.statistics))
    _fsync(tmp)
    os.replace(tmp, path)


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _write_schema_file(directory: Path, table: str) -> bool:
    """(Re)write the empty file carrying the current schema; True if it changed."""
    path = directory / SCHEMA_FILE
    expected = schemas.arrow_schema(table)
    if path.exists() and pq.read_schema(path).equals(expected, check_metadata=True):
        return False
    tmp = path.with_suffix(".parquet.tmp")
    pq.write_table(expected.empty_table(), tmp)
    os.replace(tmp, path)
    return True


def _is_base_table(con, table: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND NOT temporary",
                            [table]).fetchall()[0][0])


def _migrate(con, table: str, directory: Path) -> None:
    """Move a warehouse's DuckDB table (written before segments existed) into segments."""
    rows = con.sql(f'SELECT * FROM "{table}"').to_arrow_table()
    replace(con, table, sorted(set(rows["unit_id"].to_pylist())), rows,
            first=f'DROP TABLE "{table}"; {_view_sql(table, directory)}')


def _view_sql(table: str, directory: Path, temporary: bool = False) -> str:
    """The view: every segment file in the directory (listed when queried, so writes need not
    touch the view), each row kept only if the manifest names its file for its unit."""
    prefix = str(directory) + os.sep
    current = f"SELECT {_sql_string(prefix)} || file, unit_id FROM {MANIFEST} WHERE table_name = {_sql_string(table)}"
    return (f'CREATE OR REPLACE {"TEMP " if temporary else ""}VIEW "{table}" AS '
            + _select_current(table, _sql_string(prefix + "*.parquet"), current))


def _select_current(table: str, files: str, current: str) -> str:
    """The table's columns read from `files` (SQL: a list or a glob), keeping a row only where
    `current` (SQL: a SELECT of file path and unit_id) names its file for its unit."""
    return (f"SELECT {_columns(table)} FROM read_parquet({files}, union_by_name = true, filename = true) AS r "
            f"WHERE (r.filename, r.unit_id) IN ({current})")


def _view_points_at(con, table: str, directory: Path) -> bool:
    found = con.execute("SELECT sql FROM duckdb_views() WHERE view_name = ? AND NOT temporary", [table]).fetchall()
    return bool(found) and _sql_string(str(directory) + os.sep + "*.parquet") in found[0][0]


def _columns(table: str) -> str:
    return ", ".join(f'r."{name}"' for name in schemas.table(table).field_names)


def _sql_list(paths: list) -> str:
    return "[" + ", ".join(_sql_string(str(p)) for p in paths) + "]"


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
