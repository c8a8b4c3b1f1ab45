"""Publish the warehouse to CKAN: plan, write the export files, then sync dataset by dataset.

    summary = publish_catalog("var/data/zwgk.duckdb", "http://127.0.0.1:5000", token,
                              out_dir="var/data/publish", registry_unit_ids=registry.ids)

Every table is also loaded into the CKAN DataStore (preview and query API); its rows are
rewritten only when their hash changes.

Idempotent and incremental: a rerun with nothing changed makes one bulk read and zero writes
(DataStore included);
a change rewrites only the datasets (and files) it touches; a unit dropped from the registry
has its directory marked superseded, never deleted. An interruption raises `PublishError`
naming the dataset and API URL in flight; rerunning completes the job without duplicates.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .client import READ_ACTIONS, CkanClient
from .datastore_sync import TableLoad
from .exports import write_files
from .metadata import DEFAULT_CONTACT, Contact
from .names import Names
from .plan import is_dropped, plan_catalog
from .source import read_snapshot
from .sync import CatalogState, mark_superseded, sync_dataset


@dataclass(frozen=True)
class PublishEvent:
    """Progress: kind "write" after every successful write (`detail` is the action), kind
    "dataset" when a dataset is done (`detail`: created, updated, unchanged, superseded)."""

    kind: str
    dataset: str
    detail: str
    api_calls: int
    write_calls: int


@dataclass
class PublishSummary:
    api_calls: int = 0
    write_calls: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    superseded: list[str] = field(default_factory=list)
    blocked_units: list[str] = field(default_factory=list)  # C20 veto: directory not published
    calls_by_action: dict[str, int] = field(default_factory=dict)
    datastore_loads: list[TableLoad] = field(default_factory=list)  # DataStore tables (re)loaded
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        return {"api_calls": self.api_calls, "write_calls": self.write_calls, "created": len(self.created),
                "updated": len(self.updated), "unchanged": len(self.unchanged),
                "superseded": len(self.superseded), "blocked_units": len(self.blocked_units),
                "datastore_tables_loaded": len(self.datastore_loads),
                "datastore_rows_loaded": sum(load.rows for load in self.datastore_loads)}

    @property
    def writes_by_action(self) -> dict[str, int]:
        return {action: n for action, n in sorted(self.calls_by_action.items()) if action not in READ_ACTIONS}


def publish_catalog(warehouse_path: str | Path, ckan_url: str, token: str, *, run_id: str | None = None,
                    units: list[str] | None = None, out_dir: str | Path,
                    registry_unit_ids: list[str] | None = None,
                    progress: Callable[[PublishEvent], None] | None = None, name_prefix: str = "",
                    contact: Contact = DEFAULT_CONTACT, retries: int = 4, backoff: float = 1.0,
                    timeout: float = 60.0) -> PublishSummary:
    """Publish the catalog; see the module docstring. `run_id` picks the validation run for the
    scorecard and the blocking rule (default: each unit's latest); `units` limits the unit
    directories published; `name_prefix` namespaces every organization and dataset name."""
    started = time.perf_counter()
    names = Names(name_prefix)
    snapshot = read_snapshot(warehouse_path, run_id)
    plan = plan_catalog(snapshot, names, contact, units=units, registry_unit_ids=registry_unit_ids)
    for name, files in plan.files().items():
        write_files(files, Path(out_dir) / name)

    summary = PublishSummary(blocked_units=plan.blocked_units)
    client = CkanClient(ckan_url, token, retries=retries, backoff=backoff, timeout=timeout)
    client.on_write = lambda action, target: _emit(progress, client, "write", target, action)
    state = CatalogState()
    try:
        state = CatalogState.load(client, names)
        for dataset in plan.datasets:
            outcome = sync_dataset(client, state, dataset)
            getattr(summary, outcome).append(dataset.name)
            _emit(progress, client, "dataset", dataset.name, outcome)
        for stored in state.datasets.values():
            if (stored.get("dataset_kind") == "directory" and stored.get("superseded") is not True
                    and is_dropped(stored.get("unit_id", ""), snapshot, registry_unit_ids)):
                mark_superseded(client, stored)
                summary.superseded.append(stored["name"])
                _emit(progress, client, "dataset", stored["name"], "superseded")
    finally:
        client.close()
        summary.api_calls, summary.write_calls = client.api_calls, client.write_calls
        summary.calls_by_action = dict(client.calls_by_action)
        summary.datastore_loads = list(state.loads)
        summary.seconds = time.perf_counter() - started
    return summary


def _emit(progress: Callable[[PublishEvent], None] | None, client: CkanClient, kind: str, dataset: str,
          detail: str) -> None:
    if progress:
        progress(PublishEvent(kind, dataset, detail, client.api_calls, client.write_calls))
