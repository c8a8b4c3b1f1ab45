"""Export files: one table as CSV, Parquet and JSON, byte-for-byte reproducible.

Unchanged data must give unchanged bytes (and so unchanged hashes): rows arrive sorted, columns
come in the table's fixed order, and nothing run-dependent (no generation time) is written.

- CSV is for spreadsheets: UTF-8 with a BOM (so Excel detects the encoding), CRLF line ends,
  Chinese headers, booleans as 是/否, lists joined with ";", long body text truncated.
  Text cells that a spreadsheet would run as a formula are neutralized with a leading `'`.
- Parquet and JSON are for programs: schema field names, full text, typed values (JSON dates
  as ISO 8601, JSON-typed fields embedded as JSON).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import pyarrow as pa
import pyarrow.parquet as pq

from .tables import Column, PublicTable

# Characters that make Excel / LibreOffice read a cell as a formula (OWASP CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_TEXT_LIMIT = 1000
TRUNCATION_MARK = "……（全文见 JSON / Parquet 文件）"
FORMATS = ("CSV", "Parquet", "JSON")
_SUFFIXES = {"CSV": "csv", "Parquet": "parquet", "JSON": "json"}


@dataclass(frozen=True)
class ExportFile:
    file_name: str  # ASCII: CKAN strips other characters from upload names
    format: str     # CSV | Parquet | JSON
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def export_table(table: PublicTable, rows: list[dict], stem: str) -> list[ExportFile]:
    """`rows` (already sorted) as `<stem>.csv`, `<stem>.parquet` and `<stem>.json`."""
    writers = {"CSV": csv_bytes, "Parquet": parquet_bytes, "JSON": json_bytes}
    return [ExportFile(f"{stem}.{_SUFFIXES[fmt]}", fmt, writers[fmt](table, rows)) for fmt in FORMATS]


def write_files(files: Iterable[ExportFile], directory: Path) -> None:
    """Keep a local copy of what is published (for the run's records)."""
    directory.mkdir(parents=True, exist_ok=True)
    for export in files:
        (directory / export.file_name).write_bytes(export.data)


def neutralize(text: str) -> str:
    """A text cell a spreadsheet will show as text, never evaluate."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_bytes(table: PublicTable, rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(c.header for c in table.columns)
    for row in rows:
        writer.writerow(_csv_cell(c, row[c.name]) for c in table.columns)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _csv_cell(column: Column, value: Any) -> str:
    if value is None:
        return ""
    if column.type == "boolean":
        return "是" if value else "否"
    if column.type in ("date", "timestamp"):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    if not column.is_text:
        return str(value)
    text = ";".join(value) if column.type == "list<string>" else str(value)
    if len(text) > CSV_TEXT_LIMIT:
        text = text[:CSV_TEXT_LIMIT] + TRUNCATION_MARK
    return neutralize(text)


def parquet_bytes(table: PublicTable, rows: list[dict]) -> bytes:
    out = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=table.arrow_schema()), out)
    return out.getvalue()


def json_bytes(table: PublicTable, rows: list[dict]) -> bytes:
    """A JSON array, one object per line (diffable, streamable), keys in column order."""
    lines = [json.dumps({c.name: _json_value(c, row[c.name]) for c in table.columns},
                        ensure_ascii=False, separators=(",", ":")) for row in rows]
    return ("[\n" + ",\n".join(lines) + ("\n" if lines else "") + "]\n").encode("utf-8")


def _json_value(column: Column, value: Any) -> Any:
    if value is None:
        return None
    if column.type in ("date", "timestamp"):
        return value.isoformat()
    if column.type == "json":
        return json.loads(value)
    return value
