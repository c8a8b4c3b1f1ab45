"""What a harvest reports back: per-unit counts and errors, and progress events for the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class HarvestError:
    unit_id: str
    url: str
    error: str
    status: int | None = None

    def __str__(self) -> str:
        return f"unit {self.unit_id}: {self.url}: {self.error}"


@dataclass
class UnitHarvestSummary:
    """Counts for one unit's run.

    fetched: responses with a body (2xx GET); not_modified: 304 answers; new / changed: pages
    whose content was stored for the first time / differs from the last run; removed: pages marked
    removed this run; requests: every HTTP attempt (retries, checks and robots.txt included);
    skipped_fresh: listed detail pages not revalidated because they are not due; skipped_robots:
    URLs robots.txt disallows; failed: set when the unit as a whole could not be harvested.
    """

    unit_id: str
    fetched: int = 0
    not_modified: int = 0
    new: int = 0
    changed: int = 0
    removed: int = 0
    bytes: int = 0
    requests: int = 0
    link_checks: int = 0
    columns: int = 0
    skipped_fresh: int = 0
    skipped_robots: int = 0
    errors: list[HarvestError] = field(default_factory=list)
    elapsed: float = 0.0
    failed: str | None = None
    access: str | None = None  # the entry page's access outcome (ok, blocked, unreachable …)

    @property
    def error_count(self) -> int:
        return len(self.errors)


@dataclass(frozen=True)
class HarvestEvent:
    """A progress event: kind is 'unit_started', 'page_fetched' or 'unit_finished'.

    `done` and `queued` count the unit's jobs (pages and checks) finished and known so far; `queued`
    grows while columns are discovered, so an ETA is an estimate that firms up as lists are read.
    """

    kind: str
    unit_id: str
    url: str | None = None
    status: int | None = None
    done: int = 0
    queued: int = 0
    summary: UnitHarvestSummary | None = None
