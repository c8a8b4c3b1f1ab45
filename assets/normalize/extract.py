"""One government detail page in, one resource record out.

Pure logic: no network, no Dagster. Steps: decode the bytes; parse with lexbor; read metadata
tables and definition lists from the markup and remove them; find the title heading and the
content container and mark them; turn the rest into linear text (see ``dom``); read label runs from
that text; merge every source (see ``metadata`` for the precedence); then derive dates, validity,
disclosure, kind, personal data, links. Each derived field has its own module.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

from . import disclosure, dom, kinds, labels, metadata, pii, validity
from .dates import date_only_line, find_text_date, parse_date
from .encoding import binary_reason, decode_html
from .errors import ExtractionError

__all__ = ["ExtractionError", "extract_page"]

_SUMMARY_CHARS = 120
_HEAD_META = frozenset(metadata.META_FIELDS) | {"columnname", "sitename"}
_KEYWORD_SEP = re.compile(r"[,，;；、|\s]+")
_SENTINELS = (dom.BODY_START, dom.BODY_END, dom.AFTER_TITLE)
_TITLE_SEPARATORS = "_|｜-—"
# The last separator: a greedy match backs off from the end once, where max(map(title.rfind, ...))
# makes five searches.
_LAST_SEPARATOR = re.compile(f".*[{re.escape(_TITLE_SEPARATORS)}]", re.DOTALL)
_ALWAYS_A_SUFFIX = "_|｜"  # what follows these is never part of the title; after - and — only site names
_SUFFIX_LENGTH = range(2, 31)
_SITE_NAME = re.compile(r"(?:人民政府|政府网|网站|门户|政务网|管委会|管理委员会|委员会|办公室|局|街道|镇|开发区|新区|生态城|政府)$")
_CHROME_LINE = re.compile(r"^(?:当前位置|您的位置|您现在的位置|所在位置)|网站标识码|ICP备|公网安备|版权所有|主办单位")
_SITE_NAME_MAX = 16
_NEAR_TITLE_LINES = 3
_NEAR_TITLE_MAX = 60
_SEAL_LINES = 8
_DIGIT = re.compile(r"\d")  # what the date patterns count as a digit (full-width digits included)
_SEAL_ORGAN_MAX = 40


@dataclass
class _Layout:
    """The page as lines of linear text, with what the extractor needs to know about each."""

    lines: list[str]
    in_body: list[bool]
    after_title: int | None
    has_container: bool


def extract_page(
    body: bytes,
    url: str,
    *,
    charset: str | None = None,
    column_kind: str | None = None,
    column_name: str | None = None,
) -> dict[str, Any]:
    """The resource record of one detail page; raises ExtractionError only for non-text bytes."""
    reason = binary_reason(body)
    if reason:
        raise ExtractionError(url, reason)
    decoded = decode_html(body, charset)
    warnings = list(decoded.warnings)
    if not decoded.text or decoded.text.isspace():  # what strip() would say, without copying the page
        warnings.append("empty document")
    tree = dom.parse(decoded.text)

    scan = dom.scan(tree)
    head = dom.read_head(scan.head, url, _HEAD_META)
    meta = head.meta
    links = dom.links(scan.anchors, head.base)
    structural, structural_text = _structural_blocks(scan.blocks)
    column_names = [name for name in (column_name, meta.get("columnname", ("", ""))[1]) if name]
    page_title = _page_title(head.title, meta, column_names)
    candidates = dom.region_candidates(tree)
    heading, heading_text = _title_heading(tree, candidates, page_title)
    container = dom.content_container(tree, candidates)
    dom.mark_regions(container, heading)
    layout = _layout(tree, heading_text or page_title, container is not None)

    heading_line = layout.after_title - 1 if layout.after_title else None
    line_blocks = metadata.line_blocks(layout.lines, layout.in_body, heading_line)
    merged = metadata.merge(structural + line_blocks, metadata.meta_block(meta))
    values = merged.values
    body_lines = _body_lines(layout, line_blocks)
    body_text = "\n".join(body_lines)

    title = values.get("title") or heading_text or page_title or ""
    mark = _page_mark(layout, body_text, [title, heading_text, page_title])
    title = validity.strip_title_marks(title)
    written, published = _dates(merged, body_lines, layout, warnings)
    kind = kinds.doc_kind(title, values.get("doc_number"), column_kind, column_names)
    status = _status(values.get("validity"), mark, warnings)
    period_text, valid_until = _period(values, body_text, kind, written, published, warnings)
    disclosure_value = _disclosure(values.get("disclosure"), warnings)
    findings = pii.find_pii("\n".join(layout.lines) + "\n" + structural_text)

    return {
        "url": url,
        "title": title or None,
        "index_no": values.get("index_no"),
        "publisher": values.get("publisher"),
        "doc_number": values.get("doc_number"),
        "written_date": written,
        "publish_date": published,
        "subject": values.get("subject"),
        "genre": values.get("genre"),
        "keywords": _keywords(values.get("keywords")),
        "validity": status,
        "valid_until": valid_until,
        "validity_period_text": period_text,
        "disclosure": disclosure_value,
        "non_disclosure_reason": _non_disclosure_reason(values, disclosure_value, body_text),
        "summary": values.get("summary") or _summary(body_lines, title),
        "body_text": body_text,
        "doc_kind": kind,
        "interprets_hint": _interprets_hint(kind, title, body_text, links, url),
        "is_marked_abolished": status in ("失效", "废止", "已修订"),
        "has_pii": bool(findings),
        "pii_findings": findings,
        "raw_labels": merged.raw_labels,
        "links": links,
        "attachments": _attachments(links),
        "encoding": decoded.encoding,
        "warnings": warnings,
    }


def _structural_blocks(candidates: list[LexborNode]) -> tuple[list[metadata.Block], str]:
    """Blocks from metadata tables and lists. Real metadata blocks (two or more fields) are removed
    from the tree so they appear neither in the label runs nor in the body text; their values are
    returned as text for the personal-data scan."""
    blocks = []
    removed_text = []
    for order, (nodes, pairs) in enumerate(dom.metadata_groups(candidates)):
        block = metadata.Block([metadata.make_pair(label, value) for label, value in pairs], True, order)
        blocks.append(block)
        if block.density >= 2:
            removed_text.extend(value for _, value in pairs)
            for node in nodes:
                node.decompose()
    return blocks, "\n".join(removed_text)


def _page_title(title: str, meta: dict[str, tuple[str, str]], column_names: list[str]) -> str | None:
    """<title> without the site and column names CMSs append (…_栏目_滨海新区人民政府); None when
    nothing but a site name is left."""
    site_names = {meta.get("sitename", ("", ""))[1], *column_names} - {""}
    while True:
        last = _LAST_SEPARATOR.match(title)
        cut = last.end() - 1 if last else -1
        part = title[cut + 1 :].strip()
        if cut <= 0 or len(part) not in _SUFFIX_LENGTH:
            break
        if title[cut] in _ALWAYS_A_SUFFIX or part in site_names or _SITE_NAME.search(part):
            title = title[:cut].rstrip(" " + _TITLE_SEPARATORS)
        else:
            break
    return None if not title or _is_site_name(title, site_names) else title


def _is_site_name(text: str, site_names: set[str] | frozenset[str] = frozenset()) -> bool:
    """A short name ending like an organisation (滨海新区人民政府, 区民政局): a logo, not a title."""
    return text in site_names or (len(text) <= _SITE_NAME_MAX and _SITE_NAME.search(text) is not None)


def _title_heading(
    tree: LexborHTMLParser, candidates: list[LexborNode], page_title: str | None
) -> tuple[LexborNode | None, str | None]:
    """The visible heading that carries the page title: the one agreeing best with <title>.

    A heading counts only if it agrees with <title> (equal, or one containing the other), which
    keeps site logos and column names in <h1> out. Without a usable <title>, the first heading
    that is not a site name is taken, <h1> before <h2> before title-classed elements.
    """
    best: tuple[float, LexborNode, str] | None = None
    for node, text in dom.headings(tree, candidates):
        bare = validity.strip_title_marks(text)
        if page_title:
            if bare == page_title:
                score = 3.0
            elif len(bare) >= 6 and (bare in page_title or page_title in bare):
                score = 2.0
            else:
                continue
        elif len(bare) >= 6 and not _is_site_name(bare):
            score = 1.0
        else:
            continue
        score += {"h1": 0.3, "h2": 0.2}.get(node.tag, 0.0)
        if best is None or score > best[0]:
            best = (score, node, text)
    return (best[1], best[2]) if best else (None, None)


def _layout(tree: LexborHTMLParser, title_text: str | None, has_container: bool) -> _Layout:
    """Split the linear text into lines, noting the body zone and where the title ends; when no
    heading element was marked, the first line reading like the title marks it."""
    root = tree.body if tree.body is not None else tree.root
    text = dom.linearize(root) if root is not None else ""
    lines: list[str] = []
    in_body: list[bool] = []
    after_title = None
    inside = False
    start = 0
    # One find() for each sentinel tells whether and where it is (no `in` test first).
    cuts = sorted([(cut, s) for s in _SENTINELS if (cut := text.find(s)) >= 0])
    for cut, sentinel in cuts + [(len(text), "")]:
        # filter/map run in C: no bytecode for each of the many blank pieces block openings leave.
        chunk = list(filter(None, map(str.strip, text[start:cut].split("\n"))))
        lines.extend(chunk)
        in_body.extend([inside] * len(chunk))
        if sentinel == dom.AFTER_TITLE:
            after_title = len(lines)
        elif sentinel:
            inside = sentinel == dom.BODY_START
        start = cut + 1
    if after_title is None and title_text:
        after_title = next((i + 1 for i, line in enumerate(lines) if line == title_text), None)
    return _Layout(lines, in_body, after_title, has_container)


def _body_lines(layout: _Layout, line_blocks: list[metadata.Block]) -> list[str]:
    """The document text, one paragraph a line: the container minus metadata lines; without a
    container, the lines after the title heading that are neither metadata nor site chrome."""
    metadata_lines = {i for block in line_blocks for i in block.lines}
    has_container = layout.has_container
    first = 0 if has_container or layout.after_title is None else layout.after_title
    in_body = layout.in_body
    chosen = [
        line
        for i, line in enumerate(layout.lines[first:], first)
        if i not in metadata_lines and (in_body[i] or not has_container)
    ]
    # SEGMENT goes before the split, which would make it a space: inline elements join words.
    lines = [" ".join(line.replace(dom.SEGMENT, "").split()) for line in chosen]
    if has_container:
        return list(filter(None, lines))
    return [line for line in lines if line and not _CHROME_LINE.search(line)]


def _dates(
    merged: metadata.Merged, body_lines: list[str], layout: _Layout, warnings: list[str]
) -> tuple[dt.date | None, dt.date | None]:
    """(written_date, publish_date): labels, the 发文日期 rule, the 落款, <meta>, the date by the title."""
    parsed: dict[str, dt.date | None] = {}
    for field in ("written_date", "publish_date", "issue_date"):
        pair = merged.used.get(field)
        # The label (or <meta name="PubDate">) says the value is a date: 10 or 13 bare digits are epoch time.
        date, problem = parse_date(pair.value, epoch=True) if pair else (None, None)
        if problem:
            warnings.append(f"{pair.label}: {problem}")
        parsed[field] = date
    publish_pair = merged.used.get("publish_date")
    # A <meta name="PubDate"> is no label: it must not decide how 发文日期 is read.
    from_meta = publish_pair is not None and publish_pair.label not in labels.LABEL_FIELD
    labelled_publish = None if from_meta else parsed["publish_date"]
    sealed = _seal_date(body_lines) if parsed["written_date"] is None else None
    written, published = metadata.resolve_issue_date(
        parsed["written_date"], labelled_publish, parsed["issue_date"], sealed
    )
    if published is None:
        published = parsed["publish_date"] if from_meta else None
    if published is None:
        published = _date_near_title(layout)
    return written, published


def _seal_date(body_lines: list[str]) -> dt.date | None:
    """The date of the 落款: a line that is only a date, right after a short line (the issuing organ)."""
    start = max(1, len(body_lines) - _SEAL_LINES)
    for i in range(len(body_lines) - 1, start - 1, -1):
        date = date_only_line(body_lines[i])
        if date:
            organ = body_lines[i - 1]
            is_organ = len(organ) <= _SEAL_ORGAN_MAX and not organ.endswith(("。", "；", "：", ":"))
            if is_organ and not date_only_line(organ):
                return date
    return None


def _date_near_title(layout: _Layout) -> dt.date | None:
    """A date printed without a label just under the title heading (a common news template)."""
    if layout.after_title is None:
        return None
    for line in layout.lines[layout.after_title : layout.after_title + _NEAR_TITLE_LINES]:
        if len(line) > _NEAR_TITLE_MAX or not _DIGIT.search(line):  # no digit, no date: skip the labels
            continue
        line_tokens = labels.tokens(line)
        if any(token.known for token in line_tokens):
            continue
        head = line[: line_tokens[0].start] if line_tokens else line
        date = find_text_date(head)
        if date:
            return date
    return None


def _page_mark(layout: _Layout, body_text: str, titles: list[str | None]) -> str | None:
    """The abolished/revised status the page shows a reader outside the status label, if any."""
    for title in titles:
        mark = validity.title_mark(title)
        if mark:
            return mark
    if layout.after_title is not None:
        for line in layout.lines[max(0, layout.after_title - 1) : layout.after_title + _NEAR_TITLE_LINES]:
            if not validity.names_a_status(line):  # then none of its segments names one either
                continue
            for segment in line.split(dom.SEGMENT):
                mark = validity.badge_mark(segment)
                if mark:
                    return mark
    if not validity.names_a_status(body_text):
        return None
    for line in body_text.split("\n"):
        mark = validity.badge_mark(line) if len(line) <= validity.MAX_BADGE else None
        if mark:
            return mark
    return validity.sentence_mark(body_text)


def _status(raw: str | None, mark: str | None, warnings: list[str]) -> str | None:
    """The validity value: a visible mark beats the status label (see ``validity``)."""
    status = validity.normalize_validity(raw)
    if raw and status is None:
        warnings.append(f"unrecognized validity {raw!r}")
    if mark and status and mark != status:
        warnings.append(f"validity label says {status} but the page is marked {mark}; using {mark}")
    return mark or status


def _period(
    values: dict[str, str], body_text: str, kind: str, written: dt.date | None, published: dt.date | None,
    warnings: list[str],
) -> tuple[str | None, dt.date | None]:
    """The stated validity period and its last day; a 解读 describes another document's period."""
    if values.get("valid_until"):
        until, problem = parse_date(values["valid_until"], epoch=True)
        if problem:
            warnings.append(f"valid until: {problem}")
        return values["valid_until"], until
    if values.get("validity_period"):
        text, until = validity.validity_period("有效期" + values["validity_period"], written, published)
        if text:
            return f"有效期：{values['validity_period']}", until
    if kind == "政策解读":
        return None, None
    return validity.validity_period(body_text, written, published)


def _disclosure(raw: str | None, warnings: list[str]) -> str | None:
    """The disclosure value, with a warning when a label names none of the three."""
    value = disclosure.normalize_disclosure(raw)
    if raw and value is None:
        warnings.append(f"unrecognized disclosure {raw!r}")
    return value


def _non_disclosure_reason(values: dict[str, str], disclosure_value: str | None, body_text: str) -> str | None:
    """The reason label, else, for withheld information only, the body sentence citing the 条例
    (a guide quotes the same articles without withholding anything)."""
    if values.get("non_disclosure_reason"):
        return values["non_disclosure_reason"]
    if disclosure_value in ("不予公开", "依申请公开"):
        return disclosure.reason_sentence(body_text)
    return None


def _keywords(raw: str | None) -> list[str]:
    """Keywords split on the separators sites use (， ； 、 space), each once, in order."""
    seen: dict[str, None] = {}
    for word in _KEYWORD_SEP.split(raw or ""):
        if word and not labels.is_empty_value(word):
            seen.setdefault(word, None)
    return list(seen)


def _summary(body_lines: list[str], title: str) -> str | None:
    """The opening of the body, skipping a repeated title."""
    text = " ".join(line for line in body_lines[:12] if line != title)
    if len(text) <= _SUMMARY_CHARS:
        return text or None
    return text[:_SUMMARY_CHARS].rstrip() + "…"


def _interprets_hint(kind: str, title: str, body_text: str, links: list[dict[str, str]], url: str) -> dict | None:
    """For a 解读: the interpreted document's title and the link that most likely leads to it."""
    if kind != "政策解读":
        return None
    doc_title = kinds.interpreted_title(title, body_text)
    return {"url": kinds.interpreted_link(links, doc_title, url), "title": doc_title}


def _attachments(links: list[dict[str, str]]) -> list[dict[str, str]]:
    """The links to document files, with their type."""
    found = []
    for link in links:
        ext = dom.attachment_ext(link)
        if ext:
            found.append({**link, "ext": ext})
    return found
