"""Normalize at scale: extraction in worker processes, batched store reads, unchanged units not
rewritten (issue 16). Each must give exactly the rows the plain path gives."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest

import schemas
from assets.harvest import open_unit_store, open_unit_stores
from assets.harvest.storeview import unit_db_path
from assets.harvest.unitstore import SCHEMAS
from assets.normalize import pool
from assets.normalize.build import StepSeconds, normalize_units
from core.warehouse import connect

UNITS = ["mzj", "teda", "ftz", "jyj", "xcjd", "qzf"]
NOW = datetime(2021, 3, 1, 8)


def table_rows(db) -> dict[str, list[tuple]]:
    with connect(db, read_only=True) as con:
        return {name: sorted(con.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
                for name in schemas.load_schema().tables}


def test_extraction_in_worker_processes_gives_the_rows_of_extraction_in_process(pipeline_data, tmp_path, monkeypatch):
    units = [pipeline_data.registry.get(u) for u in UNITS]
    steps = StepSeconds()
    normalize_units(units, pipeline_data.store_dir, tmp_path / "serial.duckdb", now=NOW, workers=0, steps=steps)
    monkeypatch.setattr(pool, "POOL_THRESHOLD", 0)  # start workers whatever the batch's size
    spawned = []
    real_executor = pool.ProcessPoolExecutor

    def counting_executor(*args, **kwargs):
        spawned.append(args)
        return real_executor(*args, **kwargs)

    monkeypatch.setattr(pool, "ProcessPoolExecutor", counting_executor)
    normalize_units(units, pipeline_data.store_dir, tmp_path / "workers.duckdb", now=NOW, workers=2, batch_size=2)
    assert spawned == [(2,)], "the pool of two workers was started once"
    serial, parallel = table_rows(tmp_path / "serial.duckdb"), table_rows(tmp_path / "workers.duckdb")
    assert len(serial["resources"]) == steps.pages_extracted > 200
    for name in serial:
        assert parallel[name] == serial[name], name


def test_an_unchanged_harvest_rewrites_only_units_and_columns(pipeline_data, tmp_path):
    units = [pipeline_data.registry.get(u) for u in UNITS]
    db = tmp_path / "zwgk.duckdb"
    normalize_units(units, pipeline_data.store_dir, db, now=NOW)
    before = table_rows(db)
    with connect(db, read_only=True) as con:
        [(first,)] = con.execute("SELECT max(snapshot_id) FROM ducklake_snapshots('lake')").fetchall()
    steps = StepSeconds()
    summaries = normalize_units(units, pipeline_data.store_dir, db, now=datetime(2021, 3, 2, 8), steps=steps)
    with connect(db, read_only=True) as con:
        [(last,)] = con.execute("SELECT max(snapshot_id) FROM ducklake_snapshots('lake')").fetchall()
        changed = {name: con.execute(f"SELECT count(*) FROM table_changes('{name}', {first + 1}, {last})").fetchone()[0]
                   for name in ("resources", "attachments", "list_items", "link_checks", "units", "columns")}
    assert steps.pages_extracted == 0
    assert steps.units_unchanged == len([u for u in summaries if u.resources]) >= 4
    assert changed["resources"] == changed["attachments"] == changed["list_items"] == changed["link_checks"] == 0
    assert changed["units"] > 0 and changed["columns"] > 0  # their last_seen moved
    after = table_rows(db)
    for name in ("resources", "attachments", "list_items", "link_checks"):
        assert after[name] == before[name], name
    assert [s.reused for s in summaries] == [s.resources for s in summaries]


def test_a_new_schema_version_re_extracts_every_page(pipeline_data, tmp_path, monkeypatch):
    """The input hashes include the schema version: a schema bump rebuilds every unit."""
    units = [pipeline_data.registry.get(u) for u in UNITS[:2]]
    db = tmp_path / "zwgk.duckdb"
    normalize_units(units, pipeline_data.store_dir, db, now=NOW)
    monkeypatch.setattr(schemas, "SCHEMA_VERSION", "99.0.0")
    steps = StepSeconds()
    summaries = normalize_units(units, pipeline_data.store_dir, db, now=NOW, steps=steps)
    assert steps.units_unchanged == 0 and steps.pages_extracted == sum(s.resources for s in summaries) > 40


def test_reading_many_unit_stores_at_once_equals_reading_each_file(pipeline_data):
    ids = [*UNITS, "no-such-unit"]
    views = open_unit_stores(pipeline_data.store_dir, ids)
    assert sorted(views) == sorted(UNITS), "a unit never harvested is left out"
    for unit_id in UNITS:
        with duckdb.connect(str(unit_db_path(pipeline_data.store_dir, unit_id)), read_only=True) as con:
            for name in ("pages", "columns", "column_items", "link_checks", "host_checks", "access"):
                order = " ORDER BY column_url, position" if name == "column_items" else ""
                expected = con.sql(f"SELECT * FROM {name}{order}").to_arrow_table().cast(SCHEMAS[name])
                got = getattr(views[unit_id], name)
                assert got.num_rows == expected.num_rows and got.equals(expected), (unit_id, name)
        assert views[unit_id].pages.num_rows > 20
    with pytest.raises(FileNotFoundError, match="no-such-unit"):
        open_unit_store(pipeline_data.store_dir, "no-such-unit")
