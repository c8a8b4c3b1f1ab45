"""The sample portal's list mechanisms: one module per way a real column serves its list.

Each module is the twin of a harvest adapter (`assets/harvest/lists/<name>.py`); the wire formats
both follow are in docs/list-mechanisms.md. A mechanism renders files at generation time (column
shells, data the dynamic endpoints answer from) and, when its endpoints are dynamic (POST paging,
JSON APIs, challenge gates), answers them at serving time through `handle`.

Dynamic answers are wired by data, not code: the generator writes OUT/dynamic.json, a list of

    {"host": "main", "prefix": "/fgw/", "mechanism": "jpage", "params": {...}}

and the server asks `DynamicRoutes.handle(host_key, request)` before it serves a static file.
Routes are tried in file order; the first whose host and path prefix match and whose
mechanism's `handle(route, request, out_dir)` returns a response answers the request, and a
mechanism returns None to let the next route (or the static file) answer.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

DYNAMIC_FILE = "dynamic.json"


@dataclass(frozen=True)
class Route:
    host: str  # host key of portal.json
    prefix: str  # request paths starting with this are offered to the mechanism
    mechanism: str  # module name under sample_portal.mechanisms
    params: dict[str, Any] = field(default_factory=dict)


class DynamicRoutes:
    """The dynamic endpoints of one generated portal."""

    def __init__(self, out_dir: Path, routes: list[Route]):
        self.out_dir = Path(out_dir)
        self.routes = routes
        self._modules = {name: importlib.import_module(f"{__name__}.{name}") for name in {r.mechanism for r in routes}}
        self._by_host: dict[str, list[Route]] = {}
        for route in routes:
            self._by_host.setdefault(route.host, []).append(route)

    @classmethod
    def load(cls, out_dir: str | Path) -> DynamicRoutes:
        """The routes of OUT/dynamic.json; none when the portal has no dynamic endpoints."""
        path = Path(out_dir) / DYNAMIC_FILE
        if not path.exists():
            return cls(Path(out_dir), [])
        entries = json.loads(path.read_text(encoding="utf-8"))
        return cls(Path(out_dir), [Route(e["host"], e["prefix"], e["mechanism"], e.get("params") or {}) for e in entries])

    def __bool__(self) -> bool:
        return bool(self.routes)

    async def handle(self, host_key: str, request: web.Request) -> web.StreamResponse | None:
        for route in self._by_host.get(host_key, ()):
            if request.path.startswith(route.prefix):
                response = await self._modules[route.mechanism].handle(route, request, self.out_dir)
                if response is not None:
                    return response
        return None
