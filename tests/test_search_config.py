"""The pieces of Chinese search that need no server: the Solr schema transformation
(catalog/solr_schema.py), the analyzer files, the query set and its recall@3 arithmetic
(catalog/search_quality.py), and the searchable words the publisher writes (assets/publish/metadata.py).
The same things against the real CKAN + Solr: tests/test_search_zh.py.
"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest

from assets.publish import metadata
from assets.publish.source import UnitInfo
from catalog.search_quality import (QUERIES_FILE, Query, QueryFileError, QuerySet, expand, load_queries,
                                    measure)
from catalog.solr_schema import TEXT_FIELD_TYPES, SchemaError, chinese_schema

CATALOG = Path(__file__).resolve().parents[1] / "catalog"
ANALYZERS = CATALOG / "solr" / "analyzers"

# The shape of CKAN's schema.xml: the two text types with CKAN's English chains, a string type.
CKAN_LIKE_SCHEMA = """<?xml version="1.0" encoding="UTF-8" ?>
<!-- CKAN's licence header -->
<schema name="ckan-2.12" version="1.6">
<types>
  <fieldType name="string" class="solr.StrField"/>
  <fieldType name="text" class="solr.TextField" positionIncrementGap="100">
    <analyzer type="index"><tokenizer class="solr.WhitespaceTokenizerFactory"/>
      <filter class="solr.SnowballPorterFilterFactory" language="English"/></analyzer>
    <analyzer type="query"><tokenizer class="solr.WhitespaceTokenizerFactory"/></analyzer>
  </fieldType>
  <fieldType name="text_general" class="solr.TextField">
    <analyzer type="index"><tokenizer class="solr.WhitespaceTokenizerFactory"/></analyzer>
    <analyzer type="query"><tokenizer class="solr.WhitespaceTokenizerFactory"/></analyzer>
  </fieldType>
</types>
<fields><field name="title" type="text"/><field name="name" type="string"/></fields>
<copyField source="extras_*" dest="text"/>
</schema>
"""


def _field_type(schema_xml: str, name: str) -> ET.Element:
    root = ET.fromstring(schema_xml.encode("utf-8"))
    (field_type,) = [ft for ft in root.iter("fieldType") if ft.get("name") == name]
    return field_type


def _chain(field_type: ET.Element, kind: str) -> list[str]:
    (analyzer,) = [a for a in field_type.findall("analyzer") if a.get("type") == kind]
    return [child.get("name") or child.get("class") for child in analyzer]


def test_text_types_get_the_cjk_bigram_chain_and_the_rest_stays():
    schema = chinese_schema(CKAN_LIKE_SCHEMA, (ANALYZERS / "cjk.xml").read_text(encoding="utf-8"))
    for name in TEXT_FIELD_TYPES:
        field_type = _field_type(schema, name)
        assert _chain(field_type, "index") == ["standard", "cjkWidth", "lowercase", "asciiFolding", "cjkBigram"]
        assert _chain(field_type, "query")[-2:] == ["cjkBigram", "synonymGraph"]
        assert "Snowball" not in ET.tostring(field_type, encoding="unicode")
    root = ET.fromstring(schema.encode("utf-8"))
    assert root.get("name") == "ckan-2.12"  # CKAN checks the schema name at start-up
    assert {f.get("name"): f.get("type") for f in root.iter("field")} == {"title": "text", "name": "string"}
    assert [c.get("source") for c in root.iter("copyField")] == ["extras_*"]


@pytest.mark.parametrize("analyzers", sorted(ANALYZERS.glob("*.xml")), ids=lambda p: p.stem)
def test_every_committed_analyzer_file_transforms_the_schema(analyzers):
    schema = chinese_schema(CKAN_LIKE_SCHEMA, analyzers.read_text(encoding="utf-8"))
    tokenizer = _chain(_field_type(schema, "text"), "index")[0]
    assert tokenizer == {"cjk": "standard", "icu": "icu", "smartcn": "hmmChinese"}[analyzers.stem]


def test_a_schema_without_ckans_text_types_is_refused_naming_the_file():
    other = CKAN_LIKE_SCHEMA.replace('name="text_general"', 'name="text_en"')
    with pytest.raises(SchemaError, match=r"solr/ckan/schema\.xml: no fieldType named text_general"):
        chinese_schema(other, (ANALYZERS / "cjk.xml").read_text(encoding="utf-8"), source="solr/ckan/schema.xml")


@pytest.mark.parametrize("analyzers, message", [
    ("<analyzers><analyzer type='index'><tokenizer name='standard'/></analyzer></analyzers>",
     r"x\.xml: expected one <analyzer type=\"index\"> and one <analyzer type=\"query\">, found types \['index'\]"),
    ("<analyzer type='index'/>", r"x\.xml: expected an <analyzers> root element"),
    ("<analyzers><analyzer type='index'/><analyzer type='query'><tokenizer name='icu'/></analyzer></analyzers>",
     r"x\.xml: the index analyzer needs exactly one <tokenizer>"),
])
def test_a_malformed_analyzer_file_is_refused_naming_it(analyzers, message):
    with pytest.raises(SchemaError, match=message):
        chinese_schema(CKAN_LIKE_SCHEMA, analyzers, analyzers_source="x.xml")


def test_command_line_writes_the_schema_or_fails_naming_the_missing_file(tmp_path):
    ckan_schema = tmp_path / "schema.xml"
    ckan_schema.write_text(CKAN_LIKE_SCHEMA, encoding="utf-8")
    script = CATALOG / "solr_schema.py"
    ok = subprocess.run([sys.executable, str(script), str(ckan_schema), str(ANALYZERS / "cjk.xml")],
                        capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert _chain(_field_type(ok.stdout, "text"), "index")[-1] == "cjkBigram"
    missing = subprocess.run([sys.executable, str(script), str(ckan_schema), str(tmp_path / "nope.xml")],
                             capture_output=True, text=True, check=False)
    assert missing.returncode == 1 and "nope.xml" in missing.stderr and not missing.stdout


def test_the_committed_query_set_is_large_pinyin_free_and_well_formed():
    query_set = load_queries()
    assert len(query_set.queries) >= 30
    assert query_set.threshold >= 0.9
    for query in query_set.queries:
        # Chinese (or years) only: no Latin letters, so no pinyin and no English.
        assert not any("a" <= ch.lower() <= "z" for ch in query.text), query.text
    texts = {q.text for q in query_set.queries}
    assert {"民政", "退役军人", "生态城", "财政预决算", "应急预案", "年度报告", "规范性文件", "2020 年报"} <= texts


def test_a_malformed_query_file_is_refused_naming_it(tmp_path):
    bad = tmp_path / "queries.yaml"
    bad.write_text("queries:\n  - {q: 民政}\n", encoding="utf-8")
    with pytest.raises(QueryFileError, match=r"queries\.yaml: query 1 .* needs a non-empty `q` and `relevant`"):
        load_queries(bad)
    bad.write_text("queries:\n  - {q: 民政, relevant: [a]}\n  - {q: 民政, relevant: [b]}\n", encoding="utf-8")
    with pytest.raises(QueryFileError, match="queries listed twice: 民政"):
        load_queries(bad)


def test_globs_expand_over_the_catalog_names():
    names = ["mzj-zfxxgk-ml", "xgjd-zfxxgk-ml", "zwgk-catalogue", "zwgk-scorecard"]
    assert expand(["*jd-zfxxgk-ml", "zwgk-catalogue"], names) == {"xgjd-zfxxgk-ml", "zwgk-catalogue"}
    assert expand(["*-zfxxgk-ml"], names) == {"mzj-zfxxgk-ml", "xgjd-zfxxgk-ml"}


def test_recall_at_3_counts_relevant_hits_against_at_most_three_wanted():
    names = ["a-zfxxgk-ml", "b-zfxxgk-ml", "c-zfxxgk-ml", "d-zfxxgk-ml", "zwgk-scorecard"]
    answers = {
        "one": (["zwgk-scorecard", "a-zfxxgk-ml"], 2),                    # the one wanted is 1st
        "two": (["a-zfxxgk-ml", "zwgk-scorecard", "b-zfxxgk-ml"], 3),     # 1 of 2 wanted
        "many": (["a-zfxxgk-ml", "b-zfxxgk-ml", "d-zfxxgk-ml", "c-zfxxgk-ml"], 4),  # 3 of min(4, 3)
        "none": ([], 0),
    }
    query_set = QuerySet(0.9, (Query("one", ("zwgk-scorecard",)), Query("two", ("b-zfxxgk-ml", "c-zfxxgk-ml")),
                               Query("many", ("*-zfxxgk-ml",)), Query("none", ("a-zfxxgk-ml",))))
    report = measure(query_set, lambda q: answers[q], names)
    assert [r.recall for r in report.results] == [1.0, 0.5, 1.0, 0.0]
    assert report.recall == pytest.approx(2.5 / 4)
    assert report.empty == ["none"]
    table = report.table()
    assert "0.50      3  two -> a-zfxxgk-ml (x), zwgk-scorecard (x), b-zfxxgk-ml" in table
    assert "none -> (nothing)" in table and "mean recall@3 0.625 over 4 queries" in table


def test_a_query_whose_relevant_datasets_are_not_in_the_catalog_is_an_error():
    query_set = QuerySet(0.9, (Query("民政", ("mzj-zfxxgk-ml",)),))
    with pytest.raises(QueryFileError, match="query '民政': none of \\['mzj-zfxxgk-ml'\\] is in the catalog"):
        measure(query_set, lambda q: ([], 0), ["jyj-zfxxgk-ml"])


def test_directory_metadata_names_the_unit_its_columns_and_report_years():
    unit = UnitInfo("mzj", "区民政局", "bureau", "http://www.bh.zwgk.test/mzj/zfxxgk/")
    rows = [
        {"publish_date": date(2021, 1, 20), "column_name": "政府信息公开工作年度报告", "column_kind": "annual_report",
         "title": "区民政局2020年政府信息公开工作年度报告"},
        {"publish_date": date(2020, 1, 20), "column_name": "政府信息公开工作年度报告", "column_kind": "annual_report",
         "title": "区民政局2019年政府信息公开工作年度报告"},
        {"publish_date": date(2020, 5, 1), "column_name": "财政预决算", "column_kind": "other", "title": "2020年部门预算"},
    ]
    dataset = metadata.directory(unit, rows, metadata.DEFAULT_CONTACT)
    assert dataset["unit_name"] == "区民政局"
    assert dataset["language"] == "zh"
    assert "- 栏目：政府信息公开工作年度报告 2 条、财政预决算 1 条\n" in dataset["notes"]
    assert "- 政府信息公开工作年度报告：2019年、2020年\n" in dataset["notes"]


def test_scorecard_metadata_names_the_units_not_found_compliant():
    scores = [{"as_of": date(2021, 3, 1), "unit_name": name, "verdict": verdict, "veto": veto}
              for name, verdict, veto in (("区民政局", "合格", False), ("中新天津生态城管委会", "不合格", True),
                                          ("东疆综合保税区管委会", "无法核查", False))]
    dataset = metadata.scorecard([], scores, metadata.DEFAULT_CONTACT)
    assert "- 不合格的单位：中新天津生态城管委会\n- 无法核查的单位：东疆综合保税区管委会\n" in dataset["notes"]
    assert "区民政局" not in dataset["notes"]
    assert dataset["unit_name"] == metadata.PLATFORM_TITLE


def test_directory_metadata_bounds_the_column_names_a_site_supplies():
    unit = UnitInfo("x", "区某局", "bureau", "http://www.bh.zwgk.test/x/zfxxgk/")
    rows = [{"publish_date": None, "column_name": f"栏目{i:02d}" + ("长" * 100 if i == 0 else ""),
             "column_kind": "news", "title": "t"} for i in range(35)]
    notes = metadata.directory(unit, rows, metadata.DEFAULT_CONTACT)["notes"]
    (line,) = [ln for ln in notes.splitlines() if ln.startswith("- 栏目：")]
    assert line.endswith(" 等 35 个栏目") and line.count(" 条") == metadata.MAX_LISTED_COLUMNS
    assert f"栏目00{'长' * (metadata.MAX_COLUMN_NAME - 5)}… 1 条" in line
