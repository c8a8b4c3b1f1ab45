"""The read API the normalize stage uses: a unit's harvested state as Arrow tables."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from .unitstore import SCHEMAS


@dataclass(frozen=True)
class UnitStoreView:
    """One unit's current state. `pages.sha256` keys `read_raw`; timestamps are naive UTC."""

    unit_id: str
    pages: pa.Table
    columns: pa.Table
    column_items: pa.Table
    link_checks: pa.Table
    host_checks: pa.Table
    access: pa.Table


def unit_db_path(store_dir: str | Path, unit_id: str) -> Path:
    return Path(store_dir) / "units" / f"{unit_id}.duckdb"


VIEW_TABLES = ("pages", "columns", "column_items", "link_checks", "host_checks", "access")


def open_unit_store(store_dir: str | Path, unit_id: str) -> UnitStoreView:
    """Read a unit's tables (read-only; call it when no harvest of that unit is running).

    Raises FileNotFoundError when the unit was never harvested into `store_dir`.
    """
    views = open_unit_stores(store_dir, [unit_id])
    if unit_id not in views:
        raise FileNotFoundError(f"unit {unit_id!r} has no harvest store at {unit_db_path(store_dir, unit_id)}")
    return views[unit_id]


def open_unit_stores(store_dir: str | Path, unit_ids: list[str]) -> dict[str, UnitStoreView]:
    """Several units' views at once, by unit id; a unit never harvested into `store_dir` is left out.

    The unit files are attached to one in-memory DuckDB and each table is read for all of them
    in one query: normalize reads a thousand units per run, and opening each file as a database
    of its own with six queries cost about 30 ms a unit.
    """
    present = [(unit_id, unit_db_path(store_dir, unit_id)) for unit_id in dict.fromkeys(unit_ids)]
    present = [(unit_id, path) for unit_id, path in present if path.exists()]
    if not present:
        return {}
    with duckdb.connect() as con:
        for number, (_, path) in enumerate(present):
            con.execute(f"ATTACH {_sql_string(str(path))} AS store{number} (READ_ONLY)")
        have: dict[tuple[str, str], set[str]] = {}
        for database, table, column in con.execute(
                "SELECT database_name, table_name, column_name FROM duckdb_columns() "
                "WHERE database_name LIKE 'store%'").fetchall():
            have.setdefault((database, table), set()).add(column)
        tables = {name: _read_all(con, name, len(present), have) for name in VIEW_TABLES}
    return {unit_id: UnitStoreView(unit_id=unit_id, **{name: tables[name][number] for name in VIEW_TABLES})
            for number, (unit_id, _) in enumerate(present)}


def _read_all(con: duckdb.DuckDBPyConnection, table: str, stores: int, have: dict[tuple[str, str], set[str]]
              ) -> list[pa.Table]:
    """`table` of each attached store (`store0`, `store1`, …) in today's schema, in store order."""
    schema = SCHEMAS[table]
    parts = []
    for number in range(stores):
        columns = have.get((f"store{number}", table))
        if columns is not None:  # a store written before the table existed has no rows of it
            parts.append(f"SELECT {number} AS _store, {_select_list(schema, columns)} FROM store{number}.{table}")
    if not parts:
        return [schema.empty_table()] * stores
    # Rows keep their stores' order (DuckDB preserves insertion order); column items are in list order.
    order = {"column_items": " ORDER BY _store, column_url, position"}.get(table, "")
    rows = con.sql(" UNION ALL ".join(parts) + order).to_arrow_table()
    starts = np.concatenate([[0], np.cumsum(np.bincount(rows.column("_store").to_numpy(), minlength=stores))])
    body = rows.drop_columns(["_store"]).cast(schema)
    return [body.slice(starts[n], starts[n + 1] - starts[n]) for n in range(stores)]


def read_fetch_log(store_dir: str | Path, unit_id: str) -> pa.Table:
    """The append-only log of every HTTP attempt for the unit (grows with each run)."""
    with duckdb.connect(str(unit_db_path(store_dir, unit_id)), read_only=True) as con:
        have = {name for (name,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'fetch_log'").fetchall()}
        return _read(con, "fetch_log", "fetch_log", have)


def _read(con: duckdb.DuckDBPyConnection, source: str, table: str, have: set[str]) -> pa.Table:
    """The table in today's schema; columns an older store lacks (not in `have`) read as NULL."""
    order = {"column_items": " ORDER BY column_url, position", "fetch_log": " ORDER BY fetched_at"}.get(table, "")
    schema = SCHEMAS[table]
    return con.sql(f"SELECT {_select_list(schema, have)} FROM {source}{order}").to_arrow_table().cast(schema)


def _select_list(schema: pa.Schema, have: set[str]) -> str:
    """The schema's columns, NULL for those an older store lacks (not in `have`)."""
    return ", ".join(f.name if f.name in have else f"NULL AS {f.name}" for f in schema)


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
