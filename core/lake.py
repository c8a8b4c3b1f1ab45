"""Opening the lake: the DuckLake extension loaded by path, the catalog chosen, the lake attached.

DuckDB cannot download extensions here (nor on many government networks), so the extensions come
as Python packages (`duckdb-extension-ducklake`, `duckdb-extension-postgres-scanner`) built for one
DuckDB release each; pyproject.toml pins duckdb to that release.

The catalog is embedded by default: a DuckDB file (the warehouse path) holding the lake's metadata,
with the Parquet data in a folder beside it (`zwgk.duckdb` -> `zwgk.lake/`). Back up both together.
A deployment may name another catalog and data path instead (`ZWGK_LAKE_CATALOG`, `ZWGK_LAKE_DATA`),
e.g. `postgres:dbname=zwgk host=db` so that several machines write at once (docs/scale-out.md).
The PostgreSQL password never goes in that string: libpq reads it from `~/.pgpass` or `PGPASSFILE`.
"""

from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

LAKE = "lake"  # the attached catalog's name; connections USE it, so queries name tables bare


class ExtensionMissingError(RuntimeError):
    """The DuckDB extension's package is not installed for this DuckDB release."""


def extension_path(name: str) -> Path:
    """The extension file shipped by the `duckdb-extension-<name>` package for this duckdb."""
    package = f"duckdb_extension_{name}"
    version = duckdb.__version__
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ExtensionMissingError(
            f"DuckDB extension {name!r}: Python package {package} is not installed; install "
            f"duckdb-extension-{name.replace('_', '-')}=={version} (DuckDB cannot download extensions here)")
    path = Path(list(spec.submodule_search_locations)[0]) / "extensions" / f"v{version}" / f"{name}.duckdb_extension"
    if not path.is_file():
        raise ExtensionMissingError(
            f"DuckDB extension {name!r} not found at {path}: the installed {package} is not built for "
            f"duckdb {version}; install duckdb-extension-{name.replace('_', '-')}=={version}")
    return path


def load_extension(con: duckdb.DuckDBPyConnection, name: str) -> None:
    path = extension_path(name)
    try:
        con.execute(f"LOAD {_sql_string(str(path))}")
    except duckdb.Error as exc:
        raise ExtensionMissingError(f"DuckDB extension {name!r} at {path} does not load: {exc}") from exc


@dataclass(frozen=True)
class Catalog:
    """Where the lake's metadata (`catalog`: a DuckDB file or `postgres:…`) and data files live."""
    catalog: str
    data_path: str
    embedded: bool

    @property
    def is_postgres(self) -> bool:
        return self.catalog.startswith("postgres:")

    @property
    def display(self) -> str:
        """The catalog as messages and logs may show it: a password someone put in it is masked."""
        return redact(self.catalog)


def redact(catalog: str) -> str:
    return re.sub(r"(password\s*=\s*)('[^']*'|\S+)", r"\1***", catalog, flags=re.IGNORECASE)


def data_dir(warehouse: Path) -> Path:
    """The embedded catalog's data folder, beside its file: `var/zwgk.duckdb` -> `var/zwgk.lake/`."""
    return warehouse.with_name(warehouse.stem + ".lake")


def catalog_for(warehouse: str | Path) -> Catalog:
    """The catalog from configuration; by default the embedded one at the warehouse path."""
    configured = os.environ.get("ZWGK_LAKE_CATALOG", "").strip()
    if configured:
        data = os.environ.get("ZWGK_LAKE_DATA", "").strip()
        if not data:
            raise ValueError(f"ZWGK_LAKE_CATALOG={redact(configured)!r} needs ZWGK_LAKE_DATA, the data path all writers share")
        return Catalog(configured, data.rstrip("/") + "/", embedded=False)
    warehouse = Path(warehouse).resolve()
    return Catalog(str(warehouse), str(data_dir(warehouse)) + os.sep, embedded=True)


def attach(con: duckdb.DuckDBPyConnection, catalog: Catalog, *, read_only: bool,
           snapshot_version: int | None = None) -> None:
    """Load the extensions, ATTACH the lake as `lake` and make it the default database; with
    `snapshot_version`, the lake as it was at that snapshot (DuckLake time travel; read only)."""
    load_extension(con, "ducklake")
    if catalog.is_postgres:
        load_extension(con, "postgres_scanner")
    options = [f"DATA_PATH {_sql_string(catalog.data_path)}"]
    if catalog.embedded:
        # The data folder is wherever the catalog file is now: a restored or moved backup opens.
        options.append("OVERRIDE_DATA_PATH TRUE")
    if read_only:
        options.append("READ_ONLY")
    if snapshot_version is not None:
        options.append(f"SNAPSHOT_VERSION {int(snapshot_version)}")
    con.execute(f"ATTACH {_sql_string('ducklake:' + catalog.catalog)} AS {LAKE} ({', '.join(options)})")
    con.execute(f"USE {LAKE}")


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
