"""Bringing CKAN in line with the plan, one dataset at a time, with the fewest writes.

What CKAN holds is read once per run in bulk (`CatalogState.load`: one `package_search` page
per 1,000 datasets, resources and organizations included), never one `package_show` per
dataset. Each dataset is then compared with its plan:

- its `content_sha256` equals the plan's, it is active and not superseded: no metadata write;
  otherwise one `package_patch` (scheming fields are top level, so patching them leaves the
  rest alone);
- each planned file is matched to the stored resource with the same upload file name and
  re-uploaded only when its `content_sha256` or fields differ; duplicates (a create whose
  answer was lost, then retried) and resources no longer planned are deleted;
- each planned DataStore table likewise, by resource name (`datastore_sync`): its rows are
  loaded only when its hash differs or CKAN has no table for it.

Checking resources individually, not only the dataset hash, is what lets a rerun finish an
interrupted publish: a dataset created before the interruption has the right hash but may lack
files. Names are deterministic and creation falls back to updating on a 409, so nothing is
ever created twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import metadata
from .client import CkanClient, CkanRejected
from .datastore_sync import TableLoad, is_datastore_resource, sync_tables
from .names import Names
from .plan import DatasetPlan, OrgPlan, ResourcePlan

SEARCH_PAGE = 1000  # CKAN's default ckan.search.rows_max


@dataclass
class CatalogState:
    """The catalog's datasets (by name) and organizations (by name) as CKAN holds them."""

    datasets: dict[str, dict] = field(default_factory=dict)
    orgs: dict[str, dict] = field(default_factory=dict)
    loads: list[TableLoad] = field(default_factory=list)  # DataStore tables this run (re)loaded

    @classmethod
    def load(cls, client: CkanClient, names: Names) -> "CatalogState":
        state = cls()
        start = 0
        while True:
            page = client.read("package_search", fq=names.search_filter, rows=SEARCH_PAGE, start=start,
                               sort="name asc", include_private=True)
            for dataset in page["results"]:
                state.datasets[dataset["name"]] = dataset
                if dataset.get("organization"):
                    state.orgs[dataset["organization"]["name"]] = dataset["organization"]
            start += len(page["results"])
            if not page["results"] or start >= page["count"]:
                return state


def sync_dataset(client: CkanClient, state: CatalogState, plan: DatasetPlan) -> str:
    """Create or update one dataset; returns "created", "updated" or "unchanged"."""
    writes_before = client.write_calls
    stored = state.datasets.get(plan.name)
    created = False
    if stored is None:
        _ensure_org(client, state, plan.org, plan.name)
        stored, created = _create_package(client, plan)
    elif _metadata_stale(stored, plan):
        _ensure_org(client, state, plan.org, plan.name)
        _patch_package(client, plan, stored)
    _sync_resources(client, plan, stored)
    sync_tables(client, plan, stored, state.loads)
    if created:
        return "created"
    return "updated" if client.write_calls > writes_before else "unchanged"


def mark_superseded(client: CkanClient, stored: dict) -> None:
    """Flag a dropped unit's dataset and say so on top of its description; never delete it."""
    client.write("package_patch", stored["name"], id=stored["id"], superseded=True,
                 notes=metadata.superseded_notes(stored.get("notes")))


def _metadata_stale(stored: dict, plan: DatasetPlan) -> bool:
    return (stored.get("content_sha256") != plan.sha256 or stored.get("superseded") is True
            or stored.get("state", "active") != "active")


def _create_package(client: CkanClient, plan: DatasetPlan) -> tuple[dict, bool]:
    """package_create; on a 409 the name is taken (a create whose answer was lost and was
    retried, or a dataset the search did not return): update that one instead.
    Returns (the dataset, whether it was created)."""
    try:
        return client.write("package_create", plan.name, **plan.package_fields()), True
    except CkanRejected as exc:
        if not exc.is_conflict:
            raise
        existing = _show(client, "package_show", plan.name, plan.name)
        if existing is None:
            raise
    _patch_package(client, plan, existing)
    return existing, False


def _patch_package(client: CkanClient, plan: DatasetPlan, stored: dict) -> None:
    fields = plan.package_fields()
    if stored.get("state", "active") != "active":
        fields["state"] = "active"
    client.write("package_patch", plan.name, id=stored["id"], **fields)


def _ensure_org(client: CkanClient, state: CatalogState, org: OrgPlan, target: str) -> None:
    """The dataset's organization exists with the planned title and description."""
    known = state.orgs.get(org.name)
    if known is None:
        try:
            client.write("organization_create", target, name=org.name, title=org.title,
                         description=org.description)
            state.orgs[org.name] = {"name": org.name, "title": org.title, "description": org.description}
            return
        except CkanRejected as exc:
            if not exc.is_conflict:
                raise
            known = _show(client, "organization_show", org.name, target)
            if known is None:
                raise
    wanted = (org.title, org.description, "active")
    if (known.get("title"), known.get("description") or "", known.get("state", "active")) != wanted:
        client.write("organization_patch", target, id=org.name, title=org.title, description=org.description,
                     state="active")
    state.orgs[org.name] = {"name": org.name, "title": org.title, "description": org.description}


def _show(client: CkanClient, action: str, name: str, target: str) -> dict | None:
    try:
        return client.read(action, target, id=name)
    except CkanRejected:
        return None


def _sync_resources(client: CkanClient, plan: DatasetPlan, stored: dict) -> None:
    existing = _resources_by_file([r for r in stored.get("resources") or [] if not is_datastore_resource(r)])
    for resource in plan.resources:
        current, *duplicates = existing.pop(resource.file.file_name, [None])
        for duplicate in duplicates:
            client.write("resource_delete", plan.name, id=duplicate["id"])
        upload = (resource.file.file_name, resource.file.data)
        if current is None:
            client.write("resource_create", plan.name, upload=upload, package_id=stored["id"], **resource.fields())
        elif not _same(current, resource):
            client.write("resource_update", plan.name, upload=upload, id=current["id"], **resource.fields())
    for leftovers in existing.values():
        for leftover in leftovers:
            client.write("resource_delete", plan.name, id=leftover["id"])


def _resources_by_file(resources: list[dict]) -> dict[str, list[dict]]:
    """Stored resources grouped by the file name their URL ends with."""
    by_file: dict[str, list[dict]] = {}
    for resource in resources:
        file_name = (resource.get("url") or "").rsplit("/", 1)[-1]
        by_file.setdefault(file_name, []).append(resource)
    return by_file


def _same(stored: dict, resource: ResourcePlan) -> bool:
    return all((stored.get(key) or "") == value for key, value in resource.fields().items())
