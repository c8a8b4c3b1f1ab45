"""Scheduling for one unit: discovery of columns, list walks, detail pages and link checks.

The crawl starts at the unit's entry (政府信息公开) page. Entry and column pages are searched for
column links (recursively, up to `max_column_depth`); every column is walked across all its
list pages; listed items are detail pages (or attachments), whose attachments and other in-scope
links are status-checked (C18) but not crawled further.

Incremental rules: entry, column and list pages are revalidated every run with a conditional
GET, and a 304 reuses the links stored from the last parse. A listed detail page is fetched only
when it is new, its list entry (title or date) changed, its last check failed, it is older than
`revisit_after`, or `full_recheck` is set; its attachments and links are re-checked with it (after
a 304, the targets recorded in link_checks).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Awaitable, Callable

from zwgk.registry import Unit

from .columns import ITEM_FIELDS, ColumnWalk, column_rows, keep_unchanged_timestamps
from .context import HarvestContext
from .downloader import FetchResult, utcnow
from .encoding import decode_html
from .extract import PageLinks, extract_links
from .flusher import Flusher
from .pagination import list_pages, page_number
from .summary import HarvestError, HarvestEvent, UnitHarvestSummary
from .unitstore import PageRecord, UnitStore
from .urls import UnitScope, dedupe_key, is_attachment, normalize_url

log = logging.getLogger("zwgk.harvest")

STRUCTURE_ROLES = ("entry", "column", "list")
_GONE = (404, 410)
_HEAD_REFUSED = (400, 403, 405, 501)
_MAX_CHECKS_PER_PAGE = 100
_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", None)


@dataclass(slots=True)
class Job:
    url: str
    role: str  # entry | column | list | detail | attachment | check (a link's status only)
    column_url: str | None = None
    parent_url: str | None = None
    link_text: str | None = None
    date_text: str | None = None
    depth: int = 0


class UnitCrawler:
    def __init__(
        self,
        unit: Unit,
        ctx: HarvestContext,
        store: UnitStore,
        host_check: Awaitable[dict],
        progress: Callable[[HarvestEvent], None] | None = None,
    ):
        self.unit = unit
        self.scope = UnitScope.of(unit)
        self.entry_url = normalize_url(unit.url) or unit.url
        self.ctx = ctx
        self.settings = ctx.settings
        self.store = store
        self.flusher = Flusher(store, ctx.settings)
        self.host_check = host_check
        self.progress = progress
        self.summary = UnitHarvestSummary(unit.id)
        self.now = utcnow()
        self.pages: dict[str, PageRecord] = {}
        self.prev_items: dict[tuple[str, str], tuple[str, str]] = {}
        self.prev_lists: dict[str, int] = {}
        self.prev_columns: list[dict] = []
        self._check_targets: dict[str, list[tuple[str, str]]] | None = None
        self.queue: asyncio.Queue[Job] = asyncio.Queue()
        self.scheduled: set[str] = set()
        self.referenced: set[str] = set()
        self.fresh: set[str] = set()
        self.walks: dict[str, ColumnWalk] = {}
        self.column_edges: dict[str, list[tuple[str, str]]] = {}
        self.fetched_ok: set[str] = set()
        self.checked_sources: set[str] = set()
        self.probes: dict[str, asyncio.Future[FetchResult]] = {}
        self.done = 0
        self.queued = 0

    # -- run ------------------------------------------------------------------------------------

    async def run(self) -> UnitHarvestSummary:
        started = time.monotonic()
        self._emit("unit_started")
        self.pages = await asyncio.to_thread(self.store.load_pages)
        self.prev_items, self.prev_lists = await asyncio.to_thread(self.store.load_items)
        self.prev_columns = await asyncio.to_thread(self.store.load_columns)
        self.flusher.start()
        workers = [asyncio.create_task(self._worker()) for _ in range(self._worker_count())]
        try:
            await self._log_robots()
            self._schedule(Job(self.entry_url, "entry"))
            await self.queue.join()
            self._write_columns()
            self._mark_removed()
            self.store.put_host_check(await self.host_check)
        finally:
            for worker in workers:
                worker.cancel()
            await self.flusher.close()
        self.summary.skipped_fresh = len(self.fresh)
        self.summary.elapsed = time.monotonic() - started
        self._emit("unit_finished", summary=self.summary)
        return self.summary

    def _worker_count(self) -> int:
        return min(64, max(4, 2 * self.ctx.limiters.get(self.scope.host).policy.max_concurrency))

    async def _worker(self) -> None:
        while True:
            job = await self.queue.get()
            try:
                await self._process(job)
            except Exception as exc:  # one bad page must not stop the unit
                log.exception("unit %s: %s: internal error", self.unit.id, job.url)
                self._error(job.url, f"internal error: {exc!r}")
            finally:
                self.queue.task_done()
                self.done += 1
                record = self.pages.get(job.url)
                self._emit("page_fetched", url=job.url, status=record.status if record else None)
                self.flusher.poke()

    async def _process(self, job: Job) -> None:
        if job.role in ("attachment", "check"):
            kind = "attachment" if job.role == "attachment" else "link"
            await self._check(job.parent_url or job.url, job.url, kind, job.column_url)
        elif job.role == "detail":
            await self._visit_detail(job)
        else:
            await self._visit_structure(job)

    def _schedule(self, job: Job) -> bool:
        """Queue `job` unless its page is already queued this run; True when queued."""
        key = dedupe_key(job.url)
        self.referenced.add(job.url)
        self.fresh.discard(job.url)
        if key in self.scheduled:
            return False
        self.scheduled.add(key)
        if job.role == "column":
            self.walks[key] = ColumnWalk(job.url, job.depth, order={key: 0})
        self._enqueue(job)
        return True

    def _enqueue(self, job: Job) -> None:
        self.queued += 1
        self.queue.put_nowait(job)

    # -- entry, column and list pages -----------------------------------------------------------

    async def _visit_structure(self, job: Job) -> None:
        record, links, parsed = await self._fetch_page(job)
        if parsed and job.role in ("column", "list"):
            # Its item links are checked afresh as its items are visited (C18 evidence).
            self.store.reset_link_checks(job.url)
        self.store.put_page(record)
        if job.role in ("entry", "column") and links is not None:
            self._discover_columns(job, links)
        if job.role in ("column", "list"):
            self._walk_list_page(job, record, links)

    def _discover_columns(self, job: Job, links: PageLinks) -> None:
        self.column_edges[job.url] = list(links.columns)
        if job.depth >= self.settings.max_column_depth:
            return
        for url, text in links.columns:
            if self.scope.crawlable(url) and not is_attachment(url):
                self._schedule(Job(url, "column", parent_url=job.url, link_text=text, depth=job.depth + 1))

    def _walk_list_page(self, job: Job, record: PageRecord, links: PageLinks | None) -> None:
        column_url = job.url if job.role == "column" else job.column_url
        walk = self.walks[dedupe_key(column_url)]
        position = walk.order[dedupe_key(job.url)]
        if links is None:
            walk.complete = False
            walk.error = walk.error or record.error
        else:
            walk.items[job.url] = links.items
            if job.role == "column":
                walk.text = links.text
            self._schedule_items(column_url, job.url, links)
            self._schedule_list_pages(walk, job.url, position, links)
        walk.pending -= 1
        if walk.pending == 0:
            self._finish_walk(walk)

    def _schedule_list_pages(self, walk: ColumnWalk, page_url: str, position: int, links: PageLinks) -> None:
        for url in list_pages(walk.url, page_url, links.pager, links.script_pager):
            key = dedupe_key(url)
            if key in walk.order or not self.scope.crawlable(url):
                continue
            if len(walk.order) >= self.settings.max_list_pages:
                walk.complete = False
                walk.error = f"more than {self.settings.max_list_pages} list pages"
                return
            if self._schedule(Job(url, "list", column_url=walk.url, parent_url=page_url, depth=walk.depth)):
                number = page_number(url)
                walk.order[key] = number if number is not None else position + 1
                walk.pending += 1

    def _schedule_items(self, column_url: str, page_url: str, links: PageLinks) -> None:
        for url, text, date in links.items:
            if not self.scope.crawlable(url):
                if self.scope.contactable(url):
                    self._schedule_check(page_url, url, column_url)
                continue
            role = "attachment" if is_attachment(url) else "detail"
            job = Job(url, role, column_url=column_url, parent_url=page_url, link_text=text, date_text=date)
            if self._item_due(url, column_url, text, date):
                self._schedule(job)
            elif url not in self.referenced:
                self.referenced.add(url)
                self.fresh.add(url)

    def _schedule_check(self, source: str, target: str, column_url: str | None) -> None:
        """Out-of-scope items on a contactable host: status evidence only (a HEAD, never crawled)."""
        self._enqueue(Job(target, "attachment" if is_attachment(target) else "check",
                          column_url=column_url, parent_url=source))

    def _item_due(self, url: str, column_url: str, text: str, date: str) -> bool:
        """Whether a listed detail page (or attachment) must be revalidated this run."""
        record = self.pages.get(url)
        if self.settings.full_recheck or record is None or record.status not in (200, 206) or record.removed_at:
            return True
        listing = (text, date)
        unchanged = listing == (record.link_text or "", record.list_date_text or "") or self.prev_items.get(
            (column_url, url)
        ) == listing
        if not unchanged:
            return True
        return record.last_seen is None or self.now - record.last_seen > self.settings.revisit_after

    def _finish_walk(self, walk: ColumnWalk) -> None:
        rows = walk.item_rows()
        if hash(tuple(rows)) != self.prev_lists.get(walk.url, hash(())):  # unchanged lists are not rewritten
            self.store.replace_column_items(walk.url, [dict(zip(ITEM_FIELDS, row, strict=True)) for row in rows])

    # -- detail pages and checks ----------------------------------------------------------------

    async def _visit_detail(self, job: Job) -> None:
        record, links, parsed = await self._fetch_page(job)
        self._record_item_link(job, record)
        if parsed:
            if record.first_seen != self.now:
                self.store.reset_link_checks(job.url)  # drop checks of links the page no longer has
            targets = [(u, "attachment") for u, _ in links.attachments]
            targets += [(u, "link") for u, _ in links.links if u != job.url]
            targets = [(u, kind) for u, kind in dict(targets).items() if self.scope.contactable(u)]
        else:  # unchanged (304): re-check what it linked last time
            targets = self._previous_targets(job.url) if record.status == 200 else []
        if record.status == 200:
            self.checked_sources.add(job.url)
        await asyncio.gather(
            *(self._check(job.url, u, kind, job.column_url) for u, kind in targets[:_MAX_CHECKS_PER_PAGE])
        )
        # Written after its checks: a stored detail page always has its evidence stored too.
        self.store.put_page(record)

    def _record_item_link(self, job: Job, record: PageRecord) -> None:
        """A column's link to its item is a link too: a dead item link fails C18 like any other."""
        if not job.parent_url or record.error == _ROBOTS_ERROR:
            return
        self.store.put_link_check({
            "source_url": job.parent_url, "target_url": job.url, "kind": "link", "status": record.status,
            "size": record.bytes, "content_type": record.content_type, "error": record.error,
            "checked_at": record.last_seen or self.now,
        })

    def _previous_targets(self, source: str) -> list[tuple[str, str]]:
        """What `source` linked at its last check, loaded on first need (re-runs rarely need it)."""
        if self._check_targets is None:
            self._check_targets = self.store.load_check_targets()
        return self._check_targets.get(source, [])

    async def _check(self, source: str, target: str, kind: str, column_url: str | None) -> None:
        """Status of a link or attachment (HEAD, or a 1-byte Range GET where HEAD is refused)."""
        self.referenced.add(target)
        if target not in self.probes:
            self.probes[target] = asyncio.ensure_future(self._probe(target))
        result = await self.probes[target]
        self.summary.link_checks += 1
        self.store.put_link_check({
            "source_url": source, "target_url": target, "kind": kind, "status": result.status,
            "size": result.size, "content_type": result.content_type, "error": result.error,
            "checked_at": result.fetched_at,
        })
        if kind == "attachment" and self.scope.crawlable(target):
            job = Job(target, "attachment", column_url=column_url, parent_url=source)
            record = self._updated_record(job, self.pages.get(target), result)
            self.store.put_page(record)
            if result.error and result.error != _ROBOTS_ERROR:
                self._error(target, f"{result.error} (linked from {source})", result.status)

    async def _probe(self, url: str) -> FetchResult:
        if not await self.ctx.robots.allowed(url):
            self.summary.skipped_robots += 1
            return FetchResult(url=url, method="HEAD", error=_ROBOTS_ERROR)
        check = dict(probe=True, on_attempt=self._log_attempt, may_follow=self.scope.contactable)
        result = await self.ctx.downloader.fetch(url, method="HEAD", **check)
        if result.status in _HEAD_REFUSED:
            result = await self.ctx.downloader.fetch(url, method="GET", **check)
        return result

    # -- fetching a page and updating its record ------------------------------------------------

    async def _fetch_page(self, job: Job) -> tuple[PageRecord, PageLinks | None, bool]:
        """GET (conditional when the stored state allows it) and parse.

        Returns the updated record, the page's links (None when it could not be fetched) and whether
        they come from a fresh parse (False: reused from the store after a 304).
        """
        previous = self.pages.get(job.url)
        if not await self.ctx.robots.allowed(job.url):
            self.summary.skipped_robots += 1
            blocked = FetchResult(url=job.url, method="GET", error=_ROBOTS_ERROR)
            return self._updated_record(job, previous, blocked), None, False
        # Structure pages need their stored links to be reusable after a 304.
        conditional = (previous is not None and previous.status == 200
                       and (previous.links is not None or job.role not in STRUCTURE_ROLES))
        result = await self.ctx.downloader.fetch(
            job.url,
            etag=previous.etag if conditional else None,
            last_modified=previous.last_modified if conditional else None,
            on_attempt=self._log_attempt,
            may_follow=self.scope.crawlable,
        )
        record = self._updated_record(job, previous, result)
        if result.not_modified:
            self.fetched_ok.add(job.url)
            return record, (PageLinks.from_json(previous.links) if previous.links else None), False
        if not result.ok:
            if not (result.status in _GONE and record.removed_at == self.now):
                self._error(job.url, result.error or f"HTTP {result.status}", result.status)
            return record, None, False
        self.fetched_ok.add(job.url)
        self.store.put_raw(result.sha256, result.body)
        if result.content_type not in _HTML_TYPES or b"\x00" in result.body[:2048]:
            if result.content_type in _HTML_TYPES:  # NUL bytes: not HTML, whatever the header says
                record.error = f"binary body served as {result.content_type}"
                self._error(job.url, record.error, result.status)
            record.links = PageLinks().to_json() if job.role in STRUCTURE_ROLES else None
            return record, PageLinks(), True
        text, record.charset = decode_html(result.body, result.http_charset)
        structure = job.role in STRUCTURE_ROLES
        links = extract_links(text, result.final_url or job.url, want_text=structure)
        record.links = links.to_json() if structure else None  # details: evidence is in link_checks
        return record, links, True

    def _updated_record(self, job: Job, previous: PageRecord | None, result: FetchResult) -> PageRecord:
        record = previous or PageRecord(url=job.url, unit_id=self.unit.id, role=job.role, first_seen=self.now)
        self.pages[job.url] = record
        record.role = job.role
        record.column_url = job.column_url
        record.parent_url = job.parent_url
        if job.link_text is not None:
            record.link_text, record.list_date_text = job.link_text, job.date_text
        if result.not_modified:
            record.last_seen, record.error, record.removed_at = self.now, None, None
            return record
        if result.error:
            return self._record_failure(record, previous, result)
        if previous is None:
            self.summary.new += 1
            record.changed_at = self.now
        if result.sha256 is not None and result.sha256 != record.sha256:
            if previous is not None and previous.sha256 is not None:
                self.summary.changed += 1
            record.changed_at = self.now
            record.sha256 = result.sha256
        record.status, record.etag, record.last_modified = result.status, result.etag, result.last_modified
        record.content_type, record.bytes, record.final_url = result.content_type, result.size, result.final_url
        record.last_seen, record.error, record.removed_at = self.now, None, None
        return record

    def _record_failure(self, record: PageRecord, previous: PageRecord | None, result: FetchResult) -> PageRecord:
        was_present = previous is not None and previous.status in (200, 206) and previous.removed_at is None
        if result.status in _GONE and was_present:
            record.removed_at = self.now
            self.summary.removed += 1
            log.info("unit %s: %s: removed (HTTP %s)", self.unit.id, record.url, result.status)
        record.status, record.error, record.final_url = result.status, result.error, result.final_url
        return record

    def _log_attempt(self, result: FetchResult) -> None:
        self.summary.requests += 1
        self.summary.bytes += len(result.body)
        if result.ok and result.body:
            self.summary.fetched += 1
        elif result.not_modified:
            self.summary.not_modified += 1
        self.store.log_fetch({
            "url": result.url, "unit_id": self.unit.id, "method": result.method, "status": result.status,
            "etag": result.etag, "last_modified": result.last_modified, "sha256": result.sha256,
            "bytes": len(result.body), "content_type": result.content_type, "charset": result.http_charset,
            "final_url": result.final_url, "attempt": result.attempt, "fetched_at": result.fetched_at,
            "elapsed": result.elapsed, "error": result.error,
        })

    async def _log_robots(self) -> None:
        _rules, result = await self.ctx.robots.load(self.entry_url)
        self._log_attempt(result)

    # -- end of run -----------------------------------------------------------------------------

    def _write_columns(self) -> None:
        rows = column_rows(self.unit.id, self.entry_url, self.column_edges, self.walks, self.now)
        self.summary.columns = len(rows)
        if keep_unchanged_timestamps(rows, self.prev_columns):
            self.store.replace_columns(rows)

    def _mark_removed(self) -> None:
        """Pages no longer linked where we saw the whole of what links them are recorded as removed."""
        walked = {w.url for w in self.walks.values() if w.complete}
        for url, record in self.pages.items():
            if record.removed_at is not None or url in self.referenced or record.role == "entry":
                continue
            if record.role in ("detail", "list"):
                owner_seen = record.column_url in walked
            elif record.role == "column":
                owner_seen = record.parent_url in self.fetched_ok
            else:  # attachment: its detail page was checked this run, or it was a column item
                owner_seen = record.parent_url in self.checked_sources or (
                    record.parent_url in self.fetched_ok and record.column_url in walked)
            if owner_seen:
                record.removed_at = self.now
                self.summary.removed += 1
                self.store.put_page(record)
                log.info("unit %s: %s: removed (no longer linked)", self.unit.id, url)

    # -- reporting ------------------------------------------------------------------------------

    def _error(self, url: str, message: str, status: int | None = None) -> None:
        self.summary.errors.append(HarvestError(self.unit.id, url, message, status))
        log.warning("unit %s: %s: %s", self.unit.id, url, message)

    def _emit(self, kind: str, url: str | None = None, status: int | None = None,
              summary: UnitHarvestSummary | None = None) -> None:
        if self.progress is None:
            return
        event = HarvestEvent(kind, self.unit.id, url, status, self.done, self.queued, summary)
        try:
            self.progress(event)
        except Exception:
            log.exception("unit %s: progress callback failed", self.unit.id)


_ROBOTS_ERROR = "disallowed by robots.txt"
