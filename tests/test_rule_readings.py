"""The rule readings of expectations/catalog.yaml as inspectors apply them (issue 13).

Two layers, each with a case that passes and one that fails per reading:
- what the harvester and normalizer read off real page shapes (hand-written list rows, column
  pages, notes): pure functions on markup written in other CMSs' styles;
- how validation decides on what was read: hand-built warehouses (warehouse_builder), one unit
  per scenario, all validated in one run.
The generated portal exercises the same readings end to end (tests/test_ground_truth.py).
"""

from __future__ import annotations

import html
import json
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from assets.harvest.columns import ColumnWalk
from assets.harvest.extract import extract_links
from assets.harvest.lists.base import ListItem
from assets.harvest.lists.rows import item_of_fragment
from assets.normalize.build import list_mark
from assets.validate import validate_warehouse
from assets.validate.report import build_report, page_name
from schemas.vocabulary import column_note, is_article_text, list_mark_validity
from warehouse_builder import AS_OF, INTERPRETATION_BODY, NORMATIVE_BODY, Unit, Warehouse
from core.warehouse import connect as warehouse_connect

# -- reading the pages --------------------------------------------------------------------------

GUIDE_TEXT = (
    "政府信息公开指南 为了更好地提供政府信息公开服务，根据《中华人民共和国政府信息公开条例》，编制本指南。"
    "一、主动公开。本机关主动公开的政府信息包括机构职能、政策文件、规划计划等，通过门户网站政府信息公开专栏发布。"
    "二、依申请公开。公民、法人或者其他组织可以向本机关申请获取政府信息，申请应当采用书面形式。"
    "三、受理机构。本机关办公室负责受理政府信息公开申请，地址：滨海新区大连东道1号，办公时间：工作日9:00—17:00，"
    "联系电话：022-25000000。"
)
# An empty list page of another CMS: its heading, a placeholder, and a footer that is not chrome
# by class name (no 。 in it, as footers go).
EMPTY_LIST_TEXT = ("行政处罚 暂无信息 主办单位：天津市滨海新区人民政府 地址：天津市滨海新区大连东道1号 邮编：300450 "
                   "电话：022-25201234 网站标识码：1201160001 津ICP备05003689号 津公网安备 12011602000123号 "
                   "技术支持：滨海新区政务服务办公室 建议使用1280×768分辨率浏览 版权所有 滨海新区人民政府办公室")


def _walk(text: str) -> ColumnWalk:
    walk = ColumnWalk(url="https://www.example.gov.cn/zwgk/gkzn/", depth=1, text=text)
    walk.order = {"page0": 0}
    walk.items = {"page0": []}
    return walk


def test_a_column_page_that_is_the_guide_itself_is_an_article():
    assert is_article_text(GUIDE_TEXT)
    assert _walk(GUIDE_TEXT).is_article()


def test_an_empty_list_page_with_a_long_footer_is_no_article():
    assert len(EMPTY_LIST_TEXT) > 150
    assert not is_article_text(EMPTY_LIST_TEXT)
    assert not _walk(EMPTY_LIST_TEXT).is_article()


def test_a_column_that_listed_items_is_no_article_whatever_its_text():
    walk = _walk(GUIDE_TEXT)
    walk.items["page0"] = [ListItem(url="https://www.example.gov.cn/zwgk/gkzn/t1.html", title="指南")]
    assert not walk.is_article()


@pytest.mark.parametrize("text, note", [
    ("重大建设项目\n本单位暂无重大建设项目。", "本单位暂无重大建设项目。"),
    ("财政信息 暂无相关信息", "财政信息 暂无相关信息。"),
    ("行政处罚\n本栏目无行政处罚事项", "本栏目无行政处罚事项。"),
    ("说明：本单位不涉及此类事项，故本栏目暂无信息。", "说明：本单位不涉及此类事项，故本栏目暂无信息。"),
])
def test_a_column_explained_as_empty_has_a_note(text, note):
    assert column_note(text) == note


@pytest.mark.parametrize("text", ["暂无信息", "行政处罚\n暂无数据", "本栏目暂无信息！", "没有记录", "No data", "", None])
def test_a_cms_placeholder_is_no_note(text):
    assert column_note(text) is None


STATIC_LIST = """<html><body><div class="wzlm">规范性文件</div>
<table class="gfxwj-table"><tr><th>名称</th><th>文号</th><th>状态</th><th>日期</th></tr>
<tr><td><a href="/gfxwj/202001/t1.html">滨海新区专项资金管理办法</a></td><td>津滨规〔2020〕1号</td>
    <td><font color="red">已废止</font></td><td>2020-01-06</td></tr>
<tr><td><a href="/gfxwj/202003/t2.html">滨海新区养老服务补贴办法</a></td><td>津滨规〔2020〕2号</td>
    <td>现行有效</td><td>2020-03-02</td></tr>
<tr><td><a href="/gfxwj/202005/t3.html">关于废止部分规范性文件的决定</a></td><td>津滨规〔2020〕3号</td>
    <td></td><td>2020-05-11</td></tr>
<tr><td><a href="/gfxwj/202006/t4.html">滨海新区停车管理办法（已失效）</a></td><td>津滨规〔2020〕4号</td>
    <td></td><td>2020-06-15</td></tr>
</table></body></html>"""


def test_list_rows_carry_their_validity_marks():
    links = extract_links(STATIC_LIST, "https://www.example.gov.cn/gfxwj/index.html")
    marks = {url.rsplit("/", 1)[1]: mark for url, mark in links.marks.items()}
    # A title that speaks of 废止 (关于废止…的决定) is not marked by it.
    assert marks == {"t1.html": "已废止", "t2.html": "现行有效", "t4.html": "已失效"}
    assert [list_mark_validity(m) for m in ("已废止", "现行有效", "已失效")] == ["废止", "有效", "失效"]


def test_a_jpage_record_carries_its_mark():
    record = ('<li><a href="/art/2020/1/6/art_1_1.html" title="滨海新区专项资金管理办法">滨海新区专项资金管理办法</a>'
              '<span class="zt">[已修订]</span><span class="date">2020-01-06</span></li>')
    item = item_of_fragment(record, "https://www.example.gov.cn/col/col1/index.html")
    assert dict(item.meta) == {"mark": "已修订"} and item.date_text == "2020-01-06"


@pytest.mark.parametrize("meta, expected", [
    ({"mark": "已废止"}, ("已废止", "废止")),
    ({"YXX": "0", "FWZH": "津滨规〔2020〕1号"}, ("YXX=0", "有效")),
    ({"YXX": "1"}, ("YXX=1", "失效")),
    ({"YXX": ""}, (None, None)),
    ({"is_abolished": "true"}, ("is_abolished=true", "废止")),
    ({"is_abolished": "false"}, (None, None)),
])
def test_json_list_sources_state_validity(meta, expected):
    assert list_mark(json.dumps(meta, ensure_ascii=False)) == expected


# -- deciding on what was read ------------------------------------------------------------------

def _long_stale_columns(w: Warehouse, unit: Unit, count: int) -> None:
    for number in range(count):
        code = f"old{number}"
        w.column(unit, "other", f"专项工作{number}", parent="statutory", code=code)
        w.doc(unit, code, f"专项工作情况（{number}）", AS_OF - timedelta(days=400))


def _stale_windows(w: Warehouse, unit: Unit, count: int) -> None:
    for number in range(count):
        code = f"notice{number}"
        w.column(unit, "notice", f"公示公告{number}", parent="statutory", code=code)
        w.doc(unit, code, f"公示（{number}）", AS_OF - timedelta(days=200))


def _supersede(w: Warehouse, unit: Unit) -> dict:
    old = unit.docs(doc_kind="规范性文件")[0]
    w.doc(unit, "policy", "关于印发新办法的通知", AS_OF - timedelta(days=40),
          body=f"本办法自发布之日起施行。《{old['title']}》同时废止。")
    return old


def _noted(w, unit):
    w.column(unit, "other", "重大建设项目", parent="statutory", code="zdxm", has_note=True)
    unit.columns["zdxm"]["note_text"] = "本单位暂无重大建设项目。"


def _undated_policy(w, unit):
    for doc in unit.docs("policy"):
        doc.update(publish_date=None, list_date=None, written_date=None)


def _list_only_mark(w, unit):
    old = _supersede(w, unit)
    old.update(validity=None, validity_period_text="有效期5年")
    w.list_item(unit, old, "已废止", "废止")


def _unmarked_anywhere(w, unit):
    old = _supersede(w, unit)
    old.update(validity=None)


def _list_and_page_disagree(w, unit):
    doc = unit.docs(doc_kind="规范性文件")[1]
    w.list_item(unit, doc, "已废止", "废止")


def _list_and_page_agree(w, unit):
    doc = unit.docs(doc_kind="规范性文件")[1]
    w.list_item(unit, doc, "有效", "有效")


def _lapsed_copy(w, unit):
    doc = unit.docs(doc_kind="规范性文件")[1]
    doc.update(validity="失效")
    interp = next(r for r in unit.resources if r["interprets"] == doc["resource_id"])
    interp["body_text"] = f"现将《{doc['title']}》解读如下。{NORMATIVE_BODY}"


def _orphan_interpretation(w, unit):
    w.doc(unit, "interpretation", "《滨海新区物业管理办法》政策解读", AS_OF - timedelta(days=30),
          doc_kind="政策解读", body=INTERPRETATION_BODY, interprets=None, interprets_title="滨海新区物业管理办法")


SCENARIOS = {
    # unit id: (mutation, check, expected status, expected veto)
    "noted": (_noted, "C06", "pass", False),
    "undated": (_undated_policy, "C07", "fail", False),
    "stale4": (lambda w, u: _stale_windows(w, u, 4), "C07", "fail", False),
    "stale5": (lambda w, u: _stale_windows(w, u, 5), "C07", "fail", True),
    "long9": (lambda w, u: _long_stale_columns(w, u, 9), "C07", "pass", False),
    "long10": (lambda w, u: _long_stale_columns(w, u, 10), "C07", "fail", True),
    "listonly": (_list_only_mark, "C11", "pass", False),
    "unmarked": (_unmarked_anywhere, "C11", "fail", False),
    "disagree": (_list_and_page_disagree, "C11", "fail", False),
    "agree": (_list_and_page_agree, "C11", "pass", False),
    "lapsedcopy": (_lapsed_copy, "C12", "fail", False),
    "orphan": (_orphan_interpretation, "C12", "pass", False),
}

# Documents without a publish date also fail C13; normative documents with no validity, C10.
ALSO_FAILING = {"undated": {"C13"}, "listonly": {"C10"}, "unmarked": {"C10"}}


@pytest.fixture(scope="module")
def validated(tmp_path_factory) -> Path:
    w = Warehouse(tmp_path_factory.mktemp("readings") / "zwgk.duckdb")
    for unit_id, (mutate, *_rest) in SCENARIOS.items():
        mutate(w, w.compliant_unit(unit_id))
    path = w.write()
    validate_warehouse(path, AS_OF, run_id="readings")
    return path


@pytest.fixture(scope="module")
def results(validated) -> dict[tuple[str, str], dict]:
    with warehouse_connect(validated, read_only=True) as con:
        rows = con.execute("""SELECT r.unit_id, r.check_id, r.status, r.message, r.evidence_urls, r.evidence_text,
                                     r.rule_applied, r.warning, list_contains(s.veto_checks, r.check_id) AS veto
                              FROM check_results r JOIN unit_scores s USING (run_id, unit_id)""").fetchall()
    keys = ("status", "message", "evidence_urls", "evidence_text", "rule_applied", "warning", "veto")
    return {(row[0], row[1]): dict(zip(keys, row[2:])) for row in rows}


@pytest.mark.parametrize("unit_id", list(SCENARIOS))
def test_each_reading_decides_its_check(results, unit_id):
    _mutate, check, status, veto = SCENARIOS[unit_id]
    result = results[(unit_id, check)]
    assert (result["status"], result["veto"]) == (status, veto), result["message"]
    others = {c for (u, c), r in results.items() if u == unit_id and r["status"] == "fail" and c != check}
    assert others == ALSO_FAILING.get(unit_id, set()), f"{unit_id}: also failed {others}"


def test_a_note_is_shown_as_the_evidence(results):
    result = results[("noted", "C06")]
    assert "本单位暂无重大建设项目" in result["evidence_text"]
    assert any(url.endswith("/zdxm/") for url in result["evidence_urls"])


def test_undated_items_are_named_as_not_updated(results):
    result = results[("undated", "C07")]
    assert "均未注明发布时间，视为不更新" in result["message"] and "政策文件" in result["message"]
    assert "只计注明发布时间的信息" in result["rule_applied"]


def test_a_list_and_page_disagreement_shows_both_pages_and_both_marks(results):
    result = results[("disagree", "C11")]
    assert result["evidence_text"] == "列表标注“已废止”，文件页面标注“有效”"
    assert any(url.endswith("index.html") for url in result["evidence_urls"])  # the list page
    assert any("/normative/t" in url for url in result["evidence_urls"])  # the document's own page


def test_a_mark_only_in_the_list_passes_with_a_warning(results):
    assert "仅在列表中标注为“已废止”" in results[("listonly", "C11")]["warning"]
    assert results[("unmarked", "C11")]["warning"] is None


def test_a_interpretation_of_a_missing_document_is_a_warning(results):
    assert "滨海新区物业管理办法" in results[("orphan", "C12")]["warning"]
    assert results[("lapsedcopy", "C12")]["warning"] is None
    assert "照搬原文" in results[("lapsedcopy", "C12")]["message"]


def test_every_failed_or_na_check_states_the_rule_as_applied(results):
    assert all(r["rule_applied"] for (_u, _c), r in results.items() if r["status"] != "pass")
    assert date(2020, 9, 1).isoformat() in results[("stale5", "C07")]["rule_applied"]  # as_of minus 6 months


def _check_row(page: str, check_id: str) -> str:
    start = page.index(f'<tr id="{check_id}"')
    return html.unescape(page[start:page.index("</tr>", start)])


def test_the_unit_page_shows_rule_evidence_and_deciding_text(validated, tmp_path):
    build_report(validated, tmp_path / "report")
    disagree = (tmp_path / "report" / "units" / page_name("disagree")).read_text(encoding="utf-8")
    row = _check_row(disagree, "C11")
    assert "适用规则" in row
    assert "依据原文" in row and "列表标注“已废止”，文件页面标注“有效”" in row
    assert row.count('<a href="http') >= 2  # the list page and the document page
    noted = (tmp_path / "report" / "units" / page_name("noted")).read_text(encoding="utf-8")
    assert "本单位暂无重大建设项目" in _check_row(noted, "C06")
    assert "栏目说明" in noted  # the column table shows the note too
    listonly = (tmp_path / "report" / "units" / page_name("listonly")).read_text(encoding="utf-8")
    assert "提示" in _check_row(listonly, "C11") and "仅在列表中标注" in _check_row(listonly, "C11")
