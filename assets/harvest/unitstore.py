"""Per-unit state: one DuckDB file per unit (`units/<unit_id>.duckdb`), written in Arrow batches.

One file per unit lets separate processes harvest different units at once. Rows are buffered
in memory; a batch is converted by `prepare()`, its raw bodies are written by `write_raw()`
and its rows by `commit()` in one transaction (raw bodies first, so a committed `sha256` always
has its raw file); a SIGKILL loses at most the unflushed buffer, and
the next run resumes from what was committed.

Tables (timestamps are naive UTC):
  fetch_log     append-only, one row per HTTP attempt (retries, 304s, HEAD checks, robots.txt)
  pages         current state per URL (PRIMARY KEY url); `links` is the JSON of an entry,
                column or list page's extracted links, reused when the page answers 304
  columns       one row per column found in the last run
  column_items  items per column in list order (replaced per column when its walk completes)
  link_checks   C18 evidence, PRIMARY KEY (source_url, target_url)
  host_checks   C19 evidence, PRIMARY KEY host
  access        the access outcome of the entry page and of every column in the last run
                (ok, empty, unreachable, blocked, not_found, soft_404, unreadable) with its
                evidence; replaced as a whole at the end of each run

Stores written by an older zwgk gain the new columns (NULL) and tables when opened.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from .rawstore import RawWriter

_S, _I32, _I64, _F, _B, _T = pa.string(), pa.int32(), pa.int64(), pa.float64(), pa.bool_(), pa.timestamp("us")
_DUCK = {_S: "VARCHAR", _I32: "INTEGER", _I64: "BIGINT", _F: "DOUBLE", _B: "BOOLEAN", _T: "TIMESTAMP"}

SCHEMAS: dict[str, pa.Schema] = {
    "fetch_log": pa.schema([
        ("url", _S), ("unit_id", _S), ("method", _S), ("status", _I32), ("etag", _S), ("last_modified", _S),
        ("sha256", _S), ("bytes", _I64), ("content_type", _S), ("charset", _S), ("final_url", _S),
        ("attempt", _I32), ("fetched_at", _T), ("elapsed", _F), ("error", _S),
    ]),
    "pages": pa.schema([
        ("url", _S), ("unit_id", _S), ("role", _S), ("column_url", _S), ("parent_url", _S), ("link_text", _S),
        ("list_date_text", _S), ("sha256", _S), ("status", _I32), ("etag", _S), ("last_modified", _S),
        ("content_type", _S), ("charset", _S), ("bytes", _I64), ("final_url", _S), ("first_seen", _T),
        ("last_seen", _T), ("changed_at", _T), ("removed_at", _T), ("error", _S), ("links", _S),
        ("rendered", _B),
    ]),
    "columns": pa.schema([
        ("unit_id", _S), ("column_url", _S), ("name", _S), ("kind", _S), ("parent_column_url", _S),
        ("depth", _I32), ("child_columns", _I32), ("list_pages", _I32), ("item_count", _I32), ("empty_page_text", _S),
        ("walked_fully", _B), ("error", _S), ("updated_at", _T),
    ]),
    "column_items": pa.schema([
        ("column_url", _S), ("item_url", _S), ("link_text", _S), ("list_date_text", _S), ("position", _I32),
        ("list_page_url", _S), ("meta", _S),
    ]),
    "link_checks": pa.schema([
        ("source_url", _S), ("target_url", _S), ("kind", _S), ("status", _I32), ("size", _I64),
        ("content_type", _S), ("error", _S), ("checked_at", _T),
    ]),
    "host_checks": pa.schema([
        ("host", _S), ("ipv6_addresses", pa.list_(_S)), ("ipv6_ok", _B), ("http_status", _I32), ("error", _S),
        ("checked_at", _T),
    ]),
    "access": pa.schema([
        ("url", _S), ("role", _S), ("outcome", _S), ("status", _I32), ("detail", _S), ("excerpt", _S),
        ("final_url", _S), ("list_source", _S), ("rendered", _B), ("checked_at", _T),
    ]),
}
PRIMARY_KEYS = {"pages": ("url",), "link_checks": ("source_url", "target_url"), "host_checks": ("host",)}


def _ddl(table: str) -> str:
    cols = [
        f"{f.name} {'VARCHAR[]' if pa.types.is_list(f.type) else _DUCK[f.type]}" for f in SCHEMAS[table]
    ]
    if table in PRIMARY_KEYS:
        cols.append(f"PRIMARY KEY ({', '.join(PRIMARY_KEYS[table])})")
    return f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(cols)})"


@dataclass(slots=True)
class PageRecord:
    """The in-memory form of one `pages` row."""

    url: str
    unit_id: str
    role: str
    column_url: str | None = None
    parent_url: str | None = None
    link_text: str | None = None
    list_date_text: str | None = None
    sha256: str | None = None
    status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    charset: str | None = None
    bytes: int | None = None
    final_url: str | None = None
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    changed_at: datetime | None = None
    removed_at: datetime | None = None
    error: str | None = None
    links: str | None = None
    rendered: bool | None = None  # the body is a DOM rendered in Chromium, not the server's answer

    def row(self) -> dict:
        return {name: getattr(self, name) for name in _PAGE_FIELDS}


_PAGE_FIELDS = tuple(f.name for f in fields(PageRecord))
assert _PAGE_FIELDS == tuple(SCHEMAS["pages"].names), "PageRecord and the pages schema must agree"


@dataclass
class Batch:
    raw: dict[str, bytes] = field(default_factory=dict)
    fetch_log: list[dict] = field(default_factory=list)
    upserts: dict[str, dict[tuple, dict]] = field(default_factory=lambda: {t: {} for t in PRIMARY_KEYS})
    link_check_resets: set[str] = field(default_factory=set)
    column_items: dict[str, list[dict]] = field(default_factory=dict)
    columns: list[dict] | None = None
    access: list[dict] | None = None
    rows: int = 0
    raw_bytes: int = 0


@dataclass
class PreparedBatch:
    raw: dict[str, bytes]
    tables: list[tuple[str, pa.Table, str]]  # (table, rows, INSERT | UPDATE | UPSERT)
    link_check_resets: pa.Table | None
    replaced_columns: pa.Table | None
    columns: pa.Table | None
    replace_all_columns: bool
    access: pa.Table | None = None
    replace_access: bool = False


_WRITE_SQL = {
    "INSERT": "INSERT INTO {table} SELECT * FROM _batch",
    "UPSERT": "INSERT OR REPLACE INTO {table} SELECT * FROM _batch",
    "UPDATE": "UPDATE {table} SET {sets} FROM _batch WHERE {table}.url = _batch.url",
}
_SETS = {table: ", ".join(f"{n} = _batch.{n}" for n in schema.names if n != "url") for table, schema in SCHEMAS.items()}


def _arrow(table: str, rows: list[dict] | None) -> pa.Table | None:
    return pa.Table.from_pylist(rows, schema=SCHEMAS[table]) if rows else None


def _keys(values) -> pa.Table | None:
    return pa.table({"k": pa.array(list(values), _S)}) if values else None


def open_database() -> duckdb.DuckDBPyConnection:
    """The in-memory DuckDB instance a harvest run attaches every unit's file to.

    Attaching a file to one instance takes ~2 ms where opening it as its own database takes
    ~30 ms (instance start-up), which matters on re-runs that touch hundreds of units briefly.
    """
    return duckdb.connect(":memory:", config={"threads": 1})


class UnitStore:
    def __init__(self, store_dir: str | Path, unit_id: str, database: duckdb.DuckDBPyConnection):
        self.unit_id = unit_id
        path = Path(store_dir) / "units" / f"{unit_id}.duckdb"
        path.parent.mkdir(parents=True, exist_ok=True)
        self._alias = f'"unit_{unit_id}"'
        self._con = database.cursor()  # a connection of its own: units load and close in threads
        self._con.execute(f"ATTACH '{_sql_string(str(path))}' AS {self._alias}")
        self._con.execute(f"USE {self._alias}")
        existing = {name for (name,) in self._con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [f"unit_{unit_id}"]).fetchall()}
        for table in SCHEMAS.keys() - existing:
            self._con.execute(_ddl(table))
        self._add_missing_columns(unit_id, existing)
        self._raw = RawWriter(store_dir)
        self._batch = Batch()
        self._stored: set[str] = set()  # urls with a row in `pages` (filled by load_pages)

    def _add_missing_columns(self, unit_id: str, tables: set[str]) -> None:
        """Columns added to SCHEMAS since the store was written (NULL in old rows)."""
        have: dict[str, set[str]] = {}
        for table, column in self._con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = ?", [f"unit_{unit_id}"]
        ).fetchall():
            have.setdefault(table, set()).add(column)
        for table in tables & SCHEMAS.keys():
            for f in SCHEMAS[table]:
                if f.name not in have.get(table, ()):
                    self._con.execute(f"ALTER TABLE {table} ADD COLUMN {f.name} {_DUCK[f.type]}")

    # -- reading the previous state (before the crawl starts) -----------------------------------

    def load_pages(self) -> dict[str, PageRecord]:
        table = self._con.sql("SELECT * FROM pages").to_arrow_table()
        columns = [table.column(name).to_pylist() for name in _PAGE_FIELDS]
        pages = {values[0]: PageRecord(*values) for values in zip(*columns, strict=True)}
        self._stored = set(pages)
        return pages

    def load_items(self) -> tuple[dict[tuple[str, str], tuple[str, str]], dict[str, int]]:
        """The last run's column items: (column_url, item_url) -> (link_text, list_date_text), and a
        digest of each column's whole list (to skip rewriting unchanged lists)."""
        rows = self._con.sql(
            "SELECT column_url, item_url, link_text, list_date_text, position, list_page_url"
            " FROM column_items ORDER BY column_url, position"
        ).fetchall()
        listings = {(c, i): (t or "", d or "") for c, i, t, d, _, _ in rows}
        by_column: dict[str, list[tuple]] = {}
        for row in rows:
            by_column.setdefault(row[0], []).append(row)
        return listings, {column: hash(tuple(items)) for column, items in by_column.items()}

    def load_check_targets(self) -> dict[str, list[tuple[str, str]]]:
        """source_url -> [(target_url, kind)] of the last checks: what an unchanged page links."""
        targets: dict[str, list[tuple[str, str]]] = {}
        for source, target, kind in self._con.sql("SELECT source_url, target_url, kind FROM link_checks").fetchall():
            targets.setdefault(source, []).append((target, kind))
        return targets

    def load_columns(self) -> list[dict]:
        return self._con.sql("SELECT * FROM columns").to_arrow_table().to_pylist()

    # -- buffering (event-loop thread) ----------------------------------------------------------

    def put_raw(self, sha256: str, body: bytes) -> None:
        if sha256 not in self._batch.raw:
            self._batch.raw[sha256] = body
            self._batch.raw_bytes += len(body)

    def log_fetch(self, row: dict) -> None:
        self._batch.fetch_log.append(row)
        self._batch.rows += 1

    def put_page(self, page: PageRecord) -> None:
        self._upsert("pages", page.row())

    def put_link_check(self, row: dict) -> None:
        self._upsert("link_checks", row)

    def put_host_check(self, row: dict) -> None:
        self._upsert("host_checks", row)

    def reset_link_checks(self, source_url: str) -> None:
        """Forget a re-parsed page's old checks (links it no longer has); new ones follow."""
        self._batch.link_check_resets.add(source_url)
        for key in [k for k in self._batch.upserts["link_checks"] if k[0] == source_url]:
            del self._batch.upserts["link_checks"][key]

    def replace_column_items(self, column_url: str, rows: list[dict]) -> None:
        self._batch.column_items[column_url] = rows
        self._batch.rows += len(rows)

    def replace_columns(self, rows: list[dict]) -> None:
        self._batch.columns = rows
        self._batch.rows += len(rows)

    def replace_access(self, rows: list[dict]) -> None:
        self._batch.access = rows
        self._batch.rows += max(1, len(rows))

    def _upsert(self, table: str, row: dict) -> None:
        self._batch.upserts[table][tuple(row[k] for k in PRIMARY_KEYS[table])] = row
        self._batch.rows += 1

    @property
    def pending_rows(self) -> int:
        return self._batch.rows

    @property
    def pending_bytes(self) -> int:
        return self._batch.raw_bytes

    def take(self) -> Batch | None:
        """Swap out the buffered rows (event-loop thread); None when there is nothing to write."""
        batch = self._batch
        if not (batch.rows or batch.raw or batch.link_check_resets):
            return None
        self._batch = Batch()
        return batch

    # -- writing --------------------------------------------------------------------------------

    def prepare(self, batch: Batch) -> PreparedBatch:
        """Convert a batch to Arrow (event-loop thread: this part holds the GIL).

        Pages already in the table are written with UPDATE, new ones with INSERT: both take about
        half the time of INSERT OR REPLACE, which dominated re-runs. Batches are committed one at a
        time and in order, so `_stored` is up to date when the next batch is prepared.
        """
        pages = list(batch.upserts.pop("pages").values())
        known = [row for row in pages if row["url"] in self._stored]
        new = [row for row in pages if row["url"] not in self._stored]
        self._stored.update(row["url"] for row in new)
        tables = [("fetch_log", _arrow("fetch_log", batch.fetch_log), "INSERT"),
                  ("pages", _arrow("pages", new), "INSERT"), ("pages", _arrow("pages", known), "UPDATE")]
        tables += [(t, _arrow(t, list(rows.values())), "UPSERT") for t, rows in batch.upserts.items()]
        items = [row for rows in batch.column_items.values() for row in rows]
        tables.append(("column_items", _arrow("column_items", items), "INSERT"))
        return PreparedBatch(
            raw=batch.raw,
            tables=[(name, table, mode) for name, table, mode in tables if table is not None],
            link_check_resets=_keys(batch.link_check_resets),
            replaced_columns=_keys(batch.column_items),
            columns=_arrow("columns", batch.columns) if batch.columns is not None else None,
            replace_all_columns=batch.columns is not None,
            access=_arrow("access", batch.access) if batch.access is not None else None,
            replace_access=batch.access is not None,
        )

    def write_raw(self, prepared: PreparedBatch) -> None:
        """Write the batch's raw bodies (thread-safe: syscalls and zlib, which release the GIL)."""
        for sha256, body in prepared.raw.items():
            self._raw.write(sha256, body)

    def commit(self, prepared: PreparedBatch) -> None:
        """One DuckDB transaction for the batch; call after `write_raw` so a committed sha256
        always has its file."""
        con = self._con
        con.execute("BEGIN TRANSACTION")
        try:
            if prepared.link_check_resets is not None:
                self._execute("DELETE FROM link_checks WHERE source_url IN (SELECT k FROM _batch)",
                              prepared.link_check_resets)
            if prepared.replaced_columns is not None:
                self._execute("DELETE FROM column_items WHERE column_url IN (SELECT k FROM _batch)",
                              prepared.replaced_columns)
            if prepared.replace_all_columns:
                con.execute("DELETE FROM columns")
                if prepared.columns is not None:
                    self._execute("INSERT INTO columns SELECT * FROM _batch", prepared.columns)
            if prepared.replace_access:
                con.execute("DELETE FROM access")
                if prepared.access is not None:
                    self._execute("INSERT INTO access SELECT * FROM _batch", prepared.access)
            for name, table, mode in prepared.tables:
                self._execute(_WRITE_SQL[mode].format(table=name, sets=_SETS[name]), table)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def _execute(self, sql: str, table: pa.Table) -> None:
        self._con.register("_batch", table)
        try:
            self._con.execute(sql)
        finally:
            self._con.unregister("_batch")

    def close(self) -> None:
        """Detach the unit's file (DuckDB checkpoints it)."""
        self._con.execute("USE memory")
        self._con.execute(f"DETACH {self._alias}")
        self._con.close()


def _sql_string(text: str) -> str:
    return text.replace("'", "''")
