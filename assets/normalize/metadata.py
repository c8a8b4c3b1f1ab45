"""Merging label/value pairs from every source on a page into one value per field.

Sources, as blocks: metadata tables and definition lists read from the markup ("structural"), runs
of consecutive label lines in the linear text (<ul class="info">, "索引号：… 发布机构：…" strips,
<div> grids, <b>/<em> pairs), and the <meta> tags of TRS-style CMSs.

Precedence, per field: the block naming the most distinct fields wins (that is the page's
metadata block; a scattered "来源：" line or a date strip under the title only fills gaps); on a tie a
structural block beats a line block, then the earlier block wins. <meta> tags come last: they are
invisible to readers and often stale, so they only fill fields no visible label gives. Inside a
block the better label wins (发布机构 over 来源). An empty or placeholder value (无, -) counts as
absent, so a lower block can still fill it.

Label lines inside the document body are ignored unless they form a real metadata block (two or
more fields) or open the body, so that "名称：…" in a guide's contact paragraph is not a title.
A run whose labels all lack a colon (<span>发布机构</span>区应急局, cells of a grid) and that names
one field only must not read like a sentence: a bold word opening a paragraph (<b>时间</b>紧迫，任务
繁重。) is no metadata.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import NamedTuple

from . import labels

META_FIELDS = {
    "articletitle": "title",
    "pubdate": "publish_date",
    "publishdate": "publish_date",
    "contentsource": "publisher",
    "keywords": "keywords",
    "description": "summary",
}
_VALUE_LINE_MAX = 100
_SENTENCE_MARKS = frozenset("。，；！？")
_BODY_HEAD_LINES = 3


class Pair(NamedTuple):
    label: str  # normalized label, or the <meta> name as written
    value: str
    field: str | None
    rank: int


_tuple_new = tuple.__new__
_UNKNOWN = (None, 99)


def make_pair(label: str, value: str) -> Pair:
    field_name, rank = labels.LABEL_FIELD.get(label, _UNKNOWN)
    # tuple.__new__ directly: a NamedTuple's own __new__ is a Python function, one more call.
    return _tuple_new(Pair, (label, value, field_name, rank))


@dataclass
class Block:
    pairs: list[Pair]
    structural: bool
    order: int
    lines: list[int] = field(default_factory=list)
    has_colon_label: bool = False  # a colon is what tells a label from a word in bold
    # Cached by hand: functools.cached_property takes a lock on every access in Python 3.11.
    _density: int | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def density(self) -> int:
        """How many distinct fields the block names: what makes it the page's metadata block.
        Read only once the block is complete (the first read is remembered)."""
        if self._density is None:
            self._density = len({pair.field for pair in self.pairs if pair.field})
        return self._density


@dataclass
class Merged:
    """The winning value per field, the pair it came from, and the raw labels to keep."""

    values: dict[str, str]
    used: dict[str, Pair]
    raw_labels: dict[str, str]


def meta_block(meta: dict[str, tuple[str, str]]) -> Block:
    """The <meta> tags a CMS writes for the article, as one block."""
    pairs = [
        Pair(name, content, META_FIELDS[key], 0)
        for key, (name, content) in meta.items()
        if key in META_FIELDS
    ]
    return Block(pairs, structural=False, order=0)


def line_blocks(lines: list[str], in_body: list[bool], heading_line: int | None) -> list[Block]:
    """Runs of consecutive label lines, the metadata among them (see ``_is_metadata``).

    A known label ending its line without a value takes the next line as value, as in <div> grids
    where label and value are sibling blocks."""
    blocks: list[Block] = []
    current: Block | None = None
    may_start_with_label, may_hold_labels = labels.may_start_with_label, labels.may_hold_labels
    count = len(lines)
    i = 0
    while i < count:
        line, body = lines[i], in_body[i]
        # Lines with unknown labels only (浏览次数：12) may continue a run but never start one:
        # that is most of the site chrome (主办单位：…, 网站标识码：…). So outside a run, a line
        # that cannot hold a known label need not be read at all: it ends the run, as a line
        # without labels does.
        if (body and not may_start_with_label(line)) or (current is None and not may_hold_labels(line)):
            current = None
            i += 1
            continue
        line_tokens = labels.tokens(line)
        opens = line_tokens and (current is not None or any(token.known for token in line_tokens))
        pairs = labels.pairs_in_line(line, line_tokens) if opens else []
        if not pairs or not labels.carries_metadata(line_tokens, pairs) or (
            body and not labels.starts_with_label(line, line_tokens)
        ):
            current = None
            i += 1
            continue
        if current is None or in_body[current.lines[-1]] != body:
            current = Block([], structural=False, order=i)
            blocks.append(current)
        current.lines.append(i)
        if not current.has_colon_label:
            current.has_colon_label = any(line[token.end - 1] in ":：" for token in line_tokens)
        takes_next = pairs[-1][1] == "" and line_tokens[-1].known
        if takes_next and _is_value_line(lines, in_body, i + 1, body, heading_line):
            pairs[-1] = (pairs[-1][0], labels.clean_value(lines[i + 1]))
            i += 1
            current.lines.append(i)
        current.pairs.extend(make_pair(label, value) for label, value in pairs)
        i += 1
    return [block for block in blocks if _is_metadata(block, lines, in_body)]


def _is_value_line(lines: list[str], in_body: list[bool], i: int, zone: bool, heading_line: int | None) -> bool:
    """Whether line i can be the value of a label ending the previous line: same zone, short, no
    label of its own, and not the title heading (an empty last field must not swallow the title)."""
    if i >= len(lines) or in_body[i] != zone or i == heading_line:
        return False
    line = lines[i]
    return len(line) <= _VALUE_LINE_MAX and not labels.tokens(line)


def _is_metadata(block: Block, lines: list[str], in_body: list[bool]) -> bool:
    """Outside the body any run naming a field; inside it only a real block or the body's opening.
    Without a colon label, one field whose value reads like a sentence is none."""
    if not any(pair.field for pair in block.pairs):
        return False
    if not block.has_colon_label and block.density < 2 and any(
        pair.field and not _SENTENCE_MARKS.isdisjoint(pair.value) for pair in block.pairs
    ):
        return False
    first = block.lines[0]
    if not in_body[first]:
        return True
    body_start = first
    while body_start > 0 and in_body[body_start - 1]:
        body_start -= 1
    return block.density >= 2 or first - body_start < _BODY_HEAD_LINES


def merge(blocks: list[Block], meta: Block) -> Merged:
    """One value per field by the precedence in the module docstring, plus the raw label map."""
    ordered = sorted(blocks, key=lambda b: (-b.density, not b.structural, b.order)) + [meta]
    values: dict[str, str] = {}
    used: dict[str, Pair] = {}
    empty = labels.EMPTY_VALUES
    for block in ordered:
        best_here: dict[str, Pair] = {}
        for pair in block.pairs:
            _, value, name, rank = pair  # unpacked once: NamedTuple fields are slow to read
            if name is None or name in used or not value or value in empty:
                continue
            held = best_here.get(name)
            if held is None or rank < held.rank:
                best_here[name] = pair
        for name, pair in best_here.items():
            values[name], used[name] = pair.value, pair
    raw_labels: dict[str, str] = {}
    for block in ordered:
        if block.density >= 2:
            for label, value, _, _ in block.pairs:
                raw_labels.setdefault(label, value)
    for pair in used.values():
        raw_labels.setdefault(pair.label, pair.value)
    return Merged(values, used, raw_labels)


def resolve_issue_date(
    written: dt.date | None, published: dt.date | None, issued: dt.date | None, sealed: dt.date | None
) -> tuple[dt.date | None, dt.date | None]:
    """(written_date, publish_date) once the ambiguous 发文日期 ("issued") is placed.

    * Another label gives the written date: 发文日期 is the publish date (成文日期 + 发文日期 is the
      pattern of the district portal itself).
    * Another label gives the publish date: 发文日期 is the written date (the date the document was
      issued, as opposed to put online).
    * It is the only date label: it is the publish date (what the site shows as the item's date),
      and the written date is the 落款 date at the end of the body if there is one, else it too.

    Without any written label the 落款 date (``sealed``) is the written date.
    """
    if written is not None:
        return written, published or issued
    if published is not None:
        return issued or sealed, published
    if issued is not None:
        return sealed or issued, issued
    return sealed, None
