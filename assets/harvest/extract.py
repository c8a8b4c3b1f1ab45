"""Link extraction: what a column, list or detail page links to, decided from page structure.

Every `<a href>` gets a *zone* from its innermost recognisable container (class/id/tag):
chrome (header/footer/banner) and crumb (当前位置) links are ignored; nav links (xxgk-nav, lm,
side menus …) are columns; rows (li/tr/dd) that carry a date, or sit in a list-like container,
are items; pager texts (下一页, 尾页, digits …) are pagination candidates; links to
.pdf/.doc/… are attachments; `<iframe>`/`<frame>` sources are frames (a column shell's list).
Outside nav, a short link text that `classify_column` recognises (e.g. a grid box title, or the
title before a 更多 link) is also a column. Item titles are often
worded like columns (…的通知, …年度报告), which is why rows win over link text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from selectolax.lexbor import LexborHTMLParser, LexborNode

from schemas.vocabulary import classify_column

from .marks import row_mark
from .pagination import ScriptPager, script_pager
from .urls import absolute_url, is_attachment

_NAV = re.compile(r"nav|menu|(^|[\s_-])lm|lanmu|side|left|tree|catalog|(^|[\s_-])dh($|[\s_-])", re.I)
_CHROME = re.compile(r"(^|[\s_-])(header|head|footer|foot|top|bottom|copyright|banner|toolbar)($|[\s_\d-])", re.I)
_CRUMB = re.compile(r"crumb|position|location|dqwz|weizhi|curpos|当前位置", re.I)
_LIST = re.compile(r"list|(^|[\s_-])lb|news|article|item|wenjian|xxgk[-_]?tab", re.I)
_ANY_ZONE = re.compile("|".join(p.pattern for p in (_NAV, _CHROME, _CRUMB, _LIST)), re.I)
DATE = re.compile(
    r"(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?"
    r"|(?<!\d)(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?!\d)"
)
_ROW_TAGS = frozenset({"li", "tr", "dd", "dt"})
# CMSs also list items as repeated blocks: <div class="news-item"><a>…</a><span>date</span></div>.
_BLOCK_ROW_TAGS = frozenset({"div", "p", "section", "article"})
_LIST_TAGS = frozenset({"ul", "ol", "table", "tbody", "dl"})
_STOP_TAGS = frozenset({"body", "html", "-document"})
PAGER_TEXTS = frozenset(
    {"下一页", "下页", "后页", "后一页", "尾页", "末页", "最后一页", "上一页", "上页", "前页", "前一页", "首页",
     ">", ">>", "»", "<", "<<", "«", "next", "last", "prev", "first"}
)
_MORE_TEXT = re.compile(r"^(更多|查看更多|more)\W*$|^>>$", re.I)
_NOT_COLUMNS = frozenset(
    {"首页", "网站首页", "返回首页", "返回", "打印", "关闭", "关闭窗口", "收藏", "登录", "注册", "无障碍"}
)
_MAX_COLUMN_NAME = 15
_MAX_PAGE_TEXT = 2000
# Most pages have no frames: one scan of the markup (~2 µs per KB, cheaper than substring tests on
# CJK text) decides, and the CSS query only runs on pages that have them.
_FRAME_TAG = re.compile(r"<i?frame\b", re.I)


@dataclass
class PageLinks:
    """Links of one page, in document order; serialised to JSON in `pages.links` for 304 reuse."""

    columns: list[tuple[str, str]] = field(default_factory=list)
    items: list[tuple[str, str, str]] = field(default_factory=list)  # url, title, date text shown
    pager: list[tuple[str, str]] = field(default_factory=list)
    script_pager: ScriptPager | None = None
    attachments: list[tuple[str, str]] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)  # every content link (status evidence on details)
    text: str = ""  # the page's own text, kept only when it lists no items (empty-column notes)
    frames: list[str] = field(default_factory=list)  # absolute URLs of <iframe src>/<frame src> (list shells)
    marks: dict[str, str] = field(default_factory=dict)  # item URL -> validity mark its row shows (已废止 …)

    def to_json(self) -> str:
        return json.dumps(
            {"c": self.columns, "i": self.items, "p": self.pager, "s": self.script_pager,
             "a": self.attachments, "l": self.links, "t": self.text, "f": self.frames, "m": self.marks},
            ensure_ascii=False, separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> PageLinks:
        data = json.loads(text)
        return cls(
            columns=[tuple(x) for x in data["c"]],
            items=[tuple(x) for x in data["i"]],
            pager=[tuple(x) for x in data["p"]],
            script_pager=ScriptPager(*data["s"]) if data["s"] else None,
            attachments=[tuple(x) for x in data["a"]],
            links=[tuple(x) for x in data["l"]],
            text=data["t"],
            frames=list(data.get("f", ())),  # links stored before frames were recorded have none
            marks=dict(data.get("m", {})),
        )


def extract_links(html: str, page_url: str, want_text: bool = True) -> PageLinks:
    """Links of a page; `want_text` also keeps the page's own text when it lists no items
    (wanted for column and list pages, not for detail pages)."""
    return _Extractor(html, page_url).run(want_text)


class _Extractor:
    def __init__(self, html: str, page_url: str):
        self.html = html
        self.tree = LexborHTMLParser(html)
        base = self.tree.css_first("base[href]")
        self.base = (absolute_url(page_url, base.attributes.get("href") or "") if base else None) or page_url
        self.out = PageLinks()
        self._zones: dict[int, str | None] = {}
        self._dated: dict[int, bool] = {}
        self._block_rows: dict[int, bool] = {}
        self._seen: set[tuple[str, str]] = set()

    def run(self, want_text: bool) -> PageLinks:
        for anchor in self.tree.css("a[href]"):
            self._classify(anchor)
        self.out.script_pager = script_pager(self.html)
        if _FRAME_TAG.search(self.html):
            self.out.frames = self._frames()
        if want_text and not self.out.items:
            self.out.text = self._main_text()
        return self.out

    def _classify(self, anchor: LexborNode) -> None:
        zone, row = self._context(anchor)
        if zone in ("chrome", "crumb"):
            return
        url = absolute_url(self.base, anchor.attributes.get("href") or "")
        if url is None:
            return
        text = _link_text(anchor)
        if text.lower() in PAGER_TEXTS or text.isdigit():
            self._add("pager", url, (url, text))
            return
        if zone == "nav":
            if is_attachment(url):
                self._add("attachments", url, (url, text))
            elif text and text not in _NOT_COLUMNS:
                self._add("columns", url, (url, text))
            return
        row_text = " ".join(row.text(separator=" ").split()) if row is not None else ""
        date = _row_date(row_text, text) if row is not None else ""
        listed = row is not None and (bool(date) or zone == "list" or self._list_is_dated(row))
        if is_attachment(url):
            self._add("attachments", url, (url, text))
            if listed:
                self._add_item(url, text, date, row_text)
            return
        self._add("links", url, (url, text))
        if listed:
            self._add_item(url, text, date, row_text)
            return
        more = bool(_MORE_TEXT.match(text))
        name = _more_name(anchor) if more else text
        if name and len(name) <= _MAX_COLUMN_NAME and name not in _NOT_COLUMNS and classify_column(name) != "other":
            self._add("columns", url, (url, name))
        elif row is not None and not more:
            self._add("items", url, (url, text, ""))

    def _add_item(self, url: str, text: str, date: str, row_text: str) -> None:
        self._add("items", url, (url, text, date))
        mark = row_mark(row_text, text)
        if mark:
            self.out.marks.setdefault(url, mark)

    def _add(self, kind: str, url: str, entry: tuple) -> None:
        if (kind, url) not in self._seen:
            self._seen.add((kind, url))
            getattr(self.out, kind).append(entry)

    def _context(self, anchor: LexborNode) -> tuple[str, LexborNode | None]:
        """(zone, row): chrome/crumb anywhere above wins; otherwise the innermost nav/list zone."""
        row, zone = None, "content"
        node, depth = anchor.parent, 0
        while node is not None and node.tag not in _STOP_TAGS:
            depth += 1
            if row is None and zone == "content" and (node.tag in _ROW_TAGS or self._is_block_row(node)):
                row = node
            found = self._zone_of(node)
            if found in ("chrome", "crumb"):
                return found, row
            if found and zone == "content":
                zone = found
            node = node.parent
        return zone, row

    def _zone_of(self, node: LexborNode) -> str | None:
        key = node.mem_id
        if key not in self._zones:
            self._zones[key] = _zone(node)
        return self._zones[key]

    def _is_block_row(self, node: LexborNode) -> bool:
        """A block holding one link, repeated as siblings with the same tag and class: a list row."""
        if node.tag not in _BLOCK_ROW_TAGS:
            return False
        key = node.mem_id
        if key not in self._block_rows:
            self._block_rows[key] = _is_repeated_block(node)
        return self._block_rows[key]

    def _list_is_dated(self, row: LexborNode) -> bool:
        """An undated row is still an item when its list shows dates on other rows."""
        container = row.parent
        if container is None:
            return False
        key = container.mem_id
        if key not in self._dated:
            listish = container.tag in _LIST_TAGS or row.tag in _BLOCK_ROW_TAGS
            self._dated[key] = listish and bool(DATE.search(container.text(separator=" ")))
        return self._dated[key]

    def _frames(self) -> list[str]:
        """Frame sources in document order; about:blank and javascript: sources are no pages."""
        found: list[str] = []
        for node in self.tree.css("iframe[src], frame[src]"):
            url = absolute_url(self.base, node.attributes.get("src") or "")
            if url is not None and url not in found:
                found.append(url)
        return found

    def _main_text(self) -> str:
        """Body text without scripts, nav, header/footer and breadcrumbs (for 本栏目暂无信息-style notes)."""
        body = self.tree.body
        if body is None:
            return ""
        doomed = [n for n in body.css("script, style, noscript, nav, header, footer, [class], [id]")
                  if n.tag in ("script", "style", "noscript") or _zone(n) in ("nav", "chrome", "crumb")]
        for node in reversed(doomed):  # descendants come later in document order: free them first
            node.decompose()
        return " ".join(body.text(separator=" ").split())[:_MAX_PAGE_TEXT]


def _zone(node: LexborNode) -> str | None:
    tag = node.tag
    if tag == "nav":
        return "nav"
    if tag in ("header", "footer"):
        return "chrome"
    attrs = node.attributes
    names = f"{attrs.get('class') or ''} {attrs.get('id') or ''}"
    if not _ANY_ZONE.search(names):
        return None
    for zone, pattern in (("crumb", _CRUMB), ("chrome", _CHROME), ("nav", _NAV), ("list", _LIST)):
        if pattern.search(names):
            return zone
    return None


def _is_repeated_block(node: LexborNode) -> bool:
    if len(node.css("a")) != 1 or node.parent is None:
        return False
    signature = (node.tag, node.attributes.get("class"))
    twins = [c for c in node.parent.iter() if (c.tag, c.attributes.get("class")) == signature]
    return len(twins) >= 2 and all(len(c.css("a")) == 1 for c in twins)


def _link_text(anchor: LexborNode) -> str:
    text = " ".join(anchor.text(separator=" ").split())
    title = (anchor.attributes.get("title") or "").strip()
    truncated = text.endswith(("...", "…", "..")) or len(title) > len(text) and title.startswith(text[:4])
    if title and (not text or truncated):  # lists shorten long titles and keep the full one in title=
        return title
    return text


def _row_date(row_text: str, link_text: str) -> str:
    """The date text shown in the row, preferring text outside the link itself."""
    outside = row_text.replace(link_text, " ", 1) if link_text else row_text
    match = DATE.search(outside) or DATE.search(row_text)
    return match.group(0).strip() if match else ""


def _more_name(anchor: LexborNode) -> str:
    """For a 更多>> link, the box title it belongs to: the nearest ancestor text minus the link."""
    node = anchor.parent
    for _ in range(3):
        if node is None:
            return ""
        text = " ".join(node.text(separator=" ").split()).replace(_link_text(anchor), "").strip()
        if text:
            return text if len(text) <= _MAX_COLUMN_NAME else ""
        node = node.parent
    return ""
