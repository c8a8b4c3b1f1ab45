"""What kind of document a page is (规范性文件, 政策解读 ...), and what a 解读 interprets.

The column the page was listed in decides first (the harvester's column kind, else the column
name, else the CMS's ColumnName <meta>), with one exception: a title containing 解读 is always a
政策解读, because sites often list interpretations inside the 规范性文件 column next to their
document, and a 解读 counted as a normative document would demand a 解读 of its own (check C12).
Without a telling column the title and document number decide; a 规 in the number
(津滨政规〔2021〕1号) is how normative documents are numbered.
"""

from __future__ import annotations

import re
from functools import lru_cache

from schemas.vocabulary import classify_column

COLUMN_DOC_KINDS = {
    "normative": "规范性文件",
    "interpretation": "政策解读",
    "emergency_plan": "应急预案",
    "annual_report": "年度报告",
    "guide": "公开指南",
    "system": "公开制度",
}
_NORMATIVE_NUMBER = re.compile(r"规\s*[〔\[［(（【]\s*\d{4}")
_TITLE_CUES = (
    (re.compile(r"应急预案"), "应急预案"),
    (re.compile(r"年度报告|工作年报"), "年度报告"),
    (re.compile(r"规范性文件"), "规范性文件"),
    (re.compile(r"公开指南"), "公开指南"),
    (re.compile(r"公开.{0,8}(?:制度|规定)"), "公开制度"),
)
# A word every title cue contains: most titles need one search, not one per cue.
_ANY_TITLE_CUE = re.compile(r"应急预案|年度报告|工作年报|规范性文件|公开")
_QUOTED_TITLE = re.compile(r"《([^《》]{4,80})》")
_LAW = re.compile(r"^中华人民共和国|条例$|^宪法$")
_ORIGINAL_LINK_WORDS = ("原文", "政策文件", "相关文件", "文件链接", "原件")
_MIN_SIMILARITY = 0.6


def doc_kind(title: str, doc_number: str | None, column_kind: str | None, column_names: list[str]) -> str:
    """The DOC_KINDS value for a page."""
    if "解读" in title:
        return "政策解读"
    if column_kind in COLUMN_DOC_KINDS:
        return COLUMN_DOC_KINDS[column_kind]
    for name in column_names:
        kind = COLUMN_DOC_KINDS.get(_column_kind(name))
        if kind:
            return kind
    if doc_number and _NORMATIVE_NUMBER.search(doc_number):
        return "规范性文件"
    if _ANY_TITLE_CUE.search(title):
        for pattern, kind in _TITLE_CUES:
            if pattern.search(title):
                return kind
    return "其他"


@lru_cache(maxsize=4096)
def _column_kind(name: str) -> str:
    """classify_column, remembered: a site has few column names and every page repeats one."""
    return classify_column(name)


def interpreted_title(title: str, body_text: str) -> str | None:
    """The interpreted document's name: the 《…》 in the title, else the first non-law 《…》 in the body."""
    for text in (title, body_text):
        for m in _QUOTED_TITLE.finditer(text):
            if not _LAW.search(m.group(1)):
                return m.group(1)
    return None


def interpreted_link(links: list[dict[str, str]], doc_title: str | None, page_url: str) -> str | None:
    """The link most likely to be the interpreted document: its text resembles the document's
    name (the link usually carries the full "关于印发…的通知" title), or says 原文 / 相关文件."""
    # The name's bigrams once, not once per link: a 解读 page carries a whole site's navigation.
    bigrams = _bigrams(doc_title) if doc_title else set()
    best_score, best_url = 0.0, None
    for link in links:
        text = link["text"]
        if link["url"] == page_url or not text:
            continue
        score = _similarity(bigrams, text)
        if text.startswith(_ORIGINAL_LINK_WORDS) or text.strip("：: ") in _ORIGINAL_LINK_WORDS:
            score = max(score, _MIN_SIMILARITY)
        if score > best_score:
            best_score, best_url = score, link["url"]
    return best_url if best_score >= _MIN_SIMILARITY else None


def _bigrams(name: str) -> set[str]:
    return {name[i : i + 2] for i in range(len(name) - 1)}


def _similarity(bigrams: set[str], text: str) -> float:
    """Share of the name's character bigrams (``_bigrams``) found in the text: robust to
    关于印发…的通知 wrappers."""
    if not bigrams:
        return 0.0
    return sum(1 for bigram in bigrams if bigram in text) / len(bigrams)
