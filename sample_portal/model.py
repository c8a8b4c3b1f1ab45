"""The sample portal's content model: what each unit publishes, before any HTML is rendered.

Each unit is built from its own random stream (seed + unit id), so a unit's pages do not change
when other units are added and a scale run of 1,000 units starts with the same 44 base units.
Defects (see defects.py) are applied to the model; the ground truth (truth.py) and the HTML
(render.py) are both derived from it. A unit's shape (shapes.py) decides the page forms the rule
readings turn on: single-article columns, validity marks in lists, news pages without dates.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from . import content
from .shapes import UnitShape
from .units import UnitSpec, unit_rng  # noqa: F401 (unit_rng: re-exported)

PAGE_SIZE = 15
TEMPLATES = ("trs4", "trs2", "span")
# Validity values that say a document no longer applies (C11).
LAPSED = ("失效", "废止", "已修订")


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"


def id_check_char(first17: str) -> str:
    return ID_CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS)) % 11]


def not_an_id_number(rng: random.Random) -> str:
    """An 18-digit number (a project code) whose check digit is wrong: never personal information."""
    first17 = str(rng.randint(10**16, 10**17 - 1))
    right = id_check_char(first17)
    return first17 + next(c for c in "0123456789" if c != right)


@dataclass
class Attachment:
    name: str
    path: str
    exists: bool = True


@dataclass
class Doc:
    key: str
    column: str
    title: str
    path: str = ""
    index_no: str | None = None
    publisher: str | None = None
    doc_number: str | None = None
    written_date: date | None = None
    publish_date: date | None = None
    subject: str | None = None
    keywords: str | None = None
    validity: str | None = None
    validity_period_text: str | None = None
    valid_until: date | None = None
    abolished_mark: bool = False
    disclosure: str | None = "主动公开"
    non_disclosure_reason: str | None = None
    doc_kind: str = "其他"
    paragraphs: list[str] = field(default_factory=list)
    interprets: str | None = None  # key of the normative doc a 解读 explains
    interprets_by_link: bool = True
    attachments: list[Attachment] = field(default_factory=list)
    extra_links: list[tuple[str, str]] = field(default_factory=list)  # (path or URL, text)
    report_table: dict[str, int] | None = None
    has_pii: bool = False
    show_list_date: bool = True
    page_shows_date: bool = True  # False: the page carries no date (its list row may: R5)
    # The validity the list row states beside the title (a VALIDITY_VALUES word, None: no mark),
    # set by UnitSite.settle_list_marks from the page's validity unless a defect set it first.
    list_mark: str | None = None
    dead: bool = False  # listed, but its page does not exist (a dead item link, not a document)

    @property
    def serial(self) -> int:
        """A number unique within the unit, for the numeric ids CMSs put in URLs (art_C_<id>, post_<id>)."""
        offset = {"d": 0, "n": 100_000, "x": 200_000}[self.key[0]]
        return offset + int(self.key[1:])


@dataclass
class Column:
    code: str
    name: str
    kind: str
    parent: str | None = None
    docs: list[Doc] = field(default_factory=list)
    note: str | None = None
    path: str = ""  # directory the column's TRS-style pages live in
    url: str = ""  # the column's own URL path (what its links and the registry name)
    mechanism: str = "static"  # how its list is served (the unit's, or "spa")
    layout_index: int = 0  # position in COLUMN_LAYOUT: CMS ids derive from it, not from what survived defects
    # A single-article column (R1): the column's page IS this document (also its only entry in
    # `docs`), served at the column's URL in place of a list, never at a URL of its own.
    article: Doc | None = None

    def live_docs(self) -> list[Doc]:
        return [d for d in self.docs if not d.dead]

    @property
    def served_by(self) -> str:
        """The mechanism that serves the column's page: an article is a plain server page anywhere."""
        return "static" if self.article is not None else self.mechanism

    def clear(self) -> None:
        """Take everything away: an article column becomes an empty list page."""
        self.docs.clear()
        self.article = None


@dataclass
class UnitSite:
    spec: UnitSpec
    template: str
    charset: str
    reachable: bool = True
    columns: list[Column] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    org_code: str = ""
    list_marks: str | None = None  # how its lists mark validity (shapes.py), None: they do not

    def settle_list_marks(self) -> None:
        """Give every normative document the list mark the unit's lists show for its page's validity,
        where a defect has not set one (run after the defects, which change validities)."""
        for doc in self.docs():
            if doc.doc_kind == "规范性文件" and doc.list_mark is None:
                doc.list_mark = mirrored_list_mark(self.list_marks, doc)

    def column(self, code: str) -> Column | None:
        return next((c for c in self.columns if c.code == code), None)

    def columns_of(self, kind: str) -> list[Column]:
        return [c for c in self.columns if c.kind == kind]

    @property
    def mechanism(self) -> str:
        return self.spec.mechanism

    def docs(self) -> list[Doc]:
        """Every item the lists show, dead links included."""
        return [d for c in self.columns for d in c.docs]

    def live_docs(self) -> list[Doc]:
        """The documents: listed items whose pages exist."""
        return [d for c in self.columns for d in c.docs if not d.dead]


def mirrored_list_mark(style: str | None, doc: Doc) -> str | None:
    """What a list in `style` shows for a document whose page states `doc.validity`."""
    if style is None or doc.validity is None:
        return None
    if style == "suffix":  # only what no longer applies gets a suffix
        return doc.validity if doc.validity in LAPSED else None
    if style == "abolished":  # gkmlpt's is_abolished: true for 废止/失效, no word for the rest
        return "废止" if doc.validity in ("废止", "失效") else None
    return doc.validity


# code, link text, kind, parent: the layout of a unit's 政府信息公开 column.
COLUMN_LAYOUT = (
    ("zn", "政府信息公开指南", "guide", None),
    ("zd", "政府信息公开制度", "system", None),
    ("fdzdgknr", "法定主动公开内容", "statutory", None),
    ("ndbg", "政府信息公开工作年度报告", "annual_report", None),
    ("jgxx", "机构信息", "org_info", "fdzdgknr"),
    ("qzqd", "权责清单", "power_list", "fdzdgknr"),
    ("gfxwj", "行政规范性文件", "normative", "fdzdgknr"),
    ("zcjd", "政策解读", "interpretation", "fdzdgknr"),
    ("zcwj", "政策文件", "policy", "fdzdgknr"),
    ("tzgg", "通知公告", "notice", "fdzdgknr"),
    ("gzdt", "工作动态", "news", "fdzdgknr"),
    ("yjya", "应急预案", "emergency_plan", "fdzdgknr"),
    ("bzml", "基层政务公开事项标准目录", "standard_catalog", "fdzdgknr"),
    ("hygk", "会议公开", "meeting", "fdzdgknr"),
    ("czxx", "财政预决算", "other", "fdzdgknr"),
    ("rsxx", "人事信息", "other", "fdzdgknr"),
)
ORG_CODE_STYLES = ("digits", "dashed", "credit", "site")


class UnitBuilder:
    """Builds one unit's clean site; defects.py then breaks it on purpose."""

    def __init__(self, spec: UnitSpec, seed: int, as_of: date, docs_per_unit: int, template: str, charset: str,
                 shape: UnitShape | None = None):
        self.spec = spec
        self.as_of = as_of
        self.rng = unit_rng(seed, spec.id)
        self.docs_per_unit = docs_per_unit
        self.shape = shape or UnitShape()
        self.site = UnitSite(spec=spec, template=template, charset=charset, list_marks=self.shape.list_marks)
        self.site.org_code = self._org_code()
        self._seq: dict[int, int] = {}
        self._doc_numbers: dict[str, int] = {}
        self._counter = 0

    # -- identifiers ------------------------------------------------------------------------
    def _org_code(self) -> str:
        style = ORG_CODE_STYLES[self.rng.randrange(len(ORG_CODE_STYLES))]
        digits = "".join(str(self.rng.randrange(10)) for _ in range(9))
        if style == "digits":
            return digits
        if style == "dashed":
            return f"{digits[:7]}-{digits[7]}"
        if style == "credit":
            return f"1112011{digits}" + "ABCDEFGHJKLMNPQRTUWXY"[self.rng.randrange(21)] + str(self.rng.randrange(10))
        return f"bh{self.spec.id}gk"

    def index_no(self, year: int) -> str:
        self._seq[year] = self._seq.get(year, 0) + self.rng.randint(1, 3)
        return f"{self.site.org_code}/{year}-{self._seq[year]:05d}"

    def next_key(self) -> str:
        self._counter += 1
        return f"d{self._counter:05d}"

    def publisher(self) -> str:
        names = (self.spec.name, self.spec.full_name or self.spec.name, *self.spec.aliases)
        return names[self.rng.randrange(len(names))]

    def doc_number(self, prefix: str, year: int) -> str:
        """Unique within the unit, as 文号 are: documents cite each other by them (C11)."""
        key = f"{prefix}〔{year}〕"
        self._doc_numbers[key] = self._doc_numbers.get(key, 0) + self.rng.randint(1, 3)
        return f"{key}{self._doc_numbers[key]}号"

    @property
    def issuer(self) -> str:
        """The unit as named in a document title: 区教育局 → 滨海新区教育局."""
        name = self.spec.name
        return "滨海新区" + name[1:] if name.startswith("区") else name

    @property
    def abbreviation(self) -> str:
        return "津滨" + self.spec.name.replace("区", "")[:2]

    def recent_date(self, max_days: int, min_days: int = 1) -> date:
        return self.as_of - timedelta(days=self.rng.randint(min_days, max_days))

    def paragraphs(self, pool: tuple[str, ...], count: int) -> list[str]:
        return self.rng.sample(pool, min(count, len(pool)))

    # -- documents ---------------------------------------------------------------------------
    def new_doc(self, column: Column, title: str, publish: date | None, *, kind: str = "其他",
                written_days_before: int | None = None, metadata: bool = True) -> Doc:
        doc = Doc(key=self.next_key(), column=column.code, title=title, publish_date=publish, doc_kind=kind)
        if metadata:
            year = (publish or self.as_of).year
            doc.index_no = self.index_no(year)
            doc.publisher = self.publisher()
            doc.subject = content.SUBJECTS[self.rng.randrange(len(content.SUBJECTS))]
            if written_days_before is None:
                written_days_before = self.rng.randint(0, 6)
            if publish is not None:
                doc.written_date = publish - timedelta(days=written_days_before)
        column.docs.append(doc)
        return doc

    def build(self) -> UnitSite:
        self._columns()
        for column in self.site.columns:
            getattr(self, f"_fill_{column.kind}", self._fill_other)(column)
        self._key_area_docs()
        self._attachments()
        return self.site

    def _columns(self) -> None:
        applicable = {
            "standard_catalog": self.spec.kind in ("district", "street", "town"),
            "meeting": self.spec.kind == "district",
            "emergency_plan": self.spec.has_emergency_duties,
        }
        for index, (code, name, kind, parent) in enumerate(COLUMN_LAYOUT):
            if applicable.get(kind, True):
                mechanism = "spa" if code == self.spec.spa_column else self.spec.mechanism
                self.site.columns.append(Column(code=code, name=name, kind=kind, parent=parent, mechanism=mechanism,
                                                layout_index=index))

    def _share(self, weight: float) -> int:
        fixed = 18
        return max(1, round(max(self.docs_per_unit - fixed, 12) * weight))

    def _article_metadata(self, column: Column) -> bool | None:
        """None: the column is a list; True/False: a single-article column with/without a metadata block."""
        if column.mechanism != self.spec.mechanism:  # a JS-shell column stays one
            return None
        return self.shape.articles.get(column.code)

    def _make_article(self, column: Column, doc: Doc, metadata: bool) -> None:
        column.article = doc
        if not metadata:  # a bare content page: no 索引号, no publisher, no date anywhere on it
            doc.publish_date = None
            doc.page_shows_date = False

    def _fill_guide(self, column: Column) -> None:
        article = self._article_metadata(column)
        doc = self.new_doc(column, f"{self.spec.name}政府信息公开指南", self.recent_date(700, 300), kind="公开指南",
                           metadata=article is not False)
        office = f"{self.spec.name}办公室"
        street = content.STREETS[self.rng.randrange(len(content.STREETS))]
        doc.paragraphs = [
            "为了更好地提供政府信息公开服务，根据《中华人民共和国政府信息公开条例》，编制本指南。",
            "一、主动公开。本机关主动公开的政府信息通过政府网站政府信息公开专栏发布。",
            "二、依申请公开。公民、法人或者其他组织可以通过当面提交、邮寄、互联网在线等方式提出申请，"
            "申请应当包括申请人姓名或者名称、联系方式、所需政府信息的名称或者描述。",
            f"三、工作机构。政府信息公开工作机构：{office}。",
            f"地址：天津市滨海新区{street}{self.rng.randint(1, 999)}号。",
            "办公时间：工作日上午9:00—12:00，下午13:30—17:00（法定节假日除外）。",
            f"联系电话：022-{self.rng.randint(25000000, 25999999)}。",
        ]
        if article is not None:
            self._make_article(column, doc, article)

    def _fill_system(self, column: Column) -> None:
        article = self._article_metadata(column)
        if article is not None:
            doc = self.new_doc(column, f"{self.spec.name}政府信息公开工作制度", self.recent_date(900, 200),
                               kind="公开制度", metadata=article)
            doc.paragraphs = list(content.SYSTEM_ARTICLE)
            self._make_article(column, doc, article)
            return
        for title in ("政府信息公开工作制度", "政府信息公开保密审查制度"):
            doc = self.new_doc(column, f"{self.spec.name}{title}", self.recent_date(900, 200), kind="公开制度")
            doc.paragraphs = self.paragraphs(content.SENTENCES, 3)

    def _fill_statutory(self, column: Column) -> None:
        """The statutory column is a parent: its content lives in its child columns."""

    def _fill_annual_report(self, column: Column) -> None:
        report_year = self.as_of.year - 1 if self.as_of >= date(self.as_of.year, 2, 1) else self.as_of.year - 2
        for year in range(report_year, report_year - 3, -1):
            doc = self.new_doc(column, f"{self.spec.name}{year}年政府信息公开工作年度报告",
                               date(year + 1, 1, self.rng.randint(10, 28)), kind="年度报告")
            received, carried = self.rng.randint(0, 60), self.rng.randint(0, 5)
            carry_forward = self.rng.randint(0, min(5, received + carried))  # counts are never negative
            doc.report_table = {"本年新收": received, "上年结转": carried,
                                "办理结果总计": received + carried - carry_forward, "结转下年度": carry_forward}
            doc.paragraphs = list(REPORT_SECTIONS)

    def _fill_org_info(self, column: Column) -> None:
        for title, text in content.ORG_INFO.items():
            doc = self.new_doc(column, title, self.recent_date(500, 60))
            doc.paragraphs = [text]

    def _fill_power_list(self, column: Column) -> None:
        doc = self.new_doc(column, f"{self.spec.name}权责清单（2020年版）", self.recent_date(400, 100))
        doc.paragraphs = ["根据机构改革和职能调整情况，现将本机关权责清单予以公布。"]

    def _fill_normative(self, column: Column) -> None:
        interpretations = self.site.column("zcjd")
        subjects = list(content.NORMATIVE_SUBJECTS)
        self.rng.shuffle(subjects)
        for number in range(max(2, self._share(0.08))):
            # Titles stay unique within the unit: documents are cited by title (C11, C12).
            subject = subjects[number % len(subjects)] + (f"（第{number // len(subjects) + 1}批）" if number >= len(subjects) else "")
            topic = content.NORMATIVE_TOPICS[self.rng.randrange(len(content.NORMATIVE_TOPICS))]
            publish = self.recent_date(900, 20)
            doc = self.new_doc(column, f"关于印发{self.issuer}{subject}{topic}的通知", publish, kind="规范性文件")
            doc.doc_number = self.doc_number(self.abbreviation + "规", publish.year)
            start = publish + timedelta(days=self.rng.randint(0, 20))
            years = self.rng.choice((3, 5))
            doc.validity = "有效"
            doc.validity_period_text = f"有效期{years}年"
            doc.valid_until = add_years(start, years) - timedelta(days=1)
            start_text = f"{start.year}年{start.month}月{start.day}日"
            doc.paragraphs = self.paragraphs(content.SENTENCES, 4) + [f"本办法自{start_text}起施行，有效期{years}年。"]
            if interpretations is not None:
                self._interpret(interpretations, doc)
        self._supersede(column)

    def _interpret(self, column: Column, target: Doc) -> Doc:
        interp = self.new_doc(column, f"《{target.title}》政策解读",
                              (target.publish_date or self.as_of) + timedelta(days=self.rng.randint(0, 3)),
                              kind="政策解读")
        interp.interprets = target.key
        interp.interprets_by_link = self.site.template != "span"
        interp.paragraphs = [f"近日，{self.spec.name}印发了《{target.title}》，现就有关内容解读如下。",
                             *self.paragraphs(content.INTERPRETATION_SENTENCES, 4)]
        return interp

    def _supersede(self, column: Column) -> None:
        """About one unit in three has revised an old normative document and marked it so."""
        if len(column.docs) < 2 or self.rng.random() > 0.35:
            return
        ordered = sorted(column.docs, key=lambda d: d.publish_date)
        old, new = ordered[0], ordered[-1]
        new.paragraphs.append(f"《{old.title}》（{old.doc_number}）同时废止。")
        old.validity = "废止"
        old.abolished_mark = True

    def _fill_interpretation(self, column: Column) -> None:
        """Filled by _fill_normative, one 解读 per normative document."""

    def _dated_series(self, column: Column, count: int, topics: tuple[str, ...], newest_max_days: int,
                      span_days: int, **doc_args) -> list[Doc]:
        docs = []
        for number in range(count):
            newest = number == 0
            publish = self.recent_date(newest_max_days) if newest else self.recent_date(span_days, newest_max_days)
            title = topics[number % len(topics)]
            if number >= len(topics):
                title = f"{title}（{number // len(topics) + 1}）"
            docs.append(self.new_doc(column, title, publish, **doc_args))
        return docs

    def _fill_policy(self, column: Column) -> None:
        topics = tuple(f"关于{t}的通知" for t in content.POLICY_TOPICS)
        for doc in self._dated_series(column, self._share(0.2), topics, 60, 800):
            doc.doc_number = self.doc_number(self.abbreviation, doc.publish_date.year)
            doc.paragraphs = self.paragraphs(content.SENTENCES, 4)
        self._disclosure_variants(column)

    def _disclosure_variants(self, column: Column) -> None:
        """Some catalogue entries are only available on application, with the legal reason."""
        if len(column.docs) > 3 and self.rng.random() < 0.4:
            doc = column.docs[-1]
            doc.disclosure = "依申请公开"
            doc.non_disclosure_reason = "依据《中华人民共和国政府信息公开条例》第二十七条，本信息依申请公开。"

    def _fill_notice(self, column: Column) -> None:
        for doc in self._dated_series(column, self._share(0.2), content.NOTICE_TOPICS, 60, 700):
            doc.paragraphs = self.paragraphs(content.SENTENCES, 2)
        if self.rng.random() < 0.5:
            # A properly masked public list: must not count as personal information (C20).
            doc = column.docs[-1]
            doc.paragraphs.append(f"公示对象：张*，身份证号：120107********{self.rng.randint(1000, 9999)}，"
                                  f"联系电话：138****{self.rng.randint(1000, 9999)}。")
            doc.paragraphs.append(f"项目编号：{not_an_id_number(self.rng)}。")

    def _fill_news(self, column: Column) -> None:
        topics = tuple(f"{self.spec.name}{t}" for t in content.NEWS_TOPICS)
        for doc in self._dated_series(column, self._share(0.4), topics, 10, 170, metadata=False):
            doc.publisher = self.spec.name
            doc.paragraphs = self.paragraphs(content.NEWS_SENTENCES, 3)
            # R5: the list rows still show the date, so the items count as dated.
            doc.page_shows_date = not (self.shape.undated_news_pages and column.mechanism == self.spec.mechanism)

    def _fill_emergency_plan(self, column: Column) -> None:
        for title in ("突发事件总体应急预案", "防汛抗旱应急预案"):
            doc = self.new_doc(column, f"{self.spec.name}{title}", self.recent_date(600, 30), kind="应急预案")
            doc.paragraphs = self.paragraphs(content.SENTENCES, 3)

    def _fill_standard_catalog(self, column: Column) -> None:
        doc = self.new_doc(column, f"{self.spec.name}基层政务公开事项标准目录",
                           date(2020, 11, self.rng.randint(10, 30)))
        doc.paragraphs = ["根据国办发〔2019〕54号文件要求，现将本单位基层政务公开事项标准目录予以公布。"]

    def _fill_meeting(self, column: Column) -> None:
        for number in range(3):
            doc = self.new_doc(column, f"滨海新区人民政府第{60 - number}次常务会议",
                               self.recent_date(40 + 30 * number, 1 + 30 * number))
            doc.paragraphs = ["会议研究了有关事项，审议通过了相关文件。"]

    def _fill_other(self, column: Column) -> None:
        if column.code == "rsxx" and self.rng.random() < 0.5:
            column.note = content.NOTES[self.rng.randrange(len(content.NOTES))]
            return
        topics = content.FINANCE_TOPICS if column.code == "czxx" else ("人事任免信息", "公开选调工作人员公告")
        for doc in self._dated_series(column, max(1, self._share(0.05)), topics, 120, 700):
            doc.paragraphs = self.paragraphs(content.SENTENCES, 2)

    def _key_area_docs(self) -> None:
        column = self.site.column("zcwj") or self.site.column("tzgg")
        for area in self.spec.areas:
            title, subject = content.KEY_AREA_DOCS[area]
            doc = self.new_doc(column, title, self.recent_date(300, 61))
            doc.subject = subject
            doc.doc_number = self.doc_number(self.abbreviation, doc.publish_date.year)
            doc.paragraphs = self.paragraphs(content.SENTENCES, 3)

    def _attachments(self) -> None:
        for column in self.site.columns:
            if column.kind not in ("policy", "normative", "notice"):
                continue
            for doc in column.docs[:: 3]:
                ext = ("pdf", "doc", "xls")[self.rng.randrange(3)]
                doc.attachments.append(Attachment(name=f"附件：{doc.title[:12]}.{ext}", path=ext))


REPORT_SECTIONS = (
    "一、总体情况",
    "二、主动公开政府信息情况",
    "三、收到和处理政府信息公开申请情况",
    "四、政府信息公开行政复议、行政诉讼情况",
    "五、存在的主要问题及改进情况",
    "六、其他需要报告的事项",
)
