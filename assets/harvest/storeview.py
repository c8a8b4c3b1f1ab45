"""The read API the normalize stage uses: a unit's harvested state as Arrow tables."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
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


def open_unit_store(store_dir: str | Path, unit_id: str) -> UnitStoreView:
    """Read a unit's tables (read-only; call it when no harvest of that unit is running).

    Raises FileNotFoundError when the unit was never harvested into `store_dir`.
    """
    path = unit_db_path(store_dir, unit_id)
    if not path.exists():
        raise FileNotFoundError(f"unit {unit_id!r} has no harvest store at {path}")
    with duckdb.connect(str(path), read_only=True) as con:
        present = {name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        tables = {name: _read(con, name) if name in present else SCHEMAS[name].empty_table()
                  for name in ("pages", "columns", "column_items", "link_checks", "host_checks", "access")}
    return UnitStoreView(unit_id=unit_id, **tables)


def read_fetch_log(store_dir: str | Path, unit_id: str) -> pa.Table:
    """The append-only log of every HTTP attempt for the unit (grows with each run)."""
    with duckdb.connect(str(unit_db_path(store_dir, unit_id)), read_only=True) as con:
        return _read(con, "fetch_log")


def _read(con: duckdb.DuckDBPyConnection, table: str) -> pa.Table:
    """The table in today's schema; columns an older store lacks read as NULL."""
    order = {"column_items": " ORDER BY column_url, position", "fetch_log": " ORDER BY fetched_at"}.get(table, "")
    have = {name for (name,) in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = ?", [table]).fetchall()}
    schema = SCHEMAS[table]
    select = ", ".join(f.name if f.name in have else f"NULL AS {f.name}" for f in schema)
    return con.sql(f"SELECT {select} FROM {table}{order}").to_arrow_table().cast(schema)
