"""Rebuilding the warehouse beside the current one, then swapping it in (core/lake.py swaps).

Used when the warehouse must be written anew, e.g. after a DuckDB upgrade or downgrade whose file
format the other release cannot read: the stage that fills the warehouse (normalize) writes into
the staging lake this yields, and only a staging lake that was completed and closed replaces the
current one. Until then the current warehouse is untouched, and a failure or crash leaves it as
it was (the staging lake is discarded by the next rebuild).

While the rebuild runs, the current warehouse is held open read-only: other processes may read
it, and writers wait (their writes would otherwise be lost by the swap). Only the embedded catalog
can be rebuilt this way; with a shared catalog (ZWGK_LAKE_CATALOG) the data team points the
deployment at a new, empty catalog and data path and runs normalize there.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Iterator

import duckdb
import pyarrow as pa

import schemas
from core import lake, warehouse

log = logging.getLogger("zwgk.rebuild")

# Derived from past states of the warehouse (each validation run judged the data as of its day):
# they cannot be re-derived from the raw store, so they are carried over when the old lake opens.
CARRIED_TABLES = ("check_results", "unit_scores")


class RebuildRefusedError(ValueError):
    """The warehouse cannot be rebuilt in place (a shared catalog)."""


@contextmanager
def rebuilding(path: str | Path, *, wait_seconds: float | None = None) -> Iterator[Path]:
    """Yield the path of an empty staging warehouse; when the block ends without error, carry
    the validation history over and swap the staging lake in."""
    path = Path(path)
    catalog = lake.catalog_for(path)
    if not catalog.embedded:
        raise RebuildRefusedError(
            f"the warehouse catalog is {catalog.catalog} (ZWGK_LAKE_CATALOG), not an embedded file: zwgk rebuilds "
            "only the embedded catalog in place. Rebuild a shared catalog by pointing ZWGK_LAKE_CATALOG at a new, "
            "empty database and ZWGK_LAKE_DATA at a new data path, then run `zwgk normalize` there")
    lake.finish_swap(path)
    staging = lake.staging_path(path)
    lake.discard(staging)  # what an interrupted rebuild left
    with ExitStack() as stack:
        current = _hold_current(path, wait_seconds, stack)
        try:
            yield staging
            if current is not None:
                _carry_over(current, staging)
        except BaseException:
            lake.discard(staging)
            raise
        lake.swap_in(staging, path)


def _hold_current(path: Path, wait_seconds: float | None, stack: ExitStack) -> duckdb.DuckDBPyConnection | None:
    """The current warehouse open read-only (holding writers off), or None when there is none or
    this DuckDB cannot read it (a newer format: nothing of this release can write it either)."""
    if not path.exists():
        return None
    try:
        return stack.enter_context(warehouse.connect(path, read_only=True, wait_seconds=wait_seconds))
    except warehouse.WarehouseLockedError:
        raise
    except (duckdb.Error, lake.ExtensionMissingError) as exc:
        log.warning("warehouse %s does not open with duckdb %s (%s): rebuilding without its validation history",
                    path, duckdb.__version__, exc)
        return None


def _carry_over(current: duckdb.DuckDBPyConnection, staging: Path, batch_rows: int = 200_000) -> None:
    """Copy the validation history into the staging lake in one transaction, in batches (years of
    daily runs do not fit in memory at once)."""
    with warehouse.connect(staging) as con, warehouse.transaction(con):
        for name in CARRIED_TABLES:
            try:
                batches = current.sql(f'SELECT * FROM "{name}"').to_arrow_reader(batch_rows)
            except duckdb.CatalogException:
                continue  # an older warehouse without that table
            for batch in batches:
                warehouse.load_table(con, name, _with_every_column(name, pa.Table.from_batches([batch])))


def _with_every_column(name: str, rows: pa.Table) -> pa.Table:
    """Rows of an older schema gain the columns added since, empty (as schemas.migrate does)."""
    for field in schemas.arrow_schema(name):
        if field.name not in rows.column_names:
            rows = rows.append_column(field.name, pa.nulls(rows.num_rows, field.type))
    return rows
