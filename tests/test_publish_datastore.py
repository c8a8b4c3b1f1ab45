"""DataStore tables and per-unit verdicts as planned, without CKAN: types, labels, cells, hashes,
chunks, and what each unit's page says about its latest verdict."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from assets.publish import PublishSummary, datastore
from assets.publish.console import writes_line
from assets.publish.datastore import DataStoreTable, datastore_fields, datastore_record
from assets.publish.datastore_sync import TableLoad
from assets.publish.metadata import DEFAULT_CONTACT
from assets.publish.names import Names
from assets.publish.plan import UNIT_SCORECARD_NAME, plan_catalog
from assets.publish.source import read_snapshot
from assets.publish.tables import RESOURCES, UNIT_SCORECARD, Column, PublicTable
from publish_builder import ID_NUMBER, INJECTION, MOBILE, small_warehouse

NAMES = Names("t-")
EVERY_TYPE = PublicTable("every_type", (
    Column("text", "文本", "string"), Column("figures", "数字", "json"), Column("day", "日期", "date"),
    Column("seen", "时间", "timestamp"), Column("flag", "标志", "boolean"), Column("count", "条数", "integer"),
    Column("big", "大数", "bigint"), Column("score", "得分", "double"), Column("words", "关键词", "list<string>"),
))


def test_fields_map_schema_types_and_carry_the_chinese_header_as_label():
    assert datastore_fields(EVERY_TYPE) == [
        {"id": "text", "type": "text", "info": {"label": "文本"}},
        {"id": "figures", "type": "json", "info": {"label": "数字"}},
        {"id": "day", "type": "date", "info": {"label": "日期"}},
        {"id": "seen", "type": "timestamp", "info": {"label": "时间"}},
        {"id": "flag", "type": "bool", "info": {"label": "标志"}},
        {"id": "count", "type": "int4", "info": {"label": "条数"}},
        {"id": "big", "type": "int8", "info": {"label": "大数"}},
        {"id": "score", "type": "float8", "info": {"label": "得分"}},
        {"id": "words", "type": "text", "info": {"label": "关键词"}},
    ]
    # Every published column has a DataStore type.
    for table in (RESOURCES, UNIT_SCORECARD):
        assert [f["id"] for f in datastore_fields(table)] == table.names


def test_records_are_json_ready_and_text_cells_neutral_but_not_truncated():
    row = {"text": INJECTION + "长" * 2000, "figures": '{"申请": 3}', "day": dt.date(2021, 3, 1),
           "seen": dt.datetime(2021, 3, 1, 8, 30), "flag": False, "count": -5, "big": 2**40, "score": -2.5,
           "words": ["-减税", "降费"]}
    record = datastore_record(EVERY_TYPE, row)
    assert record == {"text": "'" + INJECTION + "长" * 2000, "figures": {"申请": 3}, "day": "2021-03-01",
                      "seen": "2021-03-01 08:30:00", "flag": False, "count": -5, "big": 2**40, "score": -2.5,
                      "words": "'-减税;降费"}
    json.dumps(record)  # what the API call sends
    nulls = datastore_record(EVERY_TYPE, dict.fromkeys(EVERY_TYPE.names))
    assert set(nulls.values()) == {None}


def _table(rows):
    return DataStoreTable("表（在线预览与查询）", "说明", EVERY_TYPE, tuple(rows))


def _row(n: int) -> dict:
    return {"text": f"第{n}行", "figures": None, "day": dt.date(2021, 1, 1), "seen": None, "flag": True, "count": n,
            "big": None, "score": None, "words": None}


def test_hash_is_stable_and_moves_with_any_row_or_field():
    rows = [_row(n) for n in range(3)]
    assert _table(rows).sha256 == _table([dict(r) for r in rows]).sha256
    assert _table(rows).sha256 != _table(rows[:2]).sha256
    assert _table(rows).sha256 != _table([*rows[:2], {**rows[2], "count": 99}]).sha256
    relabelled = PublicTable("every_type", (Column("text", "正文", "string"), *EVERY_TYPE.columns[1:]))
    assert DataStoreTable("表", "说明", relabelled, tuple(rows)).sha256 != _table(rows).sha256
    fields = _table(rows).resource_fields()
    assert fields == {"name": "表（在线预览与查询）", "description": "说明", "format": "DataStore",
                      "content_sha256": _table(rows).sha256}


def test_chunks_split_by_rows_and_bytes_and_keep_every_record_in_order(monkeypatch):
    rows = [_row(n) for n in range(5)]
    monkeypatch.setattr(datastore, "CHUNK_ROWS", 2)
    chunks = list(_table(rows).chunks())
    assert [len(c) for c in chunks] == [2, 2, 1]
    assert [r["count"] for c in chunks for r in c] == [0, 1, 2, 3, 4]
    monkeypatch.setattr(datastore, "CHUNK_ROWS", 1000)
    monkeypatch.setattr(datastore, "CHUNK_BYTES", len(json.dumps(_table(rows).records[0], ensure_ascii=False)) * 3)
    assert [len(c) for c in _table(rows).chunks()] == [3, 2]
    assert list(_table([]).chunks()) == [[]]  # an empty table is still created (with its fields)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    path = small_warehouse().write(tmp_path_factory.mktemp("datastore") / "warehouse.duckdb")
    return plan_catalog(read_snapshot(path), NAMES, DEFAULT_CONTACT)


def test_every_export_table_is_also_a_datastore_table(catalog):
    tables = {d.name: [(t.name, t.table.name, len(t.rows)) for t in d.tables] for d in catalog.datasets}
    dictionary = next(d for d in catalog.datasets if d.name == "t-zwgk-data-dictionary")
    assert tables == {
        "t-jyj-zfxxgk-ml": [("政府信息公开目录（在线预览与查询）", "resources", 4), (UNIT_SCORECARD_NAME, "unit_scorecard", 22)],
        "t-xgjd-zfxxgk-ml": [("政府信息公开目录（在线预览与查询）", "resources", 2), (UNIT_SCORECARD_NAME, "unit_scorecard", 22)],
        "t-zwgk-catalogue": [("全部单位政府信息公开目录（在线预览与查询）", "resources", 6)],
        "t-zwgk-scorecard": [("单位得分（在线预览与查询）", "unit_scores", 3), ("检查结果（在线预览与查询）", "check_results", 66)],
        "t-zwgk-data-dictionary": [("数据字典（在线预览与查询）", "data_dictionary", len(dictionary.tables[0].rows))],
        "t-zwgk-document-changes": [("未标注的正文修改（在线预览与查询）", "document_changes", 0)],  # one run: no history
    }


def test_datastore_rows_are_masked_and_leave_out_the_vetoed_unit(catalog):
    for dataset in catalog.datasets:
        for table in dataset.tables:
            text = json.dumps(table.records, ensure_ascii=False)
            assert ID_NUMBER not in text and MOBILE not in text, (dataset.name, table.name)
            if table.table.name == "resources":
                assert "mzj" not in {r["unit_id"] for r in table.records}
    catalogue = next(d for d in catalog.datasets if d.name == "t-zwgk-catalogue").tables[0]
    assert "'" + INJECTION in {r["title"] for r in catalogue.records}


def test_unit_verdict_table_lists_failed_checks_first_with_verdict_and_score(catalog):
    jyj = next(d for d in catalog.datasets if d.name == "t-jyj-zfxxgk-ml")
    verdict = next(t for t in jyj.tables if t.name == UNIT_SCORECARD_NAME)
    first = verdict.records[0]
    assert (first["check_id"], first["status"], first["verdict"], first["score"], first["as_of"]) == (
        "C13", "fail", "合格", 95.0, "2021-03-01")
    assert [r["check_id"] for r in verdict.records[1:]] == sorted(r["check_id"] for r in verdict.records[1:])
    assert {r["status"] for r in verdict.records[1:]} == {"pass"}
    assert {r["unit_id"] for r in verdict.records} == {"jyj"}


def test_unit_description_states_when_it_was_judged_and_what_failed(catalog, tmp_path):
    notes = {d.name: d.metadata["notes"] for d in catalog.datasets}
    c13 = next(r["check_title"] for r in next(d for d in catalog.datasets if d.name == "t-jyj-zfxxgk-ml").tables[1].rows)
    assert f"**政务公开评估**（检查基准日 2021-03-01）：合格，得分 95 分；未通过的检查项：C13 {c13}。" in notes["t-jyj-zfxxgk-ml"]
    assert "（检查基准日 2021-03-01）：合格，得分 100 分；全部检查项通过。" in notes["t-xgjd-zfxxgk-ml"]

    w = small_warehouse()
    w.unit("dj", "东疆综合保税区管委会", "zone", access="blocked")
    w.resource("dj", 1, "东疆公告")
    w.unverifiable("run-1", "dj")
    w.unit("new", "新设单位")
    w.resource("new", 1, "新设单位公告")  # harvested, not validated yet
    gated = plan_catalog(read_snapshot(w.write(tmp_path / "gated.duckdb")), NAMES, DEFAULT_CONTACT)
    by_name = {d.name: d for d in gated.datasets}
    assert "（检查基准日 2021-03-01）：无法核查。本次未能读取" in by_name["t-dj-zfxxgk-ml"].metadata["notes"]
    assert {r["status"] for r in by_name["t-dj-zfxxgk-ml"].tables[1].records} == {"n/a"}
    assert "**政务公开评估**：尚未评估。" in by_name["t-new-zfxxgk-ml"].metadata["notes"]
    assert [t.name for t in by_name["t-new-zfxxgk-ml"].tables] == ["政府信息公开目录（在线预览与查询）"]


def test_a_changed_verdict_changes_only_that_unit_and_the_scorecard(catalog, tmp_path):
    w = small_warehouse()
    w.score("run-2", "xgjd", failed=("C05",), checked_at=dt.datetime(2021, 3, 2, 8, 0))
    after = {d.name: d.sha256 for d in plan_catalog(read_snapshot(w.write(tmp_path / "rescored.duckdb")), NAMES,
                                                    DEFAULT_CONTACT).datasets}
    before = {d.name: d.sha256 for d in catalog.datasets}
    assert {n for n in before if before[n] != after[n]} == {"t-xgjd-zfxxgk-ml", "t-zwgk-scorecard"}


def test_the_publish_summary_spells_out_writes_so_a_no_change_run_shows_zero():
    idle = PublishSummary(api_calls=1, write_calls=0, calls_by_action={"package_search": 1})
    assert writes_line(idle) == "CKAN: 1 API calls, writes: 0 (nothing changed; DataStore untouched)"
    busy = PublishSummary(api_calls=5, write_calls=4,
                          calls_by_action={"package_search": 1, "datastore_create": 2, "resource_view_create": 2},
                          datastore_loads=[TableLoad("d", "表", 30), TableLoad("d", "表二", 12)])
    assert writes_line(busy) == ("CKAN: 5 API calls, writes: 4 (datastore_create 2, resource_view_create 2); "
                                 "DataStore: 2 tables, 42 rows loaded")
