"""Extraction on every core: pages go to worker processes as raw-store keys, rows come back.

Extraction is pure CPU (decompress, decode, parse, label, classify) and holds the GIL, so
threads would not help; a process per core does. A job names a page by its raw-store key
(`sha256`) and the context extraction needs; the worker reads and decompresses the body itself,
so page bytes never cross a pipe. Rows come back per unit, in the order of the jobs.

Small runs (a test, one Dagster partition) extract in the calling process: starting workers
costs about a second, more than a few hundred pages take.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import schemas
from assets.harvest import read_raw

from .extract import ExtractionError, extract_page
from .report_table import report_figures

# Fewer pages than this are extracted in the calling process (workers are not started for them).
POOL_THRESHOLD = 400

RESOURCE_FIELDS = (
    "url title index_no publisher doc_number written_date publish_date subject genre keywords validity valid_until "
    "validity_period_text is_marked_abolished disclosure non_disclosure_reason summary body_text doc_kind has_pii "
    "encoding"
).split()
JSON_FIELDS = ("pii_findings", "raw_labels", "links", "warnings")


@dataclass(frozen=True)
class PageJob:
    """One page to extract: its raw-store key and what extraction needs to know of its column."""
    unit_id: str
    url: str
    sha256: str
    charset: str | None
    column_kind: str | None
    column_name: str | None


@dataclass(frozen=True)
class Extracted:
    """A page's extracted fields (`row`), or why it could not be extracted (`error`)."""
    row: dict | None
    error: str | None = None


def default_workers() -> int:
    """One worker per core (`ZWGK_NORMALIZE_WORKERS` overrides; 0 extracts in the calling process)."""
    configured = os.environ.get("ZWGK_NORMALIZE_WORKERS", "").strip()
    if configured:
        return max(0, int(configured))
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def extract_job(store_dir: str, job: PageJob) -> Extracted:
    """Read, decompress and extract one page into the resource fields (no warehouse, no network)."""
    try:
        raw = read_raw(store_dir, job.sha256)
        record = extract_page(raw, job.url, charset=job.charset, column_kind=job.column_kind,
                              column_name=job.column_name)
    except ExtractionError as exc:
        return Extracted(None, f"unit {job.unit_id}: {exc}")
    except Exception as exc:  # noqa: BLE001 - one bad page must not stop its batch of units
        return Extracted(None, f"unit {job.unit_id}: {job.url}: extraction failed: {type(exc).__name__}: {exc}")
    row = {name: record.get(name) for name in RESOURCE_FIELDS}
    if isinstance(row["keywords"], list):
        row["keywords"] = "；".join(row["keywords"]) or None
    for name in JSON_FIELDS:
        row[name] = json.dumps(record.get(name) or ([] if name != "raw_labels" else {}), ensure_ascii=False)
    hint = record.get("interprets_hint") or {}
    row.update(interprets_title=hint.get("title"), _interprets_url=hint.get("url"),
               attachments=record.get("attachments") or [], report_figures=None,
               schema_version=schemas.SCHEMA_VERSION)
    if row["doc_kind"] == "年度报告":
        figures = report_figures(raw.decode(record.get("encoding") or "utf-8", errors="replace"))
        row["report_figures"] = json.dumps(figures, ensure_ascii=False) if figures else None
    return Extracted(row)


def extract_jobs(store_dir: str, jobs: list[PageJob]) -> list[Extracted]:
    """A worker's task: a unit's pages, extracted in order."""
    return [extract_job(store_dir, job) for job in jobs]


class _Done:
    """A finished result with a Future's `result()`, for work done in the calling process."""

    def __init__(self, value):
        self._value = value

    def result(self):
        return self._value


class ExtractionPool:
    """Hands units' pages to worker processes, started on first need (one per core)."""

    def __init__(self, store_dir: str | Path, workers: int | None = None):
        self.store_dir = str(store_dir)
        self.workers = default_workers() if workers is None else workers
        self._executor: ProcessPoolExecutor | None = None

    def submit(self, jobs: list[PageJob], pending_pages: int) -> Future | _Done:
        """Extract `jobs` (one unit's pages); `pending_pages` (the whole batch) decides whether
        worker processes are worth starting."""
        if self.workers < 1 or (self._executor is None and pending_pages < POOL_THRESHOLD):
            return _Done(extract_jobs(self.store_dir, jobs))
        if self._executor is None:
            # spawn, not fork: the parent holds an open DuckDB (threads, locks) that a fork would copy.
            self._executor = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
        return self._executor.submit(extract_jobs, self.store_dir, jobs)

    @staticmethod
    def result(future: Future | _Done, unit_id: str) -> list[Extracted]:
        try:
            return future.result()
        except BrokenProcessPool as exc:
            raise RuntimeError(f"unit {unit_id}: an extraction worker died (out of memory or killed); nothing "
                               f"of this batch was written, the next run redoes it") from exc

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def __enter__(self) -> ExtractionPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
