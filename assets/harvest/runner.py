"""The harvest entry point: several units concurrently in one event loop, isolated from each other."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Callable, Iterable

import duckdb

from core.registry import Registry, Unit

from .context import HarvestContext
from .crawler import UnitCrawler
from .evidence import check_ipv6
from .rendering import Renderer
from .settings import HarvestSettings
from .summary import HarvestEvent, UnitHarvestSummary
from .unitstore import UnitStore, open_database

log = logging.getLogger("zwgk.harvest")

Progress = Callable[[HarvestEvent], None]


def harvest_units(
    registry: Registry,
    units: Iterable[Unit | str] | None,
    store_dir: str | Path,
    settings: HarvestSettings = HarvestSettings(),
    progress: Progress | None = None,
) -> list[UnitHarvestSummary]:
    """Harvest `units` (Unit objects or ids; None = every unit in the registry) into `store_dir`.

    Blocking; runs its own event loop (uvloop when installed). Use `harvest_units_async` from
    code that already runs one.
    """
    coroutine = harvest_units_async(registry, units, store_dir, settings, progress)
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coroutine)


async def harvest_units_async(
    registry: Registry,
    units: Iterable[Unit | str] | None,
    store_dir: str | Path,
    settings: HarvestSettings = HarvestSettings(),
    progress: Progress | None = None,
) -> list[UnitHarvestSummary]:
    selected = _select(registry, units)
    ctx = HarvestContext.open(registry, settings)
    if settings.render:
        ctx.renderer = Renderer(ctx.render_downloader, ctx.robots, settings)
    database = open_database()
    try:
        host_checks: dict[str, asyncio.Future[dict]] = {}
        for unit in selected:
            if unit.host not in host_checks:
                host_checks[unit.host] = asyncio.ensure_future(check_ipv6(ctx, unit.url))
        gate = asyncio.Semaphore(settings.max_units_in_flight)

        async def run_one(unit: Unit) -> UnitHarvestSummary:
            async with gate:
                return await _harvest_unit(ctx, unit, Path(store_dir), database, host_checks[unit.host], progress)

        return list(await asyncio.gather(*(run_one(unit) for unit in selected)))
    finally:
        if ctx.renderer is not None:
            await ctx.renderer.close()
        await ctx.close()
        database.close()


async def _harvest_unit(
    ctx: HarvestContext,
    unit: Unit,
    store_dir: Path,
    database: duckdb.DuckDBPyConnection,
    host_check: asyncio.Future[dict],
    progress: Progress | None,
) -> UnitHarvestSummary:
    """One unit, with any failure turned into its summary's `failed` so the other units go on."""
    started = time.monotonic()
    store = None
    try:
        store = await asyncio.to_thread(UnitStore, store_dir, unit.id, database)
        return await UnitCrawler(unit, ctx, store, asyncio.shield(host_check), progress).run()
    except Exception as exc:
        log.exception("unit %s: %s: harvest failed", unit.id, unit.url)
        summary = UnitHarvestSummary(unit.id, failed=f"{type(exc).__name__}: {exc}")
        summary.elapsed = time.monotonic() - started
        return summary
    finally:
        if store is not None:
            await asyncio.to_thread(store.close)  # DuckDB checkpoints on close: off the event loop


def _select(registry: Registry, units: Iterable[Unit | str] | None) -> list[Unit]:
    if units is None:
        return list(registry.units)
    return [registry.get(u) if isinstance(u, str) else u for u in units]
