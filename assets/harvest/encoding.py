"""Character set detection for the link extractor (raw bytes are stored untouched).

Order: the HTTP charset, then `<meta charset>` / http-equiv, then charset-normalizer. A declared
charset is used only if the body decodes with it strictly, and a GB-family declaration loses to
UTF-8 when the body is valid non-ASCII UTF-8 (mislabelled UTF-8 pages are common, and real GBK
text is practically never valid UTF-8). gb2312/gbk are decoded as gb18030, their superset.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([-\w.:]+)""", re.IGNORECASE)
_GB_FAMILY = {"gb2312", "gbk", "gb18030", "x-gbk", "gb_2312-80", "cp936", "euc-cn", "csgb2312", "hz-gb-2312"}


def normalize_charset(name: str | None) -> str | None:
    """Canonical Python codec name, with the GB family mapped to gb18030; None if unknown."""
    if not name:
        return None
    name = name.strip().strip("'\"").lower()
    if name in _GB_FAMILY:
        return "gb18030"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def meta_charset(body: bytes) -> str | None:
    match = _META_CHARSET.search(body[:4096])
    return match.group(1).decode("ascii", "ignore") if match else None


def decode_html(body: bytes, http_charset: str | None) -> tuple[str, str]:
    """(text, charset) for `body`; never raises."""
    for declared in (http_charset, meta_charset(body)):
        charset = normalize_charset(declared)
        if charset is None:
            continue
        if charset == "gb18030" and not body.isascii():
            try:
                return body.decode("utf-8"), "utf-8"
            except UnicodeDecodeError:
                pass
        try:
            return body.decode(charset), charset
        except UnicodeDecodeError:
            continue
    best = from_bytes(body).best() if body else None
    charset = normalize_charset(best.encoding if best else None) or "utf-8"
    return body.decode(charset, errors="replace"), charset
