"""Bringing a dataset's DataStore tables in line with the plan, writing rows only when they changed.

A planned table is matched to the stored DataStore resource (`url_type` "datastore") of the
same name. It is left alone when CKAN says its table is active and its `content_sha256` is the
plan's: that is read from the run's one bulk `package_search`, so an unchanged table costs no
call at all. Otherwise its rows are (re)loaded:

1. `datastore_create` (new: with the resource; existing: after `datastore_delete` drops the old
   table, so changed field types never clash) with the first chunk of records (a chunk is at
   most `CHUNK_ROWS` rows);
2. `datastore_upsert` (insert) for the remaining chunks;
3. the DataTables preview view, when the resource has none (CKAN adds default views when a
   resource is created, before it has a table, so it never adds this one itself);
4. last, `resource_patch` with the table's hash.

The hash is written last on purpose: a load interrupted half way leaves the resource without
the hash, so the next run loads it again instead of trusting a partial table. A new table that
fits in one chunk gets its hash with the resource: CKAN sets `datastore_active` only after the
table and its records are in, and a rerun trusts the hash only together with that flag.
"""

from __future__ import annotations

from dataclasses import dataclass

from .client import CkanClient
from .datastore import DataStoreTable
from .plan import DatasetPlan

PREVIEW_VIEW = "datatables_view"
PREVIEW_TITLE = "数据预览"


@dataclass(frozen=True)
class TableLoad:
    """One table whose rows this run loaded into the DataStore."""

    dataset: str
    resource: str
    rows: int


def is_datastore_resource(resource: dict) -> bool:
    return resource.get("url_type") == "datastore"


def sync_tables(client: CkanClient, plan: DatasetPlan, stored: dict, loads: list[TableLoad]) -> None:
    """Create, reload, relabel or delete the dataset's DataStore resources; appends to `loads`."""
    existing: dict[str, list[dict]] = {}
    for resource in stored.get("resources") or []:
        if is_datastore_resource(resource):
            existing.setdefault(resource.get("name") or "", []).append(resource)
    for table in plan.tables:
        current, *duplicates = existing.pop(table.name, [None])
        for duplicate in duplicates:
            client.write("resource_delete", plan.name, id=duplicate["id"])
        if current is None:
            _create(client, plan.name, stored["id"], table)
        elif _rows_current(current, table):
            if not _same_fields(current, table):  # only its name or description changed
                client.write("resource_patch", plan.name, id=current["id"], **table.resource_fields())
            continue
        else:
            _reload(client, plan.name, current, table)
        loads.append(TableLoad(plan.name, table.name, len(table.records)))
    for leftovers in existing.values():
        for leftover in leftovers:
            client.write("resource_delete", plan.name, id=leftover["id"])


def _create(client: CkanClient, target: str, package_id: str, table: DataStoreTable) -> None:
    first, *rest = table.chunks()
    fields = table.resource_fields()
    if rest:  # the hash comes once every chunk is in
        fields["content_sha256"] = ""
    # One chunk needs no later patch: CKAN marks the table active only once its records are in.
    created = client.write("datastore_create", target, resource={"package_id": package_id, **fields},
                           fields=table.fields, records=first, calculate_record_count=False)
    resource_id = created["resource_id"]
    _insert(client, target, resource_id, rest)
    client.write("resource_view_create", target, resource_id=resource_id, view_type=PREVIEW_VIEW,
                 title=PREVIEW_TITLE)
    if rest:
        client.write("resource_patch", target, id=resource_id, **table.resource_fields())


def _reload(client: CkanClient, target: str, current: dict, table: DataStoreTable) -> None:
    resource_id = current["id"]
    if current.get("datastore_active") is True:
        client.write("datastore_delete", target, resource_id=resource_id, force=True, calculate_record_count=False)
    chunks = table.chunks()
    client.write("datastore_create", target, resource_id=resource_id, fields=table.fields, records=next(chunks),
                 force=True, calculate_record_count=False)
    _insert(client, target, resource_id, chunks)
    views = client.read("resource_view_list", target, id=resource_id)
    if not any(view.get("view_type") == PREVIEW_VIEW for view in views):
        client.write("resource_view_create", target, resource_id=resource_id, view_type=PREVIEW_VIEW,
                     title=PREVIEW_TITLE)
    client.write("resource_patch", target, id=resource_id, **table.resource_fields())


def _insert(client: CkanClient, target: str, resource_id: str, chunks) -> None:
    for chunk in chunks:
        client.write("datastore_upsert", target, resource_id=resource_id, records=chunk, method="insert",
                     force=True, calculate_record_count=False)


def _rows_current(stored: dict, table: DataStoreTable) -> bool:
    return stored.get("datastore_active") is True and stored.get("content_sha256") == table.sha256


def _same_fields(stored: dict, table: DataStoreTable) -> bool:
    return all((stored.get(key) or "") == value for key, value in table.resource_fields().items())

