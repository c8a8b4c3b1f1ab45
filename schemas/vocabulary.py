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

# An empty column's explanatory note (C06): the unit says why the column has no items
# (本单位暂无重大建设项目, 暂无相关信息, 本栏目无行政处罚事项, 说明：本单位不涉及…). What a CMS prints
# for any empty list by itself (暂无信息, 暂无数据, 没有记录) says nothing the unit wrote: not a note.
EMPTY_NOTE_PATTERN = re.compile(
    r"说明|原因|不涉及|无此类|无此项|未产生|暂无相关|(?:本单位|本部门|本机关|本局|本委|本街道?|本镇|本栏目)暂?无"
    r"|暂无\S{0,12}?(?:事项|项目|情况)|无\S{0,12}?事项"
)
EMPTY_LIST_PLACEHOLDERS = frozenset({
    "暂无信息", "暂无数据", "暂无内容", "暂无记录", "暂无文章", "没有记录", "没有数据", "没有信息", "无记录", "无数据",
    "本栏目暂无信息", "本栏目暂无内容", "本栏目暂无数据", "nodata", "norecords", "norecordsfound",
})
_PLACEHOLDER_STRIP = re.compile(r"[\s。．.!！~～…,，:：;；、\-—()（）\[\]【】\"'“”]+")


def column_note(text: str | None) -> str | None:
    """The sentence(s) of an empty column's page that explain why it is empty, or None (C06).

    `text` is the page's own text (no navigation). A bare CMS placeholder is not a note.
    """
    if not text:
        return None
    found = []
    for line in re.split(r"[\n。！!]+", text):
        line = line.strip()
        if not line or _PLACEHOLDER_STRIP.sub("", line).lower() in EMPTY_LIST_PLACEHOLDERS:
            continue
        if EMPTY_NOTE_PATTERN.search(line):
            found.append(line)
    return "。".join(found) + "。" if found else None


# A single-article column (C02–C06): a column whose page is the content itself (a 公开指南 or
# 制度 opening straight onto its text) rather than a list. Told from an empty list page by its
# own text, without navigation and links: an article has at least this many characters.
ARTICLE_MIN_CHARS = 150


def is_article_text(text: str | None) -> bool:
    """Whether a column page's own text is an article, not an empty list's chrome: enough words,
    written in sentences (a footer's 地址/电话/版权 lines have no 。)."""
    if not text or "。" not in text:
        return False
    return len(re.findall(r"\w", text)) >= ARTICLE_MIN_CHARS

# Validity marks a list row can carry beside the title (已废止, a 状态 column, a "（已失效）"
# suffix), mapped to the validity vocabulary. Longest first: 已失效 before 失效, 无效 before 有效.
LIST_MARKS: tuple[tuple[str, str], ...] = (
    ("已废止", "废止"), ("已失效", "失效"), ("已修订", "已修订"), ("已修改", "已修订"),
    ("废止", "废止"), ("失效", "失效"), ("无效", "失效"), ("修订", "已修订"),
    ("现行有效", "有效"), ("有效", "有效"),
)
_LIST_MARK_RE = re.compile("|".join(m for m, _ in LIST_MARKS))


def list_mark_validity(text: str | None) -> str | None:
    """The validity a list row's mark states (e.g. "已废止" → 废止), or None when it states none.

    `text` is a status cell or a bracketed suffix, not a title: a title may speak of 废止 as its
    subject (关于废止《…》的决定) without being marked.
    """
    if not text:
        return None
    match = _LIST_MARK_RE.search(re.sub(r"\s+", "", text))
    if not match or "有效期" in text:
        return None
    return dict(LIST_MARKS)[match.group(0)]

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


# Words a unit uses to mark that it changed a published document (silent edits, an insight beside
# C01–C22): a title suffix （修订） or 【更正】, a line 更正说明：…, 勘误, 订正, 修正, 修改. An edit is
# marked when such a word appears in the new version more often than in the old one: a decision
# "关于修改《…》的决定" speaks of 修改 as its subject from the start and marks nothing by that.
REVISION_MARKERS: tuple[str, ...] = ("修订", "更正", "修正", "修改", "勘误", "订正")
# A validity that itself says the document was revised.
REVISED_VALIDITY = "已修订"
