"""Controlled vocabularies shared by every stage: column kinds, document kinds, validity, disclosure.

Column kinds are matched on the visible link text of a column (栏目). Real CMSs word the same
column many ways, so each kind lists the patterns seen on real pages; the first kind whose
pattern matches wins, which is why the more specific kinds come first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class ColumnKind:
    key: str
    label_zh: str
    label_en: str
    pattern: re.Pattern[str]


def _kind(key: str, zh: str, en: str, pattern: str) -> ColumnKind:
    return ColumnKind(key, zh, en, re.compile(pattern))


COLUMN_KINDS: tuple[ColumnKind, ...] = (
    _kind("guide", "政府信息公开指南", "Disclosure guide", r"公开指南"),
    _kind("system", "政府信息公开制度", "Disclosure rules", r"公开制度|公开规定"),
    _kind("annual_report", "政府信息公开工作年度报告", "Annual disclosure report", r"年度报告|年报"),
    _kind("statutory", "法定主动公开内容", "Statutory proactive disclosure", r"法定主动公开|主动公开内容"),
    _kind("interpretation", "政策解读", "Policy interpretation", r"解读"),
    _kind("normative", "规范性文件", "Normative documents", r"规范性文件"),
    _kind("standard_catalog", "基层政务公开事项标准目录", "Standard disclosure catalogue", r"标准目录|事项目录"),
    _kind("power_list", "权责清单", "Powers and responsibilities list", r"权责清单|权力清单|责任清单"),
    _kind("org_info", "机构信息", "Organisation information", r"机构信息|机构职能|机构概况|组织机构|领导信息"),
    _kind("emergency_plan", "应急预案", "Emergency plans", r"应急预案|应急管理"),
    _kind("meeting", "会议公开", "Meeting disclosure", r"会议公开|常务会议|会议"),
    _kind("policy", "政策文件", "Policy documents", r"政策文件|其他文件|文件"),
    _kind("notice", "通知公告", "Notices", r"通知公告|公示公告|公告|通知"),
    _kind("news", "政务动态", "News", r"动态|要闻|新闻|工作信息"),
    _kind("application", "依申请公开", "Disclosure on application", r"依申请"),
)
COLUMN_KIND_KEYS = tuple(k.key for k in COLUMN_KINDS) + ("other",)

# The four sub-columns notice 五.1 requires in every unit's column.
REQUIRED_SUBCOLUMNS = ("guide", "system", "statutory", "annual_report")

DOC_KINDS = ("规范性文件", "政策解读", "应急预案", "年度报告", "公开指南", "公开制度", "其他")
VALIDITY_VALUES = ("有效", "失效", "废止", "已修订")
DISCLOSURE_VALUES = ("主动公开", "依申请公开", "不予公开")

# Key areas (notice 五.1) and the words that show a resource covers one.
KEY_AREA_PATTERNS: dict[str, re.Pattern[str]] = {
    "民生": re.compile(r"民生|社会救助|低保|养老"),
    "环保": re.compile(r"环保|生态环境|环境保护|污染"),
    "征地": re.compile(r"征地|土地征收"),
    "房屋征收": re.compile(r"房屋征收|征收补偿"),
    "就业": re.compile(r"就业|招聘|创业"),
    "招生录取": re.compile(r"招生|录取|入学"),
    "医疗医保": re.compile(r"医疗|医保"),
}


def classify_column(link_text: str) -> str:
    """The column kind key for a column's link text, or 'other'."""
    text = re.sub(r"\s+", "", link_text or "")
    for kind in COLUMN_KINDS:
        if kind.pattern.search(text):
            return kind.key
    return "other"

# A well-formed 索引号 (C13), in every form seen on real pages: `000014349/2017-00110`,
# `0142768-8/2022-00185`, `11441700007280420Y/2021-00050`, `sggzyjyzx/2024-00002`,
# `2025/00012138`, `1-6345-2020-00007`.
INDEX_NO_PATTERN = re.compile(
    r"^(?:[0-9A-Za-z][0-9A-Za-z-]{0,19}/\d{4}-\d{4,6}|\d{4}/\d{6,10}|\d{1,4}-\d{2,6}-\d{4}-\d{4,6})$"
)

# An empty column's explanatory note (C06): says why the column has no items.
EMPTY_NOTE_PATTERN = re.compile(r"说明|原因|不涉及|无此类|无此项|未产生")

_ORG_PREFIXES = ("天津市", "滨海新区", "区")
_ORG_SUFFIXES = ("人民政府", "办事处")


def normalize_org_name(name: str) -> str:
    """An organisation name without the prefixes and suffixes that vary between pages (C13).

    `滨海新区教育局`, `区教育局` and `天津市滨海新区教育局` all become `教育局`.
    """
    text = re.sub(r"\s+", "", name or "")
    changed = True
    while changed:
        changed = False
        for prefix in _ORG_PREFIXES:
            if text.startswith(prefix) and len(text) > len(prefix) + 1:
                text, changed = text[len(prefix):], True
        for suffix in _ORG_SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix) + 1:
                text, changed = text[: -len(suffix)], True
    return text
