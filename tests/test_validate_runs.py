"""Validation runs: per-unit runs equal full runs, re-runs replace, runs accumulate; dated rules."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pandas as pd
import pytest

from assets.validate import validate_unit, validate_warehouse
from assets.validate.rules import RuleDates, key_area_pattern, months_before, report_year
from expectations.suites import BOUNDS, FEATURE_COLUMNS, data_docs_index, run_suites
from warehouse_builder import AS_OF, Warehouse
from core.warehouse import connect as warehouse_connect

ROW = "SELECT unit_id, check_id, status, severity, evidence_url, message FROM check_results WHERE run_id = $r"
SCORE = "SELECT unit_id, score, verdict, veto, veto_checks FROM unit_scores WHERE run_id = $r"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    w = Warehouse(tmp_path_factory.mktemp("runs") / "warehouse.duckdb")
    w.compliant_unit("qzf", "district")
    w.compliant_unit("xgjd", "street")
    broken = w.compliant_unit("jyj")
    broken.docs("policy")[1]["index_no"] = broken.docs("policy")[0]["index_no"]
    w.compliant_unit("dead", "town", entry_ok=False)
    return w.write()


def rows(db, sql: str, run_id: str) -> set[tuple]:
    with warehouse_connect(db) as con:
        return {tuple(tuple(v) if isinstance(v, list) else v for v in row)
                for row in con.execute(sql, {"r": run_id}).fetchall()}


def test_one_unit_alone_gets_the_rows_of_a_full_run(warehouse):
    validate_warehouse(warehouse, AS_OF, run_id="full")
    for unit_id in ("jyj", "dead"):
        summary = validate_unit(warehouse, unit_id, AS_OF, run_id="single")
        assert summary.units == 1
    full = {r for r in rows(warehouse, ROW, "full") if r[0] in ("jyj", "dead")}
    assert rows(warehouse, ROW, "single") == full
    assert rows(warehouse, SCORE, "single") == {r for r in rows(warehouse, SCORE, "full") if r[0] in ("jyj", "dead")}


def test_features_computed_in_chunks_of_units_equal_one_pass(warehouse, pipeline_data, monkeypatch):
    """At a million documents features are computed a few units at a time (memory); every feature
    is per unit, so the chunks must give exactly the rows of one pass, on both warehouses."""
    from assets.validate import results

    for db in (warehouse, pipeline_data.warehouse):
        with warehouse_connect(db, read_only=True) as con:
            whole = results.evaluate(con, AS_OF, "whole")
            monkeypatch.setattr(results, "FEATURE_CHUNK_RESOURCES", 10)
            chunks = results.feature_chunks(con, None, results.FEATURE_CHUNK_RESOURCES)
            chunked = results.evaluate(con, AS_OF, "whole")
            monkeypatch.undo()
        assert len(chunks) >= 3 and [u for c in chunks for u in c] == sorted(u for c in chunks for u in c)
        ignore = ["checked_at"]
        assert chunked.check_results.drop_columns(ignore).equals(whole.check_results.drop_columns(ignore)), db
        assert chunked.unit_scores.drop_columns(ignore).equals(whole.unit_scores.drop_columns(ignore)), db


def test_rerunning_a_run_replaces_only_its_units_rows(warehouse):
    validate_warehouse(warehouse, AS_OF, run_id="again")
    validate_warehouse(warehouse, AS_OF, run_id="again")
    with warehouse_connect(warehouse) as con:
        before = dict(con.execute("SELECT unit_id, checked_at FROM unit_scores WHERE run_id = 'again'").fetchall())
    validate_unit(warehouse, "qzf", AS_OF, run_id="again")
    with warehouse_connect(warehouse) as con:
        after = dict(con.execute("SELECT unit_id, checked_at FROM unit_scores WHERE run_id = 'again'").fetchall())
        count = con.execute("SELECT count(*) FROM check_results WHERE run_id = 'again'").fetchone()[0]
    assert count == 4 * 22
    assert after["qzf"] > before["qzf"] and all(after[u] == before[u] for u in ("jyj", "xgjd", "dead"))


def test_runs_accumulate_for_the_trend(warehouse):
    first = validate_warehouse(warehouse, AS_OF - timedelta(days=1))
    second = validate_warehouse(warehouse, AS_OF)
    assert first.run_id != second.run_id
    with warehouse_connect(warehouse) as con:
        runs = {r for (r,) in con.execute("SELECT DISTINCT run_id FROM unit_scores").fetchall()}
    assert {first.run_id, second.run_id} <= runs
    assert (second.units, second.passed, second.failed, second.vetoed) == (4, 3, 1, 1)
    assert second.failures_by_check["C13"] == 1  # the duplicate index number (the dead unit's is n/a)
    assert second.failures_by_check["C01"] == 1  # the dead unit: its entry answers 404
    assert set(second.seconds) >= {"features", "expectations", "write", "total"}


def test_unknown_units_are_refused(warehouse):
    with pytest.raises(ValueError, match="nosuch"):
        validate_unit(warehouse, "nosuch", AS_OF)


def test_standard_catalogue_is_not_due_before_its_date(warehouse):
    validate_warehouse(warehouse, date(2020, 11, 30), run_id="early")
    results = {(u, c): (s, m) for u, c, s, _, _, m in rows(warehouse, ROW, "early")}
    assert results[("qzf", "C14")] == ("n/a", "未到期：2020-11-30后检查")
    assert results[("xgjd", "C14")][0] == "n/a"
    assert results[("jyj", "C14")] == ("n/a", "不适用于该类单位")


def test_dated_rules():
    assert months_before(date(2021, 8, 31), 6) == date(2021, 2, 28)
    assert months_before(date(2021, 3, 1), 6) == date(2020, 9, 1)
    assert months_before(date(2020, 3, 31), 1) == date(2020, 2, 29)
    assert report_year(date(2021, 1, 31)) == 2019 and report_year(date(2021, 2, 1)) == 2020
    dates = RuleDates.for_as_of(AS_OF)
    assert dates.freshness_cutoffs == {"policy": date(2020, 9, 1), "notice": date(2020, 9, 1),
                                       "news": date(2021, 2, 15)}
    assert (dates.report_year, dates.report_deadline, dates.catalog_due) == (2020, date(2021, 1, 31),
                                                                             date(2020, 11, 30))
    assert key_area_pattern("环保") == "环保|生态环境|环境保护|污染"
    assert key_area_pattern("养老(社区)") == r"养老\(社区\)"


def test_suites_flag_failing_units_and_veto_hits():
    """One validation per suite over the whole frame; failing units come from the unexpected index list."""
    good = {column: 0 for column in FEATURE_COLUMNS}
    good.update({b.column: b.min_value + (1 if not b.strict_min else 0.5) for b in BOUNDS if b.min_value is not None})
    good.update({b.column: b.equals for b in BOUNDS if b.equals is not None})
    frame = pd.DataFrame([dict(good, unit_id="a"), dict(good, unit_id="b", blank_columns=2, guide_items=0),
                          dict(good, unit_id="c", blank_columns=5, document_share=0.5, report_on_time=None)])
    outcome = run_suites(frame, "suite-test")
    assert outcome.failures["C06"] == {"b", "c"} and outcome.vetoes["C06"] == {"c"}
    assert outcome.failures["C02"] == {"b"} and outcome.failures["C22"] == {"c"}
    assert outcome.failures["C08"] == set(), "a missing fact is not a failure of its own expectation"
    assert all(not units for check, units in outcome.failures.items() if check not in ("C02", "C06", "C22"))
    assert outcome.data_docs_index is None


def test_data_docs_are_built_for_the_data_team(warehouse, tmp_path):
    summary = validate_warehouse(warehouse, AS_OF, run_id="docs", data_docs_dir=tmp_path / "gx")
    assert summary.data_docs_index == data_docs_index(tmp_path / "gx")
    html = summary.data_docs_index.read_text(encoding="utf-8")
    assert "zwgk.C13" in html or "zwgk/C13" in html
    assert (summary.data_docs_index.parent / "expectations" / "zwgk" / "C13.html").exists()
