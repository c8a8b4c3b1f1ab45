"""Building the requests adapters ask for: query parameters edited in place, form fields, XHR headers."""

from __future__ import annotations

import re
from urllib.parse import quote

from .base import ListRequest


def with_query(url: str, **params: object) -> str:
    """`url` with each parameter set (replaced in place, or appended), the rest of the query kept
    byte for byte: list URLs carry `filter[WZFL_name]=规范性文件`-style parameters that
    re-encoding would change."""
    base, _, query = url.partition("?")
    query, hash_mark, fragment = query.partition("#")
    parts = [p for p in query.split("&") if p] if query else []
    for name, value in params.items():
        pair = f"{name}={quote(str(value), safe='')}"
        for i, part in enumerate(parts):
            if part.split("=", 1)[0] == name:
                parts[i] = pair
                break
        else:
            parts.append(pair)
    return base + ("?" + "&".join(parts) if parts else "") + hash_mark + fragment


def query_int(url: str, name: str) -> int | None:
    """An integer query parameter of `url` (case-insensitive name), or None."""
    match = re.search(r"[?&]" + re.escape(name) + r"=(\d+)(?:&|#|$)", url, re.I)
    return int(match.group(1)) if match else None


def xhr_headers(referer: str) -> tuple[tuple[str, str], ...]:
    """What a list widget's own XHR sends: some proxies refuse requests without the column page as Referer."""
    return (("Referer", referer), ("X-Requested-With", "XMLHttpRequest"))


def referer_of(request: ListRequest | None) -> str | None:
    """The Referer a request carried (the column page), or None."""
    if request is None:
        return None
    for name, value in request.headers:
        if name.lower() == "referer":
            return value
    return None


def form_with(form: tuple[tuple[str, str], ...], **fields: object) -> tuple[tuple[str, str], ...]:
    """`form` with each field set: replaced where it is, appended otherwise (field order is kept)."""
    result = list(form)
    for name, value in fields.items():
        for i, (key, _old) in enumerate(result):
            if key == name:
                result[i] = (name, str(value))
                break
        else:
            result.append((name, str(value)))
    return tuple(result)


def form_value(form: tuple[tuple[str, str], ...], name: str) -> str | None:
    for key, value in form:
        if key == name:
            return value
    return None
