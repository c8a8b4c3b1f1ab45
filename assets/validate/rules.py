"""The fixed parameters of the catalog's rules (expectations/catalog.yaml), resolved for one `as_of`.

Everything a rule compares against — cut-off dates, the report year, the words a text must
contain — is computed here once, so that the SQL features and the messages agree and a run is
reproducible from its `as_of` alone.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable

from expectations.catalog import load_catalog
from schemas.vocabulary import KEY_AREA_PATTERNS

# C08: the six section headings an annual report must contain (国办公开办函〔2021〕30号).
REPORT_SECTIONS = (
    "总体情况",
    "主动公开政府信息情况",
    "收到和处理政府信息公开申请情况",
    "政府信息公开行政复议、行政诉讼情况",
    "存在的主要问题及改进情况",
    "其他需要报告的事项",
)
# C08: the 总计 column of the application table; 本年新收 + 上年结转 = 办理结果总计 + 结转下年度.
REPORT_FIGURES = ("本年新收", "上年结转", "办理结果总计", "结转下年度")

# C09: what the 公开指南 must state, each with the words that show it does (条例 第十二条).
GUIDE_ELEMENTS = {
    "依申请公开程序": "依申请公开",
    "工作机构": "工作机构|受理机构",
    "地址": "地址|办公地点",
    "办公时间": "办公时间|受理时间|工作时间",
    "电话": "电话",
}
# C15: the topics the unit's 机构信息 must cover.
ORG_TOPICS = {
    "职能": "职能|职责",
    "机构设置": "机构设置|内设机构",
    "领导信息": "领导",
    "下属单位": "下属|直属|所属单位",
}
# C11: a sentence (split at 。；) that abolishes or revises a document it names.
SUPERSEDE_PATTERN = "废止|修订"
SENTENCE_SPLIT = "[。；\n]"
SUPERSEDED_VALIDITY = ("失效", "废止", "已修订")
# C12: a 解读 is a copy when this share of its 8-character shingles occurs in the document.
SHINGLE_SIZE = 8
COPY_THRESHOLD = 0.6
# C13 and C22: resources in these column kinds are news, not documents (文件类).
NEWS_KINDS = ("news",)
# C07 (国办秘函〔2019〕19号): window columns — 动态/要闻 within 2 weeks, 通知公告 and 政策文件 within
# 6 months; five or more not updated is a veto.
FRESHNESS_MONTHS = {"policy": 6, "notice": 6}
FRESHNESS_DAYS = {"news": 14}
# C07: columns that should be updated at all ("应更新栏目"): every kind that lists dated documents,
# not the standing ones (指南, 制度, 年报 columns, 机构信息, 权责清单, 标准目录, 依申请公开). Long not
# updated: nothing dated within LONG_STALE_MONTHS; ten or more such columns is a veto.
UPDATE_KINDS = ("news", "notice", "policy", "normative", "interpretation", "meeting", "emergency_plan", "other")
LONG_STALE_MONTHS = load_catalog().get("C07").params["long_stale_months"]
# C21: disclosure values that need a stated legal reason.
WITHHELD = ("不予公开", "依申请公开")
# Whitespace as Python's `\s` sees it in Chinese text (RE2's `\s` is ASCII only).
WHITESPACE_RE2 = r"[\s\p{Z}]+"


@dataclass(frozen=True)
class AbsenceCause:
    """A failure that rests on something not being found (a column, a document, a topic).

    When a column that could hold it was not read this run (blocked, unreachable, a JS shell), the
    check is n/a (无法核查), never failed: an unread column is no evidence that nothing was published.
    `kinds`: the column kinds that could hold it (None: any column); `applies`: whether this
    failure is the absence kind (some checks also fail on what was found, e.g. a copied 解读).
    """

    kinds: tuple[str, ...] | None
    applies: Callable[[dict], bool] = lambda row: True


# Checks that also fail on what was found: the unread-column rule covers only their absence failures.
_ABSENCE_ONLY_WHEN: dict[str, Callable[[dict], bool]] = {
    "C08": lambda row: not row["report_candidates"],
    "C09": lambda row: not row["guide_docs"],
    "C12": lambda row: row["normative_without_interpretation"] > 0 and not row["interpretation_copies"],
}


def _absence_causes() -> dict[str, AbsenceCause]:
    """From the catalog's `unread_na` (which column kinds could hold what a check looks for)."""
    causes = {}
    for check in load_catalog().checks:
        if check.unread_na:
            kinds = None if "any" in check.unread_na else check.unread_na
            causes[check.id] = AbsenceCause(kinds, _ABSENCE_ONLY_WHEN.get(check.id, lambda row: True))
    return causes


ABSENCE_CAUSES = _absence_causes()


def months_before(day: date, months: int) -> date:
    """`day` minus whole calendar months, clamped to the month's last day (31 Aug → 28 Feb)."""
    year, month0 = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))


def report_year(as_of: date) -> int:
    """The year whose annual report is due: last year, or the year before until 31 January."""
    return as_of.year - 1 if as_of >= date(as_of.year, 2, 1) else as_of.year - 2


def key_area_pattern(area: str) -> str:
    """The RE2 pattern that shows a resource covers `area` (an unknown area must appear literally)."""
    known = KEY_AREA_PATTERNS.get(area)
    return known.pattern if known else "".join("\\" + c if not c.isalnum() else c for c in area)


@dataclass(frozen=True)
class RuleDates:
    """The dates every dated rule compares against, for one `as_of`."""

    as_of: date
    freshness_cutoffs: dict[str, date]
    report_year: int
    report_deadline: date
    catalog_due: date
    long_stale_cutoff: date

    @classmethod
    def for_as_of(cls, as_of: date) -> RuleDates:
        cutoffs = {kind: months_before(as_of, n) for kind, n in FRESHNESS_MONTHS.items()}
        cutoffs.update({kind: as_of - timedelta(days=n) for kind, n in FRESHNESS_DAYS.items()})
        year = report_year(as_of)
        return cls(as_of=as_of, freshness_cutoffs=cutoffs, report_year=year,
                   report_deadline=date(year + 1, 1, 31), catalog_due=load_catalog().get("C14").due,
                   long_stale_cutoff=months_before(as_of, LONG_STALE_MONTHS))
