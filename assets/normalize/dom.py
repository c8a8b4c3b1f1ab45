"""Everything that walks the lexbor tree: the <head>, links, the title heading, the content
container, metadata tables and definition lists, and the linear text the rest works on.

The linear text is the page's text with "\\n" where a block element (p, div, li, tr, br ...) opens,
"\\t" where a table cell opens and "\\x1f" between any two nodes (where an inline element opens,
and where text follows an element that closed): a list item or a table row is one line, a label
stays next to its value inside one <li>, and the label of <span>发布机构</span>区应急局 stays apart
from its value. It is produced in one pass over the tree, which is cheaper than asking lexbor for
the text of many nodes. Every CSS query walks the whole tree, so the module asks few of them and
sorts the results in Python: one query before the tree is changed (``scan``: the <head>, links,
metadata tables), one for the title heading and the content container after the metadata blocks
are removed.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborCSSSelector, LexborHTMLParser, LexborNode

from . import labels

# Sentinels inserted into the tree so the linear text shows where the body and the title are.
BODY_START, BODY_END, AFTER_TITLE = "\x02", "\x03", "\x04"
SEGMENT, CELL = "\x1f", "\t"
ATTACHMENT_EXTS = frozenset(
    {"pdf", "doc", "docx", "xls", "xlsx", "wps", "et", "dps", "ppt", "pptx", "zip", "rar", "7z", "ofd"}
)

_DROP_TAGS = ["script", "style", "noscript", "template", "select"]
_TABLE_TAGS = ["caption", "thead", "tbody", "tfoot", "tr", "th", "td"]
_CELL_TAGS = ["td", "th"]
_BLOCK_TAGS = [
    "p", "div", "tr", "li", "dt", "dd", "br", "table", "tbody", "thead", "tfoot", "caption", "ul", "ol", "dl",
    "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "header", "footer", "nav", "aside", "main",
    "form", "blockquote", "pre", "hr", "center", "address", "figure", "figcaption", "fieldset",
]
_ABSOLUTE_SCHEMES = ("http://", "https://")
_SKIPPED_LINK_SCHEMES = ("javascript:", "mailto:", "tel:", "#", "data:", "about:")
# Content containers of common government CMSs (TRS, Hanweb/大汉, UCAP, ...), best first.
_CONTAINER_PRIORITY = {
    "#zoom": 0, "#Zoom": 0, ".TRS_Editor": 1, ".TRS_UEDITOR": 1, "#UCAP-CONTENT": 1, ".pages_content": 2,
    ".article-content": 2, ".article_content": 2, ".articleContent": 2, ".detail-content": 2,
    ".detail_content": 2, ".news_content": 2, ".newsContent": 2, "#fontzoom": 2, ".wz_content": 2,
    ".zw": 3, ".view": 3, "#content": 4, ".content": 5, "article": 6,
}
_CONTAINER_SELECTOR = '[id], [class*="ontent"], [class*="TRS_"], .zw, .view, article'
_HEADING_SELECTOR = 'h1, h2, h3, .bt, [class*="tit"], [class*="Tit"], [id*="title"]'
_HEAD_SELECTOR = "meta[name], base[href], title"
_METADATA_SELECTOR = "table:not(:has(table)), dl"
_SCAN_SELECTOR = f"{_HEAD_SELECTOR}, a[href], {_METADATA_SELECTOR}"
# Every element either list above matches, in fewer selectors (each one costs about a tenth of a
# query): [id*="title"] is inside [id], and [class*="tit" i] covers "tit" and "Tit". The elements
# it adds ("TIT") match no selector of either list; headings and content_container, which tell
# the candidates apart in Python, pass them over.
_REGION_SELECTOR = 'h1, h2, h3, .bt, [class*="tit" i], [id], [class*="ontent"], [class*="TRS_"], .zw, .view, article'
_ASCII_WHITESPACE = re.compile(r"[ \t\n\f\r]+")  # what separates classes for CSS
_MIN_CONTAINER_TEXT = 20
_NOT_A_CONTAINER = 99
_MAX_METADATA_TABLE = 2000


def _tag_ids(names: list[str]) -> tuple[frozenset[int], int]:
    """lexbor's numeric ids of the given tags, and of text nodes: comparing ints is the fast path."""
    table = (
        "<table><caption></caption><thead><tr><th></th></tr></thead>"
        "<tbody><tr><td>x</td></tr></tbody><tfoot></tfoot></table>"
    )
    others = "".join(f"<{name}></{name}>" for name in names if name not in _TABLE_TAGS)
    probe = LexborHTMLParser(table + others)
    ids = {node.tag: node.tag_id for node in probe.root.traverse()}
    text_id = next(node.tag_id for node in probe.root.traverse(include_text=True) if node.tag == "-text")
    return frozenset(ids[name] for name in names), text_id


_BLOCK_IDS, _TEXT_ID = _tag_ids(_BLOCK_TAGS)
_CELL_IDS, _ = _tag_ids(_CELL_TAGS)
# What linearize() writes where a block or cell opens, besides the SEGMENT it puts between all nodes.
_BLOCK_MARKERS = {**{tag_id: "\n" for tag_id in _BLOCK_IDS}, **{tag_id: CELL for tag_id in _CELL_IDS}}
_HEAD_IDS, _ = _tag_ids(["head", "meta", "base", "title"])
_A_IDS, _ = _tag_ids(["a"])
_HEAD_ELEMENT_IDS = _HEAD_IDS - _tag_ids(["head"])[0]
(_HEAD_ID,) = _HEAD_IDS - _HEAD_ELEMENT_IDS
(_TITLE_ID,) = _tag_ids(["title"])[0]
(_BASE_ID,) = _tag_ids(["base"])[0]
(_A_ID,) = _A_IDS
_HEADING_IDS, _ = _tag_ids(["h1", "h2", "h3"])
(_TR_ID,) = _tag_ids(["tr"])[0]
(_BR_ID,) = _tag_ids(["br"])[0]
_ROW_OR_BREAK_IDS = frozenset({_TR_ID, _BR_ID})
(_ARTICLE_ID,) = _tag_ids(["article"])[0]

# lexbor sets up a CSS parser and matcher for each document on its first query, which costs about
# as much as a query; one engine per thread serves every document instead (a query leaves no state
# behind in it, and the engine is not safe to share between threads).
_ENGINES = threading.local()


def css(node: LexborNode, query: str) -> list[LexborNode]:
    """node.css(query), on this thread's shared selector engine."""
    engine = getattr(_ENGINES, "engine", None)
    if engine is None:
        engine = _ENGINES.engine = LexborCSSSelector()
    return engine.find(query, node)

Pairs = list[tuple[str, str]]
Group = tuple[list[LexborNode], Pairs]  # the nodes of one metadata block and the pairs read from them


def parse(text: str) -> LexborHTMLParser:
    """The tree without scripts, styles and other elements whose text is not page text."""
    tree = LexborHTMLParser(text)
    tree.strip_tags(_DROP_TAGS, recursive=True)
    return tree


@dataclass(frozen=True)
class Scan:
    """The elements read before the tree is changed, from one query: <meta name>, <base> and
    <title> in the <head>, links, and the innermost tables and the definition lists."""

    head: list[LexborNode]
    anchors: list[LexborNode]
    blocks: list[LexborNode]


def scan(tree: LexborHTMLParser) -> Scan:
    """One query for what three used to ask (every query walks the whole tree).

    The <head> elements asked for are direct children of <head> when they are in it at all: the
    parser puts nothing inside <head> that could hold them, and <noscript> and <template> are gone.
    """
    head, anchors, blocks = [], [], []
    head_node = tree.head
    root = tree.root
    for node in css(root, _SCAN_SELECTOR) if root is not None else []:
        tag_id = node.tag_id
        if tag_id == _A_ID:
            anchors.append(node)
        elif tag_id in _HEAD_ELEMENT_IDS:
            parent = node.parent
            if head_node is None or (parent is not None and parent.tag_id == _HEAD_ID):
                head.append(node)
        else:
            blocks.append(node)
    return Scan(head, anchors, blocks)


@dataclass(frozen=True)
class Head:
    """What the <head> says: <meta name> tags by lower-cased name ((name as written, content)),
    the URL relative links resolve against (<base href>, else the page URL), and <title>."""

    meta: dict[str, tuple[str, str]]
    base: str
    title: str


def read_head(head_nodes: list[LexborNode], url: str, wanted_meta: frozenset[str]) -> Head:
    """The <head> from its elements (``Scan.head``); only the <meta> names asked for."""
    meta: dict[str, tuple[str, str]] = {}
    base, title = url, ""
    for node in head_nodes:
        attrs = node.attrs
        tag_id = node.tag_id  # an int: no tag name string built for each <meta>
        if tag_id == _TITLE_ID:
            title = title or " ".join(node.text().split())
        elif tag_id == _BASE_ID:
            href = (attrs["href"] or "").strip()
            base = _join(url, href) or url if href and base == url else base
        else:
            name = (attrs["name"] or "").strip()
            key = name.lower()
            if key in wanted_meta and key not in meta:
                meta[key] = (name, (attrs["content"] or "").strip() if "content" in attrs else "")
    return Head(meta, base, title)


def links(anchors: list[LexborNode], base: str) -> list[dict[str, str]]:
    """Every navigable link (``Scan.anchors``), absolute, in page order; duplicates (same URL and
    text) once."""
    if not anchors:
        return []
    resolver = _Resolver(base)
    found: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for node in anchors:
        href = (node.attrs["href"] or "").strip()  # <a href> with no value is None
        # No skipped scheme starts with "/", which most links do: lower() only the others.
        if not href or (href[0] != "/" and href.lower().startswith(_SKIPPED_LINK_SCHEMES)):
            continue
        # Absolute links, the most common kind, need no call to the resolver.
        target = href if href.startswith(_ABSOLUTE_SCHEMES) else resolver.resolve(href)
        if target is None:
            continue
        key = (target, " ".join(node.text().split()))
        if key not in seen:
            seen.add(key)
            found.append({"url": target, "text": key[1]})
    return found


def attachment_ext(link: dict[str, str]) -> str | None:
    """The file type of a link to a document file, from its URL path or else its text."""
    path = link["url"]
    if "?" in path or "#" in path:  # most links have neither: no splitting for them
        path = path.split("#", 1)[0].split("?", 1)[0]
    for candidate in (path, link["text"]):
        dot = candidate.rfind(".")
        if dot >= 0:
            ext = candidate[dot + 1 :].lower()
            if ext in ATTACHMENT_EXTS:
                return ext
    return None


class _Resolver:
    """urljoin, short-circuited for absolute and root-relative links, which most links are."""

    def __init__(self, base: str) -> None:
        try:
            parts = urlsplit(base)
        except ValueError:  # a malformed base falls back to nothing resolvable but absolute links
            parts = urlsplit("")
        self.base = base
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.scheme = parts.scheme

    def resolve(self, href: str) -> str | None:
        """The absolute URL, or None when the link cannot be resolved (e.g. `http://[x/`)."""
        if href.startswith(_ABSOLUTE_SCHEMES):
            return href
        if href.startswith("//"):
            return f"{self.scheme}:{href}"
        if href.startswith("/") and "/." not in href:
            return self.origin + href
        return _join(self.base, href)


def _join(base: str, href: str) -> str | None:
    try:
        return urljoin(base, href)
    except ValueError:  # malformed URLs such as `http://[x/` (an unterminated IPv6 literal)
        return None


def region_candidates(tree: LexborHTMLParser) -> list[LexborNode]:
    """Elements that may be the title heading or the content container, from one query: what
    ``headings`` and ``content_container`` choose from; each element once.

    lexbor lists an element once for every selector of the list it matches, next to each other."""
    unique: list[LexborNode] = []
    last = None
    for node in css(tree.root, _REGION_SELECTOR) if tree.root is not None else []:
        mem_id = node.mem_id
        if mem_id != last:
            unique.append(node)
            last = mem_id
    return unique


def headings(
    tree: LexborHTMLParser, candidates: list[LexborNode], limit: int = 40
) -> Iterator[tuple[LexborNode, str]]:
    """Elements that may hold the page title, with their whitespace-normalized text, in page order.

    They are the candidates matching _HEADING_SELECTOR, told apart in Python, each listed as often
    as the query lists it (once per selector matched), so that the limit counts the same. Only a
    class such as "BT" needs the query itself: lexbor matches classes case-insensitively in quirks
    mode."""
    matched: list[LexborNode] = []
    for node in candidates:
        times = _heading_selectors_matched(node)
        if times is None:
            matched = css(tree.root, _HEADING_SELECTOR)
            break
        matched.extend([node] * times)
    for node in matched[:limit]:
        text = " ".join(node.text().split())
        if 4 <= len(text) <= 200:
            yield node, text


def _heading_selectors_matched(node: LexborNode) -> int | None:
    """How many selectors of _HEADING_SELECTOR the node matches; None when that depends on the
    document's mode (a class "BT" matches .bt in quirks mode only)."""
    attrs = node.attributes
    element_id, classes = attrs.get("id") or "", attrs.get("class") or ""
    times = (node.tag_id in _HEADING_IDS) + ("title" in element_id) + ("tit" in classes) + ("Tit" in classes)
    if "bt" in classes.lower():
        names = _ASCII_WHITESPACE.split(classes)
        if "bt" in names:
            times += 1
        elif any(name.lower() == "bt" for name in names):
            return None
    return times


def content_container(tree: LexborHTMLParser, candidates: list[LexborNode]) -> LexborNode | None:
    """The element holding the document text: a known CMS container, else the block of paragraphs.

    The candidates may hold headings too: their rank is _NOT_A_CONTAINER (every ranked id, class or
    tag matches _CONTAINER_SELECTOR)."""
    best: tuple[int, int, LexborNode] | None = None
    for node in candidates:
        priority = _container_priority(node)
        if priority == _NOT_A_CONTAINER or (best is not None and priority > best[0]):
            continue
        size = len(node.text())
        if size >= _MIN_CONTAINER_TEXT and (best is None or priority < best[0] or size > best[1]):
            best = (priority, size, node)
    return best[2] if best else _paragraph_block(tree)


def _container_priority(node: LexborNode) -> int:
    """The best rank any of the node's id, classes or tag has in _CONTAINER_PRIORITY."""
    attrs = node.attributes
    rank_of = _CONTAINER_PRIORITY.get
    best = rank_of(f"#{attrs.get('id')}", _NOT_A_CONTAINER)
    classes = attrs.get("class")
    if classes:
        for cls in classes.split():
            rank = rank_of(f".{cls}", _NOT_A_CONTAINER)
            if rank < best:
                best = rank
    if node.tag_id == _ARTICLE_ID:
        best = min(best, _CONTAINER_PRIORITY["article"])
    return best


def _paragraph_block(tree: LexborHTMLParser) -> LexborNode | None:
    """The parent of the most paragraph text: where the document lives when no container is known."""
    scores: dict[int, list] = {}
    for p in css(tree.root, "p") if tree.root is not None else []:
        parent = p.parent
        if parent is None:
            continue
        entry = scores.setdefault(parent.mem_id, [0, parent])
        entry[0] += len(p.text(strip=True))
    if not scores:
        return None
    size, node = max(scores.values(), key=lambda entry: entry[0])
    return node if size >= _MIN_CONTAINER_TEXT and node.tag != "body" else None


def metadata_groups(blocks: list[LexborNode]) -> list[Group]:
    """Label/value pairs read from the structure of tables and definition lists (``Scan.blocks``),
    grouped by block.

    Innermost tables only (layout tables nest the real ones); short tables only (long ones are
    data). Sibling <dl>s form one block, because some CMSs wrap every pair in its own <dl>.
    """
    groups: list[Group] = []
    dl_groups: dict[int, Group] = {}
    for node in blocks:
        if node.tag == "table":
            text = node.text()
            maybe = len(text) < _MAX_METADATA_TABLE and labels.may_hold_labels(text)
            pairs = _table_pairs(node) if maybe else []
            if pairs:
                groups.append(([node], pairs))
            continue
        _mark_line_breaks_and_list_rows(node)
        pairs = labels.pairs_in_cells([child.text() for child in node.iter() if child.tag in ("dt", "dd")])
        if pairs:
            parent = node.parent
            nodes, group_pairs = dl_groups.setdefault(parent.mem_id if parent else node.mem_id, ([], []))
            nodes.append(node)
            group_pairs.extend(pairs)
    return groups + list(dl_groups.values())


def _table_pairs(table: LexborNode) -> Pairs:
    """Pairs from each row (label and value cells side by side), or from a header row of labels
    over a row of values.

    The rows are found by walking the table in Python: a small table is walked faster than a CSS
    query is set up, and the table holds no other table (see ``metadata_groups``)."""
    rows = [
        [cell.text() for cell in tr.iter() if cell.tag_id in _CELL_IDS]
        for tr in _mark_line_breaks_and_list_rows(table)
    ]
    row_labels = [labels.cell_labels(row) for row in rows]
    pairs: Pairs = []
    i = 0
    while i < len(rows):
        header_pairs = (
            labels.pairs_in_header_row(rows[i], rows[i + 1], row_labels[i], row_labels[i + 1])
            if i + 1 < len(rows)
            else None
        )
        if header_pairs:
            pairs.extend(header_pairs)
            i += 2
            continue
        pairs.extend(labels.pairs_in_cells(rows[i], row_labels[i]))
        i += 1
    return pairs


def _mark_line_breaks_and_list_rows(block: LexborNode) -> list[LexborNode]:
    """Put a newline where each <br> of a metadata block is, and return the block's rows (<tr>).

    A cell's text() joins its text nodes with nothing between them, so 2021-02-01<br>10:19 would
    read as 2021-02-0110:19, which is no date; a newline is what the reader sees there (and what
    source line breaks inside a cell already give). The nodes are collected before the tree is
    changed: the walk is not meant to see its own insertions."""
    # A comprehension walks the block as fast as it did when it only looked for rows.
    found = [node for node in block.traverse() if node.tag_id in _ROW_OR_BREAK_IDS]
    rows = [node for node in found if node.tag_id == _TR_ID]
    if len(rows) < len(found):
        for node in found:
            if node.tag_id == _BR_ID:
                node.insert_before("\n")
    return rows


def mark_regions(container: LexborNode | None, heading: LexborNode | None) -> None:
    """Insert sentinel characters so the linear text shows where the body and the title are."""
    if heading is not None:
        heading.insert_after(AFTER_TITLE)
    if container is not None:
        first = container.first_child
        if first is not None:
            first.insert_before(BODY_START)
        else:
            container.insert_child(BODY_START)
        container.insert_child(BODY_END)


def linearize(root: LexborNode) -> str:
    """The text under root with "\\x1f" between any two nodes, and "\\n" where a block element and
    "\\t" where a table cell opens.

    The walk sees openings only, yet an element's closing is often all that separates a label from
    its value (<li><span>发布机构</span>区应急局</li>, <em>索引号</em>000014362/2022-00019): a
    SEGMENT between every two nodes keeps them apart, and makes the marker of an inline opening.
    Around block and cell markers it is only padding, which nothing downstream minds (lines are
    stripped, segments split, values cleaned of SEGMENT). It costs less than finding out which
    text nodes follow a closing, or than adding a marker to each text node.

    Whitespace-only text nodes are kept: between two links they are the only separator."""
    get_marker = _BLOCK_MARKERS.get
    # One list comprehension: no method call to append for each node. is_text_node reads the node
    # type without building the tag id a text node does not need (text nodes are the _TEXT_ID ones).
    return SEGMENT.join([
        node.text_content if node.is_text_node else get_marker(node.tag_id, "")
        for node in root.traverse(include_text=True)
    ])
