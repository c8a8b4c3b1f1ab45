"""Whether a document is in force, and until when (checks C10 and C11).

Status values are the vocabulary's 有效 / 失效 / 废止 / 已修订. Mapping decisions:

* 全文有效, 现行有效, 有效 -> 有效.
* 部分失效 / 部分有效 -> 有效: the document still governs in part, so it must stay listed as in force;
  the raw value is kept in ``raw_labels``.
* 已修订 / 已修改 / 已修正 -> 已修订; 失效 / 已失效 / 无效 -> 失效; 废止 / 已废止 -> 废止.

A page is *marked* abolished or revised when it says so to a reader: a status label with one of the
last three values, a bracketed mark in the title (【已废止】, （已失效）), a badge standing alone near
the title or in the body (<span>已修订</span>, "本文件已废止"), or a sentence "本文件已于…废止".
A mark overrides a contradicting status label, since it is the later, more visible statement.
Sentences about *other* documents ("原《…》同时废止") are not marks.

The validity period comes from a label (有效期：5年) or a body sentence (有效期5年, 有效期为五年,
有效期至2025年12月31日). A period in years or months runs from the commencement date stated
in the body (自2021年1月1日起施行), else the written date, else the publish date (自发布之日起 picks
the publish date), and ends the day before the anniversary.
"""

from __future__ import annotations

import datetime as dt
import re

from .dates import TEXT_DATE_PATTERN, add_months, add_years, parse_date
from .numerals import parse_int, to_ascii_digits

_MARK_WORD = r"已废止|已失效|已修订|已修改|失效|废止"
_TITLE_MARK = re.compile(rf"\s*[【\[（(〔]\s*({_MARK_WORD})\s*[】\]）)〕]\s*")
_MARK_ALONE = re.compile(rf"[【\[（(]?\s*(?:本|该|此)?(?:规范性)?(?:文件|件)?\s*({_MARK_WORD})\s*[】\]）)]?")
_MARK_SENTENCE = re.compile(
    r"(?:本|该|此)(?:规范性)?(?:文件|办法|规定|通知|意见|细则|决定|方案|政策|公告|件)"
    r"(?:已于[^，。；\n]{1,20}?|已被|已经|已)(?:宣布)?(废止|失效|修订|修改)"
)
_NUMBER = r"[0-9]+|[一二两三四五六七八九十]+"
_DATE = rf"(?:{TEXT_DATE_PATTERN})"
_PERIOD_UNTIL = re.compile(
    rf"有效期(?:限)?\s*(?:为|是)?[：:]?\s*(?:自?\s*{_DATE}\s*起?\s*)?(?:至|到|截至|截止(?:到|至)?)\s*({_DATE})"
)
_PERIOD_SPAN = re.compile(rf"有效期(?:限)?\s*(?:为|是)?[：:]?\s*({_NUMBER})\s*(年|个月)")
_START_DATE = re.compile(rf"自\s*({_DATE})\s*(?:起|开始)?\s*(?:施行|实施|执行|生效)")
_START_RELATIVE = re.compile(r"自\s*(印发|签发|发布|公布|公开发布|颁布)之日起")
_PUBLICATION_WORDS = ("发布", "公布", "公开发布", "颁布")
MAX_BADGE = 14  # longer text is a sentence, not a mark


def names_a_status(text: str) -> bool:
    """Cheap, sound pre-test for every mark: each one contains 废止, 失效, 修订 or 修改."""
    return "废止" in text or "失效" in text or "修订" in text or "修改" in text


def normalize_validity(raw: str | None) -> str | None:
    """The vocabulary value for a status label's text, or None when it names none."""
    text = "".join((raw or "").split())
    if not text:
        return None
    if "部分失效" in text or "部分有效" in text:
        return "有效"
    for word, value in (("废止", "废止"), ("修订", "已修订"), ("修改", "已修订"), ("修正", "已修订"),
                        ("失效", "失效"), ("无效", "失效"), ("有效", "有效")):
        if word in text:
            return value
    return None


def _mark_value(word: str) -> str:
    return "废止" if "废止" in word else "失效" if "失效" in word else "已修订"


def title_mark(title: str | None) -> str | None:
    """The status a bracketed mark in a title declares (…的通知【已废止】)."""
    if not title or not names_a_status(title):
        return None
    m = _TITLE_MARK.search(title)
    return _mark_value(m.group(1)) if m else None


def strip_title_marks(title: str) -> str:
    """The title without status marks: they describe the document, they are not part of its name."""
    return _TITLE_MARK.sub("", title).strip() if title_mark(title) else title


def badge_mark(segment: str) -> str | None:
    """The status when a short piece of text is nothing but a mark (<span>已修订</span>, 本文件已废止)."""
    segment = segment.strip()
    if len(segment) > MAX_BADGE or not names_a_status(segment):
        return None
    m = _MARK_ALONE.fullmatch(segment)
    return _mark_value(m.group(1)) if m else None


def sentence_mark(text: str) -> str | None:
    """The status a sentence about this very document declares (本文件已于2020年1月1日废止)."""
    if ("已" not in text and "被" not in text) or not names_a_status(text):
        return None
    m = _MARK_SENTENCE.search(text)
    return _mark_value(m.group(1)) if m else None


def validity_period(
    text: str, written: dt.date | None, published: dt.date | None
) -> tuple[str | None, dt.date | None]:
    """(the period as stated, the last day it covers) from text such as 有效期为五年 or 有效期至2025年12月31日."""
    if "有效期" not in text:
        return None, None
    text = to_ascii_digits(text)
    m = _PERIOD_UNTIL.search(text)
    if m:
        return m.group(0), parse_date(m.group(1))[0]
    m = _PERIOD_SPAN.search(text)
    if not m:
        return None, None
    amount = parse_int(m.group(1))
    start = _start_date(text, m.start(), written, published)
    if amount is None or start is None:
        return m.group(0), None
    end = add_years(start, amount) if m.group(2) == "年" else add_months(start, amount)
    return m.group(0), end - dt.timedelta(days=1)


def _start_date(text: str, near: int, written: dt.date | None, published: dt.date | None) -> dt.date | None:
    """When the period starts: the commencement clause nearest before the period, else a default."""
    sentence_start = max(text.rfind("。", 0, near), text.rfind("\n", 0, near)) + 1
    window = text[sentence_start : near + 40]
    for scope in (window, text):
        m = _START_DATE.search(scope)
        if m:
            return parse_date(m.group(1))[0]
        m = _START_RELATIVE.search(scope)
        if m:
            from_publication = m.group(1) in _PUBLICATION_WORDS
            return (published or written) if from_publication else (written or published)
    return written or published
