"""Opening the warehouse: one DuckDB file holding every stage's tables (the big per-unit ones
as Parquet segments beside it, read through views: zwgk/segments.py).

DuckDB allows one writing process per file. Dagster runs unit partitions in separate processes,
so every stage opens the file here: it waits for another process's lock (bounded, with backoff;
`ZWGK_LOCK_WAIT` seconds, default 30) and then fails with one clear message naming the file.
"""

from __future__ import annotations

import os
import random
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb
import pyarrow as pa

import schemas
from zwgk import segments

DEFAULT_LOCK_WAIT = 30.0


class WarehouseLockedError(RuntimeError):
    """Another process holds the warehouse file for longer than we are willing to wait."""


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc)
    return "lock" in text.lower() and ("Conflicting" in text or "Could not set lock" in text)


def lock_wait() -> float:
    return float(os.environ.get("ZWGK_LOCK_WAIT", DEFAULT_LOCK_WAIT))


@contextmanager
def connect(path: str | Path, *, read_only: bool = False, wait_seconds: float | None = None
            ) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse (creating the tables on first write); waits while another process writes."""
    path = Path(path)
    wait_seconds = lock_wait() if wait_seconds is None else wait_seconds
    if read_only and not path.exists():
        raise FileNotFoundError(f"warehouse {path} does not exist; run the normalize stage first")
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if not _is_lock_error(exc):
                raise
            if time.monotonic() >= deadline:
                raise WarehouseLockedError(
                    f"warehouse {path} is locked by another process (waited {wait_seconds:.0f} s)"
                ) from None
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 2.0)
    try:
        if read_only:
            segments.attach_read_only(con)
        else:
            con.execute(schemas.all_ddl())
            schemas.migrate(con)
            segments.setup(con)
        yield con
    finally:
        con.close()
        segments.finish_deletions()


def load_table(con: duckdb.DuckDBPyConnection, name: str, rows: pa.Table) -> None:
    """Bulk-load rows from Arrow into one table, in one transaction (fixtures, benchmarks, tools).

    A segmented table gets one new segment holding these rows' units, replacing those units'
    previous rows; other tables get a plain INSERT.
    """
    rows = schemas.conform(name, rows)
    if schemas.table(name).segmented:
        segments.replace(con, name, sorted(set(rows["unit_id"].to_pylist())), rows)
        return
    con.register("_loaded_rows", rows)
    try:
        con.execute(f'INSERT INTO "{name}" SELECT * FROM _loaded_rows')
    finally:
        con.unregister("_loaded_rows")
