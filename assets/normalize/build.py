"""Normalize units: their harvested pages become rows of the resource schema in the warehouse.

Reads only the harvest stage's public API (`open_unit_stores`, `read_raw`). The work per run:

1. Units are read in batches (their harvest views, and what the warehouse holds of them, one
   query per table per batch).
2. A hash of what each group of tables is built from is compared with the last run's
   (`normalized_inputs`): an unchanged group is neither rebuilt nor rewritten, so the daily
   re-run of an unchanged site writes little more than its units and columns rows.
3. Pages whose content hash and schema version are unchanged keep their extracted rows; the
   others are extracted in worker processes, one per core (assets/normalize/pool.py).
4. One process writes: each batch of units in one transaction (one lake snapshot), while the
   workers extract the next batch.

History: `first_seen` is kept from the first run, `last_seen` follows the harvest, and a page
that disappeared keeps its row with `removed_at` set.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

import pyarrow as pa

import schemas
from assets.harvest import UnitStoreView, open_unit_stores
from core.registry import Unit

from core import history, warehouse
from core.rebuild import rebuilding
from .pool import ExtractionPool
from .rows import NormalizeSummary, UnitRows, list_mark, stable_id, text_sha256  # noqa: F401 - the module's API

log = logging.getLogger("zwgk.normalize")


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def normalize_unit(unit: Unit, store_dir: str | Path, warehouse_path: str | Path, *, now: datetime | None = None,
                   tag: warehouse.RunTag | None = None) -> NormalizeSummary:
    """Extract one unit's harvested pages and replace its rows in the warehouse.

    Raises FileNotFoundError when the unit was never harvested into `store_dir`.
    """
    [summary] = normalize_units([unit], store_dir, warehouse_path, now=now, tag=tag)
    if summary.not_harvested:
        raise FileNotFoundError(summary.errors[0])
    return summary


@dataclass
class StepSeconds:
    """Where a normalize run spent its time (the benchmark prints it)."""
    read_store: float = 0.0      # harvest views of the units (their DuckDB files)
    read_warehouse: float = 0.0  # what the warehouse held of them
    plan: float = 0.0            # input hashes, choosing the pages to extract
    wait_extract: float = 0.0    # waiting for the workers' extraction results
    build: float = 0.0           # rows from views and extraction results
    write: float = 0.0           # the lake transactions
    pages_extracted: int = 0
    units_unchanged: int = 0     # units whose resources were neither rebuilt nor rewritten

    def __str__(self) -> str:
        return (f"read store {self.read_store:.1f} s, read warehouse {self.read_warehouse:.1f} s, plan "
                f"{self.plan:.1f} s, wait for extraction {self.wait_extract:.1f} s, build rows {self.build:.1f} s, "
                f"write {self.write:.1f} s; {self.pages_extracted} pages extracted, {self.units_unchanged} units "
                f"with unchanged resources")


def normalize_units(units: list[Unit], store_dir: str | Path, warehouse_path: str | Path, *,
                    now: datetime | None = None, batch_size: int = 50, batch_pages: int = 20_000,
                    progress: Callable[[NormalizeSummary], None] | None = None,
                    registered: list[str] | None = None, tag: warehouse.RunTag | None = None,
                    workers: int | None = None, steps: StepSeconds | None = None) -> list[NormalizeSummary]:
    """Normalize units, writing each batch (at most `batch_size` units and about `batch_pages`
    pages) in one transaction.

    A unit with no harvest store is reported (`not_harvested`) and its previous rows are kept.
    With `registered` (every unit id in the registry), units dropped from it are marked removed:
    their rows stay, but validation and publishing no longer treat them as current.
    Each write's lake snapshot is tagged with `tag` (default: a new run id of its own).
    `workers`: extraction processes (default one per core; 0 extracts in this process).
    """
    now = now or _utcnow()
    tag = tag or warehouse.RunTag(history.new_run_id(), "normalize")
    steps = steps if steps is not None else StepSeconds()
    summaries: list[NormalizeSummary] = []
    with warehouse.connect(warehouse_path) as con, ExtractionPool(store_dir, workers) as pool:
        pending: list[_UnitWork] | None = None
        for batch in _batches(units, Path(store_dir), batch_size, batch_pages, steps):
            # Plan the next batch (its pages go to the workers) before writing this one, so the
            # workers extract while this process writes.
            planned = _plan(con, pool, batch, now, steps)
            if pending is not None:
                summaries += _write(con, pool, pending, tag, progress, steps)
            pending = planned
        if pending is not None:
            summaries += _write(con, pool, pending, tag, progress, steps)
        if registered is not None:
            for unit_id in warehouse.mark_removed_units(con, registered, now, tag=tag):
                log.info("unit %s is no longer in the registry: marked removed", unit_id)
    return summaries


class RebuildIncompleteError(RuntimeError):
    """A rebuild could not read every unit: the current warehouse was kept."""


def rebuild_units(units: list[Unit], store_dir: str | Path, warehouse_path: str | Path, *,
                  now: datetime | None = None, batch_size: int = 50,
                  progress: Callable[[NormalizeSummary], None] | None = None,
                  registered: list[str] | None = None, tag: warehouse.RunTag | None = None
                  ) -> list[NormalizeSummary]:
    """Re-extract every unit from the harvest store (raw pages) into a new warehouse beside the
    current one, and swap it in only when every unit was read (core/rebuild.py).

    Nothing is taken from the current warehouse but the validation history (check_results,
    unit_scores) when it opens: the rows are what a first normalize of the harvest store gives.
    """
    with rebuilding(warehouse_path) as staging:
        summaries = normalize_units(units, store_dir, staging, now=now, batch_size=batch_size,
                                    progress=progress, registered=registered, tag=tag)
        missing = [s.unit_id for s in summaries if s.not_harvested]
        if missing:
            raise RebuildIncompleteError(
                f"rebuild of {warehouse_path} stopped, the current warehouse is kept: no harvest store under "
                f"{store_dir} for unit(s) {', '.join(missing)}; harvest them first (or drop them from the registry)")
    return summaries


@dataclass
class _UnitWork:
    """One unit on its way through a batch: planned, extracted, built, written."""
    unit: Unit
    summary: NormalizeSummary
    rows: UnitRows | None = None
    unit_row: dict | None = None
    previous_columns: dict[str, dict] = field(default_factory=dict)
    fingerprints: dict[str, str] = field(default_factory=dict)
    unchanged: set[str] = field(default_factory=set)  # parts of input_fingerprints() not rebuilt
    keep_content: bool = False  # the site is down: only its units row is written
    previous_resources: int = 0  # the unit's resource rows in the warehouse
    jobs: list = field(default_factory=list)  # its pages to extract
    extraction: object = None   # the pool's future for them


def _batches(units: list[Unit], store_dir: Path, batch_size: int, batch_pages: int, steps: StepSeconds
             ) -> Iterator[list[tuple[Unit, UnitStoreView | None]]]:
    """Units with their harvest views, in batches of at most `batch_size` units and, past the
    first unit, about `batch_pages` pages (memory: a batch's rows are held until written)."""
    for start in range(0, len(units), batch_size):
        chunk = units[start:start + batch_size]
        started = time.perf_counter()
        views = open_unit_stores(store_dir, [u.id for u in chunk])
        steps.read_store += time.perf_counter() - started
        batch, pages = [], 0
        for unit in chunk:
            view = views.pop(unit.id, None)
            size = view.pages.num_rows if view is not None else 0
            if batch and pages + size > batch_pages:
                yield batch
                batch, pages = [], 0
            batch.append((unit, view))
            pages += size
        if batch:
            yield batch


def _plan(con, pool: ExtractionPool, batch: list[tuple[Unit, UnitStoreView | None]], now: datetime,
          steps: StepSeconds) -> list[_UnitWork]:
    store_dir = pool.store_dir
    """Read what the warehouse holds of the batch, decide what to rebuild, hand pages to the pool."""
    started = time.perf_counter()
    ids = [unit.id for unit, view in batch if view is not None]
    previous_units = warehouse.rows_by_unit(con, "units", ids)
    previous_columns = warehouse.rows_by_unit(con, "columns", ids)
    previous_inputs = warehouse.rows_by_unit(con, "normalized_inputs", ids)
    resource_counts = warehouse.resource_counts(con, ids)
    steps.read_warehouse += time.perf_counter() - started

    started = time.perf_counter()
    works = []
    for unit, view in batch:
        work = _UnitWork(unit, NormalizeSummary(unit.id))
        works.append(work)
        if view is None:
            work.summary.not_harvested = True
            work.summary.errors.append(f"unit {unit.id}: not normalized: it has no harvest store in {store_dir}")
            continue
        work.rows = UnitRows(unit, view, work.summary, now)
        work.unit_row = work.rows.unit_row(next(iter(previous_units.get(unit.id, [])), None))
        work.previous_columns = {c["column_id"]: c for c in previous_columns.get(unit.id, [])}
        work.previous_resources = resource_counts.get(unit.id, 0)
        if not work.unit_row["entry_ok"] and work.previous_resources:
            # The site is down this run: C01 fails on the fresh units row, and the last good content
            # stays as it was (a harvest of nothing must not erase what was published before).
            work.summary.errors.append(f"unit {unit.id}: entry page {unit.url} not read "
                                       f"({work.unit_row['entry_error'] or work.unit_row['entry_status']}): "
                                       f"keeping the last good rows")
            work.keep_content = True
            continue
        work.fingerprints = work.rows.input_fingerprints()
        last = {r["part"]: r["inputs_sha256"] for r in previous_inputs.get(unit.id, [])}
        work.unchanged = {part for part, digest in work.fingerprints.items() if last.get(part) == digest}
        if "resources" in work.unchanged and not work.previous_columns:
            work.unchanged.discard("resources")  # the columns' newest dates come from the resources
        steps.units_unchanged += "resources" in work.unchanged
    steps.plan += time.perf_counter() - started

    rebuilt = [w for w in works if w.rows is not None and not w.keep_content and "resources" not in w.unchanged]
    started = time.perf_counter()
    previous_resources = warehouse.rows_by_unit(con, "resources", [w.unit.id for w in rebuilt])
    previous_attachments = warehouse.attachments_by_unit(con, [w.unit.id for w in rebuilt])
    steps.read_warehouse += time.perf_counter() - started

    started = time.perf_counter()
    for work in rebuilt:
        work.rows.previous = {r["resource_id"]: r for r in previous_resources.get(work.unit.id, [])}
        work.rows.previous_attachments = previous_attachments.get(work.unit.id, {})
        work.jobs = work.rows.extraction_jobs()
    pages = sum(len(work.jobs) for work in rebuilt)
    for work in rebuilt:
        work.extraction = pool.submit(work.jobs, pages) if work.jobs else None
        steps.pages_extracted += len(work.jobs)
    steps.plan += time.perf_counter() - started
    return works


def _write(con, pool: ExtractionPool, works: list[_UnitWork], tag: warehouse.RunTag,
           progress: Callable[[NormalizeSummary], None] | None, steps: StepSeconds) -> list[NormalizeSummary]:
    ready: list[tuple[str, dict[str, pa.Table], pa.Table]] = []
    for work in works:
        if work.rows is None:
            continue
        extracted = {}
        if work.extraction is not None:
            started = time.perf_counter()
            results = pool.result(work.extraction, work.unit.id)
            steps.wait_extract += time.perf_counter() - started
            extracted = {job.url: result for job, result in zip(work.jobs, results)}
            for result in results:
                if result.error:
                    log.warning("%s", result.error)
        started = time.perf_counter()
        tables, hosts = _unit_tables(work, extracted)
        steps.build += time.perf_counter() - started
        ready.append((work.unit.id, tables, hosts))
    started = time.perf_counter()
    warehouse.replace_units(con, [r[0] for r in ready], [r[1] for r in ready], hosts=[r[2] for r in ready], tag=tag)
    steps.write += time.perf_counter() - started
    for work in works:
        if progress:
            progress(work.summary)
    return [work.summary for work in works]


def _unit_tables(work: _UnitWork, extracted: dict) -> tuple[dict[str, pa.Table], pa.Table]:
    """The tables to replace for one unit (a table left out keeps the unit's rows it has)."""
    rows, summary = work.rows, work.summary
    hosts = _table("hosts", rows.host_rows())
    tables = {"units": _table("units", [work.unit_row])}
    if work.keep_content:
        return tables, hosts
    if "resources" in work.unchanged:
        newest = {c["url"]: c["newest_item_date"] for c in work.previous_columns.values()}
        summary.resources = summary.reused = work.previous_resources
        tables["columns"] = _table("columns", rows.column_rows(work.previous_columns, newest))
    else:
        tables["resources"] = _table("resources", rows.resource_rows(extracted))
        tables["columns"] = _table("columns", rows.column_rows(work.previous_columns))
        tables["attachments"] = _table("attachments", rows.attachment_rows())
        summary.resources = tables["resources"].num_rows
    if "list_items" not in work.unchanged:
        tables["list_items"] = _table("list_items", rows.list_item_rows())
    if "link_checks" not in work.unchanged:
        tables["link_checks"] = _table("link_checks", rows.link_check_rows())
    tables["normalized_inputs"] = _table("normalized_inputs", [
        {"unit_id": work.unit.id, "part": part, "inputs_sha256": digest, "schema_version": schemas.SCHEMA_VERSION}
        for part, digest in sorted(work.fingerprints.items())])
    summary.columns = tables["columns"].num_rows
    return tables, hosts


def _table(name: str, rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=schemas.arrow_schema(name))
