"""moved: a unit registered under an older URL generation, which answers 301 to its current column.

Mirrors the 滨海 sites' churn: a registry (or an inspector's list) still holds the old SiteServer
URL `/sitefiles/services/cms/page.aspx?s=11813&n=12163`, which now redirects permanently to
the unit's current entry. Only that exact page (`s` and `n` as registered) redirects; other
page.aspx queries fall through to the static server (404).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from aiohttp import web


def route(host_key: str, old_url: str, location: str) -> dict:
    parts = urlsplit(old_url)
    return {"host": host_key, "prefix": parts.path, "mechanism": "moved",
            "params": {"path": parts.path, "query": dict(parse_qsl(parts.query)), "location": location}}


async def handle(route, request: web.Request, out_dir: Path) -> web.StreamResponse | None:
    params = route.params
    if request.method not in ("GET", "HEAD") or request.path.lower() != params["path"].lower():
        return None
    if any(request.query.get(key) != value for key, value in params["query"].items()):
        return None
    return web.Response(status=301, headers={"Location": params["location"], "Cache-Control": "no-cache"})
