"""HTML for the sample portal, in the template families real Chinese government CMSs use.

- `trs4`: TRS-style; metadata in a 4-column table, ISO dates.
- `trs2`: metadata in a 2-column table with other label variants, `2020年09月15日` dates.
- `span`: label/value spans with ideographic spaces and full-width colons, `2020年9月15日` dates;
  解读 name their document by title only.
- News pages in every family carry their metadata only in `<meta name="ArticleTitle|PubDate|
  ContentSource|ColumnName">` tags, as TRS renders 动态 items.

How lists are served (server-rendered pages in each family's pagination style, XML data proxies,
JSON APIs, JS shells) is the list mechanisms' business: sample_portal/mechanisms/. What every HTML
list row shares is here: its validity mark where the unit shows one (R3: a
`<span class="status">已废止</span>` after the date, a `<td class="zt">现行有效</td>` 状态 cell,
or "（已废止）" closing the link text), and the page of a single-article column (R1).
"""

from __future__ import annotations

from datetime import date
from html import escape

from .model import Column, Doc, UnitSite

SITE_NAME = "天津市滨海新区人民政府"


DATE_STYLES = {
    "iso": "{0.year:04d}-{0.month:02d}-{0.day:02d}",
    "slash": "{0.year:04d}/{0.month:02d}/{0.day:02d}",
    "compact": "{0.year:04d}{0.month:02d}{0.day:02d}",
    "cn_padded": "{0.year}年{0.month:02d}月{0.day:02d}日",
    "cn": "{0.year}年{0.month}月{0.day}日",
}


def format_date(day: date | None, style: str) -> str:
    return DATE_STYLES[style].format(day) if day is not None else ""


FAMILY_DATE_STYLE = {"trs4": "iso", "trs2": "cn_padded", "span": "cn"}
LIST_DATE_STYLE = {"trs4": "iso", "trs2": "slash", "span": "iso"}
# How a list row words a validity (R3); 状态 cells say 现行有效 where status spans say 有效.
LIST_MARK_WORDS = {"有效": "有效", "失效": "已失效", "废止": "已废止", "已修订": "已修订"}
CELL_MARK_WORDS = {**LIST_MARK_WORDS, "有效": "现行有效"}


class UnitRenderer:
    """Renders one unit's pages in its template family; paths are root-relative URLs on the unit's host.

    Where pages live (column URLs, document paths) is the list mechanism's business
    (sample_portal/mechanisms): it assigns `Column.url`, `Column.path` and `Doc.path` first.
    """

    def __init__(self, site: UnitSite, base: str, entry_url: str, date_style: str | None = None):
        self.site = site
        self.base = base  # e.g. "/jyj/zfxxgk/": the TRS-style site, home of the 依申请公开 form
        self.entry_url = entry_url  # the unit's 政府信息公开 entry page, whatever its mechanism
        self.family = site.template
        self.date_style = date_style or FAMILY_DATE_STYLE[self.family]
        self.charset_label = "gb2312" if site.charset == "gbk" else "utf-8"
        self.docs_by_key = {d.key: d for d in site.docs()}
        self.news_codes = {c.code for c in site.columns_of("news")}  # news pages carry no signature

    @staticmethod
    def column_url(column: Column) -> str:
        return column.url

    # -- page chrome -----------------------------------------------------------------------------
    def page(self, title: str, crumbs: list[tuple[str, str]], main: str, head_extra: str = "") -> str:
        crumb_html = " &gt; ".join(f'<a href="{escape(u)}">{escape(t)}</a>' for u, t in crumbs)
        side = "".join(
            f'<li><a href="{escape(self.column_url(c))}">{escape(c.name)}</a></li>'
            for c in self.site.columns if c.parent is None
        )
        return (
            "<!DOCTYPE html>\n"
            f'<html lang="zh-CN"><head><meta http-equiv="Content-Type" content="text/html; charset={self.charset_label}">'
            f"<title>{escape(title)}_{escape(self.site.spec.name)}_{SITE_NAME}</title>"
            f'<meta name="SiteName" content="{SITE_NAME}">{head_extra}'
            '<link rel="stylesheet" href="/css/common.css"></head><body>'
            f'<div class="header"><div class="logo"><a href="/">{SITE_NAME}</a></div>'
            '<ul class="top-nav"><li><a href="/">首页</a></li>'
            f'<li><a href="{escape(self.entry_url)}">政务公开</a></li>'
            '<li><a href="/zwfw/">政务服务</a></li><li><a href="/hdjl/">互动交流</a></li></ul>'
            '<form class="search" action="/search/" method="get"><input name="q"><button>搜索</button></form></div>'
            f'<div class="breadcrumb">当前位置：<a href="/">首页</a> &gt; {crumb_html}</div>'
            '<div class="main">'
            f'<div class="side xxgk-nav"><h3>政府信息公开</h3><ul>{side}'
            f'<li><a href="{escape(self.base)}ysqgk/">依申请公开</a></li></ul></div>'
            f'<div class="content-area">{main}</div></div>'
            '<div class="footer"><p>主办单位：天津市滨海新区人民政府办公室　承办单位：滨海新区政务数据管理中心</p>'
            '<p>网站标识码：1201160001　<a href="https://beian.miit.gov.cn/">津ICP备05003434号</a>　'
            '津公网安备 12011602000123号</p>'
            '<p><a href="http://www.gov.cn/">中国政府网</a>　<a href="http://www.tj.gov.cn/">天津市人民政府</a>　'
            '<a href="javascript:void(0)">打印本页</a>　<a href="mailto:zwgk@bh.zwgk.test">联系我们</a></p>'
            "</div></body></html>\n"
        )

    def crumbs(self, column: Column | None) -> list[tuple[str, str]]:
        crumbs = [(self.entry_url, "政府信息公开")]
        if column is not None and column.parent:
            parent = self.site.column(column.parent)
            crumbs.append((self.column_url(parent), parent.name))
        if column is not None:
            crumbs.append((self.column_url(column), column.name))
        return crumbs

    # -- pages -----------------------------------------------------------------------------------
    def entry_page(self) -> str:
        boxes = "".join(
            f'<div class="box"><h4><a href="{escape(self.column_url(c))}">{escape(c.name)}</a></h4></div>'
            for c in self.site.columns if c.parent is None
        )
        main = (f'<h2 class="xxgk-title">{escape(self.site.spec.name)}政府信息公开</h2>'
                f'<div class="xxgk-boxes">{boxes}</div>')
        return self.page("政府信息公开", [(self.entry_url, "政府信息公开")], main)

    def parent_column_page(self, column: Column) -> str:
        children = [c for c in self.site.columns if c.parent == column.code]
        grid = "".join(f'<li><a href="{escape(self.column_url(c))}">{escape(c.name)}</a></li>' for c in children)
        main = f'<h2 class="lm-title">{escape(column.name)}</h2><ul class="lm-grid">{grid}</ul>'
        return self.page(column.name, self.crumbs(column), main)

    def column_page(self, column: Column, body: str, head_extra: str = "") -> str:
        """A column page in the unit's chrome: the title, the mechanism's `body`, and the column's note.

        The note (本栏目暂无…) is static text in every mechanism, shells included: real CMSs
        print it from the column's settings, not from the list data.
        """
        main = f'<h2 class="lm-title">{escape(column.name)}</h2>{body}{self.note_html(column)}'
        return self.page(column.name, self.crumbs(column), main, head_extra=head_extra)

    @staticmethod
    def note_html(column: Column) -> str:
        return f'<div class="note">{escape(column.note)}</div>' if column.note else ""

    def list_date(self, doc: Doc, style: str | None = None) -> str:
        """The date a list shows for a document ("" for items listed without one)."""
        if not doc.show_list_date:
            return ""
        return format_date(doc.publish_date, style or LIST_DATE_STYLE[self.family])

    # -- list marks (R3) ---------------------------------------------------------------------------
    def list_link_text(self, doc: Doc) -> str:
        """A row's link text: the title, with "（已废止）" after it where the unit marks validity so."""
        if self.site.list_marks == "suffix" and doc.list_mark:
            return f"{doc.title}（{LIST_MARK_WORDS[doc.list_mark]}）"
        return doc.title

    def list_status_span(self, doc: Doc) -> str:
        """A row's status span, outside the title link, where the unit marks validity so."""
        if self.site.list_marks == "span" and doc.list_mark:
            return f'<span class="status">{LIST_MARK_WORDS[doc.list_mark]}</span>'
        return ""

    def list_status_cell(self, doc: Doc) -> str:
        """A table row's 状态 cell (empty for a document without validity) in units with a 状态 column."""
        if self.site.list_marks != "cell":
            return ""
        return f'<td class="zt">{CELL_MARK_WORDS[doc.list_mark] if doc.list_mark else ""}</td>'

    def list_item(self, doc: Doc, li_class: str = "") -> str:
        shown = self.list_date(doc)
        date_html = f'<span class="date">{shown}</span>' if shown else ""
        attr = f' class="{li_class}"' if li_class else ""
        return (f'<li{attr}><a href="{escape(doc.path)}" title="{escape(doc.title)}">{escape(self.list_link_text(doc))}</a>'
                f"{date_html}{self.list_status_span(doc)}</li>")

    def article_column_page(self, column: Column) -> str:
        """A single-article column (R1): the column's title, the document's metadata block where it
        has one, and its text, in the unit's chrome; no list, no pager."""
        doc = column.article
        with_metadata = doc.index_no is not None
        meta = self._meta_tags(doc, column) if with_metadata else ""
        block = self._metadata_block(doc) if with_metadata else ""
        main = (f'<h2 class="lm-title">{escape(column.name)}</h2>{block}'
                f'<div class="article"><div id="zoom" class="TRS_Editor">{self._body(doc)}</div></div>')
        return self.page(column.name, self.crumbs(column), main, head_extra=meta)

    def detail_page(self, doc: Doc, column: Column, body_extra: str = "") -> str:
        """A document's page in the unit's metadata template, whatever mechanism lists it."""
        meta = self._meta_tags(doc, column)
        if column.kind == "news":
            main = self._article(doc)
        else:
            main = self._metadata_block(doc) + self._article(doc)
        return self.page(doc.title, self.crumbs(column), main + body_extra, head_extra=meta)

    def _meta_tags(self, doc: Doc, column: Column) -> str:
        tags = [("ArticleTitle", doc.title), ("ColumnName", column.name), ("ContentSource", doc.publisher or "")]
        if doc.publish_date and doc.page_shows_date:
            tags.insert(1, ("PubDate", f"{doc.publish_date:%Y-%m-%d} 09:30"))
        return "".join(f'<meta name="{n}" content="{escape(v)}">' for n, v in tags if v)

    def _fields(self, doc: Doc) -> list[tuple[str, str]]:
        d = lambda day: format_date(day, self.date_style)  # noqa: E731
        labels = LABELS[self.family]
        fields = [
            (labels["index_no"], doc.index_no or ""),
            (labels["subject"], doc.subject or ""),
            (labels["publisher"], doc.publisher or ""),
            (labels["written_date"], d(doc.written_date)),
            (labels["title"], doc.title),
            (labels["doc_number"], doc.doc_number or ""),
            (labels["publish_date"], d(doc.publish_date)),
        ]
        if doc.validity:
            fields.append((labels["validity"], doc.validity))
        if doc.disclosure:
            fields.append((labels["disclosure"], doc.disclosure))
        return fields

    def _metadata_block(self, doc: Doc) -> str:
        fields = self._fields(doc)
        if self.family == "trs4":
            title_row = next(f for f in fields if f[0] == LABELS["trs4"]["title"])
            others = [f for f in fields if f is not title_row]
            rows = []
            for i in range(0, len(others), 2):
                pair = others[i:i + 2]
                cells = "".join(f'<td class="t">{escape(l)}：</td><td>{escape(v)}</td>' for l, v in pair)
                if len(pair) == 1:
                    cells += "<td></td><td></td>"
                rows.append(f"<tr>{cells}</tr>")
            rows.insert(2, f'<tr><td class="t">{escape(title_row[0])}：</td><td colspan="3">{escape(title_row[1])}</td></tr>')
            return f'<table class="xxgk_table">{"".join(rows)}</table>'
        if self.family == "trs2":
            rows = "".join(f'<tr><th class="label">{escape(l)}:</th><td>{escape(v)}</td></tr>' for l, v in fields)
            return f'<table class="meta-table" border="1">{rows}</table>'
        items = "".join(f'<li><span class="lbl">{escape(l)}：</span><span class="val">{escape(v)}</span></li>'
                        for l, v in fields)
        return f'<div class="xxgk-info"><ul>{items}</ul></div>'

    def _body(self, doc: Doc) -> str:
        """The document's text: paragraphs, the non-disclosure reason, the signature (落款)."""
        body = "".join(self._paragraph(doc, p) for p in doc.paragraphs)
        if doc.disclosure in ("依申请公开", "不予公开") and doc.non_disclosure_reason:
            body += f'<p class="reason">{escape(doc.non_disclosure_reason)}</p>'
        if doc.publisher and doc.doc_kind not in ("年度报告",) and doc.column not in self.news_codes:
            body += f'<p class="luokuan" style="text-align:right">{escape(doc.publisher)}<br>' \
                    f"{format_date(doc.written_date or doc.publish_date, 'cn')}</p>"
        return body

    def _article(self, doc: Doc) -> str:
        mark = '<span class="fzbz">【已废止】</span>' if doc.abolished_mark else ""
        body = self._body(doc)
        extras = ""
        if doc.interprets and doc.interprets_by_link:
            target = self.docs_by_key[doc.interprets]
            extras += f'<div class="related">相关文件：<a href="{escape(target.path)}">《{escape(target.title)}》</a></div>'
        links = [(a.path, a.name) for a in doc.attachments] + list(doc.extra_links)
        if links:
            extras += '<div class="attach">' + "".join(
                f'<p><a href="{escape(u)}">{escape(t)}</a></p>' for u, t in links) + "</div>"
        return (f'<div class="article"><h1 class="title">{mark}{escape(doc.title)}</h1>'
                f'<div id="zoom" class="TRS_Editor">{body}</div>{extras}</div>')

    def _paragraph(self, doc: Doc, text: str) -> str:
        if doc.report_table is not None and text.startswith(("一、", "二、", "三、", "四、", "五、", "六、")):
            section = f"<h3>{escape(text)}</h3><p>{escape(REPORT_TEXT.get(text[:2], ''))}</p>"
            if text.startswith("三、"):
                section += report_table_html(doc.report_table)
            return section
        return f"<p>{escape(text)}</p>"


REPORT_TEXT = {
    "一、": "本年度，本机关认真贯彻落实《中华人民共和国政府信息公开条例》，扎实推进政府信息公开工作。",
    "二、": "本年度主动公开政府信息情况详见下表。",
    "三、": "本年度收到和处理政府信息公开申请情况如下表。",
    "四、": "本年度未发生因政府信息公开引起的行政复议、行政诉讼。",
    "五、": "存在的主要问题是公开内容的及时性有待提高；下一步将加强培训，健全工作机制。",
    "六、": "本年度未收取信息处理费。",
}
_REQUESTER_COLUMNS = ("自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计")
_TABLE_ROWS = (
    ("本年新收", "一、本年新收政府信息公开申请数量"),
    ("上年结转", "二、上年结转政府信息公开申请数量"),
    ("办理结果总计", "三、本年度办理结果（七）总计"),
    ("结转下年度", "四、结转下年度继续办理"),
)


def report_table_html(table: dict[str, int]) -> str:
    """The application table of an annual report (国办公开办函〔2021〕30号 layout, 总计 column last)."""
    header = "".join(f"<th>{c}</th>" for c in _REQUESTER_COLUMNS)
    rows = []
    for key, label in _TABLE_ROWS:
        total = table[key]
        natural = total // 2
        cells = [natural, total - natural, 0, 0, 0, 0, total]
        rows.append(f"<tr><td>{label}</td>" + "".join(f"<td>{v}</td>" for v in cells) + "</tr>")
    return f'<table class="ysqgk-table" border="1"><tr><th>申请情况</th>{header}</tr>{"".join(rows)}</table>'


LABELS = {
    "trs4": {"index_no": "索引号", "subject": "主题分类", "publisher": "发布机构", "written_date": "成文日期",
             "title": "名称", "doc_number": "文号", "publish_date": "发布日期", "validity": "有效性",
             "disclosure": "公开属性"},
    "trs2": {"index_no": "信息索引号", "subject": "目录分类", "publisher": "发文机关", "written_date": "生成日期",
             "title": "信息名称", "doc_number": "发文字号", "publish_date": "公开日期", "validity": "时效性",
             "disclosure": "公开方式"},
    "span": {"index_no": "索　引　号", "subject": "组配分类", "publisher": "发文单位", "written_date": "签发日期",
             "title": "标　　题", "doc_number": "文件编号", "publish_date": "发布时间", "validity": "有效性",
             "disclosure": "公开范围"},
}
