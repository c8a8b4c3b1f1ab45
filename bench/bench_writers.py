"""Concurrent writers: how fast several processes replace units in the lake, per catalog.

Each writer process is what a Celery worker on the general queue does for its normalize steps:
per unit, open the warehouse (`core.warehouse.connect`), replace the unit's rows in one
transaction (`replace_unit`, with its conflict retries), close. The rows are built, and the units
first written, before the clock starts (bench_load's realistic resources), so the timed writes
replace existing rows, as re-normalizing does, and this measures the storage alone: on the
embedded catalog the writers take turns on the DuckDB file lock, on PostgreSQL they commit
concurrently and a transaction that meets another's commit is re-run whole.

The PostgreSQL catalog is a fresh database on the catalog stack's PostgreSQL (catalog/stack.sh up),
dropped afterwards; the data files go to a temporary directory. Prints one line per run:
catalog, writers, units, seconds, units/s, rows/s, conflicts retried.

    uv run python bench/bench_writers.py --catalog embedded postgres --writers 1 2 4 --units 8 --per-unit 500
    uv run python bench/bench_writers.py --one-connection --units 16     # commits only, no per-step open
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import secrets
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from bench_load import unit_resources
from catalog.local import stack_postgres


def writer(db: str, units: list[str], per_unit: int, start, results, one_connection: bool) -> None:
    conflicts = []

    class CountConflicts(logging.Handler):
        def emit(self, record):
            if "write conflict" in record.getMessage():
                conflicts.append(record)

    logging.getLogger("core.warehouse").addHandler(CountConflicts())
    from core.warehouse import connect, replace_unit

    rows = {unit: unit_resources(unit, per_unit) for unit in units}
    with connect(db, wait_seconds=600) as con:  # the units exist already: the timed writes replace rows,
        for unit in units:                      # as re-normalizing does (deletes are what conflict)
            replace_unit(con, unit, {"resources": rows[unit]})
    conflicts.clear()
    start.wait()
    if one_connection:  # the storage's own throughput: no per-step open
        with connect(db, wait_seconds=600) as con:
            for unit in units:
                replace_unit(con, unit, {"resources": rows[unit]})
    else:
        for unit in units:
            with connect(db, wait_seconds=600) as con:
                replace_unit(con, unit, {"resources": rows[unit]})
    results.put(len(conflicts))


def run(db: Path, writers: int, units: int, per_unit: int, one_connection: bool) -> tuple[float, int]:
    """Seconds from the common start until the last writer finished, and conflicts retried."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(writers + 1)
    results = context.Queue()
    names = [f"w{w}-u{u}" for w in range(writers) for u in range(units // writers)]
    processes = [context.Process(target=writer, args=(str(db), names[w::writers], per_unit, start, results, one_connection))
                 for w in range(writers)]
    for process in processes:
        process.start()
    start.wait()
    began = time.perf_counter()
    conflicts = sum(results.get(timeout=1800) for _ in processes)
    seconds = time.perf_counter() - began
    for process in processes:
        process.join()
        if process.exitcode:
            raise SystemExit(f"a writer failed (exit {process.exitcode})")
    return seconds, conflicts


@contextmanager
def catalog(name: str, work: Path) -> Iterator[None]:
    """The catalog set in the environment that the writers inherit; a PostgreSQL database is dropped after."""
    if name == "embedded":
        os.environ.pop("ZWGK_LAKE_CATALOG", None)
        os.environ.pop("ZWGK_LAKE_DATA", None)
        yield
        return
    pg = stack_postgres()
    dbname = f"zwgk_bench_writers_{secrets.token_hex(4)}"
    created = pg.psql(f"CREATE DATABASE {dbname} TEMPLATE template0")
    if created.returncode:
        raise SystemExit(f"cannot create {dbname} on the stack's PostgreSQL (catalog/stack.sh up?): {created.stderr}")
    os.environ["ZWGK_LAKE_CATALOG"] = "postgres:" + pg.libpq(dbname)
    os.environ["ZWGK_LAKE_DATA"] = str(work / "data")
    try:
        yield
    finally:
        os.environ.pop("ZWGK_LAKE_CATALOG")
        os.environ.pop("ZWGK_LAKE_DATA")
        pg.psql(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", nargs="+", choices=("embedded", "postgres"), default=["embedded", "postgres"])
    parser.add_argument("--writers", nargs="+", type=int, default=[1, 2, 4])
    parser.add_argument("--units", type=int, default=8, help="units per run, shared among the writers")
    parser.add_argument("--per-unit", type=int, default=500, help="resource rows per unit")
    parser.add_argument("--one-connection", action="store_true",
                        help="each writer opens the warehouse once for all its units (on the embedded "
                             "catalog the first writer then holds the file until it is done)")
    args = parser.parse_args()
    print("catalog   writers  units  seconds  units/s   rows/s  conflicts retried", flush=True)
    for name in args.catalog:
        for writers in args.writers:
            with tempfile.TemporaryDirectory(prefix="bench-writers-") as work, catalog(name, Path(work)):
                db = Path(work) / "zwgk.duckdb"
                from core.warehouse import connect

                with connect(db):
                    pass  # the lake and its tables, before the clock
                units = args.units // writers * writers
                seconds, conflicts = run(db, writers, units, args.per_unit, args.one_connection)
                with connect(db, read_only=True) as con:
                    [(rows, distinct)] = con.execute(
                        "SELECT count(*), count(DISTINCT resource_id) FROM resources").fetchall()
                if not rows == distinct == units * args.per_unit:
                    raise SystemExit(f"{name}, {writers} writers: {rows} rows ({distinct} distinct), "
                                     f"expected {units * args.per_unit} each once")
                print(f"{name:9} {writers:7d} {units:6d} {seconds:8.2f} {units / seconds:8.2f} "
                      f"{units * args.per_unit / seconds:8.0f} {conflicts:18d}", flush=True)


if __name__ == "__main__":
    main()
