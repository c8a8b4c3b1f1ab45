"""Scheduling for one unit: discovery of columns, list walks, detail pages and link checks.

The crawl starts at the unit's entry (政府信息公开) page. Entry and column pages are searched for
column links (recursively, up to `max_column_depth`); every column is read by the list adapter
that recognises its page (`lists/`: static pages, Hanweb jpage, xxgk search, IGS and gkmlpt JSON,
SiteServer; the registry may force one), which yields items and the requests for the rest of
the list, page by page to the end; listed items are detail pages (or attachments), whose
attachments and other in-scope links are status-checked (C18) but not crawled further.

Whether a page could be read at all is its access outcome (`access.classify`): an anti-bot
challenge, a soft 404 or an unreachable host is recorded as such with its evidence, never read
as an empty column. JS shells no adapter recognises, and pages of gated hosts the registry
allows, are rendered in Chromium (`rendering`), every request still going through the
downloader; without rendering they are `unreadable`.

Incremental rules: entry, column and list pages are revalidated every run with a conditional
GET, and a 304 reuses what was read from them last time (POSTed list pages are re-read). A
listed detail page is fetched only when it is new, its list entry (title or date) changed, its
last check failed, it is older than `revisit_after`, or `full_recheck` is set; its attachments
and links are re-checked with it (after a 304, the targets recorded in link_checks).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass, replace
from typing import Awaitable, Callable

from core.registry import Unit

from . import listing as stored_listing
from . import lists
from .access import BLOCKED, EMPTY, NOT_FOUND, OK, SOFT_404, UNREACHABLE, UNREADABLE, Access, classify
from .columns import DISALLOWED, ITEM_FIELDS, ColumnWalk, access_rows, column_rows, keep_unchanged_timestamps
from .context import HarvestContext
from .downloader import FetchResult, utcnow
from .encoding import decode_html
from .extract import PageLinks, extract_links
from .flusher import Flusher
from .lists.base import ListItem, ListPage, ListRequest, Page
from .lists.shell import is_js_shell
from .rendering import RenderOutcome
from .summary import HarvestError, HarvestEvent, UnitHarvestSummary
from .unitstore import PageRecord, UnitStore
from .urls import UnitScope, dedupe_key, is_attachment, netloc, normalize_url

log = logging.getLogger("zwgk.harvest")

STRUCTURE_ROLES = ("entry", "column", "list")
RENDERED = "rendered"  # the list source of a column read from its rendered DOM
_GONE = (404, 410)
_HEAD_REFUSED = (400, 403, 405, 501)
_MAX_CHECKS_PER_PAGE = 100
_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", None)
# Links to these are page links: checked with a GET so that a soft 404 is told from a page.
_PAGE_SUFFIXES = (".html", ".htm", ".shtml", ".jsp", ".aspx", ".asp", ".php", "/")
_ROBOTS_ERROR = "disallowed by robots.txt"


@dataclass(slots=True)
class Job:
    url: str
    role: str  # entry | column | list | detail | attachment | check (a link's status only)
    column_url: str | None = None
    parent_url: str | None = None
    link_text: str | None = None
    date_text: str | None = None
    depth: int = 0
    request: ListRequest | None = None  # a list page an adapter asked for (POST, headers, position)

    @property
    def key(self) -> str:
        """Identity within a run: a page's dedupe key, or the request's for POSTed list pages."""
        request = self.request
        if request is not None and (request.method != "GET" or request.form):
            return request.key
        return dedupe_key(self.url)


@dataclass(slots=True)
class Reading:
    """A structure page after its fetch: content to read, or the access outcome that stopped it."""

    record: PageRecord
    access: Access | None = None
    page: Page | None = None
    links: PageLinks | None = None
    stored: stored_listing.StoredReading | None = None  # what a 304 lets us reuse
    rendered: bool = False


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
        self.relisted: set[str] = set()  # list pages read afresh this run: their item links re-recorded
        self.listed_by: dict[str, set[str]] = {}  # item URL -> the list pages linking it this run
        self.visited: dict[str, PageRecord] = {}  # detail pages fetched this run
        self.probes: dict[str, asyncio.Future[FetchResult]] = {}
        self.entry_access: Access | None = None
        self.entry_source: str | None = None
        self.entry_rendered = False
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
        self.summary.access = self.entry_access.outcome if self.entry_access else None
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
                self._abandon(job, exc)
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

    def _abandon(self, job: Job, exc: Exception) -> None:
        """A structure page that crashed its reading still counts as read (badly) for its walk."""
        if job.role == "entry" and self.entry_access is None:
            self.entry_access = Access(outcome=UNREADABLE, url=job.url, status=None,
                                       detail=f"internal error: {exc!r}", excerpt="")
        if job.role in ("column", "list"):
            walk = self.walks.get(dedupe_key(job.column_url if job.role == "list" else job.url))
            if walk is not None and job.key in walk.order and job.key not in walk.items:
                failure = Access(outcome=UNREADABLE, url=job.url, status=None, detail=f"internal error: {exc!r}",
                                 excerpt="")
                self._page_failed(walk, job, failure)

    def _schedule(self, job: Job) -> bool:
        """Queue `job` unless its page is already queued this run; True when queued."""
        key = job.key
        self.referenced.add(job.url)
        self.fresh.discard(job.url)
        if key in self.scheduled:
            return False
        self.scheduled.add(key)
        if job.role == "column":
            self.walks[key] = ColumnWalk(job.url, job.depth, order={key: 0}, page_urls={key: job.url})
        self._enqueue(job)
        return True

    def _enqueue(self, job: Job) -> None:
        self.queued += 1
        self.queue.put_nowait(job)

    # -- entry, column and list pages -----------------------------------------------------------

    async def _visit_structure(self, job: Job) -> None:
        walk = self.walks.get(dedupe_key(job.column_url)) if job.role == "list" else None
        if walk is not None and walk.source == RENDERED:
            reading = await self._render_structure(job)
        else:
            reading = await self._read_structure(job)
        listing, source = None, None
        if reading.access is None:
            listing, source, reading = await self._read_listing(job, reading, walk)
        record = reading.record
        if reading.page is not None or reading.rendered:
            if job.role in ("column", "list") and job.url not in self.relisted:
                # Its item links are checked afresh as its items are visited (C18 evidence). Once a
                # run: the pages of a POST list (jpage's dataproxy.jsp) share one URL.
                self.store.reset_link_checks(job.url)
                self.relisted.add(job.url)
            record.links = stored_listing.encode(reading.links, listing, source, reading.rendered) \
                if listing is not None else None
            record.rendered = reading.rendered
        self.store.put_page(record)
        if job.role == "entry":
            self._entry_read(job, reading, listing, source)
        elif job.role == "column":
            self._column_read(job, reading, listing, source)
        else:
            self._list_read(job, reading, listing)

    async def _read_structure(self, job: Job) -> Reading:
        """Fetch a structure page (conditionally when what was read from it is stored) and decide
        whether it is content; a gated page is rendered where the registry allows it."""
        previous = self.pages.get(job.url)
        if not await self.ctx.robots.allowed(job.url):
            self.summary.skipped_robots += 1
            blocked = FetchResult(url=job.url, method="GET", error=_ROBOTS_ERROR)
            record = self._updated_record(job, previous, blocked)
            return Reading(record, Access(outcome=DISALLOWED, url=job.url, status=None, detail=_ROBOTS_ERROR,
                                          excerpt=""))
        request = job.request
        plain_get = request is None or (request.method == "GET" and not request.form)
        stored = stored_listing.decode(previous.links) if previous is not None else None
        conditional = (plain_get and stored is not None and not stored.rendered
                       and previous.status == 200 and previous.error is None)
        result = await self.ctx.downloader.fetch(
            job.url,
            method=request.method if request else "GET",
            form=request.form if request and request.form else None,
            extra_headers=self._headers(job),
            etag=previous.etag if conditional else None,
            last_modified=previous.last_modified if conditional else None,
            on_attempt=self._log_attempt,
            may_follow=self.scope.same_site if job.role == "entry" else self.scope.crawlable,
        )
        if result.not_modified:
            record = self._updated_record(job, previous, result)
            self.fetched_ok.add(job.url)
            return Reading(record, stored=stored, links=stored.links if stored else None)
        text = self._text(result)
        access = self._classify(job, result, text or "")
        if access is not None and access.outcome == BLOCKED and self._may_render_gate(job.url):
            rendered, _why = await self._render(job.url, job.parent_url)
            if rendered is not None:
                record = self._updated_record(job, previous, result)
                record.error = None
                return self._rendered_reading(job, record, rendered)
        if access is not None:
            if result.error is None or access.outcome == BLOCKED:
                result.error = f"{access.outcome}: {access.detail}"
            record = self._updated_record(job, previous, result, gone=access.outcome in (NOT_FOUND, SOFT_404))
            if not (result.status in _GONE and record.removed_at == self.now):
                self._error(job.url, result.error, result.status)
            return Reading(record, access)
        record = self._updated_record(job, previous, result)
        self.fetched_ok.add(job.url)
        self.store.put_raw(result.sha256, result.body)
        if text is None:  # a body that is no page (binary, NUL bytes): nothing to read from it
            if result.content_type in _HTML_TYPES:
                record.error = f"binary body served as {result.content_type}"
                self._error(job.url, record.error, result.status)
            return Reading(record, page=Page(result.final_url or job.url, self._column_of(job), result.status,
                                             result.content_type, "", request), links=PageLinks())
        page = Page(result.final_url or job.url, self._column_of(job), result.status, result.content_type, text,
                    request)
        html = not page.is_json and (result.content_type is None or "html" in result.content_type)
        links = extract_links(text, page.url) if html else None
        return Reading(record, page=page, links=links)

    def _classify(self, job: Job, result: FetchResult, text: str | None) -> Access | None:
        """The access outcome of an answer (None: content to read); any failed fetch is one."""
        access = classify(result.final_url or job.url, result.status, result.error, result.content_type, text or "")
        if access is None and not result.ok:
            access = Access(outcome=UNREACHABLE, url=result.final_url or job.url, status=result.status,
                            detail=result.error or f"HTTP {result.status}", excerpt="")
        return access

    def _text(self, result: FetchResult) -> str | None:
        """The decoded body when it is text (HTML, JSON, XML, error pages); None for binary bodies."""
        if not result.body or b"\x00" in result.body[:2048]:
            return None if result.ok else ""
        text, charset = decode_html(result.body, result.http_charset)
        result.charset = charset
        return text

    async def _read_listing(self, job: Job, reading: Reading, walk: ColumnWalk | None
                            ) -> tuple[ListPage, str | None, Reading]:
        """What the page lists, read by its adapter; JS shells are rendered (or found unreadable)."""
        if reading.stored is not None:
            return reading.stored.listing, reading.stored.source, reading
        page, links = reading.page, reading.links
        if job.role == "list":
            name = walk.source if walk is not None else None
            source = lists.by_name(name) if name not in (None, RENDERED) else lists.by_name("static")
            request = job.request or ListRequest(job.url, position=walk.order.get(job.key, 1) if walk else 1)
            listing = source.next_page(request, page, links)
            if name == RENDERED and not listing.items and links is not None and is_js_shell(page, links):
                reading.access = Access(outcome=UNREADABLE, url=job.url, status=200, excerpt="",
                                        detail="JS shell: rendered, but its list never appeared")
            return listing, name, reading
        forced = self.unit.source_for(job.url, job.link_text) if job.role == "column" else self.unit.list_source
        if forced == RENDERED:
            return await self._render_shell(job, reading)
        source = lists.choose(page, forced)
        listing = source.first_page(page, links)
        if source.name == "static" and forced is None and _nothing_listed(job, listing, links) \
                and links is not None and is_js_shell(page, links):
            return await self._render_shell(job, reading)
        if reading.rendered:
            return listing, RENDERED, reading
        return listing, source.name, reading

    async def _render_shell(self, job: Job, reading: Reading) -> tuple[ListPage, str | None, Reading]:
        """A page whose list only exists once its scripts ran: render it, or record it unreadable."""
        rendered, why = await self._render(job.url, job.parent_url)
        if rendered is None:
            reading.access = Access(outcome=UNREADABLE, url=job.url, status=reading.record.status,
                                    detail=f"JS shell: its list is loaded by script; {why}",
                                    excerpt=(reading.links.text if reading.links else "")[:200])
            return ListPage(), None, reading
        rendered_reading = self._rendered_reading(job, reading.record, rendered)
        source = lists.by_name("static")
        listing = source.first_page(rendered_reading.page, rendered_reading.links)
        if _nothing_listed(job, listing, rendered_reading.links) and is_js_shell(rendered_reading.page,
                                                                                 rendered_reading.links):
            # Its scripts ran and still nothing shows, nor a note saying the list is empty: the data
            # did not arrive (a failed or refused request), which is not an empty column.
            rendered_reading.access = Access(outcome=UNREADABLE, url=job.url, status=200, excerpt="",
                                             detail="JS shell: rendered, but its list never appeared")
            return ListPage(), None, rendered_reading
        return listing, RENDERED, rendered_reading

    async def _render_structure(self, job: Job) -> Reading:
        """A further page of a rendered column: rendered too (it is the same shell)."""
        previous = self.pages.get(job.url)
        rendered, why = await self._render(job.url, job.parent_url)
        record = self._updated_record(job, previous, FetchResult(url=job.url, method="GET", status=200, probe=True,
                                                                 final_url=job.url))
        if rendered is None:
            return Reading(record, Access(outcome=UNREADABLE, url=job.url, status=None, excerpt="",
                                          detail=f"rendering failed: {why}"))
        return self._rendered_reading(job, record, rendered)

    def _rendered_reading(self, job: Job, record: PageRecord, rendered: RenderOutcome) -> Reading:
        """The rendered DOM as the page's content (stored raw like any body, as evidence)."""
        body = rendered.html.encode("utf-8")
        digest = hashlib.sha256(body).hexdigest()
        self.store.put_raw(digest, body)
        if digest != record.sha256:
            record.sha256, record.changed_at = digest, self.now
        record.status, record.content_type, record.charset, record.bytes = 200, "text/html", "utf-8", len(body)
        record.final_url, record.error, record.removed_at, record.last_seen = rendered.final_url, None, None, self.now
        record.rendered = True
        self.fetched_ok.add(job.url)
        page = Page(rendered.final_url, self._column_of(job), rendered.status or 200, "text/html", rendered.html,
                    job.request)
        return Reading(record, page=page, links=extract_links(rendered.html, page.url), rendered=True)

    async def _render(self, url: str, referer: str | None) -> tuple[RenderOutcome | None, str | None]:
        """(the rendered page, None), or (None, why it could not be rendered)."""
        renderer = self.ctx.renderer
        if renderer is None or not self.settings.render:
            return None, "rendering is off"
        outcome = await renderer.render(url, may_fetch=self.scope.contactable, on_attempt=self._log_attempt,
                                        referer=referer)
        if outcome.html is None or outcome.status is None or outcome.status >= 400:
            return None, outcome.error or f"rendered page answered HTTP {outcome.status}"
        if outcome.error:  # it did not settle (a timeout): what rendered so far is no evidence of anything
            return None, f"rendering did not finish: {outcome.error}"
        challenge = classify(outcome.final_url, outcome.status, None, "text/html", outcome.html)
        if challenge is not None:
            return None, f"still {challenge.outcome} after rendering: {challenge.detail}"
        return outcome, None

    def _may_render_gate(self, url: str) -> bool:
        return self.settings.render and self.ctx.registry.host_options(netloc(url)).render

    def _headers(self, job: Job) -> tuple[tuple[str, str], ...]:
        """What a browser following the site's own links would send: the page it came from."""
        headers = tuple(job.request.headers) if job.request else ()
        if job.parent_url and not any(k.lower() == "referer" for k, _ in headers):
            headers += (("Referer", job.parent_url),)
        return headers

    def _column_of(self, job: Job) -> str:
        return job.column_url if job.role == "list" and job.column_url else job.url

    # -- what each structure page means ----------------------------------------------------------

    def _entry_read(self, job: Job, reading: Reading, listing: ListPage | None, source: str | None) -> None:
        if reading.access is not None:
            self.entry_access = reading.access
            return
        final = reading.page.url if reading.page is not None else (reading.record.final_url or job.url)
        moved = dedupe_key(final) != dedupe_key(job.url)
        if moved:
            self.scope = self.scope.moved_to(final)
            log.info("unit %s: entry %s moved to %s: update the registry", self.unit.id, job.url, final)
        links = reading.links or PageLinks()
        columns = list(links.columns) + list(listing.columns if listing else [])
        self.entry_source, self.entry_rendered = source, reading.rendered
        detail = f"moved: {job.url} -> {final}" if moved else f"{len(columns)} columns linked"
        self.entry_access = Access(outcome=OK if columns else EMPTY, url=final, status=reading.record.status,
                                   detail=detail, excerpt="")
        self._discover_columns(job, columns)

    def _column_read(self, job: Job, reading: Reading, listing: ListPage | None, source: str | None) -> None:
        walk = self.walks[job.key]
        if reading.access is not None:
            walk.access = reading.access
            walk.text = reading.access.excerpt
            self._walk_page_done(walk)
            return
        walk.source, walk.rendered = source, reading.rendered
        links = reading.links or PageLinks()
        walk.text = listing.note or links.text
        self._discover_columns(job, list(links.columns) + list(listing.columns))
        self._apply_listing(walk, job, listing)

    def _list_read(self, job: Job, reading: Reading, listing: ListPage | None) -> None:
        walk = self.walks[dedupe_key(job.column_url)]
        if reading.access is not None:
            self._page_failed(walk, job, reading.access)
            return
        self._apply_listing(walk, job, listing)

    def _discover_columns(self, job: Job, columns: list[tuple]) -> None:
        """Columns a page links; a source may name another column as a sub-column's parent."""
        mine = [(c[0], c[1]) for c in columns if len(c) < 3 or not c[2]]
        self.column_edges.setdefault(job.url, [])
        self.column_edges[job.url] = list(dict.fromkeys(self.column_edges[job.url] + mine))
        nested = [c for c in columns if len(c) >= 3 and c[2]]
        for url, name, parent in nested:
            edges = self.column_edges.setdefault(parent, [])
            if (url, name) not in edges:
                edges.append((url, name))
        if job.depth >= self.settings.max_column_depth:
            return
        depth_of = {url: job.depth + 1 for url, _ in mine}
        for url, _name, parent in nested:
            depth_of[url] = depth_of.get(parent, job.depth + 1) + 1
        for url, text in mine + [(c[0], c[1]) for c in nested]:
            if self.scope.crawlable(url) and not is_attachment(url):
                self._schedule(Job(url, "column", parent_url=job.url, link_text=text, depth=depth_of[url]))

    def _apply_listing(self, walk: ColumnWalk, job: Job, listing: ListPage) -> None:
        key = job.key
        walk.items[key] = list(listing.items)
        walk.page_urls[key] = job.url
        if listing.total is not None:
            walk.total = max(walk.total or 0, listing.total)
        self._schedule_items(walk.url, job.url, listing.items)
        self._schedule_list_requests(walk, job.url, listing.requests)
        self._walk_page_done(walk)

    def _page_failed(self, walk: ColumnWalk, job: Job, access: Access) -> None:
        walk.failures.append((walk.order.get(job.key, 0), access))
        self._walk_page_done(walk)

    def _walk_page_done(self, walk: ColumnWalk) -> None:
        walk.pending -= 1
        if walk.pending == 0:
            self._finish_walk(walk)

    def _schedule_list_requests(self, walk: ColumnWalk, page_url: str, requests: list[ListRequest]) -> None:
        for request in requests:
            job = Job(request.url, "list", column_url=walk.url, parent_url=page_url, depth=walk.depth,
                      request=request)
            if job.key in walk.order or not self.scope.crawlable(request.url):
                continue
            if len(walk.order) >= self.settings.max_list_pages:
                walk.truncated = f"more than {self.settings.max_list_pages} list pages"
                return
            if self._schedule(job):
                walk.order[job.key] = request.position
                walk.page_urls[job.key] = request.url
                walk.pending += 1

    def _schedule_items(self, column_url: str, page_url: str, items: list[ListItem]) -> None:
        for item in items:
            url, text, date = item.url, item.title, item.date_text
            if not self.scope.crawlable(url):
                if self.scope.contactable(url):
                    self._schedule_check(page_url, url, column_url)
                continue
            role = "attachment" if is_attachment(url) else "detail"
            job = Job(url, role, column_url=column_url, parent_url=page_url, link_text=text, date_text=date)
            # Every list page linking an item has that link checked (C18), not only the first one.
            self.listed_by.setdefault(url, set()).add(page_url)
            if self._item_due(url, column_url, text, date):
                if not self._schedule(job) and url in self.visited:  # listed again after its visit
                    self._record_item_link(job, self.visited[url])
                continue
            if page_url in self.relisted:
                # Not fetched again, but still linked: the link keeps its evidence (its status when
                # last fetched), which re-reading the list page dropped (reset_link_checks).
                self._record_item_link(job, self.pages[url])
            if url not in self.referenced:
                self.referenced.add(url)
                self.fresh.add(url)

    def _schedule_check(self, source: str, target: str, column_url: str | None) -> None:
        """Out-of-scope items on a contactable host: status evidence only (never crawled)."""
        self._enqueue(Job(target, "attachment" if is_attachment(target) else "check",
                          column_url=column_url, parent_url=source))

    def _item_due(self, url: str, column_url: str, text: str, date: str) -> bool:
        """Whether a listed detail page (or attachment) must be revalidated this run."""
        record = self.pages.get(url)
        if self.settings.full_recheck or record is None or record.status not in (200, 206) or record.removed_at \
                or record.error:
            return True
        listing = (text, date)
        unchanged = listing == (record.link_text or "", record.list_date_text or "") or self.prev_items.get(
            (column_url, url)
        ) == listing
        if not unchanged:
            return True
        return record.last_seen is None or self.now - record.last_seen > self.settings.revisit_after

    def _finish_walk(self, walk: ColumnWalk) -> None:
        if walk.is_article():
            # The column's page is its content (a 公开指南 opening straight onto the guide): its one item.
            first = min(walk.order, key=walk.order.__getitem__)
            walk.items[first] = [ListItem(url=walk.url, title="")]
        rows = walk.item_rows()
        # A column page that could not be read this time lists nothing new: last run's items stand
        # (a single-article column's one item is its page, whose last good copy stays a document).
        unread = walk.access is not None and not rows
        if not unread and hash(tuple(rows)) != self.prev_lists.get(walk.url, hash(())):  # unchanged: not rewritten
            self.store.replace_column_items(walk.url, [dict(zip(ITEM_FIELDS, row, strict=True)) for row in rows])
        problem = walk.problem
        if problem and walk.access is None:
            self._error(walk.url, f"column not read completely: {problem}")

    # -- detail pages and checks ----------------------------------------------------------------

    async def _visit_detail(self, job: Job) -> None:
        record, links, parsed = await self._fetch_page(job)
        self.visited[job.url] = record
        for parent in sorted(self.listed_by.get(job.url, ())) or [job.parent_url]:
            self._record_item_link(replace(job, parent_url=parent), record)
        if parsed:
            if record.first_seen != self.now:
                self.store.reset_link_checks(job.url)  # drop checks of links the page no longer has
            targets = [(u, "attachment") for u, _ in links.attachments]
            targets += [(u, "link") for u, _ in links.links if u != job.url]
            targets = [(u, kind) for u, kind in dict(targets).items() if self.scope.contactable(u)]
        else:  # unchanged (304): re-check what it linked last time
            targets = self._previous_targets(job.url) if record.status == 200 and not record.error else []
        if record.status == 200 and not record.error:
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
        """Status of a link or attachment (HEAD, a 1-byte Range GET where HEAD is refused, and a GET
        for page links, whose body tells a soft 404 from a page)."""
        self.referenced.add(target)
        if target not in self.probes:
            self.probes[target] = asyncio.ensure_future(self._probe(target, kind))
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

    async def _probe(self, url: str, kind: str) -> FetchResult:
        if not await self.ctx.robots.allowed(url):
            self.summary.skipped_robots += 1
            return FetchResult(url=url, method="HEAD", error=_ROBOTS_ERROR)
        check = dict(on_attempt=self._log_attempt, may_follow=self.scope.contactable)
        if kind == "link" and not is_attachment(url) and url.split("?", 1)[0].lower().endswith(_PAGE_SUFFIXES):
            result = await self.ctx.downloader.fetch(url, method="GET", **check)
            access = classify(result.final_url or url, result.status, result.error, result.content_type,
                              self._text(result))
            if access is not None and result.error is None:
                result.error = f"{access.outcome}: {access.detail}"
            result.body = b""
            return result
        result = await self.ctx.downloader.fetch(url, method="HEAD", probe=True, **check)
        if result.status in _HEAD_REFUSED:
            result = await self.ctx.downloader.fetch(url, method="GET", probe=True, **check)
        return result

    # -- fetching a detail page and updating its record -----------------------------------------

    async def _fetch_page(self, job: Job) -> tuple[PageRecord, PageLinks | None, bool]:
        """GET a detail page (conditional when the stored state allows it) and parse its links.

        Returns the updated record, the page's links (None when it could not be fetched) and whether
        they come from a fresh parse (False after a 304). A soft 404 or a challenge page is never
        stored as the page's content.
        """
        previous = self.pages.get(job.url)
        if not await self.ctx.robots.allowed(job.url):
            self.summary.skipped_robots += 1
            blocked = FetchResult(url=job.url, method="GET", error=_ROBOTS_ERROR)
            return self._updated_record(job, previous, blocked), None, False
        conditional = previous is not None and previous.status == 200 and not previous.error and not previous.rendered
        result = await self.ctx.downloader.fetch(
            job.url,
            etag=previous.etag if conditional else None,
            last_modified=previous.last_modified if conditional else None,
            extra_headers=self._headers(job),
            on_attempt=self._log_attempt,
            may_follow=self.scope.crawlable,
        )
        if result.not_modified:
            record = self._updated_record(job, previous, result)
            self.fetched_ok.add(job.url)
            return record, None, False
        html_type = result.content_type in _HTML_TYPES
        text = self._text(result) if html_type or not result.ok else None
        access = self._classify(job, result, text) if text is not None or not result.ok else None
        rendered = False
        if access is not None and access.outcome == BLOCKED and self._may_render_gate(job.url):
            outcome, _why = await self._render(job.url, job.parent_url)
            if outcome is not None:
                body = outcome.html.encode("utf-8")
                result = FetchResult(url=job.url, method="GET", status=200, final_url=outcome.final_url, body=body,
                                     content_type="text/html", http_charset="utf-8", size=len(body))
                text, access, rendered = outcome.html, None, True
        if access is not None and access.outcome not in (OK, EMPTY):
            if result.error is None or access.outcome == BLOCKED:
                result.error = f"{access.outcome}: {access.detail}"
            gone = access.outcome in (NOT_FOUND, SOFT_404)
            record = self._updated_record(job, previous, result, gone=gone)
            if not (gone and record.removed_at == self.now):
                self._error(job.url, result.error or f"HTTP {result.status}", result.status)
            return record, None, False
        record = self._updated_record(job, previous, result)
        record.rendered = rendered
        self.fetched_ok.add(job.url)
        self.store.put_raw(result.sha256, result.body)
        if not html_type or b"\x00" in result.body[:2048]:
            if html_type:  # NUL bytes: not HTML, whatever the header says
                record.error = f"binary body served as {result.content_type}"
                self._error(job.url, record.error, result.status)
            return record, PageLinks(), True
        record.charset = result.charset
        links = extract_links(text, result.final_url or job.url, want_text=False)
        return record, links, True

    def _updated_record(self, job: Job, previous: PageRecord | None, result: FetchResult,
                        gone: bool = False) -> PageRecord:
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
            return self._record_failure(record, previous, result, gone or result.status in _GONE)
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
        record.charset = result.charset or record.charset
        record.last_seen, record.error, record.removed_at = self.now, None, None
        return record

    def _record_failure(self, record: PageRecord, previous: PageRecord | None, result: FetchResult,
                        gone: bool) -> PageRecord:
        was_present = previous is not None and previous.status in (200, 206) and previous.removed_at is None \
            and not previous.error
        if gone and was_present:
            record.removed_at = self.now
            self.summary.removed += 1
            log.info("unit %s: %s: removed (%s)", self.unit.id, record.url, result.error or f"HTTP {result.status}")
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
        self.store.replace_access(access_rows(self.entry_access, self.entry_url, self.walks, self.entry_source,
                                              self.entry_rendered, self.now))

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


def _nothing_listed(job: Job, listing: ListPage, links: PageLinks | None) -> bool:
    """A column page that lists nothing and explains nothing; an entry page that links no column."""
    if job.role == "entry":
        return not listing.columns and not (links and links.columns)
    return not listing.items and not listing.requests and not listing.columns
