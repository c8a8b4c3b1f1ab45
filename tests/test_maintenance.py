"""Lake maintenance (core/maintenance.py, `zwgk maintain`, the Dagster job): old snapshots expire by
the retention, small files merge, unneeded files leave the disk, and the current state never changes."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from assets.normalize.build import normalize_units
from core import lake
from core.maintenance import DEFAULT_RETENTION_DAYS, ROW_GROUP_ROWS, current_files, maintain_warehouse, retention_days, snapshot_count
from core.warehouse import connect
from zwgk.cli import app

RUNS = [datetime(2021, 1, 1), datetime(2021, 2, 1), datetime(2021, 3, 1)]


def all_tables(db: Path) -> dict[str, list[tuple]]:
    """Every table, every row, sorted (the state a query sees)."""
    with connect(db, read_only=True) as con:
        names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                           "WHERE table_catalog = current_database() ORDER BY 1").fetchall()]
        return {n: sorted(con.execute(f'SELECT * FROM "{n}"').fetchall(), key=repr) for n in names}


def parquet_on_disk(db: Path) -> set[Path]:
    return set(lake.data_dir(db).rglob("*.parquet"))


def files_named_by_the_current_snapshot(db: Path) -> set[Path]:
    named = set()
    with connect(db, read_only=True) as con:
        for (table,) in con.execute("SELECT table_name FROM information_schema.tables "
                                    "WHERE table_catalog = current_database()").fetchall():
            for data, delete in con.execute(
                    f"SELECT data_file, delete_file FROM ducklake_list_files('lake', '{table}')").fetchall():
                named |= {Path(p) for p in (data, delete) if p}
    return named


def lake_state(db: Path) -> tuple[int, int]:
    with connect(db, read_only=True) as con:
        return snapshot_count(con), current_files(con).data_files


def latest_snapshot(db: Path) -> int:
    with connect(db, read_only=True) as con:
        [(snapshot,)] = con.execute("SELECT max(snapshot_id) FROM ducklake_snapshots('lake')").fetchall()
    return snapshot


@pytest.fixture
def several_runs(small_harvest, tmp_path) -> Path:
    """Every unit normalized one at a time (small files), three times over (superseded files)."""
    registry, store = small_harvest.registry, small_harvest.store_dir
    db = tmp_path / "zwgk.duckdb"
    for now in RUNS:
        normalize_units(list(registry.units), store, db, now=now, batch_size=1)
    return db


def test_retention_zero_keeps_the_current_state_and_removes_what_only_old_snapshots_used(several_runs):
    db = several_runs
    before_rows, before_disk = all_tables(db), parquet_on_disk(db)
    snapshots, files = lake_state(db)
    assert snapshots > 3 * 5 and files > 2 * 5

    summary = maintain_warehouse(db, keep_days=0)

    assert all_tables(db) == before_rows  # every row of every table, as a query sees it
    after_snapshots, after_files = lake_state(db)
    # Flushing inlined rows is a snapshot of its own; all but the latest expire.
    assert summary.snapshots_before in (snapshots, snapshots + 1)
    assert summary.snapshots_expired == summary.snapshots_before - 1
    assert after_snapshots <= 2  # the latest, and compaction's own
    assert after_files < files and summary.files_after.data_files == after_files
    assert summary.files_merged > 0 and summary.files_deleted > 0 and summary.bytes_freed > 0
    after_disk = parquet_on_disk(db)
    assert len(after_disk) < len(before_disk)
    # What is left on disk is exactly what the current snapshot reads: every superseded file is gone.
    assert after_disk == files_named_by_the_current_snapshot(db)
    assert len(before_disk - after_disk) == summary.files_deleted
    # Merged files keep small row groups, so one unit's rows are read without decoding the file.
    with connect(db, read_only=True) as con:
        options = {name: value for name, _, value, *_ in con.execute("SELECT * FROM ducklake_options('lake')").fetchall()}
    assert options["parquet_row_group_size"] == str(ROW_GROUP_ROWS)


def test_the_default_retention_keeps_old_states_readable(small_harvest, tmp_path):
    registry, store = small_harvest.registry, small_harvest.store_dir
    db = tmp_path / "zwgk.duckdb"
    normalize_units(list(registry.units), store, db, now=RUNS[0])
    first_run = latest_snapshot(db)
    normalize_units(list(registry.units), store, db, now=RUNS[1])
    snapshots, _ = lake_state(db)

    summary = maintain_warehouse(db)

    assert summary.retention_days == DEFAULT_RETENTION_DAYS and summary.snapshots_expired == 0
    with connect(db, read_only=True) as con:
        [(then,)] = con.execute(f"SELECT max(last_seen) FROM units AT (VERSION => {first_run})").fetchall()
        [(now,)] = con.execute("SELECT max(last_seen) FROM units").fetchall()
    assert (then, now) == (RUNS[0], RUNS[1])  # the first run's state is still there to be shown again
    assert lake_state(db)[0] >= snapshots
    maintain_warehouse(db, keep_days=0)
    with connect(db, read_only=True) as con, pytest.raises(duckdb.Error):
        con.execute(f"SELECT max(last_seen) FROM units AT (VERSION => {first_run})").fetchall()


def test_expiry_goes_by_snapshot_age(several_runs):
    """A retention of a few days expires only snapshots older than that (here: seen from the future)."""
    db = several_runs
    snapshots, _ = lake_state(db)
    assert maintain_warehouse(db, keep_days=3).snapshots_expired == 0
    in_ten_days = datetime.now(timezone.utc) + timedelta(days=10)
    assert maintain_warehouse(db, keep_days=3, now=in_ten_days, dry_run=True).snapshots_expired >= snapshots - 1


def test_dry_run_changes_nothing(several_runs):
    db = several_runs
    state, disk, rows = lake_state(db), parquet_on_disk(db), all_tables(db)
    summary = maintain_warehouse(db, keep_days=0, dry_run=True)
    assert summary.dry_run and summary.snapshots_expired == state[0] - 1
    assert lake_state(db) == state and parquet_on_disk(db) == disk and all_tables(db) == rows
    assert any("would expire" in line for line in summary.lines())


def test_a_file_no_snapshot_names_is_deleted_as_an_orphan(several_runs):
    """What a write killed before COMMIT leaves behind: Parquet in the data folder, in no snapshot."""
    db = several_runs
    some_file = sorted(parquet_on_disk(db))[0]
    orphan = some_file.with_name("ducklake-killed-mid-write.parquet")
    shutil.copy(some_file, orphan)
    rows, size = all_tables(db), orphan.stat().st_size
    summary = maintain_warehouse(db)  # default retention: only the orphan is unneeded
    assert not orphan.exists() and some_file.exists()
    assert summary.orphans_deleted == 1 and summary.bytes_freed >= size
    assert all_tables(db) == rows


def test_retention_comes_from_the_environment_or_the_caller(monkeypatch):
    monkeypatch.delenv("ZWGK_LAKE_RETENTION_DAYS", raising=False)
    assert retention_days() == DEFAULT_RETENTION_DAYS == 400
    monkeypatch.setenv("ZWGK_LAKE_RETENTION_DAYS", "30")
    assert retention_days() == 30 and retention_days(7) == 7
    monkeypatch.setenv("ZWGK_LAKE_RETENTION_DAYS", "a month")
    with pytest.raises(ValueError, match="ZWGK_LAKE_RETENTION_DAYS='a month' is not a number"):
        retention_days()
    with pytest.raises(ValueError, match="0 days or more"):
        retention_days(-1)


def test_zwgk_maintain_prints_a_summary(several_runs):
    runner = CliRunner()
    db = several_runs
    rows = all_tables(db)
    dry = runner.invoke(app, ["maintain", "--db", str(db), "--keep-days", "0", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would expire" in dry.output and lake_state(db)[0] > 2
    done = runner.invoke(app, ["maintain", "--db", str(db), "--keep-days", "0"])
    assert done.exit_code == 0, done.output
    text = " ".join(done.output.split())
    assert "expired" in text and "small files" in text and "freed" in text
    assert lake_state(db)[0] <= 2 and all_tables(db) == rows


def test_zwgk_maintain_names_a_missing_warehouse_and_a_bad_retention(tmp_path):
    runner = CliRunner()
    missing = runner.invoke(app, ["maintain", "--db", str(tmp_path / "none.duckdb")])
    assert missing.exit_code == 1 and "none.duckdb does not exist" in " ".join(missing.output.split())
    assert not (tmp_path / "none.duckdb").exists()
    with connect(tmp_path / "w.duckdb"):
        pass
    negative = runner.invoke(app, ["maintain", "--db", str(tmp_path / "w.duckdb"), "--keep-days", "-1"])
    assert negative.exit_code == 1 and "0 days or more" in negative.output


def test_the_dagster_job_maintains_the_warehouse_and_is_scheduled(several_runs):
    from orchestration.definitions import defs
    from orchestration.maintenance import lake_maintenance
    from orchestration.resources import StorageResource

    db = several_runs
    data_dir = db.parent / "data"
    data_dir.mkdir()
    for path in (db, lake.data_dir(db)):  # the resource keeps the warehouse as data_dir/zwgk.duckdb
        shutil.move(path, data_dir / path.name)
    db = data_dir / db.name
    rows = all_tables(db)
    result = lake_maintenance.execute_in_process(
        resources={"storage": StorageResource(data_dir=str(data_dir))},
        run_config={"ops": {"maintain_lake": {"config": {"keep_days": 0}}}})
    assert result.success
    assert lake_state(db)[0] <= 2 and all_tables(db) == rows
    schedule = defs.resolve_schedule_def("daily_lake_maintenance")
    assert schedule.job_name == "lake_maintenance" and schedule.cron_schedule == "0 5 * * *"
