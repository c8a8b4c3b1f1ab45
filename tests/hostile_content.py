"""Hostile inputs for the hardening tests (helpers only; no tests here).

- `build_hostile_portal(out_dir)`: a hand-made tiny portal, served by `sample_portal.server.PortalServer`,
  whose pages carry what a compromised or careless CMS could publish: a `<script>` in a title, an
  `<img onerror>` in a unit's name, spreadsheet formulas as titles, attachment links named
  `../../etc/passwd`, a 1 MB attribute, and personal information (an ID-card number, a mobile).
- `RedirectSite`: a minimal real HTTP server (thread) answering fixed routes, used where the sample
  portal cannot answer: redirects to `file:`, `ftp:`, `javascript:`, `data:` and to other hosts.
- `mutate(...)`: the byte-level mutations of the extractor fuzz run.
"""

from __future__ import annotations

import json
import random
import re
import threading
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HOSTNAME = "www.hostile.zwgk.test"
AS_OF = "2021-03-01"

# Anything that runs in the report's browser sets this attribute (or the title); the tests look for it.
PWNED = "document.body.setAttribute('data-pwned','1');document.title='PWNED'"
SCRIPT_TITLE = f"<script>{PWNED}</script>关于印发专项资金管理办法的通知"
IMG_UNIT_NAME = f'区教育局"><img src=x onerror="{PWNED}">'
CSV_INJECTION_TITLES = (
    "=cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
)
TRAVERSAL_NAMES = ("../../etc/passwd", "..\\..\\windows\\win.ini.pdf")
ID_NUMBER = "120107198001012315"  # checksum-valid (as in tests/publish_builder.py)
MOBILE = "13812341234"
HUGE_ATTRIBUTE = 1024 * 1024


@dataclass
class HostilePortal:
    out_dir: Path
    hostile_unit: str = "xss"
    pii_unit: str = "pii"
    titles: dict[str, str] = field(default_factory=dict)  # detail path -> title as the page shows it
    attachment_hrefs: list[str] = field(default_factory=list)


def build_hostile_portal(out_dir: Path) -> HostilePortal:
    out_dir = Path(out_dir)
    spec = HostilePortal(out_dir)
    root = out_dir / "sites" / "main"
    manifest = {
        "version": 1, "seed": 1, "as_of": AS_OF,
        "hosts": [{"key": "main", "root": "sites/main", "hostname": HOSTNAME, "ipv6": False, "charset": "utf-8"}],
        "units": [
            {"id": "xss", "name": IMG_UNIT_NAME, "kind": "bureau", "host": "main", "path": "/xss/zfxxgk/"},
            {"id": "pii", "name": "区民政局", "kind": "bureau", "host": "main", "path": "/pii/zfxxgk/"},
        ],
    }
    (out_dir).mkdir(parents=True, exist_ok=True)
    (out_dir / "portal.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    _write(root / "robots.txt", b"User-agent: *\nDisallow:\n")

    # -- the hostile unit: a guide, a normative column and a notice column --------------------------
    base = "/xss/zfxxgk/"
    columns = {"zn": "政府信息公开指南", "gfxwj": "规范性文件", "tzgg": "通知公告"}
    nav = "".join(f'<li><a href="{base}{code}/">{name}</a></li>' for code, name in columns.items())
    _page(root, base, "政府信息公开", f'<div class="xxgk-nav"><ul>{nav}</ul></div>', nav)

    details: dict[str, list[tuple[str, str, str]]] = {  # column -> (path, title as text, extra body html)
        "zn": [(f"{base}zn/202001/t20200110_1.html", "区教育局政府信息公开指南", "")],
        "gfxwj": [
            # the smallest URL of the unit: C10 and C13 name it in their messages
            (f"{base}gfxwj/202009/a20200901_1.html", SCRIPT_TITLE,
             '<p class="attach">'
             + "".join(f'<a href="{h}">{escape(n)}</a> ' for h, n in (
                 ("../../../../etc/passwd", TRAVERSAL_NAMES[0]),
                 ("attach/..%2F..%2F..%2Fetc%2Fpasswd.pdf", TRAVERSAL_NAMES[1])))
             + "</p>"),
            (f"{base}gfxwj/202009/t20200902_2.html", CSV_INJECTION_TITLES[0],
             f'<div data-blob="{"A" * HUGE_ATTRIBUTE}">附：大属性。</div>'),
            (f"{base}gfxwj/202009/t20200903_3.html", CSV_INJECTION_TITLES[1], ""),
        ],
        "tzgg": [
            (f"{base}tzgg/202010/t20201001_4.html", CSV_INJECTION_TITLES[2], ""),
            (f"{base}tzgg/202010/t20201002_5.html", CSV_INJECTION_TITLES[3],
             '<p><a href="javascript:alert(1)">打印</a> <a href="file:///etc/passwd">本地</a>'
             ' <a href="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;">数据</a></p>'),
        ],
    }
    spec.attachment_hrefs = ["../../../../etc/passwd", "attach/..%2F..%2F..%2Fetc%2Fpasswd.pdf"]
    for code, items in details.items():
        rows = "".join(
            f'<li><a href="{path}" title="{escape(title) if i else "T" * HUGE_ATTRIBUTE}">{escape(title)}</a>'
            f'<span class="date">2020-09-0{n}</span></li>'
            for i, (n, (path, title, _)) in enumerate(enumerate(items, start=1)))
        _page(root, f"{base}{code}/", columns[code], f'<h2>{columns[code]}</h2><ul class="list">{rows}</ul>', nav)
        for path, title, extra in items:
            spec.titles[path] = title
            body = (f"<h1>{escape(title)}</h1><p>发布日期：2020-09-01</p>"
                    f"<div class=\"content\"><p>{escape(title)}的正文。</p>{extra}</div>")
            # The <title> element is RCDATA: a literal <script> there is text, as a browser reads it.
            _page(root, path, title, body, nav, raw_title=True)

    # -- a unit with personal information: its C20 veto must keep it out of the catalog ------------
    pbase = "/pii/zfxxgk/"
    pnav = f'<li><a href="{pbase}tzgg/">通知公告</a></li>'
    _page(root, pbase, "政府信息公开", f'<div class="xxgk-nav"><ul>{pnav}</ul></div>', pnav)
    ppath = f"{pbase}tzgg/202010/t20201005_1.html"
    _page(root, f"{pbase}tzgg/", "通知公告",
          f'<ul class="list"><li><a href="{ppath}">低保对象公示</a><span class="date">2020-10-05</span></li></ul>', pnav)
    _page(root, ppath, "低保对象公示",
          f"<h1>低保对象公示</h1><p>发布日期：2020-10-05</p><div class=\"content\"><p>李某，身份证号{ID_NUMBER}，"
          f"联系电话{MOBILE}。</p></div>", pnav)
    return spec


def _page(root: Path, path: str, title: str, main: str, nav: str, raw_title: bool = False) -> None:
    head_title = title if raw_title else escape(title)
    html = (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>{head_title}</title></head><body>"
        f'<div class="main"><div class="side xxgk-nav"><ul>{nav}</ul></div>'
        f'<div class="content">{main}</div></div></body></html>'
    )
    target = root / path.lstrip("/")
    if path.endswith("/"):
        target = target / "index.html"
    _write(target, html.encode("utf-8"))


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


# -- a real HTTP server with fixed answers --------------------------------------------------------


class RedirectSite:
    """`routes`: path -> (status, headers, body). Every request's path is recorded in `requests`."""

    def __init__(self, routes: dict[str, tuple[int, dict[str, str], bytes]] | None = None):
        self.routes = routes or {}
        self.requests: list[tuple[str, str]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, body_too: bool) -> None:
                site.requests.append((self.command, self.path))
                status, headers, body = site.routes.get(self.path, (404, {"Content-Type": "text/html"}, b"gone"))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body_too:
                    self.wfile.write(body)

            def do_GET(self):  # noqa: N802 - the base class's naming
                self._answer(True)

            def do_HEAD(self):  # noqa: N802
                self._answer(False)

            def log_message(self, *args):
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> RedirectSite:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def html(self, path: str, html: str) -> None:
        self.routes[path] = (200, {"Content-Type": "text/html; charset=utf-8"}, html.encode("utf-8"))

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.routes[path] = (status, {"Location": location, "Content-Type": "text/html"}, b"moved")


# -- mutations for the extractor fuzz run --------------------------------------------------------

_TAG = re.compile(rb"<[^<>]{0,200}>")
_SPICE = (b"<script>", b"</table>", b"<td>", b"<!--", b"\x00", b"\xff\xfe", b"&#0;", b"&#x110000;", b"\xe4\xb8",
          b"<meta charset=\"utf-16\">", b"<meta charset=\"x-nonsense\">", "标　　题：".encode(), "发布日期：".encode(),
          b"]]>", b"<![CDATA[", b"\r\n\r\n", b"<" * 50, "２０２１年１３月３２日".encode(),
          b"<a href>", b"<a href=\"http://[::1\">", b"<base href=\"http://[x/\">", b"<img src>", b"<meta name>",
          b"<meta http-equiv=\"Content-Type\" content>", b"<table><tr><td rowspan=99999 colspan=0>")


def mutate(data: bytes, rng: random.Random, rounds: int = 3) -> bytes:
    """`rounds` random mutations: byte flips, truncation, tag deletion/duplication, splicing, spice."""
    data = bytearray(data)
    for _ in range(rounds):
        op = rng.randrange(8)
        n = len(data)
        if n == 0:
            data += rng.choice(_SPICE)
            continue
        if op == 0:  # flip bytes
            for _ in range(rng.randint(1, 16)):
                data[rng.randrange(n)] = rng.randrange(256)
        elif op == 1:  # truncate
            del data[rng.randrange(n):]
        elif op == 2:  # delete a tag
            tags = list(_TAG.finditer(data))
            if tags:
                tag = rng.choice(tags)
                del data[tag.start():tag.end()]
        elif op == 3:  # duplicate a tag many times
            tags = list(_TAG.finditer(data))
            if tags:
                tag = rng.choice(tags)
                data[tag.start():tag.start()] = tag.group(0) * rng.randint(2, 500)
        elif op == 4:  # delete a slice
            start = rng.randrange(n)
            del data[start:start + rng.randint(1, 400)]
        elif op == 5:  # insert spice
            at = rng.randrange(n + 1)
            data[at:at] = rng.choice(_SPICE)
        elif op == 6:  # splice a slice of the page elsewhere
            start = rng.randrange(n)
            piece = data[start:start + rng.randint(1, 300)]
            at = rng.randrange(n + 1)
            data[at:at] = piece
        else:  # swap two halves
            cut = rng.randrange(n)
            data = data[cut:] + data[:cut]
    return bytes(data)
