"""Live progress for long stages: a bar with counts, pages/s and ETA, then a summary table."""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from assets.harvest import HarvestSettings, harvest_units
from assets.normalize.build import normalize_units, rebuild_units
from core.registry import Registry


class HarvestProgress:
    """Turns harvest events into one bar: units done, jobs done of jobs known, pages/s."""

    def __init__(self, progress: Progress, unit_count: int):
        self.progress = progress
        self.units_task = progress.add_task("units", total=unit_count, rate="")
        self.pages_task = progress.add_task("pages", total=None, rate="")
        self.done: dict[str, int] = {}
        self.queued: dict[str, int] = {}
        self.started = time.monotonic()

    def __call__(self, event) -> None:
        if event.kind == "unit_finished":
            self.progress.advance(self.units_task)
            summary = event.summary
            if summary and summary.failed:
                self.progress.console.print(f"[red]unit {event.unit_id} failed:[/] {summary.failed}")
            return
        if event.kind == "page_fetched":
            self.done[event.unit_id] = event.done
            self.queued[event.unit_id] = event.queued
            done = sum(self.done.values())
            rate = done / max(time.monotonic() - self.started, 1e-6)
            self.progress.update(self.pages_task, completed=done, total=sum(self.queued.values()),
                                 rate=f"{rate:,.0f} pages/s")


def harvest_with_progress(registry: Registry, unit_ids: list[str] | None, store: Path, *, polite: bool = True,
                          full_recheck: bool = False, console: Console):
    settings = HarvestSettings(polite=polite, full_recheck=full_recheck)
    count = len(unit_ids) if unit_ids else len(registry.units)
    columns = (TextColumn("{task.description:>6}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
               TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        progress_bar = HarvestProgress(progress, count)
        summaries = harvest_units(registry, unit_ids, store, settings, progress_bar)
    console.print(harvest_table(summaries))
    for summary in summaries:
        for error in summary.errors[:5]:
            console.print(f"[yellow]{error}[/]")
        if len(summary.errors) > 5:
            console.print(f"[yellow]unit {summary.unit_id}: … and {len(summary.errors) - 5} more errors[/]")
    return summaries


def harvest_table(summaries) -> Table:
    table = Table(title="harvest", show_lines=False)
    for name in ("unit", "fetched", "304", "new", "changed", "removed", "errors", "seconds"):
        table.add_column(name, justify="right" if name != "unit" else "left")
    for s in summaries:
        table.add_row(s.unit_id + (" [red](failed)[/]" if s.failed else ""), str(s.fetched), str(s.not_modified),
                      str(s.new), str(s.changed), str(s.removed), str(s.error_count), f"{s.elapsed:.1f}")
    totals = [sum(getattr(s, f) for s in summaries) for f in ("fetched", "not_modified", "new", "changed", "removed")]
    table.add_row("[bold]total[/]", *map(str, totals), str(sum(s.error_count for s in summaries)), "")
    return table


def normalize_with_progress(registry: Registry, store: Path, warehouse: Path, *, console: Console,
                            unit_ids: list[str] | None = None, rebuild: bool = False, tag=None) -> list:
    """Normalize units in batches (one writer per warehouse), with a bar and errors by URL.

    With `rebuild`, every unit of the registry is re-extracted into a new warehouse that replaces
    the current one once complete (assets/normalize/build.py rebuild_units)."""
    units = [registry.get(u) for u in unit_ids] if unit_ids else list(registry.units)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("rebuilding: units" if rebuild else "normalizing units", total=len(units))

        def show(summary) -> None:
            for error in summary.errors:
                progress.console.print(f"[yellow]{error}[/]")
            progress.advance(task)

        # A run over the whole registry also marks units dropped from it.
        write = rebuild_units if rebuild else normalize_units
        summaries = write(units, store, warehouse, progress=show, registered=None if unit_ids else registry.ids,
                         tag=tag)
    done = [s for s in summaries if not s.not_harvested]
    resources = sum(s.resources for s in done)
    extracted = sum(s.extracted for s in done)
    if rebuild:
        console.print(f"[green]rebuilt[/] {warehouse} from the harvest store and swapped it in "
                      "(validation history carried over when the old warehouse opened; run `zwgk validate` next)")
    console.print(f"[green]normalized[/] {len(done)} units: {resources} resources "
                  f"({extracted} extracted, {resources - extracted} unchanged) into {warehouse}")
    return summaries


def print_validation(summary, console: Console) -> None:
    console.print(
        f"[green]validated[/] run {summary.run_id} as of {summary.as_of}: {summary.units} units, "
        f"{summary.passed} 合格, {summary.failed} 不合格 ({summary.vetoed} by veto), "
        f"{summary.unverifiable} 无法核查 in {sum(summary.seconds.values()):.1f} s"
    )
    worst = sorted(summary.failures_by_check.items(), key=lambda kv: -kv[1])[:5]
    if worst:
        console.print("most failed checks: " + ", ".join(f"{check} ×{count}" for check, count in worst))
