"""The human-readable reason and the evidence URL of every verdict, from a unit's feature row.

A supervisor reads the message and clicks the evidence: for a failure, the page that shows the
defect (the failing document, column or link source); for a pass, the page that shows the
requirement met (the column or document checked), falling back to the unit's entry page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from expectations.catalog import load_catalog
from expectations.suites import DOCUMENT_SHARE
from schemas.vocabulary import COLUMN_KINDS

from .features import METADATA_PROBLEMS
from .rules import LONG_STALE_MONTHS, RuleDates

NOT_APPLICABLE = "不适用于该类单位"
NO_EMERGENCY_DUTIES = "不适用：该单位不承担应急职责"
KIND_LABELS = {k.key: k.label_zh for k in COLUMN_KINDS}
EXAMPLES = 3

Row = dict
Verdict = tuple[str, str | None]


def _names(values: list[str] | None) -> str:
    values = values or []
    shown = "、".join(values[:EXAMPLES])
    return shown + (f"等{len(values)}个" if len(values) > EXAMPLES else "")


def _or_entry(row: Row, url: str | None) -> str | None:
    return url or row["entry_url"]


def _column_present(kind: str, items_key: str | None = None) -> Callable[[Row, bool, RuleDates], Verdict]:
    """C02–C05: a standard sub-column exists and lists items."""
    label = KIND_LABELS[kind]
    items_key = items_key or f"{kind}_items"

    def describe(row: Row, passed: bool, dates: RuleDates) -> Verdict:
        url = row[f"{kind}_url"]
        if passed:
            return f"“{label}”栏目有{row[items_key]}条信息", url
        if url is None:
            return f"未设置“{label}”栏目", row["entry_url"]
        return f"“{label}”栏目为空", url

    return describe


# How a supervisor reads each access outcome (docs/list-mechanisms.md).
ACCESS_ZH = {
    "blocked": "反爬拦截",
    "unreachable": "无法访问",
    "unreadable": "无法读取（列表由脚本加载）",
    "not_found": "页面不存在",
    "soft_404": "页面不存在（返回“页面不存在”提示页）",
    "empty": "无内容",
    "ok": "可访问",
}


def access_phrase(outcome: str | None, detail: str | None) -> str:
    phrase = ACCESS_ZH.get(outcome or "", outcome or "未知")
    return f"{phrase}（{detail}）" if detail else phrase


def unverifiable_unit(row: Row) -> Verdict:
    """Every check of a unit whose column could not be read: why, with the page that showed it."""
    return (f"无法核查：专栏{access_phrase(row['access'], row['access_detail'])}",
            row["access_url"] or row["entry_url"])


def entry_missing(row: Row) -> Verdict:
    """Checks other than C01 and C19 when the entry page is not there."""
    return f"无法核查：专栏入口{access_phrase(row['access'], row['access_detail'] or row['entry_error'])}", \
        row["entry_url"]


def unread_column(check_id: str, columns: list[dict]) -> Verdict:
    """A failure that an unread column could explain: named, with its outcome, never a fail."""
    first = columns[0]
    more = f"等{len(columns)}个栏目" if len(columns) > 1 else ""
    return (f"无法核查：栏目“{first['name']}”{more}{access_phrase(first['access'], first['detail'])}，"
            f"未能读取其内容", first["url"])


def c01(row: Row, passed: bool, dates: RuleDates) -> Verdict:
    if passed:
        moved = (row["access_detail"] or "").startswith("moved")
        note = f"；入口已迁移至 {row['access_url']}，请更新登记" if moved else ""
        return f"专栏入口可访问（HTTP {row['entry_status']}）{note}", row["entry_url"]
    reason = row["entry_error"] or f"HTTP {row['entry_status']}"
    return f"专栏入口不可访问（{reason}）", row["entry_url"]


def _unread_note(row: Row) -> str:
    count = row["unread_count"]
    return f"（另有{count}个栏目本次无法读取，未计入）" if count else ""


def _noted(row: Row) -> str:
    noted = row["noted_columns"] or []
    return f"；{len(noted)}个栏目说明了无内容的原因（见依据）" if noted else ""


def c06(row: Row, passed: bool, dates: RuleDates) -> Verdict:
    if passed:
        return f"无空白栏目{_noted(row)}{_unread_note(row)}", row["entry_url"]
    veto = "，达到一票否决标准" if row["blank_columns"] >= load_catalog().get("C06").veto_at else ""
    return f"{row['blank_columns']}个空白栏目{veto}：{_names(row['blank_names'])}{_noted(row)}", row["blank_url"]


def c07(row: Row, passed: bool, dates: RuleDates) -> Verdict:
    check = load_catalog().get("C07")
    long_veto_at = check.params["long_stale_veto_at"]
    if passed:
        if not row["fresh_checked"]:
            return f"无须定期更新的栏目{_unread_note(row)}", row["entry_url"]
        return f"{row['fresh_checked']}个须定期更新的栏目均及时更新{_unread_note(row)}", row["entry_url"]
    problems, url = [], None
    if row["stale_columns"]:
        veto = "，达到一票否决标准" if row["stale_columns"] >= check.veto_at else ""
        problems.append(f"{row['stale_columns']}个栏目未及时更新{veto}：{_names(row['stale_names'])}")
        url = row["stale_url"]
    if row["long_stale_columns"] >= long_veto_at:
        problems.append(f"{row['long_stale_columns']}个栏目超过{LONG_STALE_MONTHS}个月未更新，达到一票否决标准："
                        f"{_names(row['long_stale_names'])}")
        url = url or row["long_stale_url"]
    undated = row["undated_names"] or []
    if undated:
        problems.append(f"栏目{_names(['“' + n + '”' for n in undated])}的信息均未注明发布时间，视为不更新")
    return "；".join(problems), url


def c08(row: Row, passed: bool, dates: RuleDates) -> Verdict:
    year = dates.report_year
    if passed:
        return f"《{row['report_title']}》于{row['report_publish_date']}发布，内容完整", row["report_url"]
    if not row["report_candidates"]:
        return f"未发布{year}年度报告", _or_entry(row, row["annual_report_url"])
    problems = []
    if not row["report_on_time"]:
        published = row["report_publish_date"] or "无发布日期"
        problems.append(f"逾期发布（{published}，应不晚于{dates.report_deadline}）")
    if row["report_missing_count"]:
        problems.append(f"缺少章节：{'、'.join(row['report_missing_sections'])}")
    if row["report_unbalanced"]:
        problems.append(f"申请情况表数据不平衡（{row['report_balance_text']}）")
    return f"{year}年度报告" + "；".join(problems), row["report_url"]


def c09(row: Row, passed: bool, dates: RuleDates) -> Verdict:
    if passed:
        return "公开指南写明申请程序、工作机构、地址、办公时间和电话", row["guide_doc_url"]
    if not row["guide_docs"]:
        return "未发布公开指南", _or_entry(row, row["guide_url"])
    return f"公开指南缺少：{'、'.join(row['guide_missing'])}", row["guide_doc_url"]


def c10(row: Row, passed: bool, dates: RuleDates) -> Verdict:
    if passed:
        return f"{row['normative_docs']}件规范性文件均标注有效性和有效期", _or_entry(row, row["normative_url"])
    return (f"{row['normative_without_validity']}件规范性文件未标注有效性或有效期，如《{row['no_validity_title']}》",
            row["no_validity_url"])


def c11(row: Row, passed: bool, dates: RuleDates) -> Verdict:
    if passed:
        if not row["superseded_docs"]:
            return "未发现被废止或修订的规范性文件", _or_entry(row, row["normative_url"])
        return f"{row['superseded_docs']}件被废止或修订的规范性文件均已标注", _or_entry(row, row["normative_url"])
    problems, url = [], None
    if row["superseded_unmarked"]:
        problems.append(f"{row['superseded_unmarked']}件已被废止或修订的规范性文件未标注，如《{row['unmarked_title']}》")
        url = row["unmarked_url"]
    if row["list_page_disagreements"]:
        problems.append(f"{row['list_page_disagreements']}件规范性文件的列表与文件页面有效性标注不一致，"
                        f"如《{row['disagree_title']}》（{row['disagree_text']}）")
        url = url or row["disagree_url"]
    return "；".join(problems), url


def c12(row: Row, passed: bool, dates: RuleDates) -> Verdict:
    if passed:
        return f"{row['normative_valid']}件有效规范性文件均有政策解读", _or_entry(row, row["interpretation_url"])
    problems, url = [], None
    if row["normative_without_interpretation"]:
        problems.append(f"{row['normative_without_interpretation']}件规范性文件缺少政策解读，"
                        f"如《{row['no_interpretation_title']}》")
        url = row["no_interpretation_url"]
    if row["interpretation_copies"]:
        problems.append(f"{row['interpretation_copies']}件政策解读照搬原文（重合度{row['copy_share']:.0%}）")
        url = url or row["copy_url"]
    return "；".join(problems), url


# -- what else a supervisor sees beside the message: every evidence page, the text that decided,
# findings that do not change the status, and the rule as applied this run ----------------------

@dataclass(frozen=True)
class Details:
    evidence_urls: list[str] = field(default_factory=list)
    evidence_text: str | None = None
    warning: str | None = None


def _urls(*urls: str | None) -> list[str]:
    return list(dict.fromkeys(u for u in urls if u))


def _c06_details(row: Row) -> Details:
    noted = row["noted_columns"] or []
    text = "；".join(f"“{c['name']}”：{c['note']}" for c in noted[:EXAMPLES]) or None
    return Details(_urls(row["blank_url"], *(c["url"] for c in noted[:EXAMPLES])), text)


def _c07_details(row: Row) -> Details:
    return Details(_urls(*(row["stale_urls"] or [])[:EXAMPLES], row["long_stale_url"]))


def _c11_details(row: Row) -> Details:
    warning = None
    if row["list_only_marks"]:
        warning = (f"{row['list_only_marks']}件规范性文件仅在列表中标注为“{row['list_only_mark']}”，文件页面未标注，"
                   f"如《{row['list_only_title']}》：{row['list_only_list_url']} / {row['list_only_url']}")
    return Details(_urls(row["unmarked_url"], row["disagree_list_url"], row["disagree_url"],
                         row["list_only_list_url"], row["list_only_url"]),
                   row["disagree_text"], warning)


def _c12_details(row: Row) -> Details:
    warning = None
    if row["orphan_interpretations"]:
        warning = (f"{row['orphan_interpretations']}件政策解读所解读的文件在本单位网站上未找到，"
                   f"如解读《{row['orphan_title']}》：{row['orphan_url']}")
    return Details(_urls(row["no_interpretation_url"], row["copy_url"], row["copy_doc_url"], row["orphan_url"]),
                   None, warning)


DETAILS: dict[str, Callable[[Row], Details]] = {"C06": _c06_details, "C07": _c07_details, "C11": _c11_details,
                                                 "C12": _c12_details}


def details(check_id: str, row: Row) -> Details:
    """Evidence pages, deciding text and warnings of a decided check (empty for most checks)."""
    found = DETAILS.get(check_id)
    return found(row) if found else Details()


def rule_applied(check_id: str, dates: RuleDates) -> str:
    """The catalog's rule with this run's dates and thresholds filled in."""
    check = load_catalog().get(check_id)
    if check_id == "C07":
        windows = "；".join(f"{KIND_LABELS[k]}类栏目最新信息不早于{d.isoformat()}" for k, d in dates.freshness_cutoffs.items())
        return (f"{windows}（只计注明发布时间的信息）；未及时更新≥{check.veto_at}个一票否决；"
                f"应更新栏目{dates.long_stale_cutoff.isoformat()}以来无更新≥{check.params['long_stale_veto_at']}个一票否决")
    if check_id == "C08":
        return f"{dates.report_year}年度报告不晚于{dates.report_deadline.isoformat()}发布，六部分齐全，申请情况表收支平衡"
    if check_id == "C06":
        return f"无条目、无子栏目、无说明的栏目为空白栏目；≥{check.veto_at}个一票否决"
    return check.rule


def c13(row: Row, passed: bool, dates: RuleDates) -> Verdict:
    if passed:
        return f"{row['metadata_checked']}条文件类信息元数据完整规范", row["entry_url"]
    problems = "、".join(f"{label}{row[key]}条" for key, label in METADATA_PROBLEMS.items() if row[key])
    return f"{row['metadata_bad']}条信息元数据不规范（{problems}），如《{row['metadata_title'] or '无标题'}》", \
        row["metadata_url"]


def c14(row: Row, passed: bool, dates: RuleDates) -> Verdict:
    url = row["standard_catalog_url"]
    if passed:
        return f"标准目录已于{dates.catalog_due}前发布", url
    if url is None:
        return "未设置“基层政务公开事项标准目录”栏目", row["entry_url"]
    return f"标准目录未在{dates.catalog_due}前发布", url


def c15(row: Row, passed: bool, dates: RuleDates) -> Verdict:
    if passed:
        return "已公开权责清单和机构信息", _or_entry(row, row["org_info_url"])
    problems, url = [], None
    if not row["power_list_items"]:
        problems.append("权责清单未设置或为空")
        url = _or_entry(row, row["power_list_url"])
    if row["org_missing_count"]:
        problems.append(f"机构信息缺少：{'、'.join(row['org_missing'])}")
        url = url or _or_entry(row, row["org_info_url"])
    return "；".join(problems), url


def c16(row: Row, passed: bool, dates: RuleDates) -> Verdict:
    if passed:
        return f"已公开{row['emergency_plans']}件应急预案", row["emergency_plan_doc_url"]
    return "未公开应急预案", _or_entry(row, row["emergency_plan_url"])


def c17(row: Row, passed: bool, dates: RuleDates) -> Verdict:
    if passed:
        return f"已公开{row['executive_meetings']}条常务会议信息", row["meeting_url"]
    return "会议公开栏目无常务会议信息", _or_entry(row, row["meeting_url"])


def c18(row: Row, passed: bool, dates: RuleDates) -> Verdict:
    if passed:
        return f"已检查的{row['links_checked']}个链接和附件均可用", row["entry_url"]
    return (f"{row['broken_links']}个链接或附件不可用，如 {row['broken_target_url']}（{row['broken_outcome']}）",
            row["broken_source_url"])


def c19(row: Row, passed: bool, dates: RuleDates) -> Verdict:
    if passed:
        return f"主机 {row['host']} 支持IPv6访问", row["entry_url"]
    if not row["ipv6_checked"]:
        return f"主机 {row['host']} 未做IPv6检测", row["entry_url"]
    return f"主机 {row['host']} 不支持IPv6访问（{row['ipv6_outcome'] or '无应答'}）", row["entry_url"]


def c20(row: Row, passed: bool, dates: RuleDates) -> Verdict:
    if passed:
        return "未发现未脱敏的身份证号或手机号", row["entry_url"]
    return f"{row['pii_resources']}条信息含未脱敏的个人信息", row["pii_url"]


def c21(row: Row, passed: bool, dates: RuleDates) -> Verdict:
    if passed:
        return "不予公开、依申请公开的信息均说明理由", row["entry_url"]
    return f"{row['withheld_without_reason']}条不予公开或依申请公开的信息未说明理由", row["no_reason_url"]


def c22(row: Row, passed: bool, dates: RuleDates) -> Verdict:
    share = f"文件类信息占比{row['document_share']:.0%}"
    if passed:
        return f"{share}，覆盖全部重点领域", row["entry_url"]
    problems = []
    if row["document_share"] <= DOCUMENT_SHARE:
        problems.append(f"{share}，未超过{DOCUMENT_SHARE:.0%}")
    if row["key_areas_missing_count"]:
        problems.append(f"未覆盖重点领域：{'、'.join(row['key_areas_missing'])}")
    return "；".join(problems), row["entry_url"]


DESCRIBERS: dict[str, Callable[[Row, bool, RuleDates], Verdict]] = {
    "C01": c01, "C02": _column_present("guide"), "C03": _column_present("system"),
    "C04": _column_present("statutory"), "C05": _column_present("annual_report"), "C06": c06, "C07": c07,
    "C08": c08, "C09": c09, "C10": c10, "C11": c11, "C12": c12, "C13": c13, "C14": c14, "C15": c15, "C16": c16,
    "C17": c17, "C18": c18, "C19": c19, "C20": c20, "C21": c21, "C22": c22,
}


def describe(check_id: str, row: Row, passed: bool, dates: RuleDates) -> Verdict:
    """(message, evidence URL) for a decided check; the evidence falls back to the entry page."""
    message, url = DESCRIBERS[check_id](row, passed, dates)
    return message, url or row["entry_url"]
