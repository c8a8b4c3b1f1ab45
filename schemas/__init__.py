"""The versioned resource schema and everything generated from it.

`load_schema()` reads resource_schema.yaml; from it come the DuckDB DDL (`ddl()`), the Arrow
schemas (`arrow_schema(table)`), the published data dictionary (`data_dictionary_rows()`) and the
Markdown docs (`markdown()`, committed as docs/data-dictionary.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pyarrow as pa
import yaml

from schemas.vocabulary import COLUMN_KIND_KEYS

SCHEMA_PATH = Path(__file__).with_name("resource_schema.yaml")
TYPES = {
    "string": ("VARCHAR", pa.string()),
    "json": ("VARCHAR", pa.string()),
    "date": ("DATE", pa.date32()),
    "timestamp": ("TIMESTAMP", pa.timestamp("us")),
    "boolean": ("BOOLEAN", pa.bool_()),
    "integer": ("INTEGER", pa.int32()),
    "bigint": ("BIGINT", pa.int64()),
    "double": ("DOUBLE", pa.float64()),
    "list<string>": ("VARCHAR[]", pa.list_(pa.string())),
}
VOCABULARIES = {"column_kinds": list(COLUMN_KIND_KEYS)}


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    required: bool
    zh: str
    en: str
    vocabulary: tuple[str, ...] = ()

    @property
    def sql_type(self) -> str:
        return TYPES[self.type][0]

    @property
    def arrow_type(self) -> pa.DataType:
        return TYPES[self.type][1]


@dataclass(frozen=True)
class Table:
    name: str
    description_zh: str
    description_en: str
    primary_key: tuple[str, ...]
    fields: tuple[Field, ...]

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]


@dataclass(frozen=True)
class Schema:
    version: str
    tables: dict[str, Table]


@lru_cache(maxsize=1)
def load_schema(path: Path = SCHEMA_PATH) -> Schema:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    tables = {}
    for name, spec in data["tables"].items():
        fields = []
        for f in spec["fields"]:
            if f["type"] not in TYPES:
                raise ValueError(f"{path}: {name}.{f['name']}: unknown type {f['type']!r}")
            vocabulary = f.get("vocabulary") or VOCABULARIES.get(f.get("vocabulary_ref", ""), [])
            fields.append(Field(f["name"], f["type"], bool(f.get("required")), f["zh"], f["en"], tuple(vocabulary)))
        tables[name] = Table(name, spec["description_zh"], spec["description_en"], tuple(spec["primary_key"]),
                             tuple(fields))
    return Schema(version=str(data["schema_version"]), tables=tables)


SCHEMA_VERSION = load_schema().version


def table(name: str) -> Table:
    return load_schema().tables[name]


def ddl(table_name: str, name: str | None = None) -> str:
    """CREATE TABLE for one table (optionally under another name, e.g. a staging table).

    The primary key is documented, not declared: DuckLake has no PRIMARY KEY, UNIQUE or index (only
    NOT NULL), and every writer replaces a unit's rows whole, which keeps keys unique by
    construction. tests/test_schema.py checks uniqueness on real data instead.
    """
    spec = table(table_name)
    columns = [f'    "{f.name}" {f.sql_type}{" NOT NULL" if f.required else ""}' for f in spec.fields]
    return f'CREATE TABLE IF NOT EXISTS "{name or table_name}" (\n' + ",\n".join(columns) + "\n);"


def all_ddl() -> str:
    """CREATE TABLE for every table (the warehouse runs it in its lake: core/warehouse.py)."""
    return "\n\n".join(ddl(name) for name in load_schema().tables)


def migrate(con) -> None:
    """Bring an older warehouse's tables up to this schema: add missing columns (NULL in old
    rows, so they are added nullable) and drop NOT NULL where a field became optional.

    Fields are only ever added at the end of a table, so positional inserts keep lining up.
    """
    present: dict[str, dict[str, bool]] = {}
    for table_name, column, nullable in con.execute(
        "SELECT table_name, column_name, is_nullable FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = 'main'"
    ).fetchall():
        present.setdefault(table_name, {})[column] = nullable
    for name, spec in load_schema().tables.items():
        if name not in present:
            continue
        for f in spec.fields:
            if f.name not in present[name]:
                con.execute(f'ALTER TABLE "{name}" ADD COLUMN "{f.name}" {f.sql_type}')
            elif not f.required and not present[name][f.name]:
                con.execute(f'ALTER TABLE "{name}" ALTER COLUMN "{f.name}" DROP NOT NULL')


@lru_cache(maxsize=None)
def arrow_schema(table_name: str) -> pa.Schema:
    spec = table(table_name)
    return pa.schema(
        [pa.field(f.name, f.arrow_type, nullable=not f.required, metadata={"zh": f.zh, "en": f.en}) for f in spec.fields],
        metadata={"table": table_name, "schema_version": SCHEMA_VERSION},
    )


def conform(table_name: str, rows: pa.Table) -> pa.Table:
    """`rows` with exactly the table's columns, in order and with its Arrow types."""
    target = arrow_schema(table_name)
    if rows.schema.equals(target):
        return rows
    return rows.select(target.names).cast(target)


def data_dictionary_rows() -> list[dict[str, str]]:
    """One row per field of every table: what the catalog publishes as the data dictionary."""
    rows = []
    for spec in load_schema().tables.values():
        for f in spec.fields:
            rows.append({
                "table": spec.name, "field": f.name, "type": f.type, "required": "yes" if f.required else "no",
                "description_zh": f.zh, "description_en": f.en, "vocabulary": " | ".join(f.vocabulary),
                "schema_version": SCHEMA_VERSION,
            })
    return rows


def markdown() -> str:
    lines = [f"# zwgk data dictionary (schema {SCHEMA_VERSION})", "",
             "Generated from `schemas/resource_schema.yaml` by `zwgk schema docs`; do not edit by hand.", ""]
    for spec in load_schema().tables.values():
        lines += [f"## `{spec.name}`: {spec.description_zh}", "", spec.description_en, "",
                  f"Primary key: {', '.join(f'`{k}`' for k in spec.primary_key)}", "",
                  "| field | type | required | 说明 | description | vocabulary |", "|---|---|---|---|---|---|"]
        for f in spec.fields:
            vocabulary = ", ".join(f.vocabulary)
            lines.append(f"| `{f.name}` | {f.type} | {'yes' if f.required else ''} | {f.zh} | {f.en} | {vocabulary} |")
        lines.append("")
    return "\n".join(lines)
