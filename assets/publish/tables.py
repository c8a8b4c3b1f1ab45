"""The tables the catalog publishes: which columns, in which order, under which headers.

Columns come from the versioned resource schema (`schemas`), so the published field names are
the ones the data dictionary documents; CSV headers are the schema's Chinese labels (`zh`).
The few columns that are not schema fields (a unit's name next to its id, a check's title)
are declared here with their own labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

import schemas


@dataclass(frozen=True)
class Column:
    name: str    # field name: Parquet / JSON key, as in the data dictionary
    header: str  # Chinese CSV header
    type: str    # a schema type: string, json, date, timestamp, boolean, integer, bigint, double, list<string>
    en: str = ""  # English description, for columns that are not schema fields

    @property
    def is_text(self) -> bool:
        """Cells a spreadsheet could take for a formula; numbers, dates and booleans never are."""
        return self.type in ("string", "json", "list<string>")


@dataclass(frozen=True)
class PublicTable:
    name: str
    columns: tuple[Column, ...]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def arrow_schema(self) -> pa.Schema:
        return pa.schema(
            [pa.field(c.name, schemas.TYPES[c.type][1], metadata={"zh": c.header}) for c in self.columns],
            metadata={"table": self.name, "schema_version": schemas.SCHEMA_VERSION},
        )


def _from_schema(table: str, *names: str) -> list[Column]:
    fields = {f.name: f for f in schemas.table(table).fields}
    return [Column(n, fields[n].zh, fields[n].type) for n in names]


UNIT_NAME = Column("unit_name", "单位名称", "string", "Unit name (units.name)")
COLUMN_NAME = Column("column_name", "栏目名称", "string", "Name of the column the resource is listed in (columns.name)")
UNIT_KIND = Column("unit_kind", "单位类型", "string", "Unit kind (units.kind)")
CHECK_TITLE = Column("check_title", "检查项名称", "string", "Title of the check in the check catalog")
UNIT_ACCESS = Column("unit_access", "专栏读取结果", "string",
                     "How the unit's column could be read (units.access): ok, empty, unreachable, blocked, "
                     "not_found, soft_404, unreadable; the verdict is 无法核查 when it could not be read")

# A unit's current resources. Left out: harvest internals (raw_labels, links, encoding, warnings,
# the raw page hash), pii_findings (evidence for C20, not content), column_id (column_name says
# it), list_date (publish_date is the date of record), and last_seen / removed_at, which move
# with every harvest and would turn each unchanged directory into an update.
RESOURCES = PublicTable("resources", (
    *_from_schema("resources", "resource_id", "unit_id"), UNIT_NAME, COLUMN_NAME,
    *_from_schema("resources", "column_kind", "url", "title", "index_no", "publisher", "doc_number",
                  "written_date", "publish_date", "subject", "genre", "keywords", "validity", "valid_until",
                  "validity_period_text", "is_marked_abolished", "disclosure", "non_disclosure_reason", "summary",
                  "body_text", "doc_kind", "interprets", "interprets_title", "report_figures", "has_pii",
                  "first_seen", "schema_version"),
))

# Free-text fields of a resource that personal information could hide in.
RESOURCE_TEXT_FIELDS = ("title", "summary", "body_text", "keywords", "non_disclosure_reason", "interprets_title",
                        "validity_period_text")

# The scorecard says what was decided as of which day; the run id and the time of the run are left
# out, so that re-validating with the same verdicts publishes the same bytes (and writes nothing).
UNIT_SCORES = PublicTable("unit_scores", (
    *_from_schema("unit_scores", "as_of", "unit_id"), UNIT_NAME, UNIT_KIND,
    *_from_schema("unit_scores", "score", "verdict", "veto", "veto_checks"), UNIT_ACCESS,
))

CHECK_RESULTS = PublicTable("check_results", (
    *_from_schema("check_results", "as_of", "unit_id"), UNIT_NAME,
    *_from_schema("check_results", "check_id"), CHECK_TITLE,
    *_from_schema("check_results", "status", "severity", "evidence_url", "message"),
))

# Silent edits (validation's document_changes): what changed, where and when. The run id, the check
# time and the lake's snapshot numbers are left out (internal, and they would move the bytes).
DOCUMENT_CHANGES = PublicTable("document_changes", (
    *_from_schema("document_changes", "as_of", "unit_id"), UNIT_NAME,
    *_from_schema("document_changes", "resource_id", "url", "title", "publish_date", "before_seen_at",
                  "after_seen_at", "passages"),
))

# One unit's latest verdict on its own dataset page: every check of its latest run, failed
# checks first, each row repeating the unit's verdict and score (a table the DataTables view
# shows whole: one row per check).
UNIT_SCORECARD = PublicTable("unit_scorecard", (
    *_from_schema("unit_scores", "as_of", "unit_id"), UNIT_NAME, *_from_schema("unit_scores", "verdict", "score"),
    *_from_schema("check_results", "check_id"), CHECK_TITLE,
    *_from_schema("check_results", "status", "severity", "evidence_url", "message"),
))

DATA_DICTIONARY = PublicTable("data_dictionary", (
    Column("table", "表名", "string"), Column("field", "字段名", "string"), Column("type", "类型", "string"),
    Column("required", "必填", "string"), Column("description_zh", "中文说明", "string"),
    Column("description_en", "英文说明", "string"), Column("vocabulary", "取值范围", "string"),
    Column("schema_version", "模式版本", "string"),
))


def dictionary_rows() -> list[dict[str, str]]:
    """The data dictionary: every schema field, then the published columns that are not schema
    fields (so every column of every published file is documented)."""
    rows = schemas.data_dictionary_rows()
    for table in (RESOURCES, UNIT_SCORES, CHECK_RESULTS, UNIT_SCORECARD, DOCUMENT_CHANGES):
        for column in table.columns:
            if column.en:
                rows.append({"table": table.name, "field": column.name, "type": column.type, "required": "no",
                             "description_zh": column.header, "description_en": column.en, "vocabulary": "",
                             "schema_version": schemas.SCHEMA_VERSION})
    return rows
