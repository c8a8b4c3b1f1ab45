"""List adapters: one module per way a 政务公开 column serves its list (docs/list-mechanisms.md).

SOURCES    the adapters in detection order; static is last because it claims any HTML page.
by_name    an adapter by the name the registry's `list_source`/`column_sources` use (None for
           `rendered`, which is the crawler's rendering fallback read by the static rules).
choose     the adapter of a page: the forced one when the registry names it, else the first that
           claims the page by its signature.
"""

from __future__ import annotations

from core.registry import LIST_SOURCES

from . import gkmlpt, igs, jpage, siteserver, static, xxgk_search
from .base import ListItem, ListPage, ListRequest, ListSource, Page

RENDERED = "rendered"

SOURCES: tuple[ListSource, ...] = (
    jpage.ADAPTER,
    xxgk_search.ADAPTER,
    igs.ADAPTER,
    gkmlpt.ADAPTER,
    siteserver.ADAPTER,
    static.ADAPTER,
)
_BY_NAME = {source.name: source for source in SOURCES}

if set(_BY_NAME) != set(LIST_SOURCES) - {RENDERED} or len(_BY_NAME) != len(SOURCES):
    raise AssertionError(f"list adapters {sorted(_BY_NAME)} do not match registry LIST_SOURCES {LIST_SOURCES}")


def by_name(name: str) -> ListSource | None:
    """The adapter named `name`; None for `rendered` (not an adapter). Unknown names raise KeyError."""
    if name == RENDERED:
        return None
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown list source {name!r}; expected one of {list(LIST_SOURCES)}") from None


def choose(page: Page, forced: str | None = None) -> ListSource:
    """The adapter that reads `page`: `forced` when given (a rendered DOM is read by static), else
    the first adapter of SOURCES that claims it (static for anything unclaimed)."""
    if forced is not None:
        return by_name(forced) or _BY_NAME["static"]
    for source in SOURCES:
        if source.claims(page):
            return source
    return _BY_NAME["static"]


__all__ = ["SOURCES", "ListItem", "ListPage", "ListRequest", "ListSource", "Page", "by_name", "choose"]
