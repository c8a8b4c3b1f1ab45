"""Chinese full-text search in the real local CKAN (catalog/stack.sh: CKAN + PostgreSQL + Redis +
Solr with the Chinese schema), on the catalog `scripts/demo.sh` publishes.

The module fixture publishes the sample portal's catalog (tests/search_catalog.py: every unit's
directory, the catalogue, the scorecard and the data dictionary) under a name prefix of its own,
then runs the committed query set (catalog/search_queries.yaml) through package_search, the query
the web search box runs, and prints recall@3 per query (also to test-artifacts/search-recall.txt).
If the stack cannot start, every test fails with the component and its log tail, never skips.
"""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import ckanapi
import pytest

from assets.publish.names import Names
from catalog.local import CkanStack, ensure_stack
from catalog.search_quality import load_queries, measure
from search_catalog import publish_sample_catalog, purge_namespace

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

NAMES = Names(f"s{uuid.uuid4().hex[:6]}-")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@pytest.fixture(scope="module")
def stack() -> CkanStack:
    return ensure_stack()  # raises StackError (component + log tail) if the stack cannot start


@pytest.fixture(scope="module")
def ckan(stack):
    return ckanapi.RemoteCKAN(stack.url, apikey=stack.token())


@pytest.fixture(scope="module")
def catalog_names(stack, ckan, pipeline_data, tmp_path_factory) -> list[str]:
    """The demo's catalog, published under NAMES; its dataset names without the prefix."""
    purge_namespace(ckan, NAMES)
    summary = publish_sample_catalog(pipeline_data, tmp_path_factory.mktemp("search"), stack.url, stack.token(),
                                     NAMES)
    assert len(summary.created) >= 40, summary
    found = ckan.action.package_search(fq=NAMES.search_filter, rows=1000)["results"]
    yield [d["name"].removeprefix(NAMES.prefix) for d in found]
    purge_namespace(ckan, NAMES)


def _search(ckan: ckanapi.RemoteCKAN, q: str, rows: int = 3) -> tuple[list[str], int]:
    """package_search within this module's namespace: names best first, and the match count."""
    found = ckan.action.package_search(q=q, fq=NAMES.search_filter, rows=rows)
    return [d["name"].removeprefix(NAMES.prefix) for d in found["results"]], found["count"]


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def test_query_set_recall_at_3(stack, ckan, catalog_names, capsys):
    query_set = load_queries()
    report = measure(query_set, lambda q: _search(ckan, q), catalog_names)
    analyzer = _text_analyzer(stack)
    table = f"Chinese search, Solr text analysis {analyzer}:\n{report.table()}"
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "search-recall.txt").write_text(table + "\n", encoding="utf-8")
    with capsys.disabled():  # the per-query figures belong in the CI log, pass or fail
        print("\n" + table)
    assert report.recall >= query_set.threshold, table
    assert report.empty == [], f"queries with nothing relevant in the top 3: {report.empty}\n{table}"


def _text_analyzer(stack: CkanStack) -> str:
    """The tokenizer and last filter of the live index analyzer of CKAN's `text` field type."""
    solr_field_type = json.loads(_get(stack.solr_url + "/schema/fieldtypes/text?wt=json"))["fieldType"]
    index = solr_field_type["indexAnalyzer"]
    tokenizer = index["tokenizer"].get("name") or index["tokenizer"].get("class")
    last = index.get("filters", [{}])[-1]
    return f"{tokenizer} ... {last.get('name') or last.get('class')}"


def test_solr_indexes_chinese_text_as_bigrams(stack):
    query = urllib.parse.urlencode({"analysis.fieldtype": "text", "analysis.fieldvalue": "区退役军人事务局 2020年 TEDA",
                                    "wt": "json"})
    analysis = json.loads(_get(f"{stack.solr_url}/analysis/field?{query}"))
    stages = analysis["analysis"]["field_types"]["text"]["index"]
    tokens = [t["text"] for t in stages[-1]]
    assert tokens == ["区退", "退役", "役军", "军人", "人事", "事务", "务局", "2020", "年", "teda"]


def test_chinese_words_find_datasets_that_only_contain_them_inside_longer_words(ckan, catalog_names):
    # 民政 occurs only inside 区民政局; before the Chinese schema this query found nothing.
    names, count = _search(ckan, "民政")
    assert names[0] == "mzj-zfxxgk-ml" and count <= 3, (names, count)
    # A word of the notes only: 财政预决算 is a column (栏目) listed in the directories' notes.
    names, count = _search(ckan, "财政预决算", rows=1000)
    assert names[0] == "czj-zfxxgk-ml" and count > 10


def test_unit_name_field_and_tags_are_searchable(ckan, catalog_names):
    # unit_name is a scheming field, indexed as the text field extras_unit_name (and copied into
    # the catalog-wide `text` field): a fragment of the name finds it.
    assert _search(ckan, "extras_unit_name:退役军人")[0] == ["tyjrj-zfxxgk-ml"]
    # 乡镇 is only in the towns' tags (their titles say 镇): tags are analysed like titles.
    names, count = _search(ckan, "乡镇", rows=1000)
    assert sorted(names) == ["tpz-zfxxgk-ml", "xwzz-zfxxgk-ml", "yjbz-zfxxgk-ml", "ztz-zfxxgk-ml"], names


def test_short_forms_find_the_full_names_through_synonyms(ckan, catalog_names):
    assert _search(ckan, "发改委")[0][:1] == ["fgw-zfxxgk-ml"]   # 区发展改革委
    names, _ = _search(ckan, "2020 年报", rows=1000)             # 年报 = 年度报告
    assert names and all(n.endswith("-zfxxgk-ml") or n == "zwgk-catalogue" for n in names[:3])


def test_the_web_search_page_finds_chinese_words(stack, catalog_names):
    # What a reader does: type 退役军人 into the search box of /dataset/.
    page = _get(f"{stack.url}/dataset/?" + urllib.parse.urlencode({"q": "退役军人"})).decode("utf-8")
    assert f'href="/dataset/{NAMES.prefix}tyjrj-zfxxgk-ml"' in page
    assert re.search(r'lang="zh[-_]Hans[-_]CN"', page), "the page is not served in Chinese"


def test_dataset_dcat_says_chinese_with_chinese_publisher_and_contact(stack, catalog_names):
    ttl = _get(f"{stack.url}/dataset/{NAMES.directory('mzj')}.ttl").decode("utf-8")
    assert re.search(r'dct:language "zh"', ttl), ttl[:2000]
    assert 'foaf:name "区民政局"' in ttl                    # dct:publisher: the unit's organization
    assert 'vcard:fn "滨海新区政务公开办公室"' in ttl        # dcat:contactPoint
    assert '"en"' not in ttl
    # The catalog's language is CKAN's default locale (ckanext-dcat reads ckan.locale_default).
    catalog = _get(f"{stack.url}/catalog.ttl").decode("utf-8")
    assert 'dct:language "zh_Hans_CN"' in catalog
    assert 'dct:description "滨海新区各单位政府信息公开目录、政务公开评估记分卡和数据字典"' in catalog
