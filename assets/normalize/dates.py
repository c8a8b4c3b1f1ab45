"""Dates as Chinese government pages write them.

Label values use every format at once (2020-09-15, 2020年9月15日, 2020/09/15, 2020.09.15, 20200915,
full-width digits, a time after the date, ISO with T: 2020-09-15T09:30:00); the 落款 at the end of
a document may be in Chinese numerals (二〇二〇年九月十五日). A value that looks like a date but is
impossible (2021-02-30) gives None and a reason, so the caller can warn instead of guessing.

An ISO value is read as the calendar day it writes, whatever time zone follows, as the harvester
reads list dates (assets/harvest/lists/values.py). Epoch seconds or milliseconds (1612137600) are
read only when the caller says the value is a date (``parse_date(..., epoch=True)``): nothing
marks ten digits as a date otherwise. Like list APIs, they are read as Asia/Shanghai days.
"""

from __future__ import annotations

import datetime as dt
import re

from .numerals import parse_int, parse_year, to_ascii_digits

_YEAR_MIN, _YEAR_MAX = 1900, 2100
# UTC+8 all year, as government sites mean Asia/Shanghai (zoneinfo would apply 1986-1991 summer time).
_SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
# Epoch seconds (10 digits: 2001-2286) or milliseconds (13 digits); 8 digits are 20200915.
_EPOCH = re.compile(r"\s*([1-9]\d{9}|[1-9]\d{12})\s*")

# Any date in a label value, including the compact 20200915 form.
_VALUE_DATE = re.compile(
    r"(?<!\d)(\d{4})\s*(?:"
    r"年\s*(\d{1,2})\s*月\s*(\d{1,2})"
    r"|([-/.])\s*(\d{1,2})\s*\4\s*(\d{1,2})"
    r"|(\d{2})(\d{2})"
    r")(?!\d)"
)
# Dates in running text: the compact form is left out, it matches phone numbers and serials.
TEXT_DATE_PATTERN = r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}"
_TEXT_DATE = re.compile(r"(?<!\d)(?:" + TEXT_DATE_PATTERN + r")(?!\d)")
_CN_NUM = "〇○零Ｏ一二两三四五六七八九十"
_CHINESE_DATE = re.compile(rf"([{_CN_NUM}]{{4}})\s*年\s*([{_CN_NUM}]{{1,3}})\s*月\s*([{_CN_NUM}]{{1,3}})\s*日")
_DATE_LINE_STRIP = " \t\u3000\xa0()（）[]【】"


def _make(year: int | None, month: int | None, day: int | None) -> dt.date | None:
    if year is None or month is None or day is None or not _YEAR_MIN <= year <= _YEAR_MAX:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _from_match(m: re.Match[str]) -> dt.date | None:
    year = int(m.group(1))
    if m.group(2):
        return _make(year, int(m.group(2)), int(m.group(3)))
    if m.group(4):
        return _make(year, int(m.group(5)), int(m.group(6)))
    return _make(year, int(m.group(7)), int(m.group(8)))


def parse_date(value: str | None, *, epoch: bool = False) -> tuple[dt.date | None, str | None]:
    """The date in a label value, or (None, why) when the value holds none or an impossible one.
    With ``epoch``, a value of nothing but 10 or 13 digits is epoch seconds or milliseconds."""
    if not value or not value.strip():
        return None, None
    text = to_ascii_digits(value)
    if epoch:
        m = _EPOCH.fullmatch(text)
        if m:
            return _from_epoch(m.group(1))
    m = _VALUE_DATE.search(text)
    if m:
        date = _from_match(m)
        return (date, None) if date else (None, f"invalid date {m.group(0)!r}")
    date = parse_chinese_date(text)
    if date:
        return date, None
    return None, f"no date in {value.strip()!r}"


def _from_epoch(digits: str) -> tuple[dt.date | None, str | None]:
    seconds = int(digits) / 1000 if len(digits) == 13 else int(digits)
    try:
        date = dt.datetime.fromtimestamp(seconds, _SHANGHAI).date()
    except (OverflowError, OSError, ValueError):
        date = None
    if date is None or not _YEAR_MIN <= date.year <= _YEAR_MAX:
        return None, f"invalid epoch time {digits!r}"
    return date, None


def parse_chinese_date(text: str) -> dt.date | None:
    """A date written in Chinese numerals, e.g. 二〇二一年五月二十八日."""
    m = _CHINESE_DATE.search(text)
    if not m:
        return None
    return _make(parse_year(m.group(1)), parse_int(m.group(2)), parse_int(m.group(3)))


def find_text_date(text: str) -> dt.date | None:
    """The first valid date written out in running text (no compact forms)."""
    for m in _TEXT_DATE.finditer(to_ascii_digits(text)):
        date, _ = parse_date(m.group(0))
        if date:
            return date
    return None


def date_only_line(line: str) -> dt.date | None:
    """The date when a line is nothing but a date, as a 落款 is (2020年9月15日, 二〇二〇年九月十五日)."""
    if len(line) > 24:
        return None
    text = to_ascii_digits(line).strip(_DATE_LINE_STRIP)
    if not text or len(text) > 16:
        return None
    m = _TEXT_DATE.fullmatch(text)
    if m:
        return parse_date(text)[0]
    m = _CHINESE_DATE.fullmatch(text)
    return parse_chinese_date(text) if m else None


def add_years(start: dt.date, years: int) -> dt.date:
    """start + years, with 29 February landing on 1 March in common years."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:
        return dt.date(start.year + years, 3, 1)


def add_months(start: dt.date, months: int) -> dt.date:
    """start + months, clamped to the last day of a shorter month."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    for day in (start.day, 30, 29, 28):
        try:
            return dt.date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable: day 28 exists in every month")
