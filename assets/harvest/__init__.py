"""Harvest stage: crawl each unit's 政府信息公开 column into a local store (no Dagster here).

Public API
----------
harvest_units(registry, units, store_dir, settings=HarvestSettings(), progress=None)
    -> list[UnitHarvestSummary]
    Harvest several units concurrently in one event loop (`harvest_units_async` for callers with
    a loop). `units`: Unit objects or ids, None for all. Politeness limits are per `hostname:port`
    and shared by every unit on that host; a unit's failure only sets its summary's `failed`.
    `progress(HarvestEvent)` receives 'unit_started', 'page_fetched' (with done/queued counts for
    pages/s and an ETA) and 'unit_finished' (with the summary). Errors in summaries and logs
    (logger `zwgk.harvest`) name the unit and the URL.

HarvestSettings(polite=True, max_concurrency=2, min_delay=1.0, timeout=20, max_retries=3,
                max_redirects=5, max_html_bytes=5 MB, revisit_after=7 days, full_recheck=False, …)
    Registry `politeness:` entries override per host; `polite=False` lifts concurrency and delay
    limits for benchmarks on our own servers (robots.txt Disallow is still honoured).

open_unit_store(store_dir, unit_id) -> UnitStoreView
    The unit's state as Arrow tables: pages, columns, column_items, link_checks, host_checks
    (schemas in `unitstore.SCHEMAS`); `read_fetch_log(store_dir, unit_id)` gives the attempt log.
open_unit_stores(store_dir, unit_ids) -> dict[unit_id, UnitStoreView]
    The same for many units at once (one DuckDB instance; units never harvested are left out).
read_raw(store_dir, sha256) -> bytes
    The exact response body stored for `pages.sha256` (decode it with `pages.charset`).
The normalize stage uses only this API.

Store layout
------------
store_dir/raw/ab/cdef….gz         bodies by sha256, gzip level 1, written tmp + rename
store_dir/units/<unit_id>.duckdb  one DuckDB file per unit (tables documented in `unitstore`)

Decisions
---------
- Scope: a unit crawls its host under its path prefix, plus its `allowed_hosts`. Links elsewhere
  on its own host (a sibling unit's pages) or on an allowed host are status-checked as C18
  evidence, never crawled; other hosts are never contacted. Non-HTTP links are ignored.
- Roles: `entry` (the registry URL), `column` (a column's own URL, its first list page), `list`
  (its further pages), `detail` (an item), `attachment` (.pdf/.doc/…, checked with HEAD, or a
  1-byte Range GET where HEAD is refused).
- robots.txt: 4xx = allow all; 5xx/unreachable = retried, then allow all for the run with a
  warning (not RFC 9309's full disallow, which would fail C01 for every unit of a shared host on
  a transient error). Crawl-delay raises the host's minimum delay when polite (capped at 60 s).
- Incremental: entry/column/list pages are revalidated every run (conditional GET; a 304 reuses
  the links stored in `pages.links`); a listed detail page is fetched when new, when its list
  entry changed, when its last fetch failed, when older than `revisit_after`, or with
  `full_recheck`; its attachments and links are re-checked with it. A page is `removed_at` when
  it answers 404/410 after having been present, or when it is no longer linked from a column
  that was walked completely (or from a parent page fetched this run); it is cleared if the page
  comes back.
- Writes: batches of ~1,000 rows or every 2 s (not 0.5 s: DuckDB's per-statement cost made the
  0.5 s interval cost ~35 % more CPU with 8 units in flight). A SIGKILL loses at most that
  unflushed buffer; a detail page's row is written after its checks, so a stored page always has
  its evidence, and the next run resumes without refetching what was committed.
- Speed: aiohttp (httpx measured ~320 req/s against ~9,700 for aiohttp on the same server);
  each run attaches the unit files to one in-memory DuckDB instance (2 ms instead of ~30 ms per
  unit); raw files are written in a worker thread (file creation is syscall-bound).

Modules, split like Scrapy: scheduling (`crawler`, `columns`, `pagination`), downloading
(`downloader`, `politeness`, `robots`, `addresses`, `context`), parsing (`extract`, `encoding`,
`urls`), storage (`unitstore`, `rawstore`, `flusher`, `storeview`), evidence (`evidence`: C19;
C18 checks live in `crawler`), entry point `runner`.
"""

from .rawstore import read_raw
from .runner import harvest_units, harvest_units_async
from .settings import USER_AGENT, HarvestSettings
from .storeview import UnitStoreView, open_unit_store, open_unit_stores, read_fetch_log
from .summary import HarvestError, HarvestEvent, UnitHarvestSummary

__all__ = [
    "USER_AGENT",
    "HarvestError",
    "HarvestEvent",
    "HarvestSettings",
    "UnitHarvestSummary",
    "UnitStoreView",
    "harvest_units",
    "harvest_units_async",
    "open_unit_store",
    "open_unit_stores",
    "read_fetch_log",
    "read_raw",
]
