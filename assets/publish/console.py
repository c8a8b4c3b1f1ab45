"""`publish_catalog` for a terminal: a live line of progress, then a summary table (for the CLI)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from .publisher import PublishEvent, PublishSummary, publish_catalog


def publish_with_progress(warehouse_path: str | Path, ckan_url: str, token: str, *, out_dir: str | Path,
                          console: Console, **options) -> PublishSummary:
    """Publish (options as for `publish_catalog`), showing datasets done and API calls as they go."""
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("reading the catalog")
        done = 0

        def show(event: PublishEvent) -> None:
            nonlocal done
            done += event.kind == "dataset"
            progress.update(task, description=f"{done} datasets done, {event.api_calls} API calls "
                                              f"({event.write_calls} writes); {event.dataset}")

        summary = publish_catalog(warehouse_path, ckan_url, token, out_dir=out_dir, progress=show, **options)
    console.print(summary_table(summary))
    console.print(writes_line(summary))
    if summary.blocked_units:
        console.print(f"[yellow]not published (C20 veto: personal information):[/] {', '.join(summary.blocked_units)}")
    return summary


def writes_line(summary: PublishSummary) -> str:
    """What the run cost CKAN, spelled out: a rerun with nothing changed must say "writes: 0"."""
    counts = summary.counts()
    line = f"CKAN: {summary.api_calls} API calls, writes: {summary.write_calls}"
    if summary.write_calls:
        line += " (" + ", ".join(f"{a} {n}" for a, n in summary.writes_by_action.items()) + ")"
        line += (f"; DataStore: {counts['datastore_tables_loaded']} tables, "
                 f"{counts['datastore_rows_loaded']} rows loaded")
    else:
        line += " (nothing changed; DataStore untouched)"
    return line


def summary_table(summary: PublishSummary) -> Table:
    table = Table(title="publish")
    for name in ("created", "updated", "unchanged", "superseded", "blocked units", "API calls", "writes", "seconds"):
        table.add_column(name, justify="right")
    counts = summary.counts()
    table.add_row(*(str(counts[k]) for k in ("created", "updated", "unchanged", "superseded", "blocked_units",
                                             "api_calls", "write_calls")), f"{summary.seconds:.1f}")
    return table
