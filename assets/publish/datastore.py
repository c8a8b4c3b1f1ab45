"""A published table as a CKAN DataStore table: field definitions, records and a content hash.

The DataStore is what makes a dataset previewable (the DataTables view on the resource page)
and queryable (`datastore_search` with filters, fields, sort and paging; `datastore_search_sql`).

- Field ids are the schema field names (`publish_date`, `unit_id`…), the same names as the
  Parquet and JSON files and the data dictionary, so API queries use stable ASCII names; the
  Chinese CSV header is the field's data-dictionary label (`info.label`), which CKAN's
  DataTables view shows as the column header.
- Field types follow the published schema: dates stay `date`, timestamps `timestamp`, counts
  `int4`/`int8`, scores `float8`, flags `bool`, JSON fields `json`. Lists are joined with ";"
  into text, as in the CSV, so a filter or a full-text query sees them as the CSV shows them.
- Text cells are neutralized like the CSV's (a leading `'` before = + - @): the DataStore also
  serves its rows as a CSV download (`/datastore/dump/<id>`) that spreadsheets open. Unlike the
  CSV, long text is not truncated.
- `sha256` covers the field definitions and every record: the publisher stores it on the
  resource (`content_sha256`) and reloads the rows only when it changes, so an unchanged table
  costs no write and no read of its rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Iterator

from .exports import neutralize
from .tables import Column, PublicTable

DATASTORE_FORMAT = "DataStore"
# One datastore_create / datastore_upsert call carries at most this many rows and about this
# many bytes of JSON: large tables load in several calls instead of one huge request.
CHUNK_ROWS = 2000
CHUNK_BYTES = 4_000_000

# Published schema type -> DataStore (PostgreSQL) type.
DATASTORE_TYPES = {
    "string": "text", "json": "json", "date": "date", "timestamp": "timestamp", "boolean": "bool",
    "integer": "int4", "bigint": "int8", "double": "float8", "list<string>": "text",
}


def datastore_fields(table: PublicTable) -> list[dict]:
    return [{"id": c.name, "type": DATASTORE_TYPES[c.type], "info": {"label": c.header}} for c in table.columns]


def datastore_record(table: PublicTable, row: dict) -> dict:
    return {c.name: _cell(c, row[c.name]) for c in table.columns}


def _cell(column: Column, value: Any) -> Any:
    if value is None:
        return None
    if column.type in ("date", "timestamp"):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    if column.type == "json":
        return json.loads(value)
    if column.type == "list<string>":
        return neutralize(";".join(value))
    if column.type == "string":
        return neutralize(str(value))
    return value


@dataclass(frozen=True)
class DataStoreTable:
    """One resource whose rows live in the DataStore."""

    name: str         # Chinese resource name, unique within its dataset (how a rerun finds it)
    description: str
    table: PublicTable
    rows: tuple[dict, ...]  # the published rows (already masked), in publishing order

    @cached_property
    def fields(self) -> list[dict]:
        return datastore_fields(self.table)

    @cached_property
    def records(self) -> list[dict]:
        return [datastore_record(self.table, row) for row in self.rows]

    @cached_property
    def sha256(self) -> str:
        digest = hashlib.sha256(_canonical(self.fields))
        for record in self.records:  # one record at a time: no second copy of a big table in memory
            digest.update(b"\n" + _canonical(record))
        return digest.hexdigest()

    def resource_fields(self) -> dict:
        """The resource fields CKAN stores for it (what a rerun compares)."""
        return {"name": self.name, "description": self.description, "format": DATASTORE_FORMAT,
                "content_sha256": self.sha256}

    def chunks(self) -> Iterator[list[dict]]:
        """The records in load order, split into requests of bounded size (at least one, maybe empty)."""
        chunk: list[dict] = []
        size = 0
        for record in self.records:
            record_size = len(json.dumps(record, ensure_ascii=False))
            if chunk and (len(chunk) >= CHUNK_ROWS or size + record_size > CHUNK_BYTES):
                yield chunk
                chunk, size = [], 0
            chunk.append(record)
            size += record_size
        yield chunk


def _canonical(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
