"""JSON values of list APIs as list text: dates (ISO with T, epoch seconds) and metadata strings."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

# Asia/Shanghai as the sources mean it: UTC+8 all year. (zoneinfo's Asia/Shanghai would apply
# the 1986–1991 summer time, which no list API's calendar day follows.)
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")
_ISO_DAY = re.compile(r"^\s*((?:19|20)\d{2})[-/.年](\d{1,2})[-/.月](\d{1,2})")
_EPOCH_MS = 10**11  # epoch values above this are milliseconds (seconds reach it in the year 5138)


def day_of(value: object) -> str:
    """`YYYY-MM-DD` of an ISO date/datetime (`2020-09-15T09:30:00`), of epoch seconds or
    milliseconds (read in Asia/Shanghai), or of a date string; "" when there is none."""
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, (int, float)):
        if value <= 0:
            return ""
        seconds = value / 1000 if value > _EPOCH_MS else value
        try:
            return datetime.fromtimestamp(seconds, SHANGHAI).strftime("%Y-%m-%d")
        except (OverflowError, OSError, ValueError):
            return ""
    if isinstance(value, str):
        match = _ISO_DAY.match(value)
        if match:
            year, month, day = (int(g) for g in match.groups())
            return f"{year:04d}-{month:02d}-{day:02d}"
    return ""


def meta_value(value: object) -> str | None:
    """A metadata value as text, spelled as in the JSON (`true`, `0`, `2020-09-15T00:00:00`); None when absent."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def meta_pairs(record: dict, keys: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(key, text) for each of `keys` the record carries with a value, in `keys` order."""
    pairs = []
    for key in keys:
        text = meta_value(record.get(key))
        if text is not None:
            pairs.append((key, text))
    return tuple(pairs)


def as_int(value: object) -> int | None:
    """An integer count from JSON or XML text (`203`, `"203"`), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None
