"""What to publish: every dataset with its metadata, export files and content hashes.

Planning is pure (warehouse snapshot in, plans out) and decides the publishing rules:

- scope: the warehouse's current units, restricted to the registry when its ids are given;
- blocking: a unit whose latest score has a C20 veto (unmasked personal information found) is
  not published: no directory dataset is created or updated for it and its resources are left
  out of the all-units catalogue. Its score still appears in the scorecard, which is always
  published. Other vetoes (e.g. C01, an unreachable column) do not block: the data itself is
  fine to publish;
- `units` limits which unit directories are planned (rerun one unit); the shared datasets are
  always planned over the whole scope, and cost nothing when unchanged.

Every published table is also loaded into the CKAN DataStore (`datastore.DataStoreTable`: a
resource with a table preview and the query API). Each unit's directory carries the unit's
latest verdict, score and failed checks in its description and as a small DataStore table
(`UNIT_SCORECARD`); a unit never scored gets neither.

A dataset's `content_sha256` covers its metadata, its organization, every export file's hash
and every DataStore table's hash, so "unchanged" is one string comparison against what CKAN holds.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from functools import cached_property

from . import metadata
from .datastore import DataStoreTable
from .exports import ExportFile, export_table
from .metadata import Contact
from .names import Names
from .source import Snapshot, UnitInfo
from .tables import (CHECK_RESULTS, DATA_DICTIONARY, DOCUMENT_CHANGES, RESOURCES, UNIT_SCORECARD, UNIT_SCORES,
                     PublicTable, dictionary_rows)

BLOCKING_VETO = "C20"
_FILE_DESCRIPTIONS = {
    "CSV": "CSV：UTF-8（带 BOM）编码，中文表头，长文本截断，适合电子表格。",
    "Parquet": "Parquet：字段名见数据字典，含全文，适合数据分析。",
    "JSON": "JSON 数组，每行一条记录：字段名见数据字典，含全文。",
}
DATASTORE_SUFFIX = "（在线预览与查询）"
DATASTORE_DESCRIPTION = (
    "在线表格：可在本页预览、搜索、筛选和排序，也可通过 CKAN DataStore API 查询（datastore_search 按字段筛选、"
    "排序、分页；datastore_search_sql 执行只读 SQL），无需登录。字段名见数据字典，列标题为中文字段说明；"
    "含全文，以 = + - @ 开头的文本前加 ' 以防被电子表格当作公式。")
UNIT_SCORECARD_NAME = "本单位政务公开评估结果"
UNIT_SCORECARD_DESCRIPTION = (
    "本单位最近一次政务公开检查的结论、得分和每个检查项的结果（未通过的检查项在前）。" + DATASTORE_DESCRIPTION)
_STATUS_ORDER = {"fail": 0, "n/a": 1, "pass": 2}


@dataclass(frozen=True)
class ResourcePlan:
    file: ExportFile
    name: str  # Chinese resource name shown in CKAN

    def fields(self) -> dict:
        """The resource fields CKAN stores (besides the uploaded file itself)."""
        return {"name": self.name, "description": _FILE_DESCRIPTIONS[self.file.format],
                "format": self.file.format, "content_sha256": self.file.sha256}


@dataclass(frozen=True)
class OrgPlan:
    name: str
    title: str
    description: str


@dataclass(frozen=True)
class DatasetPlan:
    name: str
    org: OrgPlan
    metadata: dict  # CKAN fields besides name, owner_org and content_sha256
    resources: tuple[ResourcePlan, ...]
    tables: tuple[DataStoreTable, ...] = ()

    @cached_property
    def sha256(self) -> str:
        payload = {"name": self.name, "org": [self.org.name, self.org.title, self.org.description],
                   "metadata": self.metadata,
                   "resources": [[r.file.file_name, r.fields()] for r in self.resources],
                   "datastore": [t.resource_fields() for t in self.tables]}
        return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()

    def package_fields(self) -> dict:
        return {**self.metadata, "name": self.name, "owner_org": self.org.name, "content_sha256": self.sha256}


@dataclass(frozen=True)
class CatalogPlan:
    datasets: list[DatasetPlan]
    blocked_units: list[str]

    def files(self) -> dict[str, list[ExportFile]]:
        return {d.name: [r.file for r in d.resources] for d in self.datasets}


def plan_catalog(snapshot: Snapshot, names: Names, contact: Contact, *, units: list[str] | None = None,
                 registry_unit_ids: list[str] | None = None) -> CatalogPlan:
    registry = set(registry_unit_ids) if registry_unit_ids is not None else None
    scope = [u for u in snapshot.units.values() if registry is None or u.unit_id in registry]
    scope_ids = {u.unit_id for u in scope}
    vetoes = {s["unit_id"]: s["veto_checks"] or () for s in snapshot.scores}
    blocked = [u for u in scope if BLOCKING_VETO in vetoes.get(u.unit_id, ())]
    published = [u for u in scope if u not in blocked]
    selected = published if units is None else [u for u in published if u.unit_id in set(units)]

    platform = OrgPlan(names.platform_org, **metadata.platform_organization())
    scores = [s for s in snapshot.scores if s["unit_id"] in scope_ids]
    scored = {s["unit_id"] for s in scores}
    latest = {s["unit_id"]: s for s in scores}
    checks_by_unit: dict[str, list[dict]] = {}
    for check in snapshot.checks:
        checks_by_unit.setdefault(check["unit_id"], []).append(check)
    datasets = [_directory(u, snapshot.resources.get(u.unit_id, []), latest.get(u.unit_id),
                           checks_by_unit.get(u.unit_id, []), names, contact) for u in selected]
    datasets += [
        _catalogue(published, blocked, snapshot, names.catalogue, platform, contact),
        _scorecard([u for u in scope if u.unit_id in scored], scores,
                   [c for c in snapshot.checks if c["unit_id"] in scope_ids], names.scorecard, platform, contact),
        _document_changes(published, snapshot, names.document_changes, platform, contact),
        _dictionary(names.dictionary, platform, contact),
    ]
    return CatalogPlan(datasets=datasets, blocked_units=[u.unit_id for u in blocked])


def is_dropped(unit_id: str, snapshot: Snapshot, registry_unit_ids: list[str] | None) -> bool:
    """A unit that left the registry (the registry says so when given, else the warehouse)."""
    if registry_unit_ids is not None:
        return unit_id not in registry_unit_ids
    return unit_id in snapshot.removed_unit_ids


def _directory(unit: UnitInfo, rows: list[dict], score: dict | None, checks: list[dict], names: Names,
               contact: Contact) -> DatasetPlan:
    org = OrgPlan(names.unit_org(unit.unit_id), **metadata.unit_organization(unit))
    files = export_table(RESOURCES, rows, f"{unit.unit_id}-zfxxgk-ml")
    scorecard = unit_scorecard_rows(score, checks) if score else None
    plan = _dataset(names.directory(unit.unit_id), org, metadata.directory(unit, rows, contact, score, checks),
                    [("政府信息公开目录", RESOURCES, rows, files)])
    if scorecard is None:
        return plan
    own = DataStoreTable(UNIT_SCORECARD_NAME, UNIT_SCORECARD_DESCRIPTION, UNIT_SCORECARD, tuple(scorecard))
    return replace(plan, tables=(*plan.tables, own))


def unit_scorecard_rows(score: dict, checks: list[dict]) -> list[dict]:
    """The unit's checks (those of its latest run), failed first, each with its verdict and score."""
    ordered = sorted(checks, key=lambda c: (_STATUS_ORDER.get(c["status"], 3), c["check_id"]))
    return [{**check, "verdict": score["verdict"], "score": score["score"]} for check in ordered]


def _catalogue(units: list[UnitInfo], blocked: list[UnitInfo], snapshot: Snapshot, name: str, org: OrgPlan,
               contact: Contact) -> DatasetPlan:
    rows = [row for u in units for row in snapshot.resources.get(u.unit_id, [])]
    return _dataset(name, org, metadata.catalogue(units, rows, blocked, contact),
                    [("全部单位政府信息公开目录", RESOURCES, rows, export_table(RESOURCES, rows, "zwgk-catalogue"))])


def _scorecard(units: list[UnitInfo], scores: list[dict], checks: list[dict], name: str, org: OrgPlan,
               contact: Contact) -> DatasetPlan:
    return _dataset(name, org, metadata.scorecard(units, scores, contact), [
        ("单位得分", UNIT_SCORES, scores, export_table(UNIT_SCORES, scores, "zwgk-scorecard-units")),
        ("检查结果", CHECK_RESULTS, checks, export_table(CHECK_RESULTS, checks, "zwgk-scorecard-checks")),
    ])


def _document_changes(units: list[UnitInfo], snapshot: Snapshot, name: str, org: OrgPlan,
                      contact: Contact) -> DatasetPlan:
    """Silent edits in the published units' documents (withheld units' passages stay withheld)."""
    published = {u.unit_id for u in units}
    rows = [r for r in snapshot.document_changes if r["unit_id"] in published]
    return _dataset(name, org, metadata.document_changes(units, rows, contact),
                    [("未标注的正文修改", DOCUMENT_CHANGES, rows,
                      export_table(DOCUMENT_CHANGES, rows, "zwgk-document-changes"))])


def _dictionary(name: str, org: OrgPlan, contact: Contact) -> DatasetPlan:
    rows = dictionary_rows()
    return _dataset(name, org, metadata.dictionary(contact),
                    [("数据字典", DATA_DICTIONARY, rows, export_table(DATA_DICTIONARY, rows, "zwgk-data-dictionary"))])


def _dataset(name: str, org: OrgPlan, fields: dict,
             tables: list[tuple[str, PublicTable, list[dict], list[ExportFile]]]) -> DatasetPlan:
    """A dataset publishing each table as its export files and as one DataStore table."""
    resources = tuple(ResourcePlan(f, f"{label}（{f.format}）") for label, _, _, files in tables for f in files)
    stored = tuple(DataStoreTable(f"{label}{DATASTORE_SUFFIX}", DATASTORE_DESCRIPTION, table, tuple(rows))
                   for label, table, rows, _ in tables)
    return DatasetPlan(name=name, org=org, metadata=fields, resources=resources, tables=stored)
