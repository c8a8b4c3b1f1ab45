"""Seeded defects: each breaks a clean unit site so that one check (C01–C22) must fail.

The plan spreads the defects over the base units so that every check has units that fail and
units that pass; synthetic scale units draw defects at random. The ground truth never reads
this plan: truth.py re-derives every verdict from the (broken) model, so interactions between
defects are accounted for.

Units a defect could not be seen on get none: the unit behind the anti-bot gate (every check is
无法核查 there). Defects that take a whole column away stay off units whose column is a special
case to exercise (the moved unit, the units with a JS-shell column).
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable

from . import content
from .model import COLUMN_LAYOUT, Attachment, Column, Doc, UnitSite, id_check_char
from .shapes import default_list_mark_style
from .truth import UPDATE_KINDS, WINDOW_KINDS, months_before
from .units import HOSTS_BY_KEY, unit_base


@dataclass(frozen=True)
class Defect:
    key: str
    check: str
    apply: Callable[[UnitSite, random.Random, date], None]
    heavy: bool = False  # leaves little else to check: given to a unit with no other defect
    eligible: Callable[[UnitSite], bool] = lambda site: True


def _docs_of(site: UnitSite, *codes: str) -> list[Doc]:
    return [d for code in codes if (c := site.column(code)) for d in c.docs]


def _drop_column(site: UnitSite, code: str) -> None:
    site.columns = [c for c in site.columns if c.code != code and c.parent != code]


def no_column(site, rng, as_of):
    site.reachable = False


def no_guide(site, rng, as_of):
    _drop_column(site, "zn")


def empty_system(site, rng, as_of):
    site.column("zd").clear()  # an article column too becomes an empty list page


def no_statutory(site, rng, as_of):
    _drop_column(site, "fdzdgknr")


def no_annual_report(site, rng, as_of):
    _drop_column(site, "ndbg")


BLANKABLE_KINDS = ("other", "notice", "emergency_plan", "power_list", "policy")


def _blank(site: UnitSite, count: int) -> None:
    candidates = sorted((c for c in site.columns if c.kind in BLANKABLE_KINDS), key=lambda c: BLANKABLE_KINDS.index(c.kind))
    for column in candidates[:count]:
        column.docs.clear()
        column.note = None
    if count > len(candidates):
        raise ValueError(f"unit {site.spec.id}: only {len(candidates)} columns can be blanked")


def blank_columns(site, rng, as_of):
    _blank(site, 2)


def blank_columns_veto(site, rng, as_of):
    _blank(site, 5)


def stale_news(site, rng, as_of):
    for doc in site.column("gzdt").docs:
        doc.publish_date = min(doc.publish_date, as_of - timedelta(days=30))


def stale_notice(site, rng, as_of):
    cutoff = as_of - timedelta(days=250)
    for doc in site.column("tzgg").docs:
        if doc.publish_date > cutoff:
            doc.publish_date = cutoff - timedelta(days=rng.randint(0, 60))
            doc.written_date = doc.publish_date - timedelta(days=1)


def _extra_column(site: UnitSite, spec: tuple[str, str, str], source: Column, count: int = 3) -> Column:
    """A column beside the layout (R6), of `spec`'s kind, holding copies of `source`'s first documents
    (own keys, titles and 索引号, so C13 and title citations stay as they were)."""
    code, name, kind = spec
    extras = content.EXTRA_WINDOW_COLUMNS + content.EXTRA_OTHER_COLUMNS
    column = Column(code=code, name=name, kind=kind, parent="fdzdgknr", mechanism=site.mechanism,
                    layout_index=len(COLUMN_LAYOUT) + extras.index(spec))
    site.columns.append(column)
    for number, doc in enumerate(source.live_docs()[:count]):
        key = f"x{1000 + 10 * column.layout_index + number:05d}"
        index_no = _spare_index_no(site, doc.publish_date.year) if doc.index_no and doc.publish_date else None
        column.docs.append(dataclasses.replace(
            doc, key=key, column=code, title=f"{doc.title}（{name}）", index_no=index_no, doc_number=None,
            attachments=[], extra_links=[], has_pii=False, list_mark=None))
    return column


def _age(column: Column, newest: date, rng: random.Random, spread_days: int) -> None:
    """Every dated item of the column at least as old as `newest` (its written date kept before it)."""
    for doc in column.docs:
        if doc.publish_date is not None and doc.publish_date > newest:
            doc.publish_date = newest - timedelta(days=rng.randint(0, spread_days))
            if doc.written_date is not None:
                doc.written_date = doc.publish_date - timedelta(days=1)


WINDOW_SOURCES = {"news": "gzdt", "notice": "tzgg", "policy": "zcwj"}


def stale_columns_veto(site, rng, as_of):
    """R6: five window columns past their windows (a veto), columns added where the unit has fewer;
    notices and policies stay within a year, so no column counts as long not updated."""
    window = [c for c in site.columns if c.kind in WINDOW_KINDS]
    for spec in content.EXTRA_WINDOW_COLUMNS[:max(0, 5 - len(window))]:
        window.append(_extra_column(site, spec, site.column(WINDOW_SOURCES[spec[2]])))
    for column in window:
        if column.kind == "news":
            _age(column, as_of - timedelta(days=20), rng, 60)
        else:
            _age(column, months_before(as_of, 6) - timedelta(days=10), rng, 100)


def long_stale_veto(site, rng, as_of):
    """R6: ten columns that should be updated whose newest item is over a year old (a veto),
    columns of kind other added where the unit has fewer."""
    update = [c for c in site.columns if c.kind in UPDATE_KINDS and c.docs]
    for spec in content.EXTRA_OTHER_COLUMNS[:max(0, 10 - len(update))]:
        update.append(_extra_column(site, spec, site.column("czxx")))
    for column in update:
        _age(column, months_before(as_of, 12) - timedelta(days=10), rng, 300)


def undated_news(site, rng, as_of):
    for doc in site.column("gzdt").docs:
        doc.publish_date = None
        doc.show_list_date = False


def _latest_report(site: UnitSite) -> Doc:
    return max(site.column("ndbg").docs, key=lambda d: d.title)


def late_report(site, rng, as_of):
    report = _latest_report(site)
    report.publish_date = report.publish_date.replace(month=2, day=rng.randint(10, 25))
    report.written_date = report.publish_date - timedelta(days=2)


def report_missing_section(site, rng, as_of):
    _latest_report(site).paragraphs.remove("五、存在的主要问题及改进情况")


def report_bad_arithmetic(site, rng, as_of):
    _latest_report(site).report_table["办理结果总计"] += rng.choice((1, 2, 3))


def report_missing_year(site, rng, as_of):
    column = site.column("ndbg")
    column.docs.remove(_latest_report(site))


def guide_no_contact(site, rng, as_of):
    guide = site.column("zn").docs[0]
    guide.paragraphs = [p for p in guide.paragraphs if not p.startswith(("办公时间", "联系电话"))]


def normative_no_period(site, rng, as_of):
    doc = rng.choice([d for d in site.column("gfxwj").docs if d.validity == "有效"])
    doc.validity_period_text = None
    doc.valid_until = None
    doc.paragraphs = [p for p in doc.paragraphs if "有效期" not in p]


def _normative_by_age(site: UnitSite) -> list[Doc]:
    return sorted(site.column("gfxwj").docs, key=lambda d: d.publish_date)


def _abolish_by(old: Doc, new: Doc) -> None:
    """`new` states that `old` is abolished, in the sentence C11 looks for (once)."""
    sentence = f"《{old.title}》（{old.doc_number}）同时废止。"
    if sentence not in new.paragraphs:
        new.paragraphs.append(sentence)


def abolished_unmarked(site, rng, as_of):
    docs = _normative_by_age(site)
    old, new = docs[0], docs[-1]
    if not old.abolished_mark:
        _abolish_by(old, new)
    old.validity = "有效"
    old.abolished_mark = False


def _show_list_marks(site: UnitSite) -> None:
    """Lists that mark no validity start to (in the mechanism's way): the list-mark defects need them."""
    if site.list_marks is None:
        site.list_marks = default_list_mark_style(site.mechanism)


def list_mark_only(site, rng, as_of):
    """R3: a superseded document marked 已废止 only in its list row; its page states no validity
    (so C10 fails for it too) and carries no abolished mark. C11 passes, with a warning."""
    docs = _normative_by_age(site)
    old = docs[1] if len(docs) >= 3 else docs[0]  # not the oldest: abolished_unmarked's document
    _abolish_by(old, docs[-1])
    old.validity = None
    old.abolished_mark = False
    old.list_mark = "废止"
    _show_list_marks(site)


def list_page_disagree(site, rng, as_of):
    """R3: the newest normative document (named by no other) is 已废止 in its list row while its
    page says 有效; where the lists can say 有效 and a middle document is untouched, that one is
    有效 (YXX '0') in the list while its page says 失效. C11 fails."""
    _show_list_marks(site)
    docs = _normative_by_age(site)
    docs[-1].validity, docs[-1].list_mark = "有效", "废止"
    # A suffix is only ever "（已废止）", and gkmlpt's is_abolished has no word for 有效.
    middle = docs[1] if len(docs) >= 3 else None
    if site.list_marks not in ("suffix", "abolished") and middle is not None and middle.list_mark is None \
            and not middle.abolished_mark:
        middle.validity, middle.list_mark = "失效", "有效"


def normative_no_interpretation(site, rng, as_of):
    column = site.column("zcjd")
    target = next(d for d in site.column("gfxwj").docs if d.validity == "有效")
    column.docs = [d for d in column.docs if d.interprets != target.key]


def interpretation_copy(site, rng, as_of):
    normative = {d.key: d for d in site.column("gfxwj").docs}
    interp = next(d for d in site.column("zcjd").docs if normative[d.interprets].validity == "有效")
    interp.paragraphs = [f"现将《{normative[interp.interprets].title}》解读如下。", *normative[interp.interprets].paragraphs]


def _interpretations_by_target(site: UnitSite) -> dict[str, Doc]:
    return {d.interprets: d for d in site.column("zcjd").docs if d.interprets}


def interpretation_copy_lapsed(site, rng, as_of):
    """R4: the 解读 of a document no longer in force copies it: C12 fails whatever the validity."""
    interpretations = _interpretations_by_target(site)
    docs = _normative_by_age(site)
    explained = [d for d in docs if d.key in interpretations]
    target = next((d for d in explained if d.validity in ("失效", "废止")), explained[0])
    if target.validity not in ("失效", "废止"):
        if target is docs[-1]:
            target.validity = "失效"  # expired: nothing newer abolishes it
        else:
            _abolish_by(target, docs[-1])
            target.validity, target.abolished_mark = "废止", True
    interpretations[target.key].paragraphs = [f"现将《{target.title}》解读如下。", *target.paragraphs]


def _spare_index_no(site: UnitSite, year: int) -> str:
    """A well-formed 索引号 no document of the unit has (the builder's sequences stay far below 90000)."""
    taken = {d.index_no for d in site.docs()}
    number = 90001
    while f"{site.org_code}/{year}-{number:05d}" in taken:
        number += 1
    return f"{site.org_code}/{year}-{number:05d}"


def orphan_interpretation(site, rng, as_of):
    """R4: a 解读 naming 《a document》 the unit never published (by title, no link): a warning only."""
    column = site.column("zcjd")
    template = column.docs[0]
    titles = "".join(d.title for d in site.docs())
    subject = next(s for s in content.ORPHAN_SUBJECTS if s not in titles)
    title = f"关于印发{site.spec.name}{subject}管理办法的通知"
    day = template.publish_date
    column.docs.append(dataclasses.replace(
        template, key="x00002", title=f"《{title}》政策解读", index_no=_spare_index_no(site, day.year),
        interprets=None, interprets_by_link=False, attachments=[], extra_links=[],
        paragraphs=[f"近日，{site.spec.name}印发了《{title}》，现就有关内容解读如下。",
                    *rng.sample(content.INTERPRETATION_SENTENCES, 4)]))


def _indexed_docs(site: UnitSite) -> list[Doc]:
    return [d for d in site.docs() if d.index_no and d.column not in ("zn", "ndbg")]


def dup_index_no(site, rng, as_of):
    first, second = rng.sample(_indexed_docs(site), 2)
    second.index_no = first.index_no


def bad_index_no(site, rng, as_of):
    doc = rng.choice(_indexed_docs(site))
    doc.index_no = f"BH-{site.spec.id.upper()}-{doc.publish_date.year}-{rng.randint(1, 99)}"


def publisher_mismatch(site, rng, as_of):
    rng.choice(_indexed_docs(site)).publisher = "区审计局" if site.spec.id != "sjj" else "区商务局"


def written_after_publish(site, rng, as_of):
    doc = rng.choice(_indexed_docs(site))
    doc.written_date = doc.publish_date + timedelta(days=rng.randint(3, 20))


def missing_publish_date(site, rng, as_of):
    # The oldest, so that the column's freshness (C07) does not change.
    doc = min((d for d in _docs_of(site, "zcwj") if d.publish_date), key=lambda d: d.publish_date)
    doc.publish_date = None
    doc.show_list_date = False


def no_standard_catalog(site, rng, as_of):
    _drop_column(site, "bzml")


def late_standard_catalog(site, rng, as_of):
    doc = site.column("bzml").docs[0]
    doc.publish_date = date(2020, 12, rng.randint(5, 28))
    doc.written_date = doc.publish_date - timedelta(days=1)


def no_power_list(site, rng, as_of):
    _drop_column(site, "qzqd")


def org_info_incomplete(site, rng, as_of):
    column = site.column("jgxx")
    column.docs = [d for d in column.docs if d.title != "领导信息"]


def no_emergency_plan(site, rng, as_of):
    _drop_column(site, "yjya")


def no_meeting(site, rng, as_of):
    for doc in site.column("hygk").docs:
        doc.title = doc.title.replace("常务会议", "专题协调会")


def broken_attachment(site, rng, as_of):
    doc = rng.choice([d for d in _docs_of(site, "zcwj", "tzgg", "gfxwj") if d.attachments])
    doc.attachments.append(Attachment(name="附件2：申请表.doc", path="doc", exists=False))


def broken_link(site, rng, as_of):
    doc = rng.choice(_docs_of(site, "zcwj", "tzgg"))
    doc.extra_links.append((f"{unit_base(site.spec)}fdzdgknr/zcwj/201905/t20190520_404.html", "相关文件（已迁移）"))


def dead_item_soft404(site, rng, as_of):
    """A list shows an item whose page was withdrawn; the host answers it with a 200 页面不存在."""
    column = next(site.column(code) for code in ("tzgg", "zcwj") if site.column(code) and site.column(code).docs)
    oldest = min((d.publish_date for d in column.docs if d.publish_date), default=as_of - timedelta(days=400))
    # Older than everything else listed, so that the column's freshness (C07) does not hinge on it.
    day = oldest - timedelta(days=rng.randint(5, 40))
    column.docs.append(Doc(key="x00001", column=column.code, title=f"关于{day.year}年度政务公开工作要点的通知",
                           publish_date=day, written_date=day, publisher=site.spec.name, dead=True))


def _on_soft_404_host(site: UnitSite) -> bool:
    return HOSTS_BY_KEY[site.spec.host].soft_404 and bool(_docs_of(site, "tzgg", "zcwj"))


def _id_number(rng: random.Random) -> str:
    body = f"120116{rng.randint(1960, 2000)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(100, 999)}"
    return body + id_check_char(body)


def pii_id_card(site, rng, as_of):
    doc = rng.choice(_docs_of(site, "tzgg", "zcwj"))
    doc.paragraphs.append(f"公示对象：王某某，身份证号码：{_id_number(rng)}，住址：滨海新区某小区。")
    doc.has_pii = True


def pii_mobile(site, rng, as_of):
    doc = rng.choice(_docs_of(site, "tzgg", "zcwj"))
    doc.paragraphs.append(f"如有异议，请联系申请人刘某某，手机：1{rng.choice('3578')}{rng.randint(100000000, 999999999)}。")
    doc.has_pii = True


def disclosure_no_reason(site, rng, as_of):
    doc = rng.choice(_docs_of(site, "zcwj"))
    doc.disclosure = rng.choice(("依申请公开", "不予公开"))
    doc.non_disclosure_reason = None


def news_heavy(site, rng, as_of):
    news = site.column("gzdt")
    others = sum(len(c.docs) for c in site.columns if c.kind != "news")
    template = news.docs[-1]
    for number in range(others + 5):
        # Undated when undated_news blanked the column's dates first.
        day = template.publish_date - timedelta(days=number % 90) if template.publish_date else None
        news.docs.append(Doc(key=f"n{number:05d}", column="gzdt", title=f"{site.spec.name}工作简讯第{number + 1}期",
                             publisher=template.publisher, doc_kind="其他", publish_date=day,
                             show_list_date=template.show_list_date, page_shows_date=template.page_shows_date,
                             paragraphs=list(template.paragraphs)))


def key_area_missing(site, rng, as_of):
    area = rng.choice(site.spec.areas)
    title = content.KEY_AREA_DOCS[area][0]
    for column in site.columns:
        column.docs = [d for d in column.docs if d.title != title]


def _has_columns(*codes: str) -> Callable[[UnitSite], bool]:
    return lambda site: all(site.column(code) is not None for code in codes)


def _has_docs(*codes: str) -> Callable[[UnitSite], bool]:
    """Every named column exists and lists something (an earlier defect may have removed it)."""
    return lambda site: all(site.column(code) is not None and site.column(code).docs for code in codes)


def _normative_count(minimum: int) -> Callable[[UnitSite], bool]:
    return lambda site: site.column("gfxwj") is not None and len(site.column("gfxwj").docs) >= minimum


def _has_interpreted_normative(site: UnitSite) -> bool:
    return _normative_count(2)(site) and site.column("zcjd") is not None and bool(
        {d.key for d in site.column("gfxwj").docs} & set(_interpretations_by_target(site)))


def _can_take_columns(*sources: str) -> Callable[[UnitSite], bool]:
    """The statutory parent is there to hang added columns under, and the columns to copy list something."""
    return lambda site: site.column("fdzdgknr") is not None and _has_docs(*sources)(site)


DEFECTS: tuple[Defect, ...] = (
    Defect("no_column", "C01", no_column, heavy=True),
    Defect("no_guide", "C02", no_guide, eligible=_has_columns("zn")),
    Defect("empty_system", "C03", empty_system, eligible=_has_docs("zd")),
    Defect("no_statutory", "C04", no_statutory, heavy=True, eligible=_has_columns("fdzdgknr")),
    Defect("no_annual_report", "C05", no_annual_report, heavy=True, eligible=_has_columns("ndbg")),
    Defect("blank_columns", "C06", blank_columns),
    Defect("blank_columns_veto", "C06", blank_columns_veto, heavy=True),
    Defect("stale_news", "C07", stale_news, eligible=_has_docs("gzdt")),
    Defect("stale_notice", "C07", stale_notice, eligible=_has_docs("tzgg")),
    Defect("undated_news", "C07", undated_news, eligible=_has_docs("gzdt")),
    Defect("stale_columns_veto", "C07", stale_columns_veto, heavy=True, eligible=_can_take_columns("gzdt", "tzgg", "zcwj")),
    Defect("long_stale_veto", "C07", long_stale_veto, heavy=True, eligible=_can_take_columns("czxx")),
    Defect("late_report", "C08", late_report, eligible=_has_docs("ndbg")),
    Defect("report_missing_section", "C08", report_missing_section, eligible=_has_docs("ndbg")),
    Defect("report_bad_arithmetic", "C08", report_bad_arithmetic, eligible=_has_docs("ndbg")),
    Defect("report_missing_year", "C08", report_missing_year, eligible=_has_docs("ndbg")),
    Defect("guide_no_contact", "C09", guide_no_contact, eligible=_has_docs("zn")),
    Defect("normative_no_period", "C10", normative_no_period, eligible=_normative_count(2)),
    Defect("abolished_unmarked", "C11", abolished_unmarked, eligible=_normative_count(2)),
    Defect("list_mark_only", "C11", list_mark_only, eligible=_normative_count(2)),
    Defect("list_page_disagree", "C11", list_page_disagree, eligible=_normative_count(2)),
    Defect("normative_no_interpretation", "C12", normative_no_interpretation, eligible=_normative_count(2)),
    Defect("interpretation_copy", "C12", interpretation_copy, eligible=_normative_count(2)),
    Defect("interpretation_copy_lapsed", "C12", interpretation_copy_lapsed, eligible=_has_interpreted_normative),
    Defect("orphan_interpretation", "C12", orphan_interpretation,
           eligible=lambda site: _has_docs("zcjd")(site) and site.column("gfxwj") is not None),
    Defect("dup_index_no", "C13", dup_index_no, eligible=lambda site: len(_indexed_docs(site)) >= 2),
    Defect("bad_index_no", "C13", bad_index_no, eligible=lambda site: bool(_indexed_docs(site))),
    Defect("publisher_mismatch", "C13", publisher_mismatch, eligible=lambda site: bool(_indexed_docs(site))),
    Defect("written_after_publish", "C13", written_after_publish, eligible=lambda site: bool(_indexed_docs(site))),
    Defect("missing_publish_date", "C13", missing_publish_date, eligible=_has_docs("zcwj")),
    Defect("no_standard_catalog", "C14", no_standard_catalog, eligible=_has_columns("bzml")),
    Defect("late_standard_catalog", "C14", late_standard_catalog, eligible=_has_columns("bzml")),
    Defect("no_power_list", "C15", no_power_list, eligible=_has_columns("qzqd")),
    Defect("org_info_incomplete", "C15", org_info_incomplete, eligible=_has_docs("jgxx")),
    Defect("no_emergency_plan", "C16", no_emergency_plan, eligible=_has_columns("yjya")),
    Defect("no_meeting", "C17", no_meeting, eligible=_has_columns("hygk")),
    Defect("broken_attachment", "C18", broken_attachment, eligible=lambda site: any(d.attachments for d in _docs_of(site, "zcwj", "tzgg", "gfxwj"))),
    Defect("broken_link", "C18", broken_link, eligible=lambda site: bool(_docs_of(site, "zcwj", "tzgg"))),
    Defect("dead_item_soft404", "C18", dead_item_soft404, eligible=_on_soft_404_host),
    Defect("pii_id_card", "C20", pii_id_card, eligible=lambda site: bool(_docs_of(site, "tzgg", "zcwj"))),
    Defect("pii_mobile", "C20", pii_mobile, eligible=lambda site: bool(_docs_of(site, "tzgg", "zcwj"))),
    Defect("disclosure_no_reason", "C21", disclosure_no_reason, eligible=_has_docs("zcwj")),
    Defect("news_heavy", "C22", news_heavy, eligible=_has_docs("gzdt")),
    Defect("key_area_missing", "C22", key_area_missing, eligible=lambda site: bool(site.spec.areas)),
)
DEFECTS_BY_KEY = {d.key: d for d in DEFECTS}

# Units kept free of defects, so that every applicable check has a passing unit: the district
# portal (the only other unit that C17 applies to), the GBK zone (GBK decoding must be exercised
# on good pages) and one unit of every other kind.
CLEAN_UNITS = ("qzf", "ftz", "mzj", "xgjd", "ztz")
# Defects given to a unit whatever the plan draws, and nothing else: the soft-404 host's zone
# lists one dead item (its only defect, so its other pages stay good pages).
FIXED_DEFECTS = {"teda": ("dead_item_soft404",)}
# One unit neglects its column across the board: it fails on score (below 60) without a veto.
NEGLECTED_UNIT = ("gxj", ("no_guide", "empty_system", "stale_notice", "report_missing_section",
                          "normative_no_period", "no_power_list"))
SYNTHETIC_DEFECT_RATE = 0.02


def _keeps_its_columns(site: UnitSite) -> bool:
    """Whether a heavy defect may take the unit's column away: not from the district portal, nor
    from the units that are there to exercise a special case (their own hosts: TLS, soft 404s,
    GBK; the moved unit; the JS-shell columns)."""
    return (site.spec.kind != "district" and site.spec.host == "main" and not site.spec.moved_from
            and not site.spec.spa_column)


def plan_base_defects(sites: list[UnitSite], seed: int) -> dict[str, list[str]]:
    """Give each defect to one base unit, spreading them so that few units stack defects."""
    rng = random.Random(f"defects:{seed}")
    load = {site.spec.id: 0 for site in sites if site.spec.id not in CLEAN_UNITS and not site.spec.gated}
    by_id = {site.spec.id: site for site in sites}
    plan: dict[str, list[str]] = {uid: [] for uid in load}
    neglected, bundle = NEGLECTED_UNIT
    plan[neglected], load[neglected] = list(bundle), 99
    for uid, keys in FIXED_DEFECTS.items():
        plan[uid], load[uid] = list(keys), 99
    fixed = {key for keys in FIXED_DEFECTS.values() for key in keys}
    for defect in sorted((d for d in DEFECTS if d.key not in fixed), key=lambda d: not d.heavy):
        candidates = [uid for uid in load if defect.eligible(by_id[uid]) and load[uid] < 99]
        if defect.heavy:
            candidates = [uid for uid in candidates if load[uid] == 0 and _keeps_its_columns(by_id[uid])]
        if not candidates:
            raise ValueError(f"no base unit can take defect {defect.key}")
        least = min(load[uid] for uid in candidates)
        chosen = rng.choice(sorted(uid for uid in candidates if load[uid] == least))
        plan[chosen].append(defect.key)
        load[chosen] = 99 if defect.heavy else load[chosen] + 1
    return {uid: keys for uid, keys in plan.items() if keys}


def random_defects(site: UnitSite, rng: random.Random) -> list[str]:
    """Defects for a synthetic scale unit: each defect independently at a low rate."""
    if site.spec.gated:
        return []
    chosen = [d.key for d in DEFECTS if d.eligible(site) and rng.random() < SYNTHETIC_DEFECT_RATE]
    heavy = [key for key in chosen if DEFECTS_BY_KEY[key].heavy]
    return heavy[:1] if heavy else chosen


def apply_defects(site: UnitSite, keys: list[str], rng: random.Random, as_of: date) -> None:
    """Apply in order; a defect an earlier one made moot (e.g. its column is gone) is skipped."""
    applied = []
    for key in keys:
        defect = DEFECTS_BY_KEY[key]
        if defect.eligible(site):
            defect.apply(site, rng, as_of)
            applied.append(key)
    site.defects = applied
