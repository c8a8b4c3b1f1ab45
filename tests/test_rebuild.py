"""Rebuilding the warehouse from the harvest store (`zwgk normalize --rebuild`): the upgrade path
when a DuckDB release cannot read the files another one wrote (README, "Upgrading DuckDB")."""

from __future__ import annotations

import os
import shutil
from datetime import date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

import schemas
from assets.normalize import build
from assets.normalize.build import normalize_units, rebuild_units
from assets.validate import validate_warehouse
from core import lake
from core.warehouse import connect
from zwgk.cli import app

runner = CliRunner()
FIRST_RUN, SECOND_RUN = datetime(2021, 1, 10), datetime(2021, 2, 20)
# Columns that say when a normalize run happened, not what the harvest holds: a rebuild is a
# first run, so it sets them to its own time. Every other column of every table must be equal.
RUN_DEPENDENT = {
    "units": ("first_seen", "last_seen"),      # first and last normalize run the unit was in
    "columns": ("first_seen", "last_seen"),    # first and last normalize run that saw the column
}


def table_rows(db: Path, *, skip: dict[str, tuple[str, ...]] = RUN_DEPENDENT) -> dict[str, list[tuple]]:
    """Every table of the warehouse, every row, sorted, without the run-dependent columns."""
    out = {}
    with connect(db, read_only=True) as con:
        for name, spec in schemas.load_schema().tables.items():
            kept = [f'"{f}"' for f in spec.field_names if f not in skip.get(name, ())]
            out[name] = sorted(con.execute(f'SELECT {", ".join(kept)} FROM "{name}"').fetchall(), key=repr)
    return out


def beside(db: Path) -> set[str]:
    return {p.name for p in db.parent.iterdir()}


@pytest.fixture(scope="module")
def deployed(small_harvest, tmp_path_factory) -> Path:
    """The pipeline run twice (history), then validated: the warehouse a deployment has."""
    db = tmp_path_factory.mktemp("deployed") / "zwgk.duckdb"
    units = list(small_harvest.registry.units)
    normalize_units(units, small_harvest.store_dir, db, now=FIRST_RUN, registered=small_harvest.registry.ids)
    normalize_units(units, small_harvest.store_dir, db, now=SECOND_RUN, registered=small_harvest.registry.ids)
    validate_warehouse(db, date(2021, 3, 1), run_id="before-rebuild")
    return db


@pytest.fixture
def warehouse(deployed, tmp_path) -> Path:
    """A copy of the deployed warehouse (catalog file and data folder) of this test's own."""
    db = tmp_path / deployed.name
    shutil.copy2(deployed, db)
    assert not deployed.with_name(deployed.name + ".wal").exists()  # closed cleanly: the file is whole
    shutil.copytree(lake.data_dir(deployed), lake.data_dir(db))
    return db


def test_zwgk_normalize_rebuild_gives_the_same_tables_row_for_row(small_harvest, warehouse):
    original = table_rows(warehouse)
    assert len(original["resources"]) > 100 and len(original["check_results"]) > 50
    old_files = set(lake.data_dir(warehouse).rglob("*.parquet"))

    result = runner.invoke(app, ["normalize", "--rebuild", "--units", str(small_harvest.portal_dir / "registry.yaml"),
                                 "--store", str(small_harvest.store_dir), "--db", str(warehouse)])

    assert result.exit_code == 0, result.output
    assert "rebuilt" in result.output
    rebuilt = table_rows(warehouse)
    for name in original:
        assert rebuilt[name] == original[name], f"table {name} differs after the rebuild"
    # The run-dependent columns are the rebuild's own time, and the same in every row it wrote.
    with connect(warehouse, read_only=True) as con:
        [(first, last)] = con.execute("SELECT DISTINCT first_seen, last_seen FROM units").fetchall()
    assert first == last > SECOND_RUN
    # A new lake: none of the old data files, no staging or journal left beside it.
    assert not old_files & set(lake.data_dir(warehouse).rglob("*.parquet"))
    assert beside(warehouse) == {"zwgk.duckdb", "zwgk.lake"}
    # The validation re-derived on the rebuilt rows decides every check exactly as before.
    validate_warehouse(warehouse, date(2021, 3, 1), run_id="after-rebuild")
    with connect(warehouse, read_only=True) as con:
        verdicts = {run: sorted(con.execute(
            "SELECT unit_id, check_id, status, message, evidence_url FROM check_results WHERE run_id = ?",
            [run]).fetchall()) for run in ("before-rebuild", "after-rebuild")}
    assert verdicts["after-rebuild"] == verdicts["before-rebuild"]


def test_a_rebuild_failing_midway_keeps_the_current_warehouse(small_harvest, warehouse, monkeypatch):
    original = table_rows(warehouse, skip={})
    real = build.warehouse.replace_units
    batches = []

    def fail_on_second_batch(con, unit_ids, tables, hosts=(), **kwargs):
        batches.append(unit_ids)
        if len(batches) == 2:
            raise OSError("disk full (injected)")
        real(con, unit_ids, tables, hosts, **kwargs)

    monkeypatch.setattr(build.warehouse, "replace_units", fail_on_second_batch)
    with pytest.raises(OSError, match="disk full"):
        rebuild_units(list(small_harvest.registry.units), small_harvest.store_dir, warehouse, batch_size=2)
    assert len(batches) == 2
    assert table_rows(warehouse, skip={}) == original
    assert beside(warehouse) == {"zwgk.duckdb", "zwgk.lake"}, "the staging lake was left behind"


def test_a_swap_interrupted_by_a_crash_is_finished_by_the_next_open(small_harvest, warehouse):
    """The state a crash between the swap's renames leaves (journal written, the old data moved
    aside, the new data and catalog not yet in place): the next open completes the swap."""
    staging = lake.staging_path(warehouse)
    normalize_units(list(small_harvest.registry.units), small_harvest.store_dir, staging, now=datetime(2022, 1, 1))
    expected = table_rows(staging, skip={})
    lake._journal(warehouse).write_text(f"{staging}\n")
    os.rename(lake.data_dir(warehouse), lake._replaced_data(warehouse))  # step 1 done, then the crash

    with connect(warehouse, read_only=True) as con:
        [(seen,)] = con.execute("SELECT max(last_seen) FROM units").fetchall()
    assert seen == datetime(2022, 1, 1)
    assert table_rows(warehouse, skip={}) == expected
    assert beside(warehouse) == {"zwgk.duckdb", "zwgk.lake"}


def test_a_warehouse_this_duckdb_cannot_read_is_rebuilt_from_the_harvest(small_harvest, warehouse):
    """As after a downgrade from a release with a newer file format: the old catalog does not
    open, so nothing comes from it (no validation history) and every row comes from the harvest."""
    original = table_rows(warehouse)
    warehouse.write_bytes(b"written by a DuckDB from the future" + bytes(4096))
    with pytest.raises(Exception):
        with connect(warehouse, read_only=True):
            pass
    rebuild_units(list(small_harvest.registry.units), small_harvest.store_dir, warehouse,
                  registered=small_harvest.registry.ids)
    rebuilt = table_rows(warehouse)
    assert rebuilt["check_results"] == rebuilt["unit_scores"] == []
    assert {n: r for n, r in rebuilt.items() if n not in build_carried()} == \
        {n: r for n, r in original.items() if n not in build_carried()}


def build_carried() -> tuple[str, ...]:
    from core.rebuild import CARRIED_TABLES

    return CARRIED_TABLES


def test_a_unit_without_a_harvest_store_stops_the_rebuild_and_keeps_the_warehouse(small_harvest, warehouse):
    from core.registry import Unit

    original = table_rows(warehouse, skip={})
    ghost = Unit(id="ghost", name="区测试局", kind="bureau", url="http://www.bh.zwgk.test/ghost/zfxxgk/")
    with pytest.raises(build.RebuildIncompleteError, match="unit\\(s\\) ghost; harvest them first"):
        rebuild_units([*small_harvest.registry.units, ghost], small_harvest.store_dir, warehouse)
    assert table_rows(warehouse, skip={}) == original
    assert beside(warehouse) == {"zwgk.duckdb", "zwgk.lake"}


def test_rebuild_refuses_a_shared_catalog_and_a_single_unit(small_harvest, tmp_path, monkeypatch):
    registry = str(small_harvest.portal_dir / "registry.yaml")
    one = runner.invoke(app, ["normalize", "--rebuild", "--units", registry, "--unit", "qzf",
                              "--db", str(tmp_path / "w.duckdb")])
    assert one.exit_code == 2 and "takes no --unit" in one.output
    monkeypatch.setenv("ZWGK_LAKE_CATALOG", "postgres:dbname=zwgk host=db.invalid")
    monkeypatch.setenv("ZWGK_LAKE_DATA", str(tmp_path / "shared-data"))
    shared = runner.invoke(app, ["normalize", "--rebuild", "--units", registry, "--store",
                                 str(small_harvest.store_dir), "--db", str(tmp_path / "w.duckdb")])
    text = " ".join(shared.output.split())
    assert shared.exit_code == 1
    assert "postgres:dbname=zwgk host=db.invalid" in text and "rebuilds only the embedded catalog" in text
    assert list(tmp_path.iterdir()) == []
