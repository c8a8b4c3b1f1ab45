"""Metadata labels: which label feeds which field, and how labels are found in a line of text.

Every CMS words the same field differently (索引号 / 信息索引号, 发布机构 / 发文机关 / 来源 ...), pads
labels with spaces to align them (标　　题, 索 引 号, 名&emsp;&emsp;称) and ends them with a
full-width or ASCII colon, or none at all in table cells. Labels are compared after removing all
whitespace and the trailing colon; that normalized form is also the key of ``raw_labels``.

Within one field the labels are listed best first: when one block carries both 发布机构 and 来源,
发布机构 wins. 发文日期 is kept apart (``issue_date``) because sites use it for either date; the
rule that resolves it lives in ``metadata.py``. 实施日期 and its kin (``effective_date``) feed no
field of the record: the day a document takes effect is neither its written nor its publish date.
They are known labels all the same, so that they end the value before them and are never read as
the 日期 they end with.
"""

from __future__ import annotations

import re
from typing import NamedTuple

FIELD_LABELS: dict[str, tuple[str, ...]] = {
    "index_no": ("索引号", "信息索引号", "索引编号"),
    "title": ("标题", "名称", "信息名称", "文件名称", "文章标题"),
    "publisher": ("发布机构", "发文机关", "发文单位", "发文机构", "发布单位", "公开主体", "信息来源", "来源"),
    "doc_number": ("文号", "发文字号", "文件编号", "发文文号", "文件字号"),
    "written_date": ("成文日期", "生成日期", "产生日期", "签发日期", "成文时间", "印发日期"),
    "publish_date": ("发布日期", "公开日期", "发布时间", "公开时间", "时间", "日期"),
    "issue_date": ("发文日期", "发文时间"),
    "subject": ("主题分类", "分类", "目录分类", "组配分类", "信息分类"),
    "genre": ("体裁分类", "服务对象", "服务对象分类", "体裁"),
    "keywords": ("主题词", "关键词", "关键字"),
    "validity": ("有效性", "时效", "时效性", "效力状态"),
    "validity_period": ("有效期", "有效期限"),
    "valid_until": ("失效日期", "失效时间", "废止日期", "废止时间", "有效期至"),
    "effective_date": ("实施日期", "施行日期", "生效日期", "执行日期", "实施时间", "施行时间", "生效时间"),
    "disclosure": ("公开属性", "公开方式", "公开范围", "公开类型"),
    "non_disclosure_reason": ("不予公开理由", "不公开理由", "依申请公开理由", "不公开依据", "不予公开依据"),
    "summary": ("内容摘要", "摘要", "内容概述"),
}
LABEL_FIELD: dict[str, tuple[str, int]] = {
    label: (field, rank) for field, labels in FIELD_LABELS.items() for rank, label in enumerate(labels)
}
# Breadcrumb labels: they look like labels but introduce navigation, never metadata.
NAVIGATION_LABELS = frozenset({"当前位置", "您的位置", "您现在的位置", "您所在的位置", "所在位置", "当前页面"})
EMPTY_VALUES = frozenset({"无", "暂无", "-", "--", "—", "/", "空", "null", "None"})

# First characters of known labels: most text segments can be ruled out without normalizing them.
_LABEL_INITIALS = frozenset(label[0] for label in LABEL_FIELD) | {"【", "["}
# Last characters of known labels: padding never splits them off, so text with none holds no label.
_LABEL_FINALS = "".join(sorted({label[-1] for label in LABEL_FIELD}))


def _label_trie(words: list[str]) -> str:
    """A regex for any of the words, whitespace allowed between their characters, with words that
    share a first character in one branch: sre tries the branches of an alternation one by one,
    at every position whose character may start one. Only whether it matches is meant: a word
    that ends where a longer one goes on stands for both."""
    by_first: dict[str, list[str]] = {}
    for word in words:
        by_first.setdefault(word[0], []).append(word[1:])
    branches = [
        re.escape(first) if "" in rests else re.escape(first) + r"\s*" + _label_trie(rests)
        for first, rests in by_first.items()
    ]
    return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"


# Whether text holds any known label, with whitespace allowed between its characters: the label
# as it reads once whitespace is removed (which is how labels are normalized), found without
# removing it first. \s and str.split() agree on what whitespace is (both use str.isspace).
# A label holding a shorter one (发布日期 holds 日期) adds nothing to that question: left out.
_SHORTEST_LABELS = sorted(
    label for label in LABEL_FIELD if not any(other != label and other in label for other in LABEL_FIELD)
)
_KNOWN_LABEL = re.compile(_label_trie(_SHORTEST_LABELS))

_LABEL_CHARS = r"[\u4e00-\u9fff]"
# Padding, and the segment marker: an element boundary inside a label or before its colon
# (<font>索</font>引号, <span>日期</span>：) is not there for a reader.
_PAD = r"[ \t\xa0\u3000\u2002\u2003\x1f]"
# Padding between two characters of a label: old TRS templates write 标&nbsp;&nbsp;&nbsp;&nbsp;题
# to line a two-character label up with four-character ones.
_MAX_GAP = 8
# A label is 2-8 CJK characters (padding allowed inside) right before a colon, starting a line or a
# whitespace/separator-delimited chunk; body sentences ("根据…规定：") rarely start that way. It is
# matched backwards from each colon on the reversed text: one anchored match per colon.
_REVERSED_LABEL = re.compile(
    rf"{_PAD}*({_LABEL_CHARS}(?:{_PAD}{{0,{_MAX_GAP}}}{_LABEL_CHARS}){{1,7}})(?=[\s|｜丨/;；]|$)"
)
_LABEL_REACH = 8 + 7 * _MAX_GAP  # the longest label with padding: 8 characters and 7 full gaps
_LONGEST_KNOWN = max(map(len, LABEL_FIELD))
_COLON = re.compile(r"[:：]")
_LEADING_LABEL = re.compile(
    rf"[\s\x1f]*{_LABEL_CHARS}(?:{_PAD}{{0,{_MAX_GAP}}}{_LABEL_CHARS}){{1,7}}{_PAD}*[:：]"
)
_SEGMENT_SEP = "\x1f"
_WHITESPACE = re.compile(r"\s+")
_SEGMENTS = re.compile(r"[\x1f\t]")
_MAX_LABEL_SEGMENT = 16
_MAX_LABEL_CELL = 40  # longer cells are values or content
_MAX_METADATA_CELL = 300  # longer cells are content, even if they open with a label
_PAD_CHARS = " \t\xa0\u3000\u2002\u2003\x1f"
_VALUE_TRIM = " \t\n\r\xa0\u3000\u2002\u2003\x1f|｜丨;；,，"


_tuple_new = tuple.__new__


class Token(NamedTuple):
    start: int
    end: int
    label: str  # normalized
    known: bool  # maps to a field


def _token(start: int, end: int, label: str) -> Token:
    # tuple.__new__ directly: a NamedTuple's own __new__ is a Python function, one more call.
    return _tuple_new(Token, (start, end, label, label in LABEL_FIELD))


def normalize_label(text: str) -> str:
    """The comparable form of a label: no whitespace, no brackets, no trailing colon."""
    return "".join(text.split()).strip("【】[]").rstrip(":：")


def clean_value(text: str) -> str:
    """A raw value as displayed: segment markers dropped, padding and separators trimmed."""
    return text.replace(_SEGMENT_SEP, "").strip(_VALUE_TRIM)


def is_empty_value(value: str | None) -> bool:
    return not value or value in EMPTY_VALUES


def tokens(line: str) -> list[Token]:
    """Labels in one line of linearized text, in order.

    Two kinds: any short CJK phrase before a colon (known or not, so unknown labels such as 浏览次数
    end the previous value), and a known label standing alone in its own segment, as table cells,
    grid cells and <em>索引号</em>000014362/2022-00019 without colons do; a line may mix both.
    """
    has_colon = "：" in line or ":" in line
    has_segments = _SEGMENT_SEP in line or "\t" in line
    if not has_colon and not has_segments:
        stripped = line.strip()
        if not stripped or len(stripped) > _MAX_LABEL_SEGMENT or stripped[0] not in _LABEL_INITIALS:
            return []
        label = normalize_label(stripped)
        start = line.index(stripped)
        return [Token(start, start + len(stripped), label, True)] if label in LABEL_FIELD else []
    found = _colon_tokens(line) if has_colon else []
    if has_segments and found:
        found = _with_segment_labels(line, found)
    elif not found and (has_segments or len(line) <= _MAX_LABEL_SEGMENT):
        found = _segment_tokens(line)
    if found and any(token.label in NAVIGATION_LABELS for token in found):
        return [token for token in found if token.label not in NAVIGATION_LABELS]
    return found


def _with_segment_labels(line: str, colon_tokens: list[Token]) -> list[Token]:
    """The colon labels, plus labels standing alone in a segment of the text around them
    (<em>来源</em>区文旅局　<em>发布时间：</em>…). Only text that still holds a segment marker once
    stripped is searched: the marker </em> leaves right after a colon label is no reason to."""
    found = colon_tokens
    low = 0
    for token in [*colon_tokens, None]:
        high = token.start if token is not None else len(line)
        piece = line[low:high]
        inner = piece.strip()  # strip() removes SEGMENT too: str.isspace("\x1f") is true
        if _SEGMENT_SEP in inner or "\t" in inner:
            more = _segment_tokens(piece, offset=low)
            if more:
                found = sorted(found + more)
        if token is not None:
            low = token.end
    return found


def may_start_with_label(line: str) -> bool:
    """Cheap pre-test for tokens()+starts_with_label(): could the line open with a label?"""
    head = line[: _LABEL_REACH + 8]
    if ("：" in head or ":" in head) and _LEADING_LABEL.match(head):
        return True
    rest = head.lstrip(" \x1f\t")
    # A first character that is no whitespace is the first character of the first segment too:
    # most lines are ruled out by it without splitting off that segment.
    if rest and not rest[0].isspace() and rest[0] not in _LABEL_INITIALS:
        return False
    first = _SEGMENTS.split(rest, 1)[0].strip()
    return bool(first) and first[0] in _LABEL_INITIALS and normalize_label(first) in LABEL_FIELD


def _colon_tokens(line: str) -> list[Token]:
    """Labels ending at a colon. Once a line has opened with a known label it is a metadata strip,
    and known labels glued to the previous value ("…2022-04-02来源：…") count too."""
    found: list[Token] = []
    strip = False
    reversed_line = line[::-1]  # once per line, not once per colon
    for colon in _COLON.finditer(line):
        pos = colon.start()
        start = _label_start(line, pos, reversed_line)
        if start is not None:
            token = _colon_token(line, start, pos + 1)
        elif strip:
            token = _glued_token(line, pos)
        else:
            continue
        if token is not None and (not found or token.start >= found[-1].end):
            found.append(token)
            strip = strip or (len(found) == 1 and token.known and not clean_value(line[: token.start]))
    return found


def _label_start(text: str, colon: int, reversed_text: str | None = None) -> int | None:
    """Where a label ending right before text[colon] starts, or None if no label ends there.

    The match runs on the reversed text (``reversed_text``, when the caller has it) from the
    colon back to at most _LABEL_REACH characters before it; pos/endpos bound it without slicing
    ($ matches at endpos, as at the end of the slice)."""
    if colon == 0:
        return None
    before = text[colon - 1]
    if before < "\x80" and before not in " \t\x1f":  # the common "09:30", "http:": no CJK, no padding
        return None
    if reversed_text is None:
        reversed_text = text[::-1]
    low = max(0, colon - _LABEL_REACH)
    size = len(text)
    m = _REVERSED_LABEL.match(reversed_text, size - colon, size - low)
    if m is None or (low > 0 and m.end(1) == size - low):
        return None
    return size - m.end(1)


def _glued_token(line: str, colon: int) -> Token | None:
    """A known label directly before the colon, whatever precedes it."""
    end = colon
    while end > 0 and line[end - 1] in _PAD_CHARS:
        end -= 1
    if end == 0 or line[end - 1] not in _LABEL_FINALS:
        return None
    for size in range(min(_LONGEST_KNOWN, end), 1, -1):
        if line[end - size : end] in LABEL_FIELD:
            return _token(end - size, colon + 1, line[end - size : end])
    return None


def _colon_token(line: str, start: int, end: int) -> Token:
    """A colon label; when padding splits it ("区住房建设委　　发布日期："), keep the known tail.
    A label spaced out one character at a time (实 施 日 期, 浏 览 次 数) is one label, as it is
    without the spaces: its tail (日期) is not a label of its own."""
    raw = line[start : end - 1].rstrip()
    label = normalize_label(raw)
    if label == raw or label in LABEL_FIELD or _letter_spaced(raw):
        return _token(start, end, label)
    chunks = list(_WHITESPACE.finditer(raw))
    for chunk in chunks:
        tail = normalize_label(raw[chunk.end():])
        if tail in LABEL_FIELD:
            return _token(start + chunk.end(), end, tail)
    last = chunks[-1].end()
    if len(normalize_label(raw[:last])) > 1 and len(raw) - last >= 2:
        return _token(start + last, end, normalize_label(raw[last:]))
    return _token(start, end, label)


def _letter_spaced(raw: str) -> bool:
    """Whether padding separates every character of the text (分 类, 主 题 词)."""
    return all(len(chunk) == 1 for chunk in raw.split())


def _segment_tokens(line: str, offset: int = 0) -> list[Token]:
    """Known labels standing alone between segment separators (cells, grid divs, spans); the
    positions are those in a longer line when ``line`` is the part of it from ``offset`` on."""
    found = []
    pos = offset
    for segment in _SEGMENTS.split(line):
        stripped = segment.strip()
        if stripped and stripped[0] in _LABEL_INITIALS and len(stripped) <= _MAX_LABEL_SEGMENT:
            label = normalize_label(stripped)
            if label in LABEL_FIELD:
                start = pos + segment.index(stripped)
                found.append(Token(start, start + len(stripped), label, True))
        pos += len(segment) + 1
    return found


def may_hold_labels(text: str) -> bool:
    """Cheap, sound pre-test: can the text contain a known label at all?

    A normalized label is a piece of the text with its whitespace removed (padding may split it,
    nothing else), so every known label the text holds is a substring of the text without
    whitespace; one regex search for the labels with whitespace allowed inside them answers that
    without building the text without whitespace, and is much cheaper than finding the labels."""
    return _KNOWN_LABEL.search(text) is not None


def pairs_in_line(line: str, line_tokens: list[Token]) -> list[tuple[str, str]]:
    """(label, value) for each token: the value runs to the next token or the end of the line."""
    pairs = []
    for token, following in zip(line_tokens, line_tokens[1:] + [None]):
        end = following.start if following else len(line)
        pairs.append((token.label, clean_value(line[token.end:end])))
    return pairs


def carries_metadata(line_tokens: list[Token], pairs: list[tuple[str, str]]) -> bool:
    """A known label, or an unknown one with a value ("浏览次数：12"); a bare "各街镇：" is a
    salutation, not a label."""
    return any(token.known for token in line_tokens) or any(value for _, value in pairs)


def starts_with_label(line: str, line_tokens: list[Token]) -> bool:
    """True when nothing but padding precedes the first label of the line."""
    return bool(line_tokens) and not clean_value(line[: line_tokens[0].start])


def label_only(text: str) -> str | None:
    """The normalized label when a cell holds nothing but a label (known, or any label with a colon)."""
    stripped = text.strip()
    if not stripped or len(stripped) > _LABEL_REACH:
        return None
    ends_with_colon = stripped[-1] in ":："
    if stripped[0] not in _LABEL_INITIALS and not ends_with_colon:
        return None
    label = normalize_label(stripped)
    if label in LABEL_FIELD:
        return label
    return label if ends_with_colon and _label_start(stripped, len(stripped) - 1) == 0 else None


def cell_labels(cells: list[str]) -> list[str | None]:
    """label_only() of each cell: computed once per cell, then shared by the row readers below
    (a table row is read as a header row, as a row of pairs, and as the cell after a label)."""
    return [label_only(cell) for cell in cells]


def pairs_in_cells(cells: list[str], labels_of_cells: list[str | None] | None = None) -> list[tuple[str, str]]:
    """Pairs from a row of cells: label cell then value cell (2- and 4-column tables, dt/dd), or
    cells that carry "label：value" themselves. Long cells are content, not metadata.
    ``labels_of_cells`` is ``cell_labels(cells)`` when the caller has it."""
    if labels_of_cells is None:
        labels_of_cells = cell_labels(cells)
    pairs: list[tuple[str, str]] = []
    count = len(cells)
    i = 0
    while i < count:
        text = cells[i]
        label = labels_of_cells[i] if len(text) <= _MAX_LABEL_CELL else None
        if label is not None:
            if i + 1 < count and not _is_label_cell(cells[i + 1], labels_of_cells[i + 1]):
                pairs.append((label, clean_value(cells[i + 1])))
                i += 2
                continue
            pairs.append((label, ""))
        elif len(text) <= _MAX_METADATA_CELL:
            cell_tokens = tokens(text)
            if starts_with_label(text, cell_tokens):
                pairs.extend(pairs_in_line(text, cell_tokens))
        i += 1
    return pairs


def pairs_in_header_row(
    header: list[str], values: list[str], header_labels: list[str | None], value_labels: list[str | None]
) -> list[tuple[str, str]] | None:
    """Pairs from a header row of labels over a row of values, or None if the rows are not that.
    ``header_labels`` and ``value_labels`` are the rows' ``cell_labels``."""
    if len(header) < 2 or len(header) != len(values) or None in header_labels:
        return None
    if any(_is_label_cell(cell, label) for cell, label in zip(values, value_labels)):
        return None
    return [(label, clean_value(value)) for label, value in zip(header_labels, values)]


def _is_label_cell(text: str, label: str | None) -> bool:
    """A cell that starts a pair rather than completing one (``label`` is its label_only())."""
    return label is not None or starts_with_label(text, tokens(text))
