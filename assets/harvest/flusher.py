"""Background flushing of a UnitStore: every `flush_interval` seconds or `flush_rows` rows.

Raw bodies are written in a worker thread (file creation costs ~0.2-0.4 ms of syscalls per file
here, and syscalls and zlib release the GIL), then the rows are committed in the event-loop
thread. Running the DuckDB/Arrow part in a thread was measured slower: whenever a thread runs
Python code, each GIL-releasing call of the crawl (hashing, HTML parsing, socket I/O) waits up
to the 5 ms switch interval to get the GIL back.
"""

from __future__ import annotations

import asyncio
import contextlib

from .settings import HarvestSettings
from .unitstore import UnitStore

_MAX_BUFFERED_BYTES = 16 * 1024 * 1024


class Flusher:
    def __init__(self, store: UnitStore, settings: HarvestSettings):
        self._store = store
        self._settings = settings
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    def poke(self) -> None:
        """Called after buffering rows: wakes the flusher early when a batch is full."""
        store = self._store
        if store.pending_rows >= self._settings.flush_rows or store.pending_bytes >= _MAX_BUFFERED_BYTES:
            self._wake.set()

    async def close(self) -> None:
        """Stop flushing periodically, then write whatever is still buffered."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
        await self._flush()

    async def _run(self) -> None:
        while not self._stopping:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._settings.flush_interval)
            self._wake.clear()
            await self._flush()

    async def _flush(self) -> None:
        batch = self._store.take()
        if batch is None:
            return
        prepared = self._store.prepare(batch)
        if prepared.raw:
            # Shielded: if the crawl is cancelled, the files still land before anything else runs.
            await asyncio.shield(asyncio.to_thread(self._store.write_raw, prepared))
        self._store.commit(prepared)
