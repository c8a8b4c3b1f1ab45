"""Personal data that must not be published (notice 四.3, check C20): ID-card and mobile numbers.

Only numbers that are really personal count: an 18-digit 身份证号 must carry a valid birth date and
a valid ISO 7064 MOD 11-2 check character, so account numbers and serials of the same length are
not reported; masked forms (1201**********1234, 138****1234) contain no digit run long enough to
match. Landlines (022-25201234) and hotlines (12345) do not look like mobiles. Findings are
returned masked: the platform must not republish what it is reporting.
"""

from __future__ import annotations

import datetime as dt
import re

# The character class comes first so the regex engine can skip ahead to digits; what may precede
# a number is checked in Python (a leading look-behind makes the engine try every position).
_ID_CARD = re.compile(r"[1-9][0-9]{16}[0-9Xx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"1[3-9][0-9][- ]?[0-9]{4}[- ]?[0-9]{4}(?![0-9])")
_DIGITS = frozenset("0123456789")
_ALNUM = _DIGITS | frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"


def id_card_is_valid(number: str) -> bool:
    """True for an 18-character resident ID with a real birth date and a correct check character."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if birth.year < 1900 or birth > dt.date.today():
        return False
    total = sum(int(digit) * weight for digit, weight in zip(number, _WEIGHTS))
    return _CHECK_CHARS[total % 11] == number[17].upper()


def mask(number: str) -> str:
    """Keep the first and last digits that locate a number, hide the rest."""
    if len(number) == 18:
        return f"{number[:4]}{'*' * 10}{number[-4:]}"
    return f"{number[:3]}****{number[-4:]}"


def find_pii(text: str) -> list[dict[str, str]]:
    """Unmasked ID-card and mobile numbers in text, masked, each distinct number once."""
    findings: list[dict[str, str]] = []
    seen: set[str] = set()
    for m in _ID_CARD.finditer(text):
        number = m.group(0).upper()
        if not _preceded_by(text, m.start(), _ALNUM) and number not in seen and id_card_is_valid(number):
            seen.add(number)
            findings.append({"kind": "id_card", "masked": mask(number)})
    for m in _MOBILE.finditer(text):
        number = m.group(0).replace("-", "").replace(" ", "")
        if not _preceded_by(text, m.start(), _DIGITS) and number not in seen:
            seen.add(number)
            findings.append({"kind": "mobile", "masked": mask(number)})
    return findings


def _preceded_by(text: str, index: int, chars: frozenset[str]) -> bool:
    return index > 0 and text[index - 1] in chars
