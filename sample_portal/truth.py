"""The ground truth: every unit's expected verdict on every check, derived from the model.

This is an independent implementation of the rules in expectations/catalog.yaml, working on
what the generator knows it published (not on pages). The validation stage implements the same
rules on what the pipeline extracted; the tests compare the two.

Beside the verdicts, each unit records how it can be reached (`access`: ok, blocked behind the
anti-bot gate, or not_found when its entry page is missing), its list mechanism, and for every
column the number of items its lists show, so that a harvest can be checked for completeness
column by column, mechanism by mechanism. Items listed but never published (dead item links)
count as list items and as broken links (C18), never as documents. A single-article column (its
page is the document) counts one item, at the column's own URL.

The rule readings R1–R6 (issue 13) are implemented here on the model: single-article columns,
notes that explain an empty column, list marks beside page validity (C11), copy detection over
every 解读 (C12), undated items and the update windows and thresholds (C07). What the readings
make a warning rather than a failure is listed per unit in `warnings`, each
`{"check", "kind", "text", "urls"}` with URLs as served paths (root-relative, like `columns`).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from expectations.catalog import load_catalog, score_unit
from schemas.vocabulary import INDEX_NO_PATTERN, KEY_AREA_PATTERNS, column_note, normalize_org_name

from .model import REPORT_SECTIONS, Column, Doc, UnitSite

GUIDE_ELEMENTS = {
    "依申请公开程序": re.compile(r"依申请公开"),
    "工作机构": re.compile(r"工作机构|受理机构"),
    "地址": re.compile(r"地址|办公地点"),
    "办公时间": re.compile(r"办公时间|受理时间|工作时间"),
    "电话": re.compile(r"电话"),
}
SUPERSEDE_WORDS = re.compile(r"废止|修订")
NAMED_TITLE = re.compile(r"《([^《》]+)》")
LAPSED_VALIDITY = ("失效", "废止", "已修订")
LIST_MARK_WORDS = {"有效": "有效", "失效": "已失效", "废止": "已废止", "已修订": "已修订"}
COPY_SHARE = 0.6
# C07 (国办秘函〔2019〕19号): window columns and their windows; columns that should be updated at all.
WINDOW_KINDS = ("news", "notice", "policy")
WINDOW_MONTHS = {"notice": 6, "policy": 6}
WINDOW_DAYS = {"news": 14}
UPDATE_KINDS = ("news", "notice", "policy", "normative", "interpretation", "meeting", "emergency_plan", "other")
LONG_STALE_MONTHS = 12
STALE_VETO_AT = 5
LONG_STALE_AT = 10
BLOCKED_REASON = "无法核查：反爬拦截"
NOT_FOUND_REASON = "无法核查：专栏入口不存在"


def months_before(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    for candidate in range(day.day, 0, -1):
        try:
            return date(year, month + 1, candidate)
        except ValueError:
            continue
    raise ValueError(day)


def report_year(as_of: date) -> int:
    return as_of.year - 1 if as_of >= date(as_of.year, 2, 1) else as_of.year - 2


def shingle_containment(part: str, whole: str, size: int = 8) -> float:
    """Share of `part`'s character shingles that also occur in `whole` (1.0 = a copy)."""
    part, whole = re.sub(r"\s+", "", part), re.sub(r"\s+", "", whole)
    shingles = {part[i:i + size] for i in range(max(len(part) - size + 1, 0))}
    if not shingles:
        return 0.0
    whole_shingles = {whole[i:i + size] for i in range(max(len(whole) - size + 1, 0))}
    return len(shingles & whole_shingles) / len(shingles)


def _text(doc: Doc) -> str:
    return "".join(doc.paragraphs)


def shown_date(doc: Doc) -> date | None:
    """The date an item carries where a reader sees it: on its page, or in its list row (R5)."""
    if doc.publish_date is None:
        return None
    on_page = doc.page_shows_date and not doc.dead
    return doc.publish_date if on_page or doc.show_list_date else None


def page_validity(doc: Doc) -> str | None:
    """What the document's own page says of its validity: its 有效性 field, or 废止 for an abolished mark."""
    if doc.abolished_mark and doc.validity not in LAPSED_VALIDITY:
        return "废止"
    return doc.validity


def _lapsed(validity: str | None) -> bool:
    return validity in LAPSED_VALIDITY


def _names(columns: list[Column]) -> str:
    return "、".join(f"“{c.name}”" for c in columns)


def _ok(condition: bool, failure: str, success: str = "") -> tuple[str, str]:
    return ("pass", success) if condition else ("fail", failure)


class UnitTruth:
    """Applies each check's rule to one unit's model."""

    def __init__(self, site: UnitSite, as_of: date, host_ipv6: bool):
        self.site = site
        self.as_of = as_of
        self.host_ipv6 = host_ipv6
        self.docs = site.live_docs()
        self.veto_hits: dict[str, bool] = {}
        self.warnings: list[dict] = []

    def _warn(self, check: str, kind: str, text: str, urls: list[str]) -> None:
        self.warnings.append({"check": check, "kind": kind, "text": text, "urls": urls})

    def _has_items(self, kind: str) -> bool:
        return any(c.live_docs() for c in self.site.columns_of(kind))

    def evaluate(self) -> dict[str, tuple[str, str]]:
        results: dict[str, tuple[str, str]] = {}
        for check in load_catalog().checks:
            if self.site.spec.gated:
                results[check.id] = ("n/a", BLOCKED_REASON)
            elif not self.site.reachable and check.id not in ("C01", "C19"):
                results[check.id] = ("n/a", NOT_FOUND_REASON)
            elif not check.applies(self.site.spec.kind, self.site.spec.has_emergency_duties):
                results[check.id] = ("n/a", "不适用于该类单位")
            elif check.id == "C14" and self.as_of <= check.due:
                results[check.id] = ("n/a", "未到期")
            else:
                results[check.id] = getattr(self, f"c{check.id[1:]}")()
        return results

    @property
    def access(self) -> str:
        if self.site.spec.gated:
            return "blocked"
        return "ok" if self.site.reachable else "not_found"

    def c01(self):
        return _ok(self.site.reachable, "专栏入口不存在")

    def c02(self):
        return _ok(self._has_items("guide"), "缺少公开指南或为空")

    def c03(self):
        return _ok(self._has_items("system"), "缺少公开制度或为空")

    def c04(self):
        statutory = self.site.columns_of("statutory")
        children = [c for c in self.site.columns if c.parent == "fdzdgknr"]
        return _ok(bool(statutory) and any(c.live_docs() for c in statutory + children), "缺少法定主动公开内容或为空")

    def c05(self):
        return _ok(self._has_items("annual_report"), "缺少年度报告栏目或为空")

    def c06(self):
        """R1/R2: blank = nothing listed (an article column lists itself), no child columns, and no
        note explaining why (a CMS placeholder such as 暂无信息 is no note)."""
        parents = {c.parent for c in self.site.columns}
        blank = [c for c in self.site.columns if not c.docs and c.code not in parents and column_note(c.note) is None]
        self.veto_hits["C06"] = len(blank) >= 5
        return _ok(not blank, f"{len(blank)}个空白栏目")

    def _window_cutoff(self, kind: str) -> date:
        if kind in WINDOW_DAYS:
            return self.as_of - timedelta(days=WINDOW_DAYS[kind])
        return months_before(self.as_of, WINDOW_MONTHS[kind])

    @staticmethod
    def _newest(column: Column) -> date | None:
        return max((day for d in column.docs if (day := shown_date(d))), default=None)

    def _year_old(self, column: Column) -> bool:
        """Nothing dated within the last 12 calendar months (nothing dated at all included)."""
        newest = self._newest(column)
        return newest is None or newest < months_before(self.as_of, LONG_STALE_MONTHS)

    def c07(self):
        """R5/R6: window columns past their window (undated items do not count); >= 5 of them is a
        veto. Columns that should be updated, list something and are over a year old: >= 10 fail
        the check and are a veto, fewer are only named."""
        stale, problems = [], []
        for column in (c for c in self.site.columns if c.kind in WINDOW_KINDS):
            newest = self._newest(column)
            if newest is not None and newest >= self._window_cutoff(column.kind):
                continue
            stale.append(column)
            if column.docs and newest is None:
                problems.append(f"栏目“{column.name}”的信息均未注明发布时间，视为不更新")
            else:
                problems.append(f"栏目“{column.name}”未及时更新")
        long_stale = [c for c in self.site.columns if c.kind in UPDATE_KINDS and c.docs and self._year_old(c)]
        self.veto_hits["C07"] = len(stale) >= STALE_VETO_AT or len(long_stale) >= LONG_STALE_AT
        long_text = f"{len(long_stale)}个栏目超过一年未更新：{_names(long_stale)}" if long_stale else ""
        if len(long_stale) >= LONG_STALE_AT:
            problems.insert(0, long_text)
        elif long_text:
            problems.append(long_text)  # named only: too few to fail the check
        failed = bool(stale) or len(long_stale) >= LONG_STALE_AT
        return ("fail" if failed else "pass"), "；".join(problems)

    def c08(self):
        year = report_year(self.as_of)
        reports = [d for d in self.docs if d.doc_kind == "年度报告" and f"{year}年" in d.title]
        if not reports:
            return "fail", f"未发布{year}年度报告"
        problems = [self._report_problem(report, year) for report in reports]
        if None in problems:
            return "pass", ""
        return "fail", problems[0]

    @staticmethod
    def _report_problem(report: Doc, year: int) -> str | None:
        if not report.publish_date or report.publish_date > date(year + 1, 1, 31):
            return "年度报告逾期发布"
        missing = [s for s in REPORT_SECTIONS if s.split("、", 1)[1] not in _text(report)]
        if missing:
            return f"年度报告缺少章节：{'、'.join(missing)}"
        table = report.report_table
        if table and table["本年新收"] + table["上年结转"] != table["办理结果总计"] + table["结转下年度"]:
            return "年度报告申请情况表数据不平衡"
        return None

    def c09(self):
        guides = [d for d in self.docs if d.doc_kind == "公开指南"]
        text = "".join(_text(d) for d in guides)
        missing = [name for name, pattern in GUIDE_ELEMENTS.items() if not pattern.search(text)]
        return _ok(bool(guides) and not missing, f"公开指南缺少：{'、'.join(missing) or '指南'}")

    def _normative(self) -> list[Doc]:
        return [d for d in self.docs if d.doc_kind == "规范性文件"]

    def c10(self):
        bad = [d for d in self._normative() if not d.validity or not (d.valid_until or d.validity_period_text)]
        return _ok(not bad, "规范性文件未标注有效性或有效期")

    def _list_url(self, doc: Doc) -> str:
        return self.site.column(doc.column).url

    def c11(self):
        """R3: list marks beside page validity. A list and a page that disagree (有效 against a lapsed
        validity) fail; a superseded document counts as marked by its page or its list, a list mark
        alone with a warning."""
        sentences = [(d.key, s) for d in self.docs for p in d.paragraphs for s in re.split(r"[。；]", p)
                     if SUPERSEDE_WORDS.search(s)]
        failures = []
        for doc in self._normative():
            page, listed = page_validity(doc), doc.list_mark
            if page and listed and (page == "有效") != (listed == "有效"):
                failures.append(f"列表与文件页面有效性标注不一致：列表标注“{LIST_MARK_WORDS[listed]}”，"
                                f"文件页面标注“{page}”（{self._list_url(doc)}；{doc.path}）")
            superseded = any(key != doc.key and (f"《{doc.title}》" in s or (doc.doc_number and doc.doc_number in s))
                             for key, s in sentences)
            if not superseded or _lapsed(page):
                continue
            if _lapsed(listed):
                if page is None:
                    self._warn("C11", "list_mark_only", "仅在列表中标注为已废止，文件页面未标注",
                               [self._list_url(doc), doc.path])
                continue
            failures.append("已废止文件未标注")
        return ("fail", failures[0]) if failures else ("pass", "")

    def _named_documents(self, interpretation: Doc) -> tuple[list[Doc], list[str]]:
        """The unit's documents a 解读 names (by link, or by 《title》 in its title or text), and the
        titles it names that no document of the unit has."""
        by_title = {d.title: d for d in self.docs if d is not interpretation}
        titles = list(dict.fromkeys(NAMED_TITLE.findall(interpretation.title + _text(interpretation))))
        named = {by_title[t].key: by_title[t] for t in titles if t in by_title}
        linked = next((d for d in self.docs if d.key == interpretation.interprets), None)
        if linked is not None and interpretation.interprets_by_link:
            named.setdefault(linked.key, linked)
        return list(named.values()), [t for t in titles if t not in by_title]

    def c12(self):
        """R4: every 有效 规范性文件 has a 解读; no (解读, document it names) pair is a copy, whatever the
        document's validity; a 解读 naming a document the unit does not have is a warning."""
        explained: set[str] = set()
        copies = []
        for interpretation in (d for d in self.docs if d.doc_kind == "政策解读"):
            named, unknown = self._named_documents(interpretation)
            explained |= {d.key for d in named}
            copies += [d for d in named if shingle_containment(_text(interpretation), _text(d)) >= COPY_SHARE]
            for title in unknown:
                self._warn("C12", "orphan_interpretation", f"政策解读所解读的《{title}》未在本单位公开的文件中找到",
                           [interpretation.path])
        if any(d.validity == "有效" and d.key not in explained for d in self._normative()):
            return "fail", "规范性文件缺少政策解读"
        if copies:
            return "fail", "政策解读照搬原文"
        return "pass", ""

    def c13(self):
        names = {normalize_org_name(n) for n in (self.site.spec.name, self.site.spec.full_name, *self.site.spec.aliases) if n}
        news_codes = {c.code for c in self.site.columns_of("news")}
        # A single-article column's page is the column's content, not a listed document: no metadata owed.
        articles = {c.article.key for c in self.site.columns if c.article is not None}
        seen: set[str] = set()
        for doc in self.docs:
            if doc.column in news_codes or doc.key in articles:
                continue
            if not doc.index_no or not INDEX_NO_PATTERN.match(doc.index_no) or doc.index_no in seen:
                return "fail", "索引号缺失、不规范或重复"
            seen.add(doc.index_no)
            if not doc.title or not doc.publish_date:
                return "fail", "缺少名称或发布日期"
            if normalize_org_name(doc.publisher or "") not in names:
                return "fail", "发布机构与单位不符"
            if doc.written_date and doc.written_date > doc.publish_date:
                return "fail", "成文日期晚于发布日期"
        return "pass", ""

    def c14(self):
        due = load_catalog().get("C14").due
        dates = [d.publish_date for c in self.site.columns_of("standard_catalog") for d in c.live_docs()
                 if d.publish_date]
        return _ok(any(d <= due for d in dates), "标准目录未发布或逾期发布")

    def c15(self):
        org_text = "".join(d.title + _text(d) for c in self.site.columns_of("org_info") for d in c.live_docs())
        topics = (r"职能|职责", r"机构设置|内设机构", r"领导", r"下属|直属|所属单位")
        org_ok = all(re.search(t, org_text) for t in topics)
        return _ok(self._has_items("power_list") and org_ok, "权责清单或机构信息不全")

    def c16(self):
        return _ok(any(d.doc_kind == "应急预案" for d in self.docs), "未公开应急预案")

    def c17(self):
        titles = [d.title for c in self.site.columns_of("meeting") for d in c.live_docs()]
        return _ok(any("常务会议" in t for t in titles), "未公开常务会议信息")

    def c18(self):
        broken = (any(not a.exists for d in self.docs for a in d.attachments) or any(d.extra_links for d in self.docs)
                  or any(d.dead for d in self.site.docs()))
        return _ok(not broken, "存在不可用的链接或附件")

    def c19(self):
        return _ok(self.host_ipv6, "网站不支持IPv6访问")

    def c20(self):
        return _ok(not any(d.has_pii for d in self.docs), "公开内容含个人信息")

    def c21(self):
        bad = [d for d in self.docs if d.disclosure in ("依申请公开", "不予公开") and not d.non_disclosure_reason]
        return _ok(not bad, "未说明不予公开理由")

    def c22(self):
        news_codes = {c.code for c in self.site.columns_of("news")}
        total = len(self.docs)
        documents = sum(1 for d in self.docs if d.column not in news_codes)
        if not total or documents / total <= 0.5:
            return "fail", "文件类信息占比不足50%"
        for area in self.site.spec.areas:
            if not any(KEY_AREA_PATTERNS[area].search((d.title or "") + (d.subject or "")) for d in self.docs):
                return "fail", f"未覆盖重点领域：{area}"
        return "pass", ""


def column_truth(site: UnitSite) -> dict[str, dict]:
    """What each served column's lists show: its kind, how many items, at which URL, served how.

    Nothing is served for a unit whose entry is missing; a gated unit's columns are listed (they
    are behind the gate, not absent).
    """
    if not site.reachable:
        return {}
    return {c.name: {"kind": c.kind, "items": len(c.docs), "path": c.url, "mechanism": c.served_by,
                     "article": c.article is not None}
            for c in site.columns}


def unit_ground_truth(site: UnitSite, as_of: date, host_ipv6: bool) -> dict:
    truth = UnitTruth(site, as_of, host_ipv6)
    results = truth.evaluate()
    statuses = {k: v[0] for k, v in results.items()}
    score = score_unit(statuses, truth.veto_hits, unverifiable=truth.access == "blocked")
    return {
        "kind": site.spec.kind,
        "mechanism": site.mechanism,
        "access": truth.access,
        "defects": site.defects,
        "checks": {k: {"status": s, "reason": r} for k, (s, r) in results.items()},
        "columns": column_truth(site),
        "warnings": truth.warnings,
        "score": score.score,
        "verdict": score.verdict,
        "veto": score.veto,
    }
