"""gate: a 瑞数 (Rivers Security)-shaped anti-bot challenge in front of a whole host.

Mirrors what 海关总署, 清远 and dce.com.cn answer: HTTP 412 with a page whose inline script starts
`$_ts=window['$_ts']` and an external `<script r='m' src=…>`; the script derives a token from a
nonce in the page, stores it in a cookie and calls `location.reload()`. A request carrying the
right cookie passes through (the handler returns None and the page is served as usual), so a
browser gets in and a plain HTTP client records the 412.

The token is `<nonce>.<hash>`, `hash` being a 32-bit djb2-xor of nonce + salt in hex, checked
statelessly: each challenge has a fresh nonce, and no state is kept between requests. The
external script is served (the real one is the obfuscated VM); everything else is gated.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from pathlib import Path

from aiohttp import web

from .base import html_response

COOKIE = "FSSBBIl1UgzbN7N80T"
FIRST_COOKIE = "FSSBBIl1UgzbN7N80S"  # set by the 412 itself, as 瑞数 does; not needed to pass
SCRIPT_PATH = "/4QbVtADbnLVIc/c.FxDwcqWp.js"
SCRIPT_BODY = b"/* \xe7\x91\x9e\xe6\x95\xb0 VM stub */\n(function(){var t=window['$_ts']||{};t.l__=1;})();\n"
_TOKEN = re.compile(r"([0-9a-f]{16})\.([0-9a-f]{8})")


def salt_for(seed: int) -> str:
    return hashlib.sha256(f"gate:{seed}".encode()).hexdigest()[:12]


def token_hash(text: str) -> str:
    """The hash the challenge script computes (kept bit-for-bit equal to its JavaScript)."""
    value = 5381
    for char in text:
        value = ((value * 33) ^ ord(char)) & 0xFFFFFFFF
    return f"{value:08x}"


def route(host_key: str, seed: int) -> dict:
    return {"host": host_key, "prefix": "/", "mechanism": "gate",
            "params": {"cookie": COOKIE, "salt": salt_for(seed), "script": SCRIPT_PATH}}


def host_files(write_file, host_key: str) -> None:
    """The external script the challenge names (its only page that is not gated)."""
    write_file(host_key, SCRIPT_PATH, SCRIPT_BODY, None)


def challenge_page(nonce: str, salt: str, script: str) -> str:
    return (
        "<!DOCTYPE html>\n<html><head>"
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        f'<meta id="9DhefwqGPrzGxEp9hPaoag" content="{nonce}">'
        '<script type="text/javascript" r=\'m\'>'
        f"$_ts=window['$_ts'];if(!$_ts)$_ts={{}};$_ts.nsd=17734;$_ts.cd=\"{nonce}\";$_ts.sl=\"{salt}\";\n"
        "(function () {\n"
        "  var text = $_ts.cd + $_ts.sl, value = 5381;\n"
        "  for (var i = 0; i < text.length; i++) { value = ((value * 33) ^ text.charCodeAt(i)) >>> 0; }\n"
        "  var hash = ('0000000' + value.toString(16)).slice(-8);\n"
        f"  document.cookie = '{COOKIE}=' + $_ts.cd + '.' + hash + '; path=/';\n"
        "  setTimeout(function () { location.reload(); }, 50);\n"
        "})();\n"
        "</script>"
        f'<script type="text/javascript" charset="utf-8" src="{script}" r=\'m\'></script>'
        "</head><body></body></html>\n"
    )


def passes(cookie: str | None, salt: str) -> bool:
    match = _TOKEN.fullmatch(cookie or "")
    return match is not None and token_hash(match.group(1) + salt) == match.group(2)


async def handle(route, request: web.Request, out_dir: Path) -> web.StreamResponse | None:
    params = route.params
    if request.path == params["script"] or passes(request.cookies.get(params["cookie"]), params["salt"]):
        return None
    nonce = secrets.token_hex(8)
    response = html_response(challenge_page(nonce, params["salt"], params["script"]), status=412)
    response.set_cookie(FIRST_COOKIE, secrets.token_urlsafe(24), path="/", httponly=True)
    return response
