"""The declarative schema generates DDL, Arrow schemas and docs that agree with each other."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

import schemas
from core import warehouse

REQUIRED_RESOURCE_FIELDS = (
    "resource_id unit_id column_id url title index_no publisher doc_number written_date publish_date subject genre "
    "keywords validity valid_until disclosure non_disclosure_reason summary body_text doc_kind interprets has_pii "
    "raw_labels content_sha256 first_seen last_seen removed_at schema_version"
).split()


def test_resources_table_has_the_contract_fields():
    assert set(REQUIRED_RESOURCE_FIELDS) <= set(schemas.table("resources").field_names)
    for name in ("units", "columns", "resources", "attachments", "check_results", "unit_scores"):
        assert name in schemas.load_schema().tables


def test_ddl_creates_tables_matching_the_arrow_schemas(tmp_path):
    """Every table, created in the lake, reads back with the schema's names and types."""
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        for name in schemas.load_schema().tables:
            arrow = con.sql(f'SELECT * FROM "{name}" LIMIT 0').to_arrow_table().schema
            expected = schemas.arrow_schema(name)
            assert arrow.names == expected.names
            for field in expected:
                assert arrow.field(field.name).type == field.type, f"{name}.{field.name}"


def test_required_fields_are_enforced():
    con = duckdb.connect()
    con.execute(schemas.ddl("unit_scores"))
    row = pa.table({"run_id": ["r"], "as_of": pa.array([None], pa.date32()), "unit_id": ["u"], "score": [1.0],
                    "verdict": ["合格"], "veto": [False], "veto_checks": [[]],
                    "checked_at": pa.array([None], pa.timestamp("us"))})
    try:
        con.execute("INSERT INTO unit_scores SELECT * FROM row")
        raised = False
    except duckdb.ConstraintException:
        raised = True
    assert raised


def test_committed_docs_are_up_to_date():
    committed = (Path(__file__).parent.parent / "docs" / "data-dictionary.md").read_text(encoding="utf-8")
    assert committed == schemas.markdown(), "run `zwgk schema docs` and commit docs/data-dictionary.md"


def test_data_dictionary_covers_every_field():
    rows = schemas.data_dictionary_rows()
    assert len(rows) == sum(len(t.fields) for t in schemas.load_schema().tables.values())
    validity = next(r for r in rows if r["table"] == "resources" and r["field"] == "validity")
    assert validity["vocabulary"] == "有效 | 失效 | 废止 | 已修订" and validity["description_zh"] == "有效性"
