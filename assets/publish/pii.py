"""Masking personal information before anything leaves the machine (notice 四.3, check C20).

The normalize stage *finds* ID-card and mobile numbers (and flags the resource `has_pii`); the
publisher *rewrites* the text so the published copy carries only masked forms:
`120107********2315` (region code and last four kept) and `138****1234`. An 18-digit number is
masked only when it is a real resident ID (valid birth date and check character, the rule
normalize uses), so account numbers and serials of that length survive.
"""

from __future__ import annotations

import re

from assets.normalize.pii import id_card_is_valid

_ID_CARD = re.compile(r"(?<![0-9A-Za-z])[1-9][0-9]{16}[0-9Xx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9][- ]?[0-9]{4}[- ]?[0-9]{4}(?![0-9])")


def mask_personal_info(text: str) -> str:
    """`text` with every valid 18-digit ID number and every mobile number masked."""
    if not text:
        return text
    text = _ID_CARD.sub(_mask_id_card, text)
    return _MOBILE.sub(_mask_mobile, text)


def _mask_id_card(match: re.Match) -> str:
    number = match.group(0)
    if not id_card_is_valid(number.upper()):
        return number
    return f"{number[:6]}{'*' * 8}{number[-4:]}"


def _mask_mobile(match: re.Match) -> str:
    digits = re.sub(r"[- ]", "", match.group(0))
    return f"{digits[:3]}****{digits[-4:]}"
