"""The warehouse on DuckLake: opening the lake, atomic writes, readers beside a writer, migration,
writers in several processes at once. Tests taking `lake_catalog` run on both catalogs: the
embedded DuckDB file and a fresh PostgreSQL database (tests/lake_catalogs.py)."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

import schemas
from core import lake, warehouse
from catalog.local import stack_postgres
from lake_catalogs import catalog_in_env
from core.warehouse import WarehouseLockedError, WriteConflictError, connect, replace_unit, replace_units

REPO = Path(__file__).resolve().parent.parent


FILLERS = {"string": "x", "json": "{}", "date": date(2021, 1, 1), "timestamp": datetime(2021, 1, 1),
           "boolean": False, "integer": 0, "bigint": 0, "double": 0.0, "list<string>": []}


def rows_of(table: str, rows: list[dict]) -> pa.Table:
    """`rows` with every required field the test does not care about filled in."""
    required = {f.name: FILLERS[f.type] for f in schemas.table(table).fields if f.required}
    return pa.Table.from_pylist([{**required, **row} for row in rows], schema=schemas.arrow_schema(table))


def resources(unit_id: str, count: int, title: str = "通知") -> pa.Table:
    return rows_of("resources", [{"resource_id": f"{unit_id}-{i}", "unit_id": unit_id, "title": f"{title}{i}",
                                  "url": f"http://h/{unit_id}/{i}.html", "body_text": "正文" * 20 + str(i)}
                                 for i in range(count)])


def unit_row(unit_id: str) -> pa.Table:
    return rows_of("units", [{"unit_id": unit_id, "name": f"区{unit_id}局", "kind": "bureau"}])


def titles(con, unit_id: str) -> set[str]:
    return {t for (t,) in con.execute("SELECT title FROM resources WHERE unit_id = ?", [unit_id]).fetchall()}


def test_the_embedded_catalog_is_a_duckdb_file_with_the_data_beside_it(tmp_path):
    db = tmp_path / "zwgk.duckdb"
    with connect(db) as con:
        replace_unit(con, "jyj", {"units": unit_row("jyj"), "resources": resources("jyj", 3000)})
        [(name, path, kind)] = con.execute(
            "SELECT database_name, path, type FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchall()
    assert (name, kind, Path(path)) == ("lake", "ducklake", db.resolve())
    data = tmp_path / "zwgk.lake"
    assert lake.catalog_for(db) == lake.Catalog(str(db.resolve()), str(data.resolve()) + "/", embedded=True)
    assert list(data.rglob("*.parquet")), "the resources are Parquet files in the data folder"


def test_the_schema_ddl_creates_every_table_in_the_lake(tmp_path, lake_catalog):
    with connect(tmp_path / "w.duckdb") as con:
        tables = {t for (t,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'lake'").fetchall()}
    assert tables == set(schemas.load_schema().tables)
    assert "PRIMARY KEY" not in schemas.all_ddl() and "UNIQUE" not in schemas.all_ddl()  # DuckLake has neither


def test_a_reopened_lake_sees_committed_rows(tmp_path, lake_catalog):
    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        replace_units(con, ["jyj", "mzj"], [{"resources": resources("jyj", 5)}, {"resources": resources("mzj", 7)}])
    with connect(db, read_only=True) as con:
        assert con.execute("SELECT unit_id, count(*) FROM resources GROUP BY 1 ORDER BY 1").fetchall() == [
            ("jyj", 5), ("mzj", 7)]


def test_a_moved_embedded_lake_opens(tmp_path):
    db = tmp_path / "a" / "w.duckdb"
    with connect(db) as con:
        replace_units(con, ["jyj", "mzj"], [{"resources": resources("jyj", 5)}, {"resources": resources("mzj", 7)}])
    (tmp_path / "a").rename(tmp_path / "b")  # a backup restored elsewhere: catalog file and data folder together
    with connect(tmp_path / "b" / "w.duckdb", read_only=True) as con:
        assert con.execute("SELECT count(*) FROM resources").fetchone()[0] == 12


def test_replacing_a_unit_leaves_the_others(tmp_path, lake_catalog):
    with connect(tmp_path / "w.duckdb") as con:
        replace_units(con, ["jyj", "mzj"], [{"resources": resources("jyj", 5)}, {"resources": resources("mzj", 5)}])
        replace_unit(con, "jyj", {"resources": resources("jyj", 2, title="新")})
        assert titles(con, "jyj") == {"新0", "新1"} and len(titles(con, "mzj")) == 5
        assert set(warehouse.existing_resources(con, "jyj")) == {"jyj-0", "jyj-1"}
        assert warehouse.unit_rows(con, "mzj")["resources"].num_rows == 5


def test_a_failure_mid_transaction_leaves_the_previous_rows(tmp_path, monkeypatch, lake_catalog):
    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        replace_unit(con, "jyj", {"units": unit_row("jyj"), "resources": resources("jyj", 3000)})
    load_table = warehouse.load_table

    def fail_after_resources(con, name, rows):
        load_table(con, name, rows)
        if name == "resources":  # units deleted and rewritten, resources deleted and rewritten: then fail
            raise RuntimeError("disk full")

    monkeypatch.setattr(warehouse, "load_table", fail_after_resources)
    with connect(db) as con:
        with pytest.raises(RuntimeError, match="disk full"):
            replace_unit(con, "jyj", {"units": unit_row("jyj"), "resources": resources("jyj", 10, title="半")})
        assert len(titles(con, "jyj")) == 3000 and "半0" not in titles(con, "jyj")
    with connect(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM resources").fetchone()[0] == 3000
        assert con.execute("SELECT count(*) FROM units").fetchone()[0] == 1


def test_rows_that_do_not_fit_the_schema_change_nothing(tmp_path, lake_catalog):
    with connect(tmp_path / "w.duckdb") as con:
        replace_unit(con, "jyj", {"resources": resources("jyj", 4)})
        with pytest.raises(KeyError):
            replace_unit(con, "jyj", {"resources": pa.table({"resource_id": ["x"]})})
        assert len(titles(con, "jyj")) == 4


def test_readers_in_other_processes_read_at_once_and_wait_for_a_writer(tmp_path):
    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        replace_unit(con, "jyj", {"resources": resources("jyj", 5)})
    reader = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(REPO)!r})
        from core.warehouse import connect
        with connect({str(db)!r}, read_only=True, wait_seconds=60) as con:
            print(con.execute("SELECT count(*) FROM resources").fetchone()[0], flush=True)
            sys.stdin.readline()  # hold the lake open until told
    """)
    first, second = (subprocess.Popen([sys.executable, "-c", reader], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      text=True) for _ in range(2))
    try:
        assert first.stdout.readline().strip() == second.stdout.readline().strip() == "5"  # two readers at once
        with pytest.raises(WarehouseLockedError, match=str(db)):
            with connect(db, wait_seconds=0.5):
                pass
        for process in (first, second):
            process.stdin.write("\n")
            process.stdin.flush()
            assert process.wait(timeout=30) == 0
        with connect(db, wait_seconds=10) as con:  # the writer gets in once the readers are gone
            replace_unit(con, "jyj", {"resources": resources("jyj", 1)})
    finally:
        for process in (first, second):
            process.kill()


def test_reading_a_missing_warehouse_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="run the normalize stage"):
        with connect(tmp_path / "nowhere.duckdb", read_only=True):
            pass


def test_migrate_adds_the_columns_an_older_lake_lacks(tmp_path, lake_catalog):
    db = tmp_path / "w.duckdb"
    con = duckdb.connect()
    lake.attach(con, lake.catalog_for(db), read_only=False)
    fields = schemas.table("units").fields
    # An older lake: units without its last two fields, and `name` still NOT NULL.
    old = [f'"{f.name}" {f.sql_type}{" NOT NULL" if f.name in ("unit_id", "name") else ""}' for f in fields[:-2]]
    con.execute(f'CREATE TABLE units ({", ".join(old)})')
    con.register("old_row", unit_row("old").select([f.name for f in fields[:-2]]))
    con.execute("INSERT INTO units SELECT * FROM old_row")
    con.close()
    with connect(db) as con:
        columns = [c for (c,) in con.execute("SELECT column_name FROM duckdb_columns() WHERE database_name = 'lake' "
                                             "AND table_name = 'units' ORDER BY column_index").fetchall()]
        assert columns == schemas.table("units").field_names
        assert warehouse.existing_unit(con, "old")[fields[-1].name] is None
        replace_unit(con, "new", {"units": unit_row("new")})
        assert con.execute("SELECT count(*) FROM units").fetchone()[0] == 2


def test_the_catalog_comes_from_configuration(tmp_path, monkeypatch):
    monkeypatch.setenv("ZWGK_LAKE_CATALOG", "postgres:dbname=zwgk host=db")
    with pytest.raises(ValueError, match="ZWGK_LAKE_DATA"):
        lake.catalog_for(tmp_path / "w.duckdb")
    monkeypatch.setenv("ZWGK_LAKE_DATA", "/shared/lake")
    catalog = lake.catalog_for(tmp_path / "w.duckdb")
    assert catalog == lake.Catalog("postgres:dbname=zwgk host=db", "/shared/lake/", embedded=False)
    assert catalog.is_postgres


def test_a_password_in_the_catalog_setting_is_never_shown(tmp_path, monkeypatch):
    monkeypatch.setenv("ZWGK_LAKE_CATALOG", "postgres:dbname=zwgk host=db password=hunter2 user=zwgk")
    monkeypatch.delenv("ZWGK_LAKE_DATA", raising=False)
    with pytest.raises(ValueError, match="ZWGK_LAKE_DATA") as raised:
        lake.catalog_for(tmp_path / "w.duckdb")
    assert "hunter2" not in str(raised.value) and "password=***" in str(raised.value)
    monkeypatch.setenv("ZWGK_LAKE_DATA", "/shared/lake")
    assert lake.catalog_for(tmp_path / "w.duckdb").display == "postgres:dbname=zwgk host=db password=*** user=zwgk"


def test_a_missing_extension_names_the_package_and_the_path(monkeypatch):
    with pytest.raises(lake.ExtensionMissingError, match="duckdb-extension-nonesuch"):
        lake.extension_path("nonesuch")
    monkeypatch.setattr(duckdb, "__version__", "0.0.1")
    with pytest.raises(lake.ExtensionMissingError, match=r"v0\.0\.1/ducklake\.duckdb_extension"):
        lake.extension_path("ducklake")


def test_the_postgres_catalog_keeps_the_metadata_in_postgres_and_the_data_in_the_shared_path(tmp_path):
    data = tmp_path / "shared-lake"
    with catalog_in_env("postgres", data) as catalog:
        with connect(tmp_path / "unused.duckdb") as con:
            replace_unit(con, "jyj", {"units": unit_row("jyj"), "resources": resources("jyj", 3000)})
            [(kind,)] = con.execute("SELECT type FROM duckdb_databases() WHERE database_name = 'lake'").fetchall()
        dbname = catalog.env["ZWGK_LAKE_CATALOG"].split("dbname=")[1].split()[0]
        files = stack_postgres().psql("SELECT count(*) FROM ducklake_data_file", dbname=dbname)
        assert files.returncode == 0 and int(files.stdout) >= 1, files.stderr  # resources (a one-row insert is inlined)
    assert kind == "ducklake"
    assert list(data.rglob("*.parquet")), "the data files are in ZWGK_LAKE_DATA"
    assert not (tmp_path / "unused.duckdb").exists(), "the warehouse path is not used with a configured catalog"


class Interference:
    """Another writer that commits to `resources` (deleting a unit's rows) while our transaction
    is open, after our own insert into it: our COMMIT then meets a real DuckLake conflict."""

    def __init__(self, monkeypatch, times: int):
        self.left = times
        self.busy = False
        self.load_table = warehouse.load_table
        monkeypatch.setattr(warehouse, "load_table", self)

    def __call__(self, con, name, rows):
        self.load_table(con, name, rows)
        if name == "resources" and self.left > 0 and not self.busy:
            self.left -= 1
            self.busy = True
            try:  # a cursor has its own transaction on the same lake
                replace_unit(warehouse.cursor(con), "other", {"resources": resources("other", 2 + self.left)})
            finally:
                self.busy = False


def test_a_write_that_meets_a_conflict_is_run_again_whole(tmp_path, monkeypatch, caplog, lake_catalog):
    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        replace_units(con, ["jyj", "other"], [{"resources": resources("jyj", 7)}, {"resources": resources("other", 9)}])
        interference = Interference(monkeypatch, times=2)
        with caplog.at_level(logging.WARNING, logger="core.warehouse"):
            replace_unit(con, "jyj", {"units": unit_row("jyj"), "resources": resources("jyj", 5, title="新")})
        assert interference.left == 0
        conflicts = [r.getMessage() for r in caplog.records if "write conflict" in r.getMessage()]
        assert len(conflicts) == 2 and all(m.startswith("unit jyj: ") for m in conflicts), conflicts
        # Ours committed once (no duplicate rows), the other writer's last commit is kept.
        assert sorted(titles(con, "jyj")) == [f"新{i}" for i in range(5)]
        assert con.execute("SELECT count(*) FROM resources WHERE unit_id = 'other'").fetchone()[0] == 2
        assert con.execute("SELECT count(*) FROM units").fetchone()[0] == 1


def test_a_write_that_keeps_conflicting_fails_naming_its_units_and_changes_nothing(tmp_path, monkeypatch,
                                                                                  lake_catalog):
    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        replace_units(con, ["jyj", "other"], [{"resources": resources("jyj", 7)}, {"resources": resources("other", 9)}])
        monkeypatch.setenv("ZWGK_CONFLICT_RETRIES", "3")
        Interference(monkeypatch, times=3)
        with pytest.raises(WriteConflictError, match=r"units jyj, mzj: not written, .* all 3 attempts"):
            replace_units(con, ["jyj", "mzj"], [{"resources": resources("jyj", 5, title="新")},
                                                {"resources": resources("mzj", 5)}])
        assert len(titles(con, "jyj")) == 7 and "新0" not in titles(con, "jyj")
        assert titles(con, "mzj") == set()


OPENER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {repo!r})
    from core.warehouse import connect, replace_unit
    sys.stdin.readline()  # start together
    with connect(sys.argv[1], wait_seconds=120) as con:
        print(con.execute("SELECT count(*) FROM resources").fetchone()[0], flush=True)
""").format(repo=str(REPO))


def test_writers_opening_a_new_lake_at_once_all_get_in(tmp_path, lake_catalog):
    """On PostgreSQL the first ATTACH creates the catalog's tables: writers starting together on
    an empty database race to do it, and the losers open the winner's lake."""
    openers = [subprocess.Popen([sys.executable, "-c", OPENER, str(tmp_path / "w.duckdb")], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    try:
        for process in openers:
            process.stdin.write("go\n")
            process.stdin.flush()
        for process in openers:
            out, err = process.communicate(timeout=180)
            assert process.returncode == 0 and out.rstrip().endswith("0"), err[-3000:]
    finally:
        for process in openers:
            process.kill()


WRITER = textwrap.dedent("""
    import sys
    sys.path[:0] = [{repo!r}, {tests!r}]
    from core.warehouse import connect, replace_unit
    from test_warehouse import resources, unit_row

    db, writer, units, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    sys.stdin.readline()  # start together
    for round in range(rounds):
        for number in range(units):
            unit = f"{{writer}}u{{number}}"
            with connect(db, wait_seconds=300) as con:  # one step per unit write, as a Celery worker runs it
                replace_unit(con, unit, {{"units": unit_row(unit), "resources": resources(unit, 40 + round, title=f"r{{round}}-")}})
    print("done", flush=True)
""").format(repo=str(REPO), tests=str(REPO / "tests"))


def test_writers_in_four_processes_at_once_all_commit_every_row_once(tmp_path, lake_catalog):
    """On PostgreSQL they commit concurrently (conflicts are retried); on the embedded catalog
    they take turns on the file lock. Either way no row is lost or written twice."""
    db = tmp_path / "w.duckdb"
    with connect(db):
        pass  # the lake and its tables exist before the writers race
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(db), f"w{n}", "2", "2"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in range(4)]
    try:
        for process in writers:
            process.stdin.write("go\n")
            process.stdin.flush()
        for process in writers:
            out, err = process.communicate(timeout=240)
            assert process.returncode == 0 and out.rstrip().endswith("done"), err[-3000:]
    finally:
        for process in writers:
            process.kill()
    units = [f"w{n}u{k}" for n in range(4) for k in range(2)]
    with connect(db, read_only=True) as con:
        counts = dict(con.execute("SELECT unit_id, count(*) FROM resources GROUP BY 1").fetchall())
        distinct = dict(con.execute("SELECT unit_id, count(DISTINCT resource_id) FROM resources GROUP BY 1").fetchall())
        rounds = {t[:3] for (t,) in con.execute("SELECT DISTINCT title FROM resources").fetchall()}
        [(unit_rows,)] = con.execute("SELECT count(*) FROM units").fetchall()
    assert counts == distinct == {unit: 41 for unit in units}  # the last round's 41 rows, each once
    assert rounds == {"r1-"} and unit_rows == len(units)


def test_core_imports_no_stage_and_no_cli():
    """core/ is the bottom floor: stages and the CLI import it, never the other way round."""
    import ast

    above = ("assets", "zwgk", "orchestration", "sample_portal")
    for source in (REPO / "core").glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not [n for n in names if n.split(".")[0] in above], f"{source.name} imports {names}"
