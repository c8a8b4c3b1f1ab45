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

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable

from . import content
from .model import Attachment, Doc, UnitSite, id_check_char
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
    site.column("zd").docs.clear()


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


def abolished_unmarked(site, rng, as_of):
    docs = sorted(site.column("gfxwj").docs, key=lambda d: d.publish_date)
    old, new = docs[0], docs[-1]
    if not old.abolished_mark:
        new.paragraphs.append(f"《{old.title}》（{old.doc_number}）同时废止。")
    old.validity = "有效"
    old.abolished_mark = False


def normative_no_interpretation(site, rng, as_of):
    column = site.column("zcjd")
    target = next(d for d in site.column("gfxwj").docs if d.validity == "有效")
    column.docs = [d for d in column.docs if d.interprets != target.key]


def interpretation_copy(site, rng, as_of):
    normative = {d.key: d for d in site.column("gfxwj").docs}
    interp = next(d for d in site.column("zcjd").docs if normative[d.interprets].validity == "有效")
    interp.paragraphs = [f"现将《{normative[interp.interprets].title}》解读如下。", *normative[interp.interprets].paragraphs]


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
                             show_list_date=template.show_list_date, paragraphs=list(template.paragraphs)))


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
    Defect("late_report", "C08", late_report, eligible=_has_docs("ndbg")),
    Defect("report_missing_section", "C08", report_missing_section, eligible=_has_docs("ndbg")),
    Defect("report_bad_arithmetic", "C08", report_bad_arithmetic, eligible=_has_docs("ndbg")),
    Defect("report_missing_year", "C08", report_missing_year, eligible=_has_docs("ndbg")),
    Defect("guide_no_contact", "C09", guide_no_contact, eligible=_has_docs("zn")),
    Defect("normative_no_period", "C10", normative_no_period, eligible=_normative_count(2)),
    Defect("abolished_unmarked", "C11", abolished_unmarked, eligible=_normative_count(2)),
    Defect("normative_no_interpretation", "C12", normative_no_interpretation, eligible=_normative_count(2)),
    Defect("interpretation_copy", "C12", interpretation_copy, eligible=_normative_count(2)),
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
