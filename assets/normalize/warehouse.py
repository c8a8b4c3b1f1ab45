"""Writing the warehouse: each unit's rows replaced in one transaction.

A crash mid-write leaves the previous rows intact. Opening the file (waiting for another
process's lock) is shared with the other stages: zwgk/warehouse.py.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

import schemas
from zwgk import segments
from zwgk.warehouse import WarehouseLockedError, connect, load_table  # noqa: F401 - this stage's writers use them

UNIT_TABLES = ("units", "columns", "resources", "list_items", "attachments", "link_checks")
SEGMENTED = set(schemas.segmented_tables())


def replace_unit(con: duckdb.DuckDBPyConnection, unit_id: str, tables: dict[str, pa.Table],
                 hosts: pa.Table | None = None) -> None:
    """Replace every row of one unit in one transaction (bulk insert from Arrow)."""
    replace_units(con, [unit_id], [tables], hosts=[hosts] if hosts is not None else [])


def replace_units(con: duckdb.DuckDBPyConnection, unit_ids: list[str], tables: list[dict[str, pa.Table]],
                  hosts: list[pa.Table] = ()) -> None:
    """Replace every row of several units in one transaction.

    Per table, one DELETE and one bulk INSERT from Arrow; a segmented table (resources) gets one
    new Parquet segment instead. Batching is what makes loading fast: per-statement and per-file
    overhead is paid once per batch, not once per unit (bench/bench_load.py).
    """
    staged: list[segments.StagedSegment] = []
    con.execute("BEGIN TRANSACTION")
    try:
        con.register("replaced_units", pa.table({"unit_id": pa.array(unit_ids, pa.string())}))
        # Segmented tables first: their files are written in the background meanwhile.
        for name in sorted(UNIT_TABLES, key=lambda name: name not in SEGMENTED):
            parts = [schemas.conform(name, t[name]) for t in tables if name in t and t[name].num_rows]
            if name in SEGMENTED:
                rows = pa.concat_tables(parts) if parts else schemas.arrow_schema(name).empty_table()
                staged.append(segments.stage(con, name, unit_ids, rows))
                continue
            con.execute(f'DELETE FROM "{name}" WHERE unit_id IN (SELECT unit_id FROM replaced_units)')
            if parts:
                load_table(con, name, pa.concat_tables(parts))
        new_hosts = [h for h in hosts if h is not None and h.num_rows]
        if new_hosts:
            # Hosts are shared by units: the newest check of each host wins.
            merged = pa.concat_tables([schemas.conform("hosts", h) for h in new_hosts])
            con.register("new_hosts", merged)
            con.execute("DELETE FROM hosts WHERE host IN (SELECT host FROM new_hosts)")
            con.execute("""INSERT INTO hosts SELECT * EXCLUDE (rank) FROM (
                SELECT *, row_number() OVER (PARTITION BY host ORDER BY checked_at DESC NULLS LAST) AS rank
                FROM new_hosts) WHERE rank = 1""")
            con.unregister("new_hosts")
        con.unregister("replaced_units")
        segments.commit(con, staged)
    except BaseException:
        segments.roll_back(con, staged)
        raise


def existing_resources(con: duckdb.DuckDBPyConnection, unit_id: str) -> dict[str, dict]:
    """The unit's current resources by resource_id, to keep history and skip unchanged pages."""
    rows = segments.read_units(con, "resources", [unit_id]).to_pylist()
    return {row["resource_id"]: row for row in rows}


def existing_attachments(con: duckdb.DuckDBPyConnection, unit_id: str) -> dict[str, list[dict]]:
    """The unit's attachments by resource_id, reused with resources whose page did not change."""
    by_resource: dict[str, list[dict]] = {}
    for url, name, ext, resource_id in con.execute(
        "SELECT url, name, ext, resource_id FROM attachments WHERE unit_id = ?", [unit_id]
    ).fetchall():
        by_resource.setdefault(resource_id, []).append({"url": url, "text": name, "ext": ext})
    return by_resource


def existing_unit(con: duckdb.DuckDBPyConnection, unit_id: str) -> dict | None:
    rows = con.sql("SELECT * FROM units WHERE unit_id = $unit", params={"unit": unit_id}).to_arrow_table().to_pylist()
    return rows[0] if rows else None


def existing_columns(con: duckdb.DuckDBPyConnection, unit_id: str) -> dict[str, dict]:
    """The unit's current columns by column_id: history, and the row kept when a column fails."""
    rows = con.sql("SELECT * FROM columns WHERE unit_id = $unit", params={"unit": unit_id}).to_arrow_table()
    return {row["column_id"]: row for row in rows.to_pylist()}


def has_rows(con: duckdb.DuckDBPyConnection, unit_id: str) -> bool:
    [(count,)] = con.execute("SELECT count(*) FROM resources WHERE unit_id = ?", [unit_id]).fetchall()
    return count > 0


def unit_rows(con: duckdb.DuckDBPyConnection, unit_id: str) -> dict[str, pa.Table]:
    """Every current row of one unit, per table (to write them back unchanged)."""
    return {name: segments.read_units(con, name, [unit_id]) if name in SEGMENTED else
            con.sql(f'SELECT * FROM "{name}" WHERE unit_id = $unit', params={"unit": unit_id}).to_arrow_table()
            for name in UNIT_TABLES}


def mark_removed_units(con: duckdb.DuckDBPyConnection, registered: list[str], now) -> list[str]:
    """Units no longer in the registry keep their rows, marked removed (history is never lost)."""
    con.register("registered", pa.table({"unit_id": pa.array(registered, pa.string())}))
    try:
        removed = [r[0] for r in con.execute(
            "SELECT unit_id FROM units WHERE removed_at IS NULL AND unit_id NOT IN (SELECT unit_id FROM registered)"
        ).fetchall()]
        if removed:
            con.execute("UPDATE units SET removed_at = ? WHERE unit_id IN (SELECT unnest(?))", [now, removed])
    finally:
        con.unregister("registered")
    return removed
