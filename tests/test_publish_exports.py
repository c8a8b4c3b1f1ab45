"""The publisher without CKAN: safe, reproducible export files and the publishing rules."""

from __future__ import annotations

import csv
import io
import json

import pyarrow.parquet as pq
import pytest

from assets.publish.exports import CSV_TEXT_LIMIT, TRUNCATION_MARK, csv_bytes, json_bytes, neutralize, parquet_bytes
from assets.publish.metadata import DEFAULT_CONTACT
from assets.publish.names import Names
from assets.publish.pii import mask_personal_info
from assets.publish.plan import plan_catalog
from assets.publish.source import read_snapshot
from assets.publish.tables import Column, PublicTable
from publish_builder import ID_NUMBER, INJECTION, MOBILE, small_warehouse

NAMES = Names("t-")
MIXED = PublicTable("mixed", (Column("text", "文本", "string"), Column("score", "得分", "double"),
                              Column("flag", "标志", "boolean"), Column("checks", "否决项", "list<string>")))


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("text", ["=1+1", "+86", "-2", "@SUM(A1)", "\tx", "\rx", INJECTION])
def test_formula_like_text_is_neutralized(text):
    assert neutralize(text) == "'" + text


def test_only_text_cells_are_neutralized_not_negative_numbers():
    rows = [{"text": "-5", "score": -5.0, "flag": True, "checks": ["=C20"]}]
    assert csv_rows(csv_bytes(MIXED, rows)) == [["文本", "得分", "标志", "否决项"], ["'-5", "-5.0", "是", "'=C20"]]


def test_csv_truncates_long_text_but_json_and_parquet_keep_it():
    rows = [{"text": "长" * (CSV_TEXT_LIMIT + 1), "score": None, "flag": None, "checks": None}]
    assert csv_rows(csv_bytes(MIXED, rows))[1][0] == "长" * CSV_TEXT_LIMIT + TRUNCATION_MARK
    assert json.loads(json_bytes(MIXED, rows))[0]["text"] == rows[0]["text"]
    assert pq.read_table(io.BytesIO(parquet_bytes(MIXED, rows))).to_pylist() == rows


def test_personal_information_is_masked():
    text = f"身份证{ID_NUMBER}，手机{MOBILE}、138-1234-1234；账号120107198001012316；电话022-25201234"
    assert mask_personal_info(text) == ("身份证120107********2315，手机138****1234、138****1234；"
                                        "账号120107198001012316；电话022-25201234")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    return small_warehouse().write(tmp_path_factory.mktemp("publish") / "warehouse.duckdb")


def plan(warehouse, **kwargs):
    return plan_catalog(read_snapshot(warehouse), NAMES, DEFAULT_CONTACT, **kwargs)


def files_of(catalog_plan) -> dict[str, bytes]:
    return {f"{d.name}/{r.file.file_name}": r.file.data for d in catalog_plan.datasets for r in d.resources}


def test_exports_are_reproducible(warehouse):
    first, second = plan(warehouse), plan(warehouse)
    assert files_of(first) == files_of(second)
    assert [d.sha256 for d in first.datasets] == [d.sha256 for d in second.datasets]


def test_layout_and_blocking_rule(warehouse):
    catalog = plan(warehouse)
    assert [d.name for d in catalog.datasets] == ["t-jyj-zfxxgk-ml", "t-xgjd-zfxxgk-ml", "t-zwgk-catalogue",
                                                  "t-zwgk-scorecard", "t-zwgk-document-changes",
                                                  "t-zwgk-data-dictionary"]
    assert catalog.blocked_units == ["mzj"]  # C20 veto: no directory, not in the catalogue
    files = files_of(catalog)
    assert "区民政局".encode() not in files["t-zwgk-catalogue/zwgk-catalogue.json"]
    assert "区民政局".encode() in files["t-zwgk-scorecard/zwgk-scorecard-units.json"]
    for name, data in files.items():
        assert ID_NUMBER.encode() not in data and MOBILE.encode() not in data, name


def test_units_and_registry_limit_what_is_planned(warehouse):
    one = plan(warehouse, units=["xgjd"])
    assert [d.name for d in one.datasets][0] == "t-xgjd-zfxxgk-ml" and len(one.datasets) == 5
    without_street = plan(warehouse, registry_unit_ids=["jyj", "mzj"])
    assert "t-xgjd-zfxxgk-ml" not in [d.name for d in without_street.datasets]


def test_a_changed_resource_changes_only_its_unit_and_the_catalogue(tmp_path, warehouse):
    before = {d.name: d.sha256 for d in plan(warehouse).datasets}
    changed = small_warehouse()
    changed.resources[-1]["title"] = "关于开展环境卫生整治的通知（修订）"
    after = {d.name: d.sha256 for d in plan(changed.write(tmp_path / "changed.duckdb")).datasets}
    assert {n for n in before if before[n] != after[n]} == {"t-xgjd-zfxxgk-ml", "t-zwgk-catalogue"}


def test_the_scorecard_carries_the_third_verdict(tmp_path):
    """A unit behind an anti-bot gate: published as 无法核查 with no score and its access outcome,
    after every scored unit, and counted apart in the dataset's description."""
    w = small_warehouse()
    w.unit("dj", "东疆综合保税区管委会", "zone", access="blocked")
    w.unverifiable("run-1", "dj")
    catalog = plan(w.write(tmp_path / "gated.duckdb"))
    scorecard = next(d for d in catalog.datasets if d.name == "t-zwgk-scorecard")
    files = files_of(catalog)
    rows = json.loads(files["t-zwgk-scorecard/zwgk-scorecard-units.json"])
    assert rows[-1]["unit_id"] == "dj"
    assert (rows[-1]["score"], rows[-1]["verdict"], rows[-1]["veto"], rows[-1]["unit_access"]) == (
        None, "无法核查", False, "blocked")
    assert {r["unit_access"] for r in rows[:-1]} == {"ok"}
    assert "无法核查 1 个" in scorecard.metadata["notes"]
    checks = json.loads(files["t-zwgk-scorecard/zwgk-scorecard-checks.json"])
    assert {c["status"] for c in checks if c["unit_id"] == "dj"} == {"n/a"}


def test_silent_edits_are_published_as_their_own_dataset_masked_and_without_withheld_units(tmp_path):
    """The document changes of each unit's latest run, with personal information masked; a unit
    withheld for a C20 veto keeps its passages out of this dataset too."""
    w = small_warehouse()
    jyj = next(r for r in w.resources if r["unit_id"] == "jyj")
    mzj = next(r for r in w.resources if r["unit_id"] == "mzj")
    w.silent_edit("run-1", jyj, "有关事项", f"有关事项（联系人手机{MOBILE}）")
    w.silent_edit("run-0", jyj, "旧运行", "不应发布")  # not the unit's latest run
    w.silent_edit("run-1", mzj, "低保", "低保对象")
    catalog = plan(w.write(tmp_path / "changes.duckdb"))
    dataset = next(d for d in catalog.datasets if d.name == "t-zwgk-document-changes")
    assert dataset.metadata["dataset_kind"] == "changes" and "不计分" in dataset.metadata["notes"]
    rows = json.loads(files_of(catalog)["t-zwgk-document-changes/zwgk-document-changes.json"])
    assert [(r["unit_id"], r["url"]) for r in rows] == [("jyj", jyj["url"])]
    [passage] = rows[0]["passages"]
    assert passage == {"prefix": "现将", "before": "有关事项", "after": "有关事项（联系人手机138****1234）",
                       "suffix": "通知如下。"}
    assert rows[0]["publish_date"] == jyj["publish_date"].isoformat() and rows[0]["unit_name"] == "区教育局"
    assert MOBILE.encode() not in files_of(catalog)["t-zwgk-document-changes/zwgk-document-changes.csv"]
    assert dataset.metadata["source_urls"] == ["http://www.bh.zwgk.test:8080/jyj/zfxxgk/"]
    # A unit leaving the scope without changes of its own leaves this dataset as it was.
    without_street = plan(w.write(tmp_path / "changes.duckdb"), registry_unit_ids=["jyj", "mzj"])
    assert next(d for d in without_street.datasets if d.name == dataset.name).sha256 == dataset.sha256
