"""The lake catalogs the storage tests run on: `embedded` (the default DuckDB-file catalog) and
`postgres` (a fresh database on the catalog stack's PostgreSQL, data files under the test's tmp dir).

The stack's PostgreSQL (catalog/stack.sh) listens on 127.0.0.1:$ZWGK_CKAN_PG_PORT (5433) with its
Unix socket in $ZWGK_CKAN_HOME/pg, where the superuser `postgres` has local trust: no password
exists anywhere in the tests. If PostgreSQL does not answer, `ensure_stack()` brings the stack up;
if it still does not, the test fails with the reason (never skipped).
"""

from __future__ import annotations

import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from catalog.local import StackPostgres, stack_postgres

CATALOGS = ("embedded", "postgres")


def require_postgres() -> StackPostgres:
    """The stack's PostgreSQL, answering; brought up with the stack if it is not."""
    pg = stack_postgres()
    if pg.psql("SELECT 1").returncode == 0:
        return pg
    from catalog.local import StackError, ensure_stack  # brings up CKAN too: only when needed

    try:
        ensure_stack()
    except StackError as exc:
        pytest.fail(f"the PostgreSQL lake catalog needs the stack's PostgreSQL, which did not start: {exc}")
    answer = pg.psql("SELECT 1")
    if answer.returncode != 0:
        pytest.fail(f"PostgreSQL at {pg.socket_dir} port {pg.port} does not answer after `stack.sh up`: "
                    f"{answer.stderr.strip()}")
    return pg


@dataclass(frozen=True)
class LakeCatalog:
    name: str  # "embedded" or "postgres"
    env: dict[str, str]  # what a process needs in its environment to open this lake (empty: embedded)


@contextmanager
def postgres_lake(data_dir: Path) -> Iterator[LakeCatalog]:
    """A new database `zwgk_lake_test_<random>` as the lake's catalog, dropped afterwards."""
    pg = require_postgres()
    dbname = f"zwgk_lake_test_{secrets.token_hex(6)}"
    created = pg.psql(f"CREATE DATABASE {dbname} ENCODING 'UTF8' TEMPLATE template0")
    if created.returncode != 0:
        pytest.fail(f"could not create the lake catalog database {dbname}: {created.stderr.strip()}")
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        yield LakeCatalog("postgres", {"ZWGK_LAKE_CATALOG": "postgres:" + pg.libpq(dbname),
                                       "ZWGK_LAKE_DATA": str(data_dir)})
    finally:
        dropped = pg.psql(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
        assert dropped.returncode == 0, f"could not drop {dbname}: {dropped.stderr.strip()}"


@contextmanager
def catalog_in_env(name: str, data_dir: Path) -> Iterator[LakeCatalog]:
    """The named catalog, set in this process's environment (ZWGK_LAKE_*) while in use."""
    if name == "embedded":
        with pytest.MonkeyPatch.context() as patch:
            patch.delenv("ZWGK_LAKE_CATALOG", raising=False)
            patch.delenv("ZWGK_LAKE_DATA", raising=False)
            yield LakeCatalog("embedded", {})
        return
    assert name == "postgres", name
    with postgres_lake(data_dir) as catalog, pytest.MonkeyPatch.context() as patch:
        for key, value in catalog.env.items():
            patch.setenv(key, value)
        yield catalog
