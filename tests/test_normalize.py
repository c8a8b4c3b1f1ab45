"""Normalize: harvested pages of the real sample portal become schema rows in DuckDB."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import datetime

import duckdb
import pyarrow as pa
import pytest

from assets.normalize.build import normalize_unit, stable_id
from assets.normalize.report_table import report_figures
from core.warehouse import WarehouseLockedError, connect, replace_unit
from core.warehouse import connect as warehouse_connect


def query(pipeline_data, sql, *params):
    with warehouse_connect(pipeline_data.warehouse, read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def truth(pipeline_data):
    return json.loads((pipeline_data.portal_dir / "ground_truth.json").read_text(encoding="utf-8"))["units"]


def test_every_generated_document_becomes_one_resource(pipeline_data):
    """Every item a column lists becomes one resource, whatever its list mechanism; a listed item
    whose page is a soft 404 (the seeded dead item) becomes none, and a gated unit has none."""
    manifest = json.loads((pipeline_data.portal_dir / "portal.json").read_text(encoding="utf-8"))
    truth = json.loads((pipeline_data.portal_dir / "ground_truth.json").read_text(encoding="utf-8"))["units"]
    expected = {unit_id: sum(c["items"] for c in t["columns"].values()) - ("dead_item_soft404" in t["defects"])
                for unit_id, t in truth.items() if t["access"] == "ok"}
    got = dict(query(pipeline_data, "SELECT unit_id, count(*) FROM resources WHERE removed_at IS NULL GROUP BY unit_id"))
    assert {u: got.get(u, 0) for u in expected} == expected
    assert sum(expected.values()) > 2000
    assert not set(got) - set(expected)  # the gated unit and the missing entry: no resources
    assert [r[0] for r in query(pipeline_data, "SELECT unit_id FROM units ORDER BY unit_id")] == sorted(
        u["id"] for u in manifest["units"])


def test_metadata_fields_are_filled_from_every_template_family(pipeline_data):
    rows = query(pipeline_data, """
        SELECT count(*), count(index_no), count(publisher), count(publish_date), count(written_date)
        FROM resources r WHERE column_kind NOT IN ('news')
            -- single-article columns: the column's own page, metadata block or not
            AND url NOT IN (SELECT url FROM columns WHERE column_id = r.column_id)""")
    total, index_no, publisher, publish, written = rows[0]
    assert total > 1200
    assert index_no == publisher == total
    assert publish >= total - 2  # the seeded missing-publish-date defect
    assert written >= total - 2
    [(gbk_titles,)] = query(pipeline_data, "SELECT count(*) FROM resources WHERE unit_id = 'ftz' AND title LIKE '%保税区%'")
    assert gbk_titles > 10


def test_columns_carry_counts_dates_and_notes(pipeline_data):
    kinds = dict(query(pipeline_data, "SELECT kind, count(*) FROM columns GROUP BY kind"))
    assert {"guide", "system", "statutory", "annual_report", "normative", "interpretation", "news"} <= set(kinds)
    assert "application" not in kinds  # robots.txt forbids reading it: not judged as a column
    [(notes,)] = query(pipeline_data, "SELECT count(*) FROM columns WHERE has_note")
    assert notes > 5
    [(news, newest)] = query(pipeline_data, "SELECT item_count, newest_item_date FROM columns WHERE unit_id='mzj' AND kind='news'")
    assert news > 15 and newest is not None


def test_interpretations_point_at_their_documents(pipeline_data):
    truth = json.loads((pipeline_data.portal_dir / "ground_truth.json").read_text(encoding="utf-8"))["units"]
    # A 解读 of a document that is not on the site (the orphan_interpretation case) cannot resolve.
    orphans = sorted(w["urls"][0] for t in truth.values() for w in t.get("warnings", [])
                     if w["kind"] == "orphan_interpretation")
    [(interpretations, resolved)] = query(pipeline_data, """
        SELECT count(*), count(i.interprets) FROM resources i WHERE i.doc_kind = '政策解读'""")
    unresolved = [url for (url,) in query(pipeline_data, """
        SELECT url FROM resources WHERE doc_kind = '政策解读' AND interprets IS NULL ORDER BY url""")]
    assert interpretations > 100 and resolved == interpretations - len(orphans)
    assert [u.split("/", 3)[3] for u in unresolved] == [u.lstrip("/") for u in orphans]
    [(wrong,)] = query(pipeline_data, """
        SELECT count(*) FROM resources i JOIN resources d ON i.interprets = d.resource_id
        WHERE i.doc_kind = '政策解读' AND d.doc_kind <> '规范性文件'""")
    assert wrong == 0


def test_annual_reports_have_their_table_figures(pipeline_data):
    rows = query(pipeline_data, "SELECT report_figures FROM resources WHERE doc_kind = '年度报告'")
    figures = [json.loads(r[0]) for r in rows if r[0]]
    assert len(figures) == len(rows) > 100
    assert set(figures[0]) == {"本年新收", "上年结转", "办理结果总计", "结转下年度"}


def test_evidence_tables_are_loaded(pipeline_data):
    hosts = dict(query(pipeline_data, "SELECT host, ipv6_ok FROM hosts"))
    manifest = json.loads((pipeline_data.portal_dir / "portal.json").read_text(encoding="utf-8"))
    assert sorted(hosts.values()) == sorted(h["ipv6"] for h in manifest["hosts"])  # one row per host
    [(broken,)] = query(pipeline_data, "SELECT count(*) FROM link_checks WHERE status >= 400 OR error IS NOT NULL")
    assert broken >= 2
    [(entry_down,)] = query(pipeline_data, "SELECT count(*) FROM units WHERE NOT entry_ok")
    assert entry_down == sum(1 for u in truth(pipeline_data).values() if u["checks"]["C01"]["status"] != "pass")
    access = dict(query(pipeline_data, "SELECT unit_id, access FROM units"))
    assert access == {u: t["access"] for u, t in truth(pipeline_data).items()}


def test_rerun_reuses_unchanged_pages_and_keeps_history(pipeline_data, tmp_path):
    unit = pipeline_data.registry.get("mzj")
    warehouse = tmp_path / "w.duckdb"
    first = normalize_unit(unit, pipeline_data.store_dir, warehouse, now=datetime(2021, 1, 1))
    second = normalize_unit(unit, pipeline_data.store_dir, warehouse, now=datetime(2021, 2, 1))
    assert first.extracted == first.resources > 40 and first.reused == 0
    assert second.extracted == 0 and second.reused == first.resources
    with warehouse_connect(warehouse, read_only=True) as con:
        [(units_first_seen,)] = con.execute("SELECT first_seen FROM units").fetchall()
        [(resources,)] = con.execute("SELECT count(*) FROM resources").fetchall()
    assert units_first_seen == datetime(2021, 1, 1) and resources == first.resources


def test_documented_primary_keys_are_unique(pipeline_data):
    """Keys are documented, not declared (bulk-load speed): uniqueness is checked on real data here."""
    import schemas

    for name, spec in schemas.load_schema().tables.items():
        if name in ("check_results", "unit_scores"):
            continue
        keys = ", ".join(spec.primary_key)
        [(duplicates,)] = query(pipeline_data, f'SELECT count(*) FROM (SELECT {keys} FROM "{name}" '
                                               f"GROUP BY {keys} HAVING count(*) > 1)")
        assert duplicates == 0, name


def test_a_unit_never_harvested_is_reported_and_keeps_its_rows(pipeline_data, tmp_path):
    from assets.normalize.build import normalize_units
    from core.registry import Unit

    warehouse = tmp_path / "w.duckdb"
    mzj = pipeline_data.registry.get("mzj")
    ghost = Unit(id="ghost", name="区测试局", kind="bureau", url="http://www.bh.zwgk.test/ghost/zfxxgk/")
    summaries = normalize_units([mzj, ghost], pipeline_data.store_dir, warehouse)
    assert [s.not_harvested for s in summaries] == [False, True]
    assert "unit ghost: not normalized" in summaries[1].errors[0]
    with warehouse_connect(warehouse, read_only=True) as con:
        [(count,)] = con.execute("SELECT count(*) FROM resources WHERE unit_id = 'mzj'").fetchall()
    assert count == summaries[0].resources > 40


def test_units_dropped_from_the_registry_are_marked_removed_not_deleted(pipeline_data, tmp_path):
    from assets.normalize.build import normalize_units

    warehouse = tmp_path / "w.duckdb"
    mzj, teda = pipeline_data.registry.get("mzj"), pipeline_data.registry.get("teda")
    normalize_units([mzj, teda], pipeline_data.store_dir, warehouse, registered=["mzj", "teda"])
    normalize_units([mzj], pipeline_data.store_dir, warehouse, registered=["mzj"], now=datetime(2021, 5, 1))
    with warehouse_connect(warehouse, read_only=True) as con:
        removed = dict(con.execute("SELECT unit_id, removed_at FROM units").fetchall())
        [(teda_resources,)] = con.execute("SELECT count(*) FROM resources WHERE unit_id = 'teda'").fetchall()
    assert removed == {"mzj": None, "teda": datetime(2021, 5, 1)}
    assert teda_resources > 40


def test_resource_ids_are_stable():
    assert stable_id("jyj", "http://h/a.html") == stable_id("jyj", "http://h/a.html")
    assert stable_id("jyj", "http://h/a.html") != stable_id("mzj", "http://h/a.html")


def test_report_table_figures_from_html():
    html = """<table><tr><th>申请情况</th><th>自然人</th><th>总计</th></tr>
      <tr><td>一、本年新收政府信息公开申请数量</td><td>3</td><td>12</td></tr>
      <tr><td>二、上年结转政府信息公开申请数量</td><td>0</td><td>2</td></tr>
      <tr><td>三、本年度办理结果（七）总计</td><td>3</td><td>13</td></tr>
      <tr><td>四、结转下年度继续办理</td><td>0</td><td>1</td></tr></table>"""
    assert report_figures(html) == {"本年新收": 12, "上年结转": 2, "办理结果总计": 13, "结转下年度": 1}
    assert report_figures("<table><tr><td>本年新收</td><td>x</td></tr></table>") is None


def test_a_failed_write_keeps_the_previous_rows(pipeline_data, tmp_path, lake_catalog):
    unit = pipeline_data.registry.get("teda")
    warehouse = tmp_path / "w.duckdb"
    normalize_unit(unit, pipeline_data.store_dir, warehouse)
    with connect(warehouse) as con:
        [(before,)] = con.execute("SELECT count(*) FROM resources").fetchall()
        bad = pa.table({"resource_id": ["x"]})  # missing required fields: the insert fails
        with pytest.raises(KeyError):
            replace_unit(con, "teda", {"resources": bad})
        [(after,)] = con.execute("SELECT count(*) FROM resources").fetchall()
    assert after == before > 40


def test_locked_warehouse_gives_a_clear_error(tmp_path):
    warehouse = tmp_path / "locked.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import duckdb, sys, time
        con = duckdb.connect({str(warehouse)!r}); con.execute('CREATE TABLE t(a INT)')
        print('ready', flush=True); time.sleep(30)""")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(WarehouseLockedError, match=str(warehouse)):
            with connect(warehouse, wait_seconds=1.0):
                pass
    finally:
        holder.kill()
        holder.wait()
