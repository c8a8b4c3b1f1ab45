"""Parquet segments behind the `resources` view: replacement, atomicity, compaction, migration."""

from __future__ import annotations

import os
import shutil
import signal
import time
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import schemas
from assets.normalize.warehouse import replace_unit, replace_units
from zwgk import segments
from zwgk.warehouse import connect, load_table

NOW = datetime(2021, 3, 1, 8)


def resources(unit_id: str, count: int, title: str = "通知") -> pa.Table:
    rows = [{"resource_id": f"{unit_id}-{i}", "unit_id": unit_id, "url": f"http://x.test/{unit_id}/{i}.html",
             "title": f"{title}{i}", "is_marked_abolished": False, "doc_kind": "其他", "has_pii": False,
             "raw_labels": "{}", "content_sha256": f"{i:064x}", "first_seen": NOW, "last_seen": NOW,
             "schema_version": schemas.SCHEMA_VERSION} for i in range(count)]
    return pa.Table.from_pylist(rows, schema=schemas.arrow_schema("resources"))


def counts(con) -> dict[str, int]:
    return dict(con.execute("SELECT unit_id, count(*) FROM resources GROUP BY 1").fetchall())


def files(db: Path) -> set[str]:
    return {p.name for p in (db.parent / (db.stem + ".segments") / "resources").glob("*.parquet")} - {"_schema.parquet"}


def test_replacing_units_keeps_other_units_and_leaves_no_garbage(tmp_path):
    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        replace_units(con, ["a", "b", "c"], [{"resources": resources(u, 5)} for u in "abc"])
        assert counts(con) == {"a": 5, "b": 5, "c": 5}
        replace_unit(con, "b", {"resources": resources("b", 2, title="新")})
        assert counts(con) == {"a": 5, "b": 2, "c": 5}
        assert {t for (t,) in con.execute("SELECT title FROM resources WHERE unit_id = 'b'").fetchall()} == {"新0", "新1"}
        replace_unit(con, "c", {"resources": resources("c", 0)})  # a unit whose pages are all gone
        assert counts(con) == {"a": 5, "b": 2}
        referenced = {f for (f,) in con.execute("SELECT file FROM segment_files").fetchall()}
    assert files(db) == referenced, "every file on disk is current"


def test_a_failed_transaction_keeps_the_previous_rows_and_removes_its_segment(tmp_path):
    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        replace_units(con, ["a"], [{"resources": resources("a", 3)}])
        before = files(db)
        not_attachments = pa.table({"unit_id": ["a"]})  # attachments are written after the segment: they fail
        with pytest.raises(KeyError):
            replace_units(con, ["a"], [{"resources": resources("a", 9), "attachments": not_attachments}])
        assert counts(con) == {"a": 3}
    assert files(db) == before


def test_rows_of_a_unit_not_being_replaced_are_refused(tmp_path):
    with connect(tmp_path / "w.duckdb") as con:
        with pytest.raises(ValueError, match="not being replaced"):
            replace_units(con, ["a"], [{"resources": resources("b", 1)}])


def test_one_unit_writes_compact_instead_of_piling_up_files(tmp_path):
    db = tmp_path / "w.duckdb"
    units = [f"u{n:02d}" for n in range(80)]
    with connect(db) as con:
        replace_units(con, units, [{"resources": resources(u, 4)} for u in units])
        for round_no in range(2):
            for u in units:
                replace_unit(con, u, {"resources": resources(u, 4, title=f"第{round_no}轮")})
        assert counts(con) == {u: 4 for u in units}
        [(stale,)] = con.execute("SELECT count(*) FROM resources WHERE title NOT LIKE '第1轮%'").fetchall()
        assert stale == 0
    assert len(files(db)) <= segments.MAX_SMALL_FILES


def test_a_table_written_before_segments_is_migrated_on_open(tmp_path):
    db = tmp_path / "old.duckdb"
    with duckdb.connect(str(db)) as con:  # the layout of schema 1.0.0 warehouses: a DuckDB table
        con.execute(schemas.ddl("resources"))
        con.register("rows", pa.concat_tables([resources("a", 3), resources("b", 2)]))
        con.execute("INSERT INTO resources SELECT * FROM rows")
    with connect(db) as con:
        assert counts(con) == {"a": 3, "b": 2}
        [(kind,)] = con.execute("SELECT table_type FROM information_schema.tables WHERE table_name = 'resources'"
                                ).fetchall()
        assert kind == "VIEW"


def test_a_moved_warehouse_still_reads_its_segments(tmp_path):
    with connect(tmp_path / "a" / "w.duckdb") as con:
        load_table(con, "resources", resources("a", 3))
    shutil.move(tmp_path / "a", tmp_path / "b")
    with connect(tmp_path / "b" / "w.duckdb", read_only=True) as con:
        assert counts(con) == {"a": 3}
    with connect(tmp_path / "b" / "w.duckdb") as con:
        assert counts(con) == {"a": 3}
    with duckdb.connect(str(tmp_path / "b" / "w.duckdb"), read_only=True) as con:  # any DuckDB client
        assert counts(con) == {"a": 3}


def test_the_view_has_the_schema_even_when_empty(tmp_path):
    with connect(tmp_path / "w.duckdb") as con:
        arrow = con.sql("SELECT * FROM resources").to_arrow_table()
    assert arrow.num_rows == 0
    assert arrow.schema.names == schemas.table("resources").field_names


def test_a_big_batch_is_written_as_parallel_files_each_holding_whole_units(tmp_path, monkeypatch):
    monkeypatch.setattr(segments, "SMALL_FILE_ROWS", 10)
    monkeypatch.setattr(segments, "WRITE_THREADS", 3)
    db = tmp_path / "w.duckdb"
    units = [f"u{n}" for n in range(7)]
    with connect(db) as con:
        replace_units(con, units, [{"resources": resources(u, 3 + n)} for n, u in enumerate(units)])
        assert counts(con) == {u: 3 + n for n, u in enumerate(units)}
        by_file = con.execute("SELECT file, list(unit_id), sum(rows) FROM segment_files GROUP BY 1").fetchall()
    assert len(by_file) == 3
    assert sorted(u for _, file_units, _ in by_file for u in file_units) == units  # every unit in one file
    segment_dir = db.parent / "w.segments" / "resources"
    for file, _, rows in by_file:
        assert pq.read_metadata(segment_dir / file).num_rows == rows


def test_a_forked_worker_writes_segments(tmp_path):
    """Celery's prefork workers fork after the parent used the writer threads: the child gets its own."""
    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        load_table(con, "resources", resources("a", 3))
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child, which reports by its exit status
        try:
            with connect(db) as con:
                load_table(con, "resources", resources("b", 2))
            os._exit(0)
        except BaseException:
            os._exit(1)
    deadline = time.monotonic() + 60
    while (finished := os.waitpid(child, os.WNOHANG))[0] == 0:
        if time.monotonic() > deadline:
            os.kill(child, signal.SIGKILL)
            os.waitpid(child, 0)
            pytest.fail("the forked writer hung (it waited for threads that only exist in its parent)")
        time.sleep(0.05)
    assert os.waitstatus_to_exitcode(finished[1]) == 0
    with connect(db, read_only=True) as con:
        assert counts(con) == {"a": 3, "b": 2}
