"""The warehouse: every stage's tables in one DuckLake (core/lake.py opens it), and every write.

Stages, validation (GX reads through the connection given here), the publisher, the report and
the Dagster resources reach storage only through this module: `connect()` to read or write, and
the writers below, each one transaction. A write that fails mid-way leaves the previous rows: the
lake's new snapshot is committed whole or not at all.

With the embedded catalog, DuckDB allows one writing process per catalog file. Dagster runs unit
partitions in separate processes, so opening waits for another process's lock (bounded, with
backoff; `ZWGK_LOCK_WAIT` seconds, default 30) and then fails with one clear message naming the file.

With a PostgreSQL catalog, many processes write at once. DuckLake commits optimistically: a commit
that meets another one touching the same table since its transaction began fails with a conflict
and has rolled back. Every writer here is a replacement (delete the scope's rows, insert the new
ones) built from rows computed before the transaction, so it is re-run whole: bounded, with
jittered backoff, logged with the units it writes (`ZWGK_CONFLICT_RETRIES`, default 30 attempts).
Re-running a replacement can neither lose nor duplicate rows, even if a commit that reported a
failure had in fact landed.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable, Iterator, TypeVar

import duckdb
import pyarrow as pa

import schemas
from core import lake

DEFAULT_LOCK_WAIT = 30.0
DEFAULT_CONFLICT_RETRIES = 30
UNIT_TABLES = ("units", "columns", "resources", "list_items", "attachments", "link_checks", "normalized_inputs")

log = logging.getLogger(__name__)
T = TypeVar("T")


# The author every zwgk write signs its lake snapshot with (ducklake_snapshots().author).
SNAPSHOT_AUTHOR = "zwgk"


@dataclass(frozen=True)
class RunTag:
    """What a write belongs to: recorded on the lake snapshot it commits, as the snapshot's commit
    message and extra info (JSON), so that `core.history` can find a run's snapshots later."""
    run_id: str
    stage: str  # normalize | validate | …
    as_of: date | None = None  # the day the rules were applied for (validation)
    extra: dict = field(default_factory=dict)  # e.g. the Dagster run id

    @property
    def message(self) -> str:
        return f"{self.stage} run {self.run_id}" + (f" as of {self.as_of.isoformat()}" if self.as_of else "")

    @property
    def extra_info(self) -> str:
        info = {"run_id": self.run_id, "stage": self.stage, **self.extra}
        if self.as_of is not None:
            info["as_of"] = self.as_of.isoformat()
        return json.dumps(info, ensure_ascii=False, sort_keys=True)


class WarehouseLockedError(RuntimeError):
    """Another process holds the warehouse's catalog for longer than we are willing to wait."""


class WriteConflictError(RuntimeError):
    """Other writers kept committing to the same tables through every retry of a transaction."""


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc)
    return "lock" in text.lower() and ("Conflicting" in text or "Could not set lock" in text)


def _is_concurrent_initialization(exc: Exception) -> bool:
    """Another process created the new lake's catalog (its metadata tables in PostgreSQL) at the
    same moment: its transaction won, ours rolled back, and the lake is there on the next try."""
    text = str(exc)
    return "Failed to initialize DuckLake" in text and ("already exists" in text or "duplicate key" in text)


def lock_wait() -> float:
    return float(os.environ.get("ZWGK_LOCK_WAIT", DEFAULT_LOCK_WAIT))


def memory_limit() -> str:
    """DuckDB's memory budget per connection (`ZWGK_DUCKDB_MEMORY`, default 768MB): beyond it, joins,
    sorts and aggregates spill to disk. DuckDB's own default, 80 % of the machine, would let one
    stage crowd out CKAN, PostgreSQL and Solr on a small server."""
    return os.environ.get("ZWGK_DUCKDB_MEMORY", "").strip() or "768MB"


def conflict_retries() -> int:
    return max(1, int(os.environ.get("ZWGK_CONFLICT_RETRIES", DEFAULT_CONFLICT_RETRIES)))


def is_write_conflict(exc: BaseException) -> bool:
    """DuckLake refused a commit because another transaction committed to the same tables first
    (or its own snapshot-id retries ran out under contention): the transaction has rolled back."""
    text = str(exc)
    return isinstance(exc, duckdb.Error) and (
        "Transaction conflict" in text or "Exceeded the maximum retry count" in text)


def retry_on_conflict(write: Callable[[], T], what: str) -> T:
    """Run `write` (one whole transaction) again while it fails on a write conflict: up to
    `ZWGK_CONFLICT_RETRIES` attempts, exponential backoff with jitter so that writers that
    collided do not collide again in step. `what` names the rows written, for the log."""
    attempts = conflict_retries()
    delay = 0.02
    for attempt in range(1, attempts + 1):
        try:
            return write()
        except duckdb.Error as exc:
            if not is_write_conflict(exc):
                raise
            reason = str(exc).strip().splitlines()[-1]
            if attempt == attempts:
                raise WriteConflictError(
                    f"{what}: not written, other writers committed first in all {attempts} attempts "
                    f"(ZWGK_CONFLICT_RETRIES); last conflict: {reason}") from exc
            pause = delay * (0.5 + random.random())
            log.warning("%s: write conflict with another writer (attempt %d of %d), retrying in %.2f s: %s",
                        what, attempt, attempts, pause, reason)
            time.sleep(pause)
            delay = min(delay * 2, 2.0)
    raise AssertionError("unreachable")


def _units_named(unit_ids: list[str]) -> str:
    if not unit_ids:
        return "no unit"
    shown = ", ".join(unit_ids[:10]) + (f" and {len(unit_ids) - 10} more" if len(unit_ids) > 10 else "")
    return f"unit {shown}" if len(unit_ids) == 1 else f"units {shown}"


@contextmanager
def connect(path: str | Path, *, read_only: bool = False, wait_seconds: float | None = None,
            snapshot_version: int | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse at `path` (creating its tables on first write); waits while another
    process writes. Tables are named bare: the lake is the connection's default database.

    With `snapshot_version` the lake is opened read only as it was at that snapshot
    (`core.history` finds a run's or a day's snapshot)."""
    read_only = read_only or snapshot_version is not None
    path = Path(path)
    catalog = lake.catalog_for(path)
    wait_seconds = lock_wait() if wait_seconds is None else wait_seconds
    if catalog.embedded:
        if read_only and not path.exists():
            raise FileNotFoundError(f"warehouse {path} does not exist; run the normalize stage first")
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    while True:
        if catalog.embedded:
            lake.finish_swap(path)  # a rebuild's swap that a crash interrupted (core/rebuild.py)
        con = duckdb.connect(config={"memory_limit": memory_limit()})
        try:
            lake.attach(con, catalog, read_only=read_only, snapshot_version=snapshot_version)
            break
        except duckdb.Error as exc:
            con.close()
            if isinstance(exc, duckdb.IOException) and _is_lock_error(exc):
                if time.monotonic() >= deadline:
                    where = path if catalog.embedded else catalog.display
                    raise WarehouseLockedError(
                        f"warehouse {where} is locked by another process (waited {wait_seconds:.0f} s)") from None
            elif not (_is_concurrent_initialization(exc) and time.monotonic() < deadline):
                raise
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 2.0)
        except BaseException:
            con.close()
            raise
    try:
        if not read_only:
            # Writers starting together on a new lake all create its tables: all but one conflict.
            retry_on_conflict(lambda: _create_tables(con), f"warehouse tables in {catalog.display}")
        yield con
    finally:
        con.close()


def _create_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(schemas.all_ddl())
    schemas.migrate(con)


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Another cursor on the same lake (its own temporary tables and transaction). A bare
    `con.cursor()` starts in DuckDB's in-memory default database, where no table is."""
    cur = con.cursor()
    cur.execute(f"USE {lake.LAKE}")
    return cur


def load_table(con: duckdb.DuckDBPyConnection, name: str, rows: pa.Table) -> None:
    """Bulk-insert rows from Arrow into one table (inside the caller's transaction, if any)."""
    con.register("_loaded_rows", schemas.conform(name, rows))
    try:
        con.execute(f'INSERT INTO "{name}" SELECT * FROM _loaded_rows')
    finally:
        con.unregister("_loaded_rows")


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection, tag: RunTag | None = None) -> Iterator[None]:
    """BEGIN … COMMIT, or ROLLBACK on any error (a failed COMMIT has rolled back already).

    With `tag`, the snapshot this transaction commits carries the run's id, stage and as-of date
    (DuckLake's own commit message and extra info): `zwgk report --at RUN` finds it by them.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        if tag is not None:
            con.execute(f"CALL {lake.LAKE}.set_commit_message(?, ?, extra_info => ?)",
                        [SNAPSHOT_AUTHOR, tag.message, tag.extra_info])
        yield
        con.execute("COMMIT")
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:
            pass
        raise


def replace_unit(con: duckdb.DuckDBPyConnection, unit_id: str, tables: dict[str, pa.Table],
                 hosts: pa.Table | None = None, tag: RunTag | None = None) -> None:
    """Replace every row of one unit in one transaction (bulk insert from Arrow)."""
    replace_units(con, [unit_id], [tables], hosts=[hosts] if hosts is not None else [], tag=tag)


def replace_units(con: duckdb.DuckDBPyConnection, unit_ids: list[str], tables: list[dict[str, pa.Table]],
                  hosts: list[pa.Table] = (), tag: RunTag | None = None) -> None:
    """Replace the rows of several units in one transaction: one snapshot of the lake.

    Each unit's dict names the tables whose rows of that unit are replaced (an empty table
    deletes them); a table it leaves out keeps that unit's rows as they are. Per table, one
    DELETE and one bulk INSERT from Arrow. Batching is what makes loading fast: per-statement
    and per-file overhead is paid once per batch, not once per unit (bench/bench_load.py). On a
    write conflict the whole transaction is run again.
    """
    if not unit_ids:
        return
    replaced = {name: [u for u, t in zip(unit_ids, tables) if name in t] for name in UNIT_TABLES}
    retry_on_conflict(lambda: _replace_units_once(con, replaced, tables, hosts, tag), _units_named(unit_ids))


def _replace_units_once(con: duckdb.DuckDBPyConnection, replaced: dict[str, list[str]],
                        tables: list[dict[str, pa.Table]], hosts: list[pa.Table], tag: RunTag | None) -> None:
    with transaction(con, tag):
        for name in UNIT_TABLES:
            if not replaced[name]:
                continue
            parts = [schemas.conform(name, t[name]) for t in tables if name in t and t[name].num_rows]
            con.execute(f'DELETE FROM "{name}" WHERE list_contains(?, unit_id)', [replaced[name]])
            if parts:
                load_table(con, name, pa.concat_tables(parts))
        _merge_hosts(con, [h for h in hosts if h is not None and h.num_rows])


def _merge_hosts(con: duckdb.DuckDBPyConnection, new_hosts: list[pa.Table]) -> None:
    """Hosts are shared by units: the newest check of each host wins."""
    if not new_hosts:
        return
    con.register("new_hosts", pa.concat_tables([schemas.conform("hosts", h) for h in new_hosts]))
    try:
        con.execute("DELETE FROM hosts WHERE host IN (SELECT host FROM new_hosts)")
        con.execute("""INSERT INTO hosts SELECT * EXCLUDE (rank) FROM (
            SELECT *, row_number() OVER (PARTITION BY host ORDER BY checked_at DESC NULLS LAST) AS rank
            FROM new_hosts) WHERE rank = 1""")
    finally:
        con.unregister("new_hosts")


def replace_where(con: duckdb.DuckDBPyConnection, scope: str, params: dict, tables: dict[str, pa.Table],
                  tag: RunTag | None = None) -> None:
    """In one transaction, per table: delete the rows matching the SQL `scope`, insert `rows`
    (validation replaces one run's results this way). On a write conflict it is run again."""
    def replace_once() -> None:
        with transaction(con, tag):
            for name, rows in tables.items():
                con.execute(f'DELETE FROM "{name}" WHERE {scope}', params)
                load_table(con, name, rows)

    units = params.get("units") or sorted({u for rows in tables.values() if "unit_id" in rows.column_names
                                           for u in rows.column("unit_id").unique().to_pylist() if u})
    retry_on_conflict(replace_once, f"{', '.join(tables)} of {_units_named(list(units))}")


def mark_removed_units(con: duckdb.DuckDBPyConnection, registered: list[str], now,
                       tag: RunTag | None = None) -> list[str]:
    """Units no longer in the registry keep their rows, marked removed (history is never lost)."""
    def mark_once() -> list[str]:
        with transaction(con, tag):
            removed = [r[0] for r in con.execute(
                "SELECT unit_id FROM units WHERE removed_at IS NULL AND unit_id NOT IN (SELECT unit_id FROM registered)"
            ).fetchall()]
            if removed:
                con.execute("UPDATE units SET removed_at = ? WHERE unit_id IN (SELECT unnest(?))", [now, removed])
        return removed

    con.register("registered", pa.table({"unit_id": pa.array(registered, pa.string())}))
    try:
        return retry_on_conflict(mark_once, "units removed from the registry")
    finally:
        con.unregister("registered")


# -- readers the stages share ------------------------------------------------------------------

def unit_table(con: duckdb.DuckDBPyConnection, name: str, unit_id: str) -> pa.Table:
    rows = con.sql(f'SELECT * FROM "{name}" WHERE unit_id = $unit', params={"unit": unit_id}).to_arrow_table()
    return schemas.conform(name, rows)


def rows_by_unit(con: duckdb.DuckDBPyConnection, name: str, unit_ids: list[str]) -> dict[str, list[dict]]:
    """The current rows of `name` of several units, as dicts grouped by unit: one query."""
    if not unit_ids:
        return {}
    grouped: dict[str, list[dict]] = {}
    rows = con.sql(f'SELECT * FROM "{name}" WHERE list_contains($units, unit_id)', params={"units": unit_ids})
    for row in schemas.conform(name, rows.to_arrow_table()).to_pylist():
        grouped.setdefault(row["unit_id"], []).append(row)
    return grouped


def resource_counts(con: duckdb.DuckDBPyConnection, unit_ids: list[str]) -> dict[str, int]:
    """How many resource rows each of the units has."""
    if not unit_ids:
        return {}
    return dict(con.execute("SELECT unit_id, count(*) FROM resources WHERE list_contains(?, unit_id) "
                            "GROUP BY unit_id", [unit_ids]).fetchall())


def attachments_by_unit(con: duckdb.DuckDBPyConnection, unit_ids: list[str]) -> dict[str, dict[str, list[dict]]]:
    """Each unit's attachments by resource_id, reused with resources whose page did not change."""
    if not unit_ids:
        return {}
    grouped: dict[str, dict[str, list[dict]]] = {}
    for unit_id, url, name, ext, resource_id in con.execute(
        "SELECT unit_id, url, name, ext, resource_id FROM attachments WHERE list_contains(?, unit_id)", [unit_ids]
    ).fetchall():
        grouped.setdefault(unit_id, {}).setdefault(resource_id, []).append({"url": url, "text": name, "ext": ext})
    return grouped


def existing_resources(con: duckdb.DuckDBPyConnection, unit_id: str) -> dict[str, dict]:
    """The unit's current resources by resource_id, to keep history and skip unchanged pages."""
    return {row["resource_id"]: row for row in unit_table(con, "resources", unit_id).to_pylist()}


def existing_unit(con: duckdb.DuckDBPyConnection, unit_id: str) -> dict | None:
    rows = unit_table(con, "units", unit_id).to_pylist()
    return rows[0] if rows else None


def unit_rows(con: duckdb.DuckDBPyConnection, unit_id: str) -> dict[str, pa.Table]:
    """Every current row of one unit, per table (to write them back unchanged)."""
    return {name: unit_table(con, name, unit_id) for name in UNIT_TABLES}
