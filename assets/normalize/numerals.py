"""Chinese numerals as they appear in dates (二〇二一年五月二十八日) and periods (有效期为五年)."""

from __future__ import annotations

import re

_DIGITS = {
    "〇": 0, "○": 0, "零": 0, "Ｏ": 0, "O": 0,
    "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_FULLWIDTH_DIGIT = re.compile("[０-９]")


def to_ascii_digits(text: str) -> str:
    """Full-width digits (２０２１) become ASCII so one set of patterns reads both."""
    # translate() looks up every character of non-ASCII text in a dict; a search is much cheaper
    # and most text has no full-width digit at all.
    return text.translate(_FULLWIDTH_DIGITS) if _FULLWIDTH_DIGIT.search(text) else text


def parse_int(text: str) -> int | None:
    """An integer written in ASCII digits or Chinese numerals up to 99 (五, 十, 十二, 二十八, 两)."""
    text = to_ascii_digits(text.strip())
    if text.isdigit():
        return int(text)
    if not text or any(ch not in _DIGITS and ch != "十" for ch in text):
        return None
    if "十" not in text:
        return _DIGITS[text] if len(text) == 1 else None
    tens, _, units = text.partition("十")
    if len(tens) > 1 or len(units) > 1:
        return None
    return (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[units] if units else 0)


def parse_year(text: str) -> int | None:
    """A year written digit by digit (二〇二一, 2021, ２０２１)."""
    text = to_ascii_digits(text.strip())
    if len(text) != 4:
        return None
    digits = [int(ch) if ch.isdigit() else _DIGITS.get(ch) for ch in text]
    if any(d is None for d in digits):
        return None
    return int("".join(map(str, digits)))
