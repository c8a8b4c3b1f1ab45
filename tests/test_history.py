"""The lake's history: runs tag their snapshots, a run or a day resolves to a snapshot, the lake
opens as it was there, and a document's texts over time give its silent edits."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import duckdb
import pyarrow as pa
import pytest
from typer.testing import CliRunner

import schemas
from assets.normalize.build import text_sha256
from assets.validate.document_changes import find_document_changes
from core import history, warehouse
from core.history import HistoryError
from core.warehouse import RunTag, connect, replace_unit
from zwgk.cli import app

FILLERS = {"string": "x", "json": "{}", "date": date(2021, 1, 1), "timestamp": datetime(2021, 1, 1),
           "boolean": False, "integer": 0, "bigint": 0, "double": 0.0, "list<string>": []}
BODY = "各有关单位：现将有关事项通知如下。请于每季度结束后十日内报送工作进展。"


def rows_of(table: str, rows: list[dict]) -> pa.Table:
    required = {f.name: FILLERS[f.type] for f in schemas.table(table).fields if f.required}
    return pa.Table.from_pylist([{**required, **row} for row in rows], schema=schemas.arrow_schema(table))


def doc(number: int, body: str, *, title: str = "通知", published: date = date(2021, 1, 4)) -> dict:
    return {"resource_id": f"jyj-{number}", "unit_id": "jyj", "url": f"http://h/jyj/{number}.html", "title": title,
            "publish_date": published, "body_text": body, "text_sha256": text_sha256(body)}


def write_run(con, run_id: str, docs: list[dict]) -> None:
    replace_unit(con, "jyj", {"units": rows_of("units", [{"unit_id": "jyj", "name": "区教育局", "kind": "bureau"}]),
                              "resources": rows_of("resources", docs)}, tag=RunTag(run_id, "normalize", date(2021, 3, 1)))


def test_a_tagged_write_signs_its_snapshot_with_the_run(tmp_path):
    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        write_run(con, "run-1", [doc(1, BODY)])
        [(author, message, extra)] = con.execute(
            "SELECT author, commit_message, commit_extra_info FROM ducklake_snapshots('lake') "
            "ORDER BY snapshot_id DESC LIMIT 1").fetchall()
        latest = history.current_snapshot(con)
    assert author == "zwgk" and message == "normalize run run-1 as of 2021-03-01"
    assert json.loads(extra) == {"run_id": "run-1", "stage": "normalize", "as_of": "2021-03-01"}
    assert (latest.run_id, latest.stage, latest.as_of) == ("run-1", "normalize", date(2021, 3, 1))


def test_a_run_resolves_to_its_last_snapshot_and_the_lake_opens_there(tmp_path):
    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        write_run(con, "run-1", [doc(1, BODY)])
        write_run(con, "run-1", [doc(1, BODY), doc(2, BODY)])
        write_run(con, "run-2", [doc(2, BODY)])
        first = history.snapshot_of_run(con, "run-1")
        assert history.resolve(con, "run-1") == first
        assert history.resolve(con, "run-2").snapshot_id == first.snapshot_id + 1
    with connect(db, snapshot_version=first.snapshot_id) as old:
        assert old.execute("SELECT resource_id FROM resources ORDER BY 1").fetchall() == [("jyj-1",), ("jyj-2",)]
        assert history.current_snapshot(old).snapshot_id == first.snapshot_id
        with pytest.raises(duckdb.Error):
            old.execute("DELETE FROM resources")
    with connect(db, read_only=True) as now:
        assert now.execute("SELECT resource_id FROM resources").fetchall() == [("jyj-2",)]


def test_a_day_is_a_beijing_day_and_nothing_before_the_lake_resolves(tmp_path):
    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        write_run(con, "run-1", [doc(1, BODY)])
        today = datetime.now(history.BEIJING).date()
        assert history.resolve(con, today.isoformat()) == history.current_snapshot(con)
        with pytest.raises(HistoryError, match=r"no snapshot on or before 2020-01-01 \(Beijing time\): the oldest kept"):
            history.resolve(con, "2020-01-01")
        with pytest.raises(HistoryError, match="no run 'run-9'"):
            history.resolve(con, "run-9")
    # 23:30 on 1 March in Tianjin is still 1 March there, though 15:30 UTC.
    evening = datetime(2021, 3, 1, 15, 30, tzinfo=timezone.utc)
    assert evening.astimezone(history.BEIJING).date() == date(2021, 3, 1)
    assert history.day_end(date(2021, 3, 1)) == datetime(2021, 3, 1, 16, 0, tzinfo=timezone.utc)


def test_a_run_whose_scores_remain_but_snapshots_do_not_is_called_expired(tmp_path):
    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        # Scores written without a tag: as if the run's snapshots had been expired by maintenance.
        warehouse.load_table(con, "unit_scores", rows_of("unit_scores", [{"run_id": "old-run", "unit_id": "jyj",
                                                                          "verdict": "合格"}]))
        with pytest.raises(HistoryError, match="run 'old-run': its snapshots are no longer kept"):
            history.resolve(con, "old-run")


def test_report_at_a_day_before_the_lake_or_an_unknown_run_exits_2_naming_it(tmp_path):
    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        write_run(con, "run-1", [doc(1, BODY)])
    runner = CliRunner()
    early = runner.invoke(app, ["report", "--db", str(db), "--out", str(tmp_path / "r"), "--at", "2020-01-01"])
    assert early.exit_code == 2 and "--at 2020-01-01: no snapshot on or before 2020-01-01" in " ".join(early.output.split())
    unknown = runner.invoke(app, ["report", "--db", str(db), "--out", str(tmp_path / "r"), "--at", "run-9"])
    assert unknown.exit_code == 2 and "no run 'run-9'" in unknown.output
    missing = runner.invoke(app, ["report", "--db", str(tmp_path / "none.duckdb"), "--at", "run-1"])
    assert missing.exit_code == 2 and "none.duckdb does not exist" in " ".join(missing.output.split())


def test_only_the_silent_edit_of_several_changes_is_found(tmp_path):
    """Four documents change between runs: one silently; one with a new 发布日期; one marked 更正;
    one not at all. Only the first is a silent edit, with both snapshots and the changed passage."""
    db = tmp_path / "w.duckdb"
    edited = BODY.replace("十日", "五日")
    with connect(db) as con:
        write_run(con, "run-1", [doc(1, BODY), doc(2, BODY), doc(3, BODY), doc(4, BODY)])
        write_run(con, "run-2", [doc(1, BODY), doc(2, BODY), doc(3, BODY), doc(4, BODY)])
        before = history.current_snapshot(con)
        write_run(con, "run-3", [doc(1, edited), doc(2, edited, published=date(2021, 3, 1)),
                                 doc(3, edited + "（2021年3月1日更正）"), doc(4, BODY)])
        after = history.current_snapshot(con)
        versions = history.text_versions(con, ["jyj"])
        changed = history.text_versions(con, ["jyj"], changed_only=True)
        found = find_document_changes(con, ["jyj"], "check-1", date(2021, 3, 1), datetime(2021, 3, 2)).to_pylist()
    assert [len(versions[f"jyj-{n}"]) for n in (1, 2, 3)] == [2, 2, 2] and len(versions["jyj-4"]) == 1
    assert changed == {f"jyj-{n}": versions[f"jyj-{n}"] for n in (1, 2, 3)}, "only documents whose text changed"
    assert versions["jyj-1"][0].snapshot.run_id == "run-1" and versions["jyj-1"][1].snapshot == after
    [change] = found
    assert (change["resource_id"], change["before_snapshot"], change["after_snapshot"]) == (
        "jyj-1", versions["jyj-1"][0].snapshot.snapshot_id, after.snapshot_id)
    assert before.snapshot_id < after.snapshot_id
    assert change["after_seen_at"] == after.time.replace(tzinfo=None)
    [passage] = json.loads(change["passages"])
    assert (passage["before"], passage["after"]) == ("十", "五")


def test_a_silent_edit_outlives_the_snapshots_it_was_found_in(tmp_path):
    """Maintenance expires old snapshots: the earlier text leaves the history, but the edit found
    before stays listed in later runs (carried over from the unit's previous run)."""
    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        write_run(con, "run-1", [doc(1, BODY)])
        write_run(con, "run-2", [doc(1, BODY.replace("十日", "五日"))])
        found = find_document_changes(con, ["jyj"], "check-1", date(2021, 3, 1), datetime(2021, 3, 2))
        warehouse.load_table(con, "document_changes", found)
        expired = [s.snapshot_id for s in history.snapshots(con) if s.run_id != "run-2"]
        con.execute("CALL ducklake_expire_snapshots('lake', versions => ?)", [expired])
        write_run(con, "run-3", [doc(1, BODY.replace("十日", "五日"))])
        assert [len(v) for v in history.text_versions(con, ["jyj"]).values()] == [1], "the old text is gone"
        later = find_document_changes(con, ["jyj"], "check-2", date(2021, 4, 1), datetime(2021, 4, 2)).to_pylist()
    [carried] = later
    [original] = found.to_pylist()
    assert (carried["run_id"], carried["as_of"]) == ("check-2", date(2021, 4, 1))
    assert {k: v for k, v in carried.items() if k not in ("run_id", "as_of", "checked_at")} == \
        {k: v for k, v in original.items() if k not in ("run_id", "as_of", "checked_at")}
