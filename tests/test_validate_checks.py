"""Checks C01–C22 on hand-built warehouses: one unit per scenario, all validated in one run.

Every scenario starts from a unit that passes everything (warehouse_builder.compliant_unit),
breaks one thing, and asserts the exact set of failing checks, so a rule that fires too often
shows up as much as one that never fires.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Callable

import duckdb
import pytest

from assets.validate import validate_warehouse
from warehouse_builder import AS_OF, HOST, NOW, NORMATIVE_BODY, REPORT_BODY, Unit, Warehouse
from core.warehouse import connect as warehouse_connect

RUN = "checks"


def _drop(w: Warehouse, unit: Unit, code: str) -> None:
    column = unit.columns.pop(code)
    unit.resources[:] = [r for r in unit.resources if r["column_id"] != column["column_id"]]


def _blank(w: Warehouse, unit: Unit, count: int) -> None:
    for number in range(count):
        w.column(unit, "other", f"人事信息{number}", parent="statutory", code=f"other{number}")


def _set(kind: str | None = None, doc_kind: str | None = None, index: int = 0, **fields) -> Callable:
    def mutate(w: Warehouse, unit: Unit) -> None:
        unit.docs(kind, doc_kind)[index].update(fields)
    return mutate


def _no_statutory_parent(w, unit):
    statutory = unit.columns.pop("statutory")
    for column in unit.columns.values():
        if column["parent_column_id"] == statutory["column_id"]:
            column["parent_column_id"] = None


def _empty_annual_report(w, unit):
    _drop(w, unit, "annual_report")
    w.column(unit, "annual_report", "政府信息公开工作年度报告", has_note=True)


def _stale_news(w, unit):
    for doc in unit.docs("news"):
        doc.update(publish_date=AS_OF - timedelta(days=15), list_date=AS_OF - timedelta(days=15))


def _fresh_at_the_limit(w, unit):
    for doc in unit.docs("news"):
        doc.update(publish_date=AS_OF - timedelta(days=14), list_date=None)
    for kind in ("policy", "notice"):
        for number, doc in enumerate(unit.docs(kind)):
            doc.update(publish_date=date(2020, 9, 1) - timedelta(days=number), list_date=None,
                       written_date=date(2020, 8, 1))


def _undated_news(w, unit):
    for doc in unit.docs("news"):
        doc.update(publish_date=None, list_date=None)


def _stale_notice(w, unit):
    for doc in unit.docs("notice"):
        doc.update(publish_date=date(2020, 8, 31), list_date=date(2020, 8, 31), written_date=date(2020, 8, 30))


def _report_without_section(w, unit):
    doc = unit.docs(doc_kind="年度报告")[0]
    doc["body_text"] = REPORT_BODY.replace("五、存在的主要问题及改进情况", "")


def _report_unbalanced(w, unit):
    unit.docs(doc_kind="年度报告")[0]["report_figures"] = \
        '{"本年新收": 10, "上年结转": 1, "办理结果总计": 10, "结转下年度": 2}'


def _report_of_wrong_year(w, unit):
    unit.docs(doc_kind="年度报告")[0]["title"] = "2019年政府信息公开工作年度报告"


def _report_late_but_another_on_time(w, unit):
    late = dict(unit.docs(doc_kind="年度报告")[0], publish_date=date(2021, 2, 3))
    late.update(url=late["url"] + "?late", resource_id="late-report", index_no="000014349/2021-09999")
    unit.resources.append(late)


def _guide_without_contacts(w, unit):
    doc = unit.docs(doc_kind="公开指南")[0]
    lines = doc["body_text"].split("\n")
    doc["body_text"] = "\n".join(line for line in lines if "办公时间" not in line and "电话" not in line)


def _abolished_unmarked(w, unit):
    old = unit.docs(doc_kind="规范性文件")[0]
    w.doc(unit, "policy", "关于印发新办法的通知", AS_OF - timedelta(days=40),
          body=f"本办法自发布之日起施行。《{old['title']}》（{old['doc_number']}）同时废止。")


def _abolished_marked_by_number(w, unit):
    old = unit.docs(doc_kind="规范性文件")[0]
    old.update(validity="废止")
    w.doc(unit, "policy", "关于修订管理办法的通知", AS_OF - timedelta(days=40),
          body=f"经研究，对{old['doc_number']}进行修订；其他事项另行通知。")


def _cites_itself(w, unit):
    doc = unit.docs(doc_kind="规范性文件")[0]
    doc["body_text"] += f"《{doc['title']}》修订时另行公布。"


def _interpretation_missing(w, unit):
    target = unit.docs(doc_kind="规范性文件")[0]["resource_id"]
    unit.resources[:] = [r for r in unit.resources if r["interprets"] != target]


def _interpretation_copy(w, unit):
    doc = unit.docs(doc_kind="规范性文件")[0]
    interp = next(r for r in unit.resources if r["interprets"] == doc["resource_id"])
    interp["body_text"] = f"现将《{doc['title']}》解读如下。\n{NORMATIVE_BODY}"


def _interpretation_quotes_a_little(w, unit):
    doc = unit.docs(doc_kind="规范性文件")[0]
    interp = next(r for r in unit.resources if r["interprets"] == doc["resource_id"])
    interp["body_text"] += NORMATIVE_BODY[:30]


def _interpretation_by_title_only(w, unit):
    for interp in unit.docs(doc_kind="政策解读"):
        interp["interprets"] = None


def _duplicate_index(w, unit):
    docs = unit.docs("policy")
    docs[1]["index_no"] = docs[0]["index_no"]


def _publisher_aliases(w, unit):
    unit.docs("policy")[0]["publisher"] = "天津市滨海新区教育局"
    unit.docs("policy")[1]["publisher"] = "教育局"
    unit.docs("notice")[0]["publisher"] = "区教体局"


def _missing_publish_date(w, unit):
    oldest = unit.docs("policy")[-1]
    oldest.update(publish_date=None, list_date=None)


def _late_catalog(w, unit):
    unit.docs("standard_catalog")[0].update(publish_date=date(2020, 12, 5), written_date=date(2020, 12, 1))


def _no_power_list(w, unit):
    _drop(w, unit, "power_list")
    unit.columns["statutory"]["child_count"] -= 1


def _org_without_leaders(w, unit):
    unit.resources[:] = [r for r in unit.resources if r["title"] != "领导信息"]


def _no_emergency_plan(w, unit):
    _drop(w, unit, "emergency_plan")


def _no_executive_meeting(w, unit):
    unit.docs("meeting")[0]["title"] = "滨海新区专题协调会"


def _broken_attachment(w, unit):
    doc = unit.docs("notice")[0]
    w.link_check(unit, doc["url"], doc["url"] + "fj2.doc", 404)


def _link_error(w, unit):
    doc = unit.docs("notice")[0]
    w.link_check(unit, doc["url"], "http://gone.example/x.html", None, "timeout", kind="link")


def _broken_link_on_removed_page(w, unit):
    doc = w.doc(unit, "notice", "已下线的通知", AS_OF - timedelta(days=100), removed_at=NOW, has_pii=True)
    w.link_check(unit, doc["url"], doc["url"] + "fj.pdf", 404)


def _no_ipv6(w, unit):
    w.hosts[unit.row["host"]].update(ipv6_ok=False, error="connection refused", http_status=None)


def _withheld_without_reason(w, unit):
    unit.docs("policy")[0].update(disclosure="不予公开", non_disclosure_reason=None)


def _news_heavy(w, unit):
    for number in range(30):
        w.doc(unit, "news", f"工作简讯第{number}期", AS_OF - timedelta(days=3), index_no=None)


def _key_area_missing(w, unit):
    unit.resources[:] = [r for r in unit.resources if "生态环境" not in r["title"]]


def _neglected(w, unit):
    _drop(w, unit, "guide")
    unit.docs("system")[0]["column_id"] = None
    unit.columns["system"]["item_count"] = 0
    _stale_notice(w, unit)
    _report_without_section(w, unit)
    unit.docs(doc_kind="规范性文件")[0].update(validity_period_text=None, valid_until=None)
    _no_power_list(w, unit)


# unit id: (kind, unit arguments, mutation, failing checks)
SCENARIOS: dict[str, tuple[str, dict, Callable | None, set[str]]] = {
    "ok_bureau": ("bureau", {}, None, set()),
    "ok_district": ("district", {}, None, set()),
    "ok_street": ("street", {"emergency_duties": True}, None, set()),
    "ok_zone": ("zone", {"emergency_duties": True}, None, set()),
    "c02_no_guide": ("bureau", {}, lambda w, u: _drop(w, u, "guide"), {"C02", "C09"}),
    "c03_empty_system": ("bureau", {}, lambda w, u: _drop(w, u, "system") or w.column(u, "system"), {"C03", "C06"}),
    "c04_no_statutory": ("bureau", {}, _no_statutory_parent, {"C04"}),
    "c05_empty_with_note": ("bureau", {}, _empty_annual_report, {"C05", "C08"}),
    "c06_two_blank": ("bureau", {}, lambda w, u: _blank(w, u, 2), {"C06"}),
    "c06_four_blank": ("bureau", {}, lambda w, u: _blank(w, u, 4), {"C06"}),
    "c06_five_blank": ("bureau", {}, lambda w, u: _blank(w, u, 5), {"C06"}),
    "c06_note_or_children": ("bureau", {}, lambda w, u: (
        w.column(u, "other", "人事信息", parent="statutory", has_note=True),
        w.column(u, "other", "财政信息", parent="statutory", code="czxx"),
        w.column(u, "other", "预算", parent="czxx", code="ys", has_note=True)), set()),
    "c07_stale_news": ("bureau", {}, _stale_news, {"C07"}),
    "c07_at_the_limit": ("bureau", {}, _fresh_at_the_limit, set()),
    "c07_undated_news": ("bureau", {}, _undated_news, {"C07"}),
    "c07_stale_notice": ("bureau", {}, _stale_notice, {"C07"}),
    "c08_late": ("bureau", {}, _set(doc_kind="年度报告", publish_date=date(2021, 2, 10)), {"C08"}),
    "c08_missing_section": ("bureau", {}, _report_without_section, {"C08"}),
    "c08_unbalanced": ("bureau", {}, _report_unbalanced, {"C08"}),
    "c08_unreadable_table": ("bureau", {}, _set(doc_kind="年度报告", report_figures=None), set()),
    "c08_wrong_year": ("bureau", {}, _report_of_wrong_year, {"C08"}),
    "c08_one_good_report": ("bureau", {}, _report_late_but_another_on_time, set()),
    "c09_no_contacts": ("bureau", {}, _guide_without_contacts, {"C09"}),
    "c10_no_period": ("bureau", {}, _set(doc_kind="规范性文件", validity_period_text=None, valid_until=None), {"C10"}),
    "c10_no_validity": ("bureau", {}, _set(doc_kind="规范性文件", validity=None), {"C10"}),
    "c11_unmarked": ("bureau", {}, _abolished_unmarked, {"C11"}),
    "c11_marked_by_number": ("bureau", {}, _abolished_marked_by_number, set()),
    "c11_cites_itself": ("bureau", {}, _cites_itself, set()),
    "c12_missing": ("bureau", {}, _interpretation_missing, {"C12"}),
    "c12_copy": ("bureau", {}, _interpretation_copy, {"C12"}),
    "c12_own_text": ("bureau", {}, _interpretation_quotes_a_little, set()),
    "c12_by_title": ("bureau", {}, _interpretation_by_title_only, set()),
    "c13_duplicate_index": ("bureau", {}, _duplicate_index, {"C13"}),
    "c13_bad_index": ("bureau", {}, _set("policy", index_no="BH-JYJ-2020-7"), {"C13"}),
    "c13_publisher_aliases": ("bureau", {"name": "区教育局", "aliases": ["区教体局"]}, _publisher_aliases, set()),
    "c13_publisher_mismatch": ("bureau", {"name": "区教育局"}, _set("policy", publisher="区审计局"), {"C13"}),
    "c13_written_after": ("bureau", {}, _set("policy", written_date=AS_OF), {"C13"}),
    "c13_no_publish_date": ("bureau", {}, _missing_publish_date, {"C13"}),
    "c14_late": ("street", {}, _late_catalog, {"C14"}),
    "c14_missing": ("town", {}, lambda w, u: _drop(w, u, "standard_catalog"), {"C14"}),
    "c15_no_power_list": ("bureau", {}, _no_power_list, {"C15"}),
    "c15_no_leaders": ("bureau", {}, _org_without_leaders, {"C15"}),
    "c16_no_plan": ("bureau", {"emergency_duties": True}, _no_emergency_plan, {"C16"}),
    "c17_no_executive": ("district", {}, _no_executive_meeting, {"C17"}),
    "c18_broken": ("bureau", {}, _broken_attachment, {"C18"}),
    "c18_error": ("bureau", {}, _link_error, {"C18"}),
    "c18_removed_page": ("bureau", {}, _broken_link_on_removed_page, set()),
    "c19_no_ipv6": ("zone", {"host": "www.ftz.zwgk.test:8080"}, _no_ipv6, {"C19"}),
    "c20_pii": ("bureau", {}, _set("notice", has_pii=True), {"C20"}),
    "c21_no_reason": ("bureau", {}, _withheld_without_reason, {"C21"}),
    "c21_with_reason": ("bureau", {}, _set("policy", disclosure="依申请公开", non_disclosure_reason="依据条例第二十七条。"),
                        set()),
    "c22_news_heavy": ("bureau", {}, _news_heavy, {"C22"}),
    "c22_key_area": ("district", {}, _key_area_missing, {"C22"}),
    "neglected": ("bureau", {}, _neglected, {"C02", "C03", "C06", "C07", "C08", "C09", "C10", "C15"}),
}
NOT_APPLICABLE = {"district": set(), "zone": {"C14", "C17"}, "bureau": {"C14", "C17"}, "street": {"C17"},
                  "town": {"C17"}}
ALL_CHECKS = {f"C{n:02d}" for n in range(1, 23)}
BUREAU_NA = {"C14", "C16", "C17"}  # a bureau without emergency duties


def _unread(kind: str, access: str, detail: str):
    """The unit's column of `kind` could not be read this run: nothing listed, the outcome recorded."""
    def mutate(w: Warehouse, unit: Unit) -> None:
        _drop(w, unit, kind)
        w.column(unit, kind, f"{kind}栏目", access=access, access_detail=detail, item_count=0,
                 parent=None if kind in ("guide", "system", "annual_report") else "statutory")
    return mutate


def _blank_and_unread(w: Warehouse, unit: Unit) -> None:
    w.column(unit, "other", "人事信息", parent="statutory", item_count=0)
    w.column(unit, "other", "财政信息", parent="statutory", code="czxx", item_count=0, access="blocked",
             access_detail="瑞数 challenge (HTTP 412)")


def _stale_but_unread_news(w: Warehouse, unit: Unit) -> None:
    _stale_news(w, unit)
    unit.columns["news"].update(access="unreachable", access_detail="timeout after 20s")


def _dead_guide_link(w: Warehouse, unit: Unit) -> None:
    _drop(w, unit, "guide")
    w.column(unit, "guide", "政府信息公开指南", access="not_found", access_detail="HTTP 404", item_count=0)


def _unread_parent_hides_plan(w: Warehouse, unit: Unit) -> None:
    """The emergency plan column sits under the statutory column, which could not be read."""
    _no_emergency_plan(w, unit)
    unit.columns["statutory"].update(access="blocked", access_detail="加速乐 challenge (HTTP 521)")


# unit id: (kind, unit arguments, mutation, {check: expected status} for every check whose status is not
# pass (the rest pass), expected verdict). Access outcomes: what could not be read is never failed.
ACCESS_SCENARIOS: dict[str, tuple[str, dict, Callable | None, dict[str, str], str]] = {
    "entry_missing": ("bureau", {"entry_ok": False}, None,
                      {"C01": "fail"} | {c: "n/a" for c in ALL_CHECKS - {"C01", "C19"}}, "不合格"),
    "entry_blocked": ("bureau", {"entry_ok": False, "access": "blocked", "access_detail": "瑞数 challenge (HTTP 412)"},
                      None, {c: "n/a" for c in ALL_CHECKS}, "无法核查"),
    "entry_unreachable": ("bureau", {"entry_ok": False, "access": "unreachable",
                                     "access_detail": "timeout after 20s"}, None, {c: "n/a" for c in ALL_CHECKS},
                          "无法核查"),
    "guide_blocked": ("bureau", {}, _unread("guide", "blocked", "瑞数 challenge (HTTP 412)"),
                      {c: "n/a" for c in BUREAU_NA | {"C02", "C09"}}, "合格"),
    "report_unreadable": ("bureau", {}, _unread("annual_report", "unreadable", "JS shell"),
                          {c: "n/a" for c in BUREAU_NA | {"C05", "C08"}}, "合格"),
    "blank_and_unread": ("bureau", {}, _blank_and_unread, {c: "n/a" for c in BUREAU_NA} | {"C06": "fail"}, "合格"),
    "stale_but_unread": ("bureau", {}, _stale_but_unread_news, {c: "n/a" for c in BUREAU_NA}, "合格"),
    "dead_guide_link": ("bureau", {}, _dead_guide_link,
                        {c: "n/a" for c in BUREAU_NA} | {"C02": "fail", "C09": "fail"}, "合格"),
    "plan_under_unread_parent": ("bureau", {"emergency_duties": True}, _unread_parent_hides_plan,
                                 {"C14": "n/a", "C17": "n/a", "C16": "n/a"}, "合格"),
    "copy_with_unread_interpretations": (
        "bureau", {}, lambda w, u: (_interpretation_copy(w, u),
                                    u.columns["interpretation"].update(access="blocked", access_detail="HTTP 403")),
        {c: "n/a" for c in BUREAU_NA} | {"C12": "fail"}, "合格"),
}


def build_scenarios(path) -> Warehouse:
    w = Warehouse(path)
    cases = [(u, kind, args, mutate) for u, (kind, args, mutate, _) in SCENARIOS.items()]
    cases += [(u, kind, args, mutate) for u, (kind, args, mutate, _, _) in ACCESS_SCENARIOS.items()]
    for unit_id, kind, args, mutate in cases:
        unit = w.compliant_unit(unit_id, kind, **args)
        if mutate:
            mutate(w, unit)
    return w


@pytest.fixture(scope="module")
def validated(tmp_path_factory):
    db = build_scenarios(tmp_path_factory.mktemp("checks") / "warehouse.duckdb").write()
    summary = validate_warehouse(db, AS_OF, run_id=RUN)
    with warehouse_connect(db) as con:
        results = con.execute("SELECT unit_id, check_id, status, message, evidence_url FROM check_results").fetchall()
        scores = con.execute("SELECT unit_id, score, verdict, veto, veto_checks FROM unit_scores").fetchall()
    return {
        "db": db, "summary": summary,
        "results": {(u, c): {"status": s, "message": m, "evidence_url": e} for u, c, s, m, e in results},
        "scores": {u: {"score": s, "verdict": v, "veto": veto, "veto_checks": vc} for u, s, v, veto, vc in scores},
    }


def statuses(validated, unit_id: str) -> dict[str, str]:
    return {c: r["status"] for (u, c), r in validated["results"].items() if u == unit_id}


@pytest.mark.parametrize("unit_id", list(SCENARIOS))
def test_scenario_fails_exactly_the_expected_checks(validated, unit_id):
    kind, args, _, expected_fails = SCENARIOS[unit_id]
    got = statuses(validated, unit_id)
    not_applicable = set(NOT_APPLICABLE[kind])
    if not args.get("emergency_duties") and kind != "district":
        not_applicable.add("C16")
    assert {c for c, s in got.items() if s == "n/a"} == not_applicable
    assert {c for c, s in got.items() if s == "fail"} == expected_fails
    assert len(got) == 22


def test_every_check_has_a_pass_and_a_fail(validated):
    for check in (f"C{n:02d}" for n in range(1, 23)):
        seen = {r["status"] for (_, c), r in validated["results"].items() if c == check}
        assert {"pass", "fail"} <= seen, check


@pytest.mark.parametrize("unit_id", list(ACCESS_SCENARIOS))
def test_what_could_not_be_read_is_never_failed(validated, unit_id):
    *_, expected, verdict = ACCESS_SCENARIOS[unit_id]
    got = statuses(validated, unit_id)
    assert {c: s for c, s in got.items() if s != "pass"} == expected
    assert validated["scores"][unit_id]["verdict"] == verdict


def test_missing_entry_fails_c01_and_checks_nothing_else_but_ipv6(validated):
    results = {c: r for (u, c), r in validated["results"].items() if u == "entry_missing"}
    assert results["C01"]["message"] == "专栏入口不可访问（HTTP 404）"
    assert results["C19"]["status"] == "pass"
    assert results["C02"]["message"] == results["C22"]["message"] == "无法核查：专栏入口页面不存在（HTTP 404）"
    score = validated["scores"]["entry_missing"]
    assert (score["verdict"], score["veto"], score["veto_checks"]) == ("不合格", True, ["C01"])
    assert score["score"] == 100.0  # C19, the only scored check left, passes: the veto decides


def test_a_blocked_unit_is_never_vetoed_nor_scored(validated):
    results = {c: r for (u, c), r in validated["results"].items() if u == "entry_blocked" and c not in BUREAU_NA}
    assert {r["message"] for r in results.values()} == {"无法核查：专栏反爬拦截（瑞数 challenge (HTTP 412)）"}
    assert {r["evidence_url"] for r in results.values()} == {"http://www.bh.zwgk.test:8080/entry_blocked/zfxxgk/"}
    score = validated["scores"]["entry_blocked"]
    assert (score["score"], score["verdict"], score["veto"], score["veto_checks"]) == (None, "无法核查", False, [])
    assert validated["summary"].unverifiable == 2  # entry_blocked and entry_unreachable


def test_an_unread_column_is_named_with_its_outcome(validated):
    results = {c: r for (u, c), r in validated["results"].items() if u == "guide_blocked"}
    assert results["C02"]["message"] == "无法核查：栏目“guide栏目”反爬拦截（瑞数 challenge (HTTP 412)），未能读取其内容"
    assert results["C02"]["evidence_url"].endswith("/guide_blocked/zfxxgk/guide/")
    blank = {c: r for (u, c), r in validated["results"].items() if u == "blank_and_unread"}["C06"]
    assert blank["message"].startswith("1个空白栏目：人事信息"), blank["message"]
    fresh = {c: r for (u, c), r in validated["results"].items() if u == "stale_but_unread"}["C07"]
    assert "另有1个栏目本次无法读取" in fresh["message"]


def test_blank_columns_veto_at_five(validated):
    four, five = validated["scores"]["c06_four_blank"], validated["scores"]["c06_five_blank"]
    assert (four["verdict"], four["veto"], four["score"]) == ("合格", False, pytest.approx(round(100 * 26 / 28, 1)))
    assert (five["verdict"], five["veto"], five["veto_checks"]) == ("不合格", True, ["C06"])
    assert five["score"] == four["score"]
    assert "5个空白栏目，达到一票否决标准" in validated["results"][("c06_five_blank", "C06")]["message"]


def test_scores_and_verdicts(validated):
    scores = validated["scores"]
    assert all(scores[u]["score"] == 100.0 and scores[u]["verdict"] == "合格"
               for u in ("ok_bureau", "ok_district", "ok_street", "ok_zone"))
    assert scores["c02_no_guide"]["score"] == pytest.approx(round(100 * 25 / 28, 1))  # a major and a minor
    assert (scores["c20_pii"]["verdict"], scores["c20_pii"]["veto_checks"]) == ("不合格", ["C20"])
    neglected = scores["neglected"]
    assert (neglected["verdict"], neglected["veto"]) == ("不合格", False)
    assert neglected["score"] == pytest.approx(round(100 * 13 / 28, 1))
    summary = validated["summary"]
    assert summary.units == len(SCENARIOS) + len(ACCESS_SCENARIOS)
    assert summary.passed + summary.failed + summary.unverifiable == summary.units
    assert summary.failures_by_check["C13"] == sum(1 for (u, c), r in validated["results"].items()
                                                   if c == "C13" and r["status"] == "fail")


def test_evidence_points_at_the_failing_page(validated):
    results = validated["results"]
    assert results[("c13_bad_index", "C13")]["evidence_url"].endswith(".html")
    assert "索引号不规范1条" in results[("c13_bad_index", "C13")]["message"]
    assert results[("c18_broken", "C18")]["message"].endswith("fj2.doc（404）")
    assert results[("c18_error", "C18")]["message"].endswith("（timeout）")
    assert results[("c06_two_blank", "C06")]["evidence_url"].endswith("/other0/")
    assert results[("c07_undated_news", "C07")]["message"].startswith("1个栏目未及时更新：工作动态（无日期）")
    assert results[("c08_unbalanced", "C08")]["message"] == (
        "2020年度报告申请情况表数据不平衡（本年新收10 + 上年结转1 ≠ 办理结果总计10 + 结转下年度2）")
    assert "重合度" in results[("c12_copy", "C12")]["message"]
    assert results[("c22_key_area", "C22")]["message"] == "未覆盖重点领域：环保"
    assert results[("ok_bureau", "C16")]["message"] == "不适用：该单位不承担应急职责"
    for (unit_id, _), result in results.items():
        assert result["evidence_url"].startswith(f"http://{HOST}/{unit_id}/") or unit_id == "c19_no_ipv6"
