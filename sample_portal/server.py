"""HTTP server for the generated sample portal: static files, dynamic endpoints, many hosts, faults.

The generator writes a portal tree (``portal.json`` + ``sites/<host>/…``, and ``dynamic.json``
when some list mechanisms answer at serving time); this module serves it over real sockets so the
crawler can be tested end to end without the network:

* one listener per host of the manifest, on 127.0.0.1 and, for hosts with ``ipv6: true``, also on
  ``::1`` at the same port (an IPv4-only host must refuse IPv6, like the real FTZ site); a host
  with ``scheme: https`` serves TLS only, with the certificate the generator made for it;
* static conventions of the tree: ``/a/`` serves ``/a/index.html``; ``/a/list.html?page=3``
  serves the file ``/a/list.html@page=3``; unknown queries fall back to the plain file, except
  ``page=N`` which is a 404 when no such page was generated; a host with ``not_found: soft``
  answers missing pages with 200 and the same 页面不存在 page (a soft 404);
* dynamic endpoints (POST paging, JSON APIs, challenge gates): `DynamicRoutes` from
  ``sample_portal.mechanisms`` is asked before any static file;
* HTTP/1.1 keep-alive, single ``Range`` requests, ``ETag``/``Last-Modified`` validators;
* faults (slow, failing, truncated, looping, huge, mislabelled answers) configured at start, from
  Python, or over HTTP at ``/__zwgk__/faults`` on any listener;
* a bounded log of every request, which tests use to check politeness and robots compliance.

Design. HTTP itself (parsing, keep-alive, pipelining, TLS, request bodies, cookies) is aiohttp's
``web`` server; this module only decides *what* to answer. Every listener gets its own tiny
``web.Application`` whose single catch-all route knows its host and address family, so nothing
is looked up per request to tell them apart. A request becomes an `Answer` (status, headers and
a body that is bytes, a slice of a file, or a generated huge page) in three layers — a fault if
one matches, else a dynamic route, else a static file — and one function turns an `Answer` into
an aiohttp response. Faults and the request log see every answer in that one shape, which is why
a mechanism's ``web.Response`` is converted into an `Answer` too. Answers that must not be
answered normally (timeout, reset) close the connection themselves.

The hot path is kept short because a crawler benchmark pushes >1,000 pages/s through one
process on the same two cores as the crawler: the loop is uvloop when it is installed (as in the
harvester; about 15 % less CPU per request than asyncio's own loop under aiohttp), small files
are cached with their precomputed validators, aiohttp's access log is off, and faults are not
looked at unless some are configured.
``bench/bench_portal_server.py`` compares the server's throughput and CPU cost per request with
the previous hand-written HTTP/1.1 implementation.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import email.utils
import errno
import fnmatch
import http
import itertools
import json
import logging
import os
import random
import re
import signal
import socket
import ssl
import stat
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml
from aiohttp import hdrs, web
from aiohttp.http import HttpVersion10, HttpVersion11

from sample_portal.mechanisms import DynamicRoutes
from core.registry import (
    OPTIONAL_FIELDS,
    Registry,
    dump_registry,
    load_registry,
    parse_registry,
)

logger = logging.getLogger(__name__)

SERVER_NAME = "zwgk-sample-portal"
CONTROL_PREFIX = "/__zwgk__/"
DEFAULT_LOG_SIZE = 200_000
IDLE_TIMEOUT = 60.0  # seconds a keep-alive connection may sit idle between requests
MAX_HEAD = 64 * 1024  # longest request line or header line accepted
MAX_CONTROL_BODY = 1024 * 1024
CACHE_MAX_FILE = 512 * 1024  # files up to this size are kept in memory
FILE_CHUNK = 256 * 1024  # bigger files are sent in pieces of this size when sendfile is not available
CACHE_MAX_BYTES = 128 * 1024 * 1024
CACHE_MAX_ENTRIES = 100_000
IPV6_BIND_ATTEMPTS = 8
LISTEN_BACKLOG = 512
# How long stop() lets in-flight requests (a slow fault, say) finish before cancelling them: the
# old server cancelled at once, and tests stop servers with faults still sleeping.
SHUTDOWN_GRACE = 0.25

NOT_FOUND_TEXT = "页面不存在"
# Paths a soft-404 host answers with 200 when missing: what a CMS would render as a page.
SOFT_404_SUFFIXES = (".html", ".htm", ".shtml", ".jsp", ".aspx", "/")

CONTENT_TYPES = {
    ".pdf": "application/pdf",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
    ".css": "text/css",
    ".js": "application/javascript",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
}
HTML_EXTENSIONS = (".html", ".htm")
_REASONS = {s.value: s.phrase for s in http.HTTPStatus}
_SERVER_HEADER = ("Server", SERVER_NAME)
OCTET_STREAM = "application/octet-stream"


# --------------------------------------------------------------------------- manifest


@dataclass(frozen=True)
class TlsFiles:
    """PEM files of an HTTPS host, as absolute paths: its certificate chain, key, and issuing CA."""

    cert: str
    key: str
    ca: str | None = None


@dataclass(frozen=True)
class Host:
    """One site of the portal: the listener(s) of one hostname and its document root."""

    key: str
    hostname: str
    root: str  # absolute, symlinks resolved: the boundary no request may leave
    ipv6: bool = True
    charset: str = "utf-8"
    scheme: str = "http"  # "https" serves TLS only, with `tls`
    tls: TlsFiles | None = None
    not_found: str = "hard"  # "soft": missing pages answer 200 with the 页面不存在 page

    def content_type(self, extension: str) -> str:
        if extension in HTML_EXTENSIONS:
            return f"text/html; charset={self.charset}"
        return CONTENT_TYPES.get(extension, OCTET_STREAM)


@dataclass(frozen=True)
class Manifest:
    hosts: tuple[Host, ...]
    units: tuple[dict[str, Any], ...]


def load_manifest(out_dir: str | Path) -> Manifest:
    """Read ``OUT/portal.json``; host roots become absolute so serving never depends on the cwd."""
    out_dir = Path(out_dir)
    data = json.loads((out_dir / "portal.json").read_text(encoding="utf-8"))
    hosts = [_host_entry(out_dir, entry) for entry in data["hosts"]]
    keys = [h.key for h in hosts]
    if len(set(keys)) != len(keys):
        raise ValueError(f"{out_dir}/portal.json: duplicate host keys in {keys}")
    units = tuple(data.get("units", ()))
    for unit in units:
        if unit.get("host") not in keys:
            raise ValueError(
                f"{out_dir}/portal.json: unit {unit.get('id')!r} names unknown host {unit.get('host')!r}"
            )
    return Manifest(hosts=tuple(hosts), units=units)


def _host_entry(out_dir: Path, entry: dict[str, Any]) -> Host:
    """One ``hosts[]`` entry; the optional keys (scheme, tls, not_found) default to a plain site."""
    where = f"{out_dir}/portal.json: host {entry.get('key')!r}"
    scheme = entry.get("scheme", "http")
    not_found = entry.get("not_found", "hard")
    if scheme not in ("http", "https"):
        raise ValueError(f"{where}: scheme must be http or https, got {scheme!r}")
    if not_found not in ("hard", "soft"):
        raise ValueError(f"{where}: not_found must be 'hard' or 'soft', got {not_found!r}")
    tls = None
    if entry.get("tls"):
        files = entry["tls"]
        if not (isinstance(files, dict) and files.get("cert") and files.get("key")):
            raise ValueError(f"{where}: tls must name at least 'cert' and 'key' files")
        tls = TlsFiles(
            cert=str(out_dir / files["cert"]),
            key=str(out_dir / files["key"]),
            ca=str((out_dir / files["ca"]).resolve()) if files.get("ca") else None,
        )
    if scheme == "https" and tls is None:
        raise ValueError(f"{where}: an https host needs tls files (cert, key, ca)")
    return Host(
        key=entry["key"],
        hostname=entry["hostname"].lower(),
        root=os.path.realpath(out_dir / entry["root"]),
        ipv6=bool(entry.get("ipv6", True)),
        charset=entry.get("charset", "utf-8"),
        scheme=scheme,
        tls=tls,
        not_found=not_found,
    )


def assign_ports(hosts: Iterable[Host], ports: dict[str, int] | None, port_base: int | None) -> dict[str, int]:
    """Port wanted for each host key: explicit, consecutive from ``port_base``, or 0 (ephemeral)."""
    hosts = list(hosts)
    if ports is not None and port_base is not None:
        raise ValueError("give either ports or port_base, not both")
    keys = {h.key for h in hosts}
    if ports is not None:
        unknown = sorted(set(ports) - keys)
        if unknown:
            raise ValueError(f"ports given for unknown host(s) {unknown}; hosts are {sorted(keys)}")
        return {h.key: int(ports.get(h.key, 0)) for h in hosts}
    if port_base:
        return {h.key: port_base + i for i, h in enumerate(hosts)}
    return {h.key: 0 for h in hosts}


# --------------------------------------------------------------------------- faults

# kind -> default parameters; a fault may only carry the parameters its kind knows.
FAULT_KINDS: dict[str, dict[str, Any]] = {
    "delay": {"seconds": 1.0},
    "status": {"code": 503, "retry_after": None},
    "timeout": {"seconds": 30.0},
    "truncate": {"bytes": None},  # body bytes actually sent; None = half of the body
    "redirect_loop": {},
    "reset": {},
    "huge": {"size": 10 * 1024 * 1024},
    "wrong_charset": {"charset": None},  # None = gbk on a utf-8 host, utf-8 on any other
    "binary_as_html": {"size": 64 * 1024},
}
_FAULT_FIELDS = ("host", "path", "kind", "times")
_fault_ids = itertools.count(1)
_TOKEN = re.compile(r"[A-Za-z0-9._:+-]+")


@dataclass
class Fault:
    """A rule that makes matching requests misbehave; ``times=None`` means forever."""

    kind: str
    host: str = "*"
    path: str = "*"  # fnmatch glob on the request target (path + "?" + query, as sent)
    times: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    id: int = field(default_factory=lambda: next(_fault_ids))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        """Validate a fault dict (``{host, path, kind, times, **params}``) and fill defaults."""
        if not isinstance(data, dict):
            raise ValueError(f"a fault must be a mapping, got {data!r}")
        kind = data.get("kind")
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(FAULT_KINDS)}")
        defaults = FAULT_KINDS[kind]
        params = {k: v for k, v in data.items() if k not in _FAULT_FIELDS}
        _check_fault_params(kind, params)
        times = data.get("times")
        if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
            raise ValueError(f"fault {kind!r}: times must be a positive integer or null, got {times!r}")
        host, path = data.get("host", "*"), data.get("path", "*")
        if not isinstance(host, str) or not isinstance(path, str):
            raise ValueError(f"fault {kind!r}: host and path must be strings")
        return cls(kind=kind, host=host, path=path, times=times, params={**defaults, **params})

    def to_dict(self) -> dict[str, Any]:
        fields = {"id": self.id, "host": self.host, "path": self.path, "kind": self.kind, "times": self.times}
        return {**fields, **self.params}

    def matches(self, host_key: str, target: str) -> bool:
        if self.host != "*" and self.host != host_key:
            return False
        if self.kind == "redirect_loop":
            target = _without_loop_param(target)  # keep matching the URLs it redirects to
        return fnmatch.fnmatchcase(target, self.path)


def _check_fault_params(kind: str, params: dict[str, Any]) -> None:
    """Reject parameters a kind does not know, and values that would break the HTTP answer."""
    unknown = sorted(set(params) - set(FAULT_KINDS[kind]))
    if unknown:
        raise ValueError(f"fault {kind!r} has unknown parameter(s) {unknown}; it takes {sorted(FAULT_KINDS[kind])}")
    for name, value in params.items():
        if name == "charset":
            if value is not None and not (isinstance(value, str) and _TOKEN.fullmatch(value)):
                raise ValueError(f"fault {kind!r}: charset must be a charset name, got {value!r}")
        elif value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
            raise ValueError(f"fault {kind!r}: {name} must be a non-negative number, got {value!r}")
    if kind == "status" and params.get("code", 503) not in _REASONS:
        raise ValueError(f"fault 'status': code {params['code']!r} is not an HTTP status code")


def load_faults(source: str | Path | Iterable[dict[str, Any]]) -> list[Fault]:
    """Faults from dicts or from a YAML file holding a list (or a mapping with a ``faults`` list)."""
    if isinstance(source, (str, Path)):
        data = yaml.safe_load(Path(source).read_text(encoding="utf-8")) or []
        if isinstance(data, dict):
            data = data.get("faults") or []
        if not isinstance(data, list):
            raise ValueError(f"{source}: expected a list of faults")
        source = data
    return [f if isinstance(f, Fault) else Fault.from_dict(f) for f in source]


class FaultTable:
    """The active faults, shared between the server loop and callers in other threads."""

    def __init__(self, hosts: Iterable[str]) -> None:
        self._hosts = set(hosts)
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self._faults)

    def add(self, faults: Iterable[Fault]) -> list[Fault]:
        """Add all the faults or, if one names an unknown host, none of them."""
        faults = list(faults)
        for fault in faults:
            if fault.host != "*" and fault.host not in self._hosts:
                raise ValueError(f"fault names unknown host {fault.host!r}; hosts are {sorted(self._hosts)} or '*'")
        with self._lock:
            self._faults.extend(faults)
        return faults

    def clear(self) -> int:
        with self._lock:
            count = len(self._faults)
            self._faults.clear()
        return count

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_dict() for f in self._faults]

    def take(self, host_key: str, target: str) -> Fault | None:
        """The first fault matching the request, used up by one if it is counted."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(host_key, target):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times == 0:
                            self._faults.remove(fault)
                    return fault
        return None


def _without_loop_param(target: str) -> str:
    path, _, query = target.partition("?")
    kept = [p for p in query.split("&") if p and not p.startswith("loop=")]
    return path + ("?" + "&".join(kept) if kept else "")


def _loop_target(target: str) -> str:
    """Where ``redirect_loop`` sends a request: the same URL with ``loop`` counted up by one."""
    path, _, query = target.partition("?")
    loop = 0
    kept = []
    for part in query.split("&"):
        if part.startswith("loop="):
            loop = int(part[5:]) if part[5:].isdigit() else 0
        elif part:
            kept.append(part)
    kept.append(f"loop={loop + 1}")
    return path + "?" + "&".join(kept)


# --------------------------------------------------------------------------- request log


class RequestLog:
    """Bounded, thread-safe log of requests; entries are filled in when the answer is sent."""

    def __init__(self, maxlen: int = DEFAULT_LOG_SIZE) -> None:
        self._entries: collections.deque[dict[str, Any]] = collections.deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def start(self, host_key: str, family: int, request: web.BaseRequest, target: str) -> dict[str, Any]:
        headers = request.headers
        entry = {
            "mono": time.monotonic(),  # CLOCK_MONOTONIC: comparable with other processes' time.monotonic()
            "time": time.time(),
            "host": host_key,
            "family": family,
            "method": request.method,
            "path": target,
            "status": None,  # stays None when the server never answers (reset, timeout)
            "bytes": 0,
            "user_agent": headers.get(hdrs.USER_AGENT),
            "if_none_match": headers.get(hdrs.IF_NONE_MATCH),
            "if_modified_since": headers.get(hdrs.IF_MODIFIED_SINCE),
            "range": headers.get(hdrs.RANGE),
            "referer": headers.get(hdrs.REFERER),
            "cookie": headers.get(hdrs.COOKIE),
            "fault": None,
        }
        with self._lock:
            self._entries.append(entry)
        return entry

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._entries]

    def clear(self) -> int:
        with self._lock:
            count = len(self._entries)
            self._entries.clear()
        return count


# --------------------------------------------------------------------------- answers


@dataclass(slots=True)
class FileSlice:
    """A body sent from disk with sendfile instead of being held in memory."""

    path: str
    offset: int
    count: int


@dataclass(slots=True)
class HugeBody:
    size: int


Body = bytes | FileSlice | HugeBody


@dataclass(slots=True)
class Answer:
    """What to answer, before it becomes an aiohttp response: faults can still rewrite it."""

    status: int
    headers: list[tuple[str, str]]
    body: Body = b""
    limit: int | None = None  # send only this many body bytes (truncate fault)
    close: bool = False  # close the connection after this answer


class _Reject(Exception):
    """Stop handling a request with a short error answer (or a redirect)."""

    def __init__(self, status: int, headers: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(status)
        self.status = status
        self.headers = list(headers)


@dataclass(slots=True)
class _Entry:
    """What the server knows about one file: validators, and the bytes when the file is small."""

    size: int
    mtime_ns: int
    etag: str
    last_modified: str
    body: bytes | None


class FileCache:
    """Bounded LRU of files keyed by path and revalidated against ``os.stat`` on every use.

    The stat is cheap and keeps the server correct if the generator rewrites the tree while it
    runs; hashing or re-reading content per request would not be.
    """

    def __init__(self, max_bytes: int = CACHE_MAX_BYTES, max_file: int = CACHE_MAX_FILE) -> None:
        self._entries: collections.OrderedDict[str, _Entry] = collections.OrderedDict()
        self._bytes = 0
        self._max_bytes = max_bytes
        self._max_file = max_file

    def __contains__(self, path: str) -> bool:
        return path in self._entries

    def get(self, path: str, st: os.stat_result) -> _Entry:
        entry = self._entries.get(path)
        if entry is not None and entry.size == st.st_size and entry.mtime_ns == st.st_mtime_ns:
            self._entries.move_to_end(path)
            return entry
        entry = self._load(path, st)
        self._put(path, entry)
        return entry

    def _load(self, path: str, st: os.stat_result) -> _Entry:
        body = None
        if st.st_size <= self._max_file:
            with open(path, "rb") as handle:
                body = handle.read()
        return _Entry(
            size=st.st_size,
            mtime_ns=st.st_mtime_ns,
            etag=f'"{st.st_size:x}-{st.st_mtime_ns:x}"',
            last_modified=email.utils.formatdate(st.st_mtime_ns // 1_000_000_000, usegmt=True),
            body=body,
        )

    def _put(self, path: str, entry: _Entry) -> None:
        old = self._entries.pop(path, None)
        if old is not None and old.body is not None:
            self._bytes -= len(old.body)
        self._entries[path] = entry
        if entry.body is not None:
            self._bytes += len(entry.body)
        while self._bytes > self._max_bytes or len(self._entries) > CACHE_MAX_ENTRIES:
            _, evicted = self._entries.popitem(last=False)
            if evicted.body is not None:
                self._bytes -= len(evicted.body)


def _page_html(title: str, text: str, charset: str) -> bytes:
    return (
        f'<!DOCTYPE html><html><head><meta charset="{charset}"><title>{title}</title></head>'
        f"<body><h1>{text}</h1></body></html>\n"
    ).encode(charset)


def _error_answer(host: Host, status: int, headers: Iterable[tuple[str, str]] = ()) -> Answer:
    text = NOT_FOUND_TEXT if status == 404 else f"{status} {_REASONS[status]}"
    return Answer(
        status,
        [("Content-Type", f"text/html; charset={host.charset}"), *headers],
        _page_html(str(status), text, host.charset),
    )


def _soft_404_answer(host: Host) -> Answer:
    """The 404 page, answered with 200 as soft-404 CMSs do."""
    answer = _error_answer(host, 404)
    answer.status = 200
    return answer


def _json_answer(status: int, data: Any) -> Answer:
    body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    return Answer(status, [("Content-Type", "application/json")], body)


def _from_dynamic(response: web.StreamResponse) -> Answer | web.StreamResponse:
    """A mechanism's ``web.Response`` as an `Answer`, so faults and the log treat it like a file.

    Cookies set with ``set_cookie`` become ``Set-Cookie`` headers here (aiohttp would only add
    them when preparing). A streaming response is passed through untouched.
    """
    if not isinstance(response, web.Response) or not isinstance(response.body, (bytes, bytearray, type(None))):
        return response
    headers = list(response.headers.items())
    headers += [("Set-Cookie", morsel.OutputString()) for morsel in response.cookies.values()]
    close = response.keep_alive is False
    return Answer(response.status, headers, bytes(response.body or b""), close=close)


def _extension(path: str) -> str:
    """Extension of the served name, ignoring the ``@query`` suffix of generated query pages."""
    name = path.rsplit("/", 1)[-1].split("@", 1)[0]
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def _has_page_param(query: str) -> bool:
    return any(part.startswith("page=") for part in query.split("&"))


def _stat_file(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except (OSError, ValueError):  # missing, a file used as a directory, name too long, …
        return None


def _etag_matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


def _not_modified_since(header: str, entry: _Entry) -> bool:
    if header == entry.last_modified:
        return True
    try:
        since = email.utils.parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return False
    return entry.mtime_ns // 1_000_000_000 <= since


class _Unsatisfiable(Exception):
    pass


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """Inclusive byte range of a single-range ``Range`` header, or None to serve the whole file.

    Multiple ranges and malformed headers are ignored (allowed by RFC 7233); a well-formed range
    that lies outside the file raises `_Unsatisfiable` (416).
    """
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash or not (first.isdigit() or last.isdigit()):
        return None
    if not first:  # suffix range: the last N bytes
        count = int(last)
        if count == 0 or size == 0:
            raise _Unsatisfiable
        return max(0, size - count), size - 1
    start = int(first)
    if last and not last.isdigit():
        return None
    end = min(int(last), size - 1) if last else size - 1
    if last and int(last) < start:
        return None
    if start >= size:
        raise _Unsatisfiable
    return start, end


_HUGE_HEAD = b'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>huge</title></head><body>\n'
_HUGE_TAIL = b"</body></html>\n"
HUGE_MIN_SIZE = len(_HUGE_HEAD) + len(_HUGE_TAIL)


def _huge_chunks(size: int, limit: int) -> Iterator[bytes]:
    """A valid HTML page of exactly ``size`` (>= HUGE_MIN_SIZE) bytes, cut after ``limit`` bytes."""
    line = b"<p>" + b"0123456789" * 5 + b"</p>\n"  # 59 bytes
    block = line * 1111
    filler = size - HUGE_MIN_SIZE
    pieces = [_HUGE_HEAD]
    full_blocks, rest = divmod(filler, len(block))
    pieces.extend(itertools.repeat(block, full_blocks))
    lines, spaces = divmod(rest, len(line))
    pieces.append(line * lines + b" " * spaces)
    pieces.append(_HUGE_TAIL)
    for piece in pieces:
        if limit <= 0:
            return
        yield piece[:limit]
        limit -= len(piece)


def _body_length(body: Body) -> int:
    if isinstance(body, bytes):
        return len(body)
    if isinstance(body, FileSlice):
        return body.count
    return body.size


def _split_target(raw: str) -> tuple[str, str, str]:
    """(target, path, query) of a request target as sent, without scheme, authority or fragment.

    aiohttp's ``raw_path`` is the target exactly as sent: the only form in which the path can be
    checked for traversal before anything (yarl) normalizes ``..`` away.
    """
    target = raw
    if target.startswith(("http://", "https://")):  # absolute-form: drop scheme and authority
        slash = target.find("/", target.find("//") + 2)
        target = target[slash:] if slash >= 0 else "/"
    target = target.partition("#")[0]
    path, _, query = target.partition("?")
    return target, path, query


def _looks_like_page(path: str) -> bool:
    return path.lower().endswith(SOFT_404_SUFFIXES)


def _answer_as_http11(request: web.BaseRequest, answer: Answer) -> None:
    """Answer an HTTP/1.0 client with an HTTP/1.1 status line, as nginx and the old server do.

    RFC 9110 §2.5 asks servers to send their own highest version; aiohttp echoes the request's and
    offers no switch, so the reified ``version`` is overridden. aiohttp then writes
    ``Connection: close`` itself for a 1.0 client that did not ask to keep the connection; one
    that did is told ``keep-alive`` here.
    """
    request._cache["version"] = HttpVersion11
    if request.keep_alive:
        answer.headers.append(("Connection", "keep-alive"))


# --------------------------------------------------------------------------- the server


class PortalServer:
    """Serve a generated portal tree on loopback; usable from tests (thread) or the CLI (blocking).

    ``start()`` runs the event loop in a daemon thread and returns once every listener is bound
    and the crawler registry is written; ``stop()`` closes listeners and open connections.
    Faults and the request log can be used from any thread.
    """

    def __init__(
        self,
        out_dir: str | Path,
        ports: dict[str, int] | None = None,
        port_base: int | None = None,
        faults: str | Path | Iterable[dict[str, Any]] = (),
        registry_path: str | Path | None = None,
        bind_ipv6: bool = True,
        log_requests: bool = False,
        log_size: int = DEFAULT_LOG_SIZE,
    ) -> None:
        self.out_dir = Path(out_dir)
        self.manifest = load_manifest(self.out_dir)
        self.hosts = {h.key: h for h in self.manifest.hosts}
        self._wanted_ports = assign_ports(self.manifest.hosts, ports, port_base)
        self.bind_ipv6 = bind_ipv6
        self.log_requests = log_requests
        self.registry_path = Path(registry_path) if registry_path else self.out_dir / "registry.yaml"
        self.registry: Registry | None = None
        self.ports: dict[str, int] = {}
        self.dynamic = DynamicRoutes(self.out_dir, [])  # replaced by OUT/dynamic.json on start
        self._faults = FaultTable(self.hosts)
        self._faults.add(load_faults(faults))
        self._log = RequestLog(log_size)
        self._cache = FileCache()
        self._binary_bodies: dict[int, bytes] = {}
        self._runners: list[web.AppRunner] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    # ---- public API

    def start(self) -> PortalServer:
        """Bind every listener in a background thread; raises what binding raised."""
        if self._thread is not None:
            raise RuntimeError("server already started")
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            try:
                with asyncio.Runner(loop_factory=_loop_factory()) as runner:
                    runner.run(self._run(on_ready=ready.set))
            except BaseException as exc:  # reported to the starting thread
                failure.append(exc)
            finally:
                ready.set()

        self._thread = threading.Thread(target=run, name="zwgk-portal-server", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self

    def stop(self) -> None:
        """Close the listeners and every open connection, and wait for the server thread."""
        loop, event = self._loop, self._stop_event
        if loop is not None and event is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # loop closed meanwhile
                pass
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> PortalServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def base_url(self, host_key: str) -> str:
        """``http(s)://127.0.0.1:<port>`` of a host: usable without the registry's name resolution."""
        return f"{self.hosts[host_key].scheme}://127.0.0.1:{self.ports[host_key]}"

    def add_fault(self, **fault: Any) -> dict[str, Any]:
        """Add one fault (``kind=…, host=…, path=…, times=…, **params``); returns it with its id."""
        return self._faults.add([Fault.from_dict(fault)])[0].to_dict()

    def clear_faults(self) -> int:
        return self._faults.clear()

    def faults(self) -> list[dict[str, Any]]:
        return self._faults.snapshot()

    def requests(self) -> list[dict[str, Any]]:
        return self._log.snapshot()

    def clear_requests(self) -> int:
        return self._log.clear()

    # ---- lifecycle (inside the event loop)

    async def _run(self, on_ready: Callable[[], None], handle_signals: bool = False) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        if handle_signals:
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._loop.add_signal_handler(signum, self._stop_event.set)
        try:
            await self._open()
            on_ready()
            await self._stop_event.wait()
        finally:
            await self._close()

    async def _open(self) -> None:
        self.dynamic = DynamicRoutes.load(self.out_dir)
        for host in self.manifest.hosts:
            self.ports[host.key] = await self._bind_host(host, self._wanted_ports[host.key])
        self.registry = self._write_registry()

    async def _bind_host(self, host: Host, port: int) -> int:
        """Listen on 127.0.0.1 (and ::1 at the same port); an ephemeral port is retried if ::1 has it."""
        tls = _tls_context(host)
        attempts = IPV6_BIND_ATTEMPTS if port == 0 else 1
        for attempt in itertools.count(1):
            v4 = _listening_socket(socket.AF_INET, "127.0.0.1", port)
            chosen = v4.getsockname()[1]
            if not (host.ipv6 and self.bind_ipv6):
                await self._serve(host, 4, v4, tls)
                return chosen
            try:
                v6 = _listening_socket(socket.AF_INET6, "::1", chosen)
            except OSError as exc:
                v4.close()
                if exc.errno != errno.EADDRINUSE or attempt >= attempts:
                    raise
                continue
            await self._serve(host, 4, v4, tls)
            await self._serve(host, 6, v6, tls)
            return chosen

    async def _serve(self, host: Host, family: int, sock: socket.socket, tls: ssl.SSLContext | None) -> None:
        """One listener: an application whose only route answers every request for this host."""

        async def handle(request: web.Request) -> web.StreamResponse:
            return await self._handle(host, family, request)

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        runner = web.AppRunner(
            app,
            access_log=None,  # the request log replaces it, and formatting lines costs time
            keepalive_timeout=IDLE_TIMEOUT,
            shutdown_timeout=SHUTDOWN_GRACE,
            max_line_size=MAX_HEAD,
            max_field_size=MAX_HEAD,
        )
        await runner.setup()
        self._runners.append(runner)
        await web.SockSite(runner, sock, ssl_context=tls, backlog=LISTEN_BACKLOG).start()

    async def _close(self) -> None:
        # Listeners first, all of them, so that no host still accepts while another is shutting down.
        for runner in self._runners:
            for site in list(runner.sites):
                await site.stop()
        await asyncio.gather(*(runner.cleanup() for runner in self._runners), return_exceptions=True)
        self._runners.clear()

    def _write_registry(self) -> Registry:
        """Write the crawler's registry (atomically: benchmarks may read it from another process)."""
        addresses = ["127.0.0.1", "::1"] if self.bind_ipv6 else ["127.0.0.1"]
        units = []
        for unit in self.manifest.units:
            host = self.hosts[unit["host"]]
            entry = {k: unit[k] for k in ("id", "name", "kind") if k in unit}
            entry["url"] = f"{host.scheme}://{host.hostname}:{self.ports[host.key]}{unit['path']}"
            entry.update({k: unit[k] for k in OPTIONAL_FIELDS if k in unit})
            units.append(entry)
        data: dict[str, Any] = {
            "allow_private_addresses": True,
            "resolve": {h.hostname: list(addresses) for h in self.manifest.hosts},
            "units": units,
        }
        trusted = {h.hostname: {"ca_bundle": h.tls.ca} for h in self.manifest.hosts if h.tls and h.tls.ca}
        if trusted:
            data["hosts"] = trusted
        text = dump_registry(parse_registry(data, source=str(self.registry_path)))
        self.registry_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.registry_path.with_name(self.registry_path.name + f".{os.getpid()}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, self.registry_path)
        return load_registry(self.registry_path)

    # ---- one request

    async def _handle(self, host: Host, family: int, request: web.Request) -> web.StreamResponse:
        target, path, query = _split_target(request.raw_path)
        if path.startswith(CONTROL_PREFIX):
            return await self._control(request, path)
        entry = self._log.start(host.key, family, request, target)
        fault = self._faults.take(host.key, target) if self._faults else None
        if fault is None:
            answer = await self._normal_answer(host, request, target, path, query)
        else:
            entry["fault"] = fault.kind
            answer = await self._faulty_answer(host, request, target, path, query, fault)
            if answer is None:  # the fault closed the connection instead of answering
                return _unanswered()
        if isinstance(answer, Answer):
            response = await self._respond(request, answer, entry)
        else:  # a mechanism's streaming response, sent as it is
            response = answer
            entry["status"], entry["bytes"] = response.status, response.content_length or 0
        if self.log_requests:
            line = f"{host.key} IPv{family} {request.method} {target} {entry['status']} {entry['bytes']}"
            print(line, file=sys.stderr, flush=True)
        return response

    async def _normal_answer(
        self, host: Host, request: web.Request, target: str, path: str, query: str
    ) -> Answer | web.StreamResponse:
        """A dynamic route's answer if one answers, else the static file's."""
        if self.dynamic:
            response = await self._dynamic_response(host, request)
            if response is not None:
                return response if isinstance(response, Answer) else _from_dynamic(response)
        return self._static_answer(host, request, path, query)

    async def _dynamic_response(self, host: Host, request: web.Request) -> Answer | web.StreamResponse | None:
        try:
            return await self.dynamic.handle(host.key, request)
        except web.HTTPException as exc:  # raised instead of returned: still an answer
            return exc
        except Exception:  # a bug in a mechanism: a 500 in the request log says where, the traceback why
            logger.exception("dynamic route on host %s failed for %s %s", host.key, request.method, request.raw_path)
            return _error_answer(host, 500)

    async def _respond(self, request: web.Request, answer: Answer, entry: dict[str, Any]) -> web.StreamResponse:
        """Turn an `Answer` into an aiohttp response; bytes are handed over, everything else streamed.

        The log entry gets the status now and the body bytes once they are handed to aiohttp.
        """
        entry["status"] = answer.status
        body = answer.body
        if isinstance(body, bytes) and answer.limit is None:
            if request.method != "HEAD" and answer.status != 304:
                entry["bytes"] = len(body)
            return _bytes_response(request, answer)
        return await self._stream(request, answer, entry)

    async def _stream(self, request: web.Request, answer: Answer, entry: dict[str, Any]) -> web.StreamResponse:
        """Send a body that is a file slice, a huge page, or cut short, counting bytes as they go."""
        body = answer.body
        length = _body_length(body)
        response = web.StreamResponse(status=answer.status, headers=_final_headers(request, answer))
        response.content_length = length  # of the whole body, even when only part is sent
        if answer.close:
            response.force_close()
        try:
            await response.prepare(request)
            if request.method != "HEAD" and answer.status != 304:
                count = length if answer.limit is None else min(answer.limit, length)
                await _write_body(request, response, body, count, entry)
            await response.write_eof()
        except ConnectionError:  # the client went away mid-answer; aiohttp closes the connection
            response.force_close()
        return response

    def _static_answer(self, host: Host, request: web.Request, path: str, query: str) -> Answer:
        if request.method not in ("GET", "HEAD"):
            headers = [("Allow", "GET, HEAD"), ("Content-Type", "text/plain; charset=utf-8")]
            return Answer(405, headers, b"method not allowed\n")
        try:
            file_path, st = self._locate(host, path, query)
            return self._file_answer(host, request, file_path, self._cache.get(file_path, st))
        except _Reject as reject:
            if reject.status == 404 and host.not_found == "soft" and _looks_like_page(path):
                return _soft_404_answer(host)
            return _error_answer(host, reject.status, reject.headers)

    def _locate(self, host: Host, path: str, query: str) -> tuple[str, os.stat_result]:
        """File (and its stat) answering the request's path and query, by the tree's conventions."""
        if not path.startswith("/") or "/" in query or ".." in query or "\\" in query:
            raise _Reject(400)
        try:
            decoded = unquote(path, errors="strict")
        except UnicodeDecodeError:
            raise _Reject(400) from None
        if "\0" in decoded:
            raise _Reject(400)
        parts = [p for p in decoded.split("/") if p and p != "."]
        if ".." in parts:
            raise _Reject(404)
        relative = "/".join(parts)
        if decoded.endswith("/"):
            relative = f"{relative}/index.html" if relative else "index.html"
        base = os.path.join(host.root, relative)
        if query:
            candidate = f"{base}@{query}"
            st = _stat_file(candidate)
            if st is not None and stat.S_ISREG(st.st_mode):
                return self._inside_root(host, candidate), st
            if _has_page_param(query):
                raise _Reject(404)
        st = _stat_file(base)
        if st is None:
            raise _Reject(404)
        if stat.S_ISDIR(st.st_mode):
            location = path + "/" + (f"?{query}" if query else "")
            raise _Reject(301, [("Location", location)])
        if not stat.S_ISREG(st.st_mode):
            raise _Reject(404)
        return self._inside_root(host, base), st

    def _inside_root(self, host: Host, path: str) -> str:
        """Refuse files reached through a symlink pointing out of the document root.

        Only checked when the cache does not know the file yet: the path segments are already
        free of ``..``, so only symlinks could escape.
        """
        if path not in self._cache and not os.path.realpath(path).startswith(host.root + os.sep):
            raise _Reject(404)
        return path

    def _file_answer(self, host: Host, request: web.Request, path: str, entry: _Entry) -> Answer:
        headers = [
            ("Content-Type", host.content_type(_extension(path))),
            ("Last-Modified", entry.last_modified),
            ("ETag", entry.etag),
            ("Accept-Ranges", "bytes"),
        ]
        request_headers = request.headers
        if_none_match = request_headers.get(hdrs.IF_NONE_MATCH)
        if if_none_match is not None:
            if _etag_matches(if_none_match, entry.etag):
                return Answer(304, headers[1:3])
        else:
            if_modified_since = request_headers.get(hdrs.IF_MODIFIED_SINCE)
            if if_modified_since is not None and _not_modified_since(if_modified_since, entry):
                return Answer(304, headers[1:3])
        start, end = 0, entry.size - 1
        status = 200
        range_header = request_headers.get(hdrs.RANGE)
        if range_header is not None:
            try:
                wanted = parse_range(range_header, entry.size)
            except _Unsatisfiable:
                return Answer(416, [("Content-Range", f"bytes */{entry.size}")])
            if wanted is not None:
                (start, end), status = wanted, 206
                headers.append(("Content-Range", f"bytes {start}-{end}/{entry.size}"))
        if entry.body is not None:
            body: Body = entry.body if status == 200 else entry.body[start : end + 1]
        else:
            body = FileSlice(path, start, end - start + 1)
        return Answer(status, headers, body)

    # ---- faults

    async def _faulty_answer(
        self, host: Host, request: web.Request, target: str, path: str, query: str, fault: Fault
    ) -> Answer | web.StreamResponse | None:
        """The answer a fault gives instead of the normal one; None when nothing is answered."""
        params = fault.params
        kind = fault.kind
        if kind == "delay":
            await asyncio.sleep(params["seconds"])
            return await self._normal_answer(host, request, target, path, query)
        if kind == "status":
            extra = [("Retry-After", str(params["retry_after"]))] if params["retry_after"] is not None else []
            return _error_answer(host, int(params["code"]), extra)
        if kind == "timeout":
            await asyncio.sleep(params["seconds"])
            _close_connection(request, reset=False)
            return None
        if kind == "reset":
            _close_connection(request, reset=True)
            return None
        if kind == "redirect_loop":
            return Answer(302, [("Location", _loop_target(target))])
        if kind == "huge":
            html = [("Content-Type", f"text/html; charset={host.charset}")]
            return Answer(200, html, HugeBody(max(HUGE_MIN_SIZE, int(params["size"]))))
        if kind == "binary_as_html":
            html = [("Content-Type", f"text/html; charset={host.charset}")]
            return Answer(200, html, self._binary_body(int(params["size"])))
        answer = await self._normal_answer(host, request, target, path, query)
        if not isinstance(answer, Answer):  # a streaming dynamic response cannot be rewritten
            return answer
        if kind == "truncate":
            length = _body_length(answer.body)
            answer.limit = length // 2 if params["bytes"] is None else min(int(params["bytes"]), length)
            answer.close = True
        elif kind == "wrong_charset":
            charset = params["charset"] or ("gbk" if host.charset.lower() in ("utf-8", "utf8") else "utf-8")
            answer.headers = [
                (name, f"{value.split(';')[0]}; charset={charset}" if name.lower() == "content-type" else value)
                for name, value in answer.headers
            ]
        return answer

    def _binary_body(self, size: int) -> bytes:
        """Deterministic bytes that no charset decodes cleanly, cached per size."""
        body = self._binary_bodies.get(size)
        if body is None:
            body = self._binary_bodies[size] = random.Random(size).randbytes(size)
        return body

    # ---- control endpoint

    async def _control(self, request: web.Request, path: str) -> web.StreamResponse:
        """``/__zwgk__/faults`` and ``/__zwgk__/requests``; not logged, never subject to faults."""
        length = request.content_length or 0
        if hdrs.TRANSFER_ENCODING in request.headers or length > MAX_CONTROL_BODY:
            error = _json_answer(400, {"error": f"send a body of at most {MAX_CONTROL_BODY} bytes with Content-Length"})
            error.close = True
            return _bytes_response(request, error)
        body = await request.read()
        return _bytes_response(request, self._control_answer(request.method, path, body))

    def _control_answer(self, method: str, path: str, body: bytes) -> Answer:
        name = path[len(CONTROL_PREFIX) :].strip("/")
        if name == "faults":
            if method == "GET":
                return _json_answer(200, {"faults": self.faults()})
            if method == "DELETE":
                return _json_answer(200, {"cleared": self.clear_faults()})
            if method == "POST":
                try:
                    data = json.loads(body or b"null")
                    faults = self._faults.add(load_faults(data if isinstance(data, list) else [data]))
                except ValueError as exc:
                    return _json_answer(400, {"error": str(exc)})
                return _json_answer(201, {"added": [f.to_dict() for f in faults], "faults": self.faults()})
        elif name == "requests":
            if method == "GET":
                return _json_answer(200, {"requests": self.requests()})
            if method == "DELETE":
                return _json_answer(200, {"cleared": self.clear_requests()})
        else:
            return _json_answer(404, {"error": f"unknown control resource {name!r}"})
        return _json_answer(405, {"error": f"{method} not allowed on {path}"})


async def _write_body(
    request: web.Request, response: web.StreamResponse, body: Body, count: int, entry: dict[str, Any]
) -> None:
    """Write the first ``count`` bytes of a body after the headers, adding them to the log entry."""
    if isinstance(body, bytes):
        await response.write(body[:count])
        entry["bytes"] = count
    elif isinstance(body, FileSlice):
        await _write_file(request, response, body, count, entry)
    else:
        for chunk in _huge_chunks(body.size, count):
            await response.write(chunk)
            entry["bytes"] += len(chunk)  # counted as sent: a crawler may hang up mid-page


async def _write_file(
    request: web.Request, response: web.StreamResponse, body: FileSlice, count: int, entry: dict[str, Any]
) -> None:
    """Send part of a file: with sendfile where the loop has it, else read and written in chunks."""
    transport = request.transport
    if transport is None:
        raise ConnectionResetError("connection lost before the body was sent")
    with open(body.path, "rb") as handle:
        try:  # as aiohttp's FileResponse does: the headers are already out
            entry["bytes"] = await asyncio.get_running_loop().sendfile(transport, handle, body.offset, count)
            return
        except NotImplementedError:  # uvloop has no sendfile
            pass
        handle.seek(body.offset)
        while count > 0 and (chunk := handle.read(min(FILE_CHUNK, count))):
            await response.write(chunk)
            entry["bytes"] += len(chunk)
            count -= len(chunk)


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """uvloop when installed (as the harvester uses it): its transports cut the server's CPU per request."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop
    return uvloop.new_event_loop


def _bytes_response(request: web.BaseRequest, answer: Answer) -> web.Response:
    """An answer whose body is in memory, handed to aiohttp whole (it writes head and body at once)."""
    response = web.Response(status=answer.status, headers=_final_headers(request, answer), body=answer.body)
    if answer.close:
        response.force_close()
    return response


def _final_headers(request: web.BaseRequest, answer: Answer) -> list[tuple[str, str]]:
    if request.version == HttpVersion10:
        _answer_as_http11(request, answer)
    return [*answer.headers, _SERVER_HEADER]


def _close_connection(request: web.Request, reset: bool) -> None:
    """End the connection without an answer: an orderly FIN, or an RST when ``reset``."""
    transport = request.transport
    if transport is None:
        return
    if reset:
        sock = transport.get_extra_info("socket")
        if sock is not None:  # linger 0: close() sends RST instead of FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()


def _unanswered() -> web.Response:
    """What the handler returns once it closed the connection itself.

    aiohttp needs a response object; writing it fails on the closed transport, which aiohttp
    takes as the client having left, quietly, and it ends the connection.
    """
    response = web.Response()
    response.force_close()
    return response


def _listening_socket(family: int, address: str, port: int) -> socket.socket:
    """A bound, listening socket; bound here (not by aiohttp) to learn an ephemeral port at once."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((address, port))
        sock.listen(LISTEN_BACKLOG)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def _tls_context(host: Host) -> ssl.SSLContext | None:
    if host.scheme != "https" or host.tls is None:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)  # no client certificates: no trust store to load
    context.load_cert_chain(host.tls.cert, host.tls.key)
    return context


# --------------------------------------------------------------------------- blocking entry point


def serve_forever(
    out_dir: str | Path,
    ports: dict[str, int] | None = None,
    port_base: int | None = None,
    faults: str | Path | Iterable[dict[str, Any]] = (),
    registry_path: str | Path | None = None,
    bind_ipv6: bool = True,
    log_requests: bool = False,
    ready_callback: Callable[[PortalServer], None] | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM (for ``zwgk sites serve``); prints where each host listens."""
    server = PortalServer(
        out_dir, ports=ports, port_base=port_base, faults=faults, registry_path=registry_path,
        bind_ipv6=bind_ipv6, log_requests=log_requests,
    )

    def announce() -> None:
        for host in server.manifest.hosts:
            families = "IPv4+IPv6" if host.ipv6 and server.bind_ipv6 else "IPv4 only"
            print(f"host {host.hostname} → {server.base_url(host.key)} ({families})")
        print(f"registry written to {server.registry_path}", flush=True)
        if ready_callback is not None:
            ready_callback(server)

    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(server._run(on_ready=announce, handle_signals=True))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sample_portal.server", description="Serve a sample portal tree.")
    parser.add_argument("out_dir", help="generator output directory (holds portal.json)")
    parser.add_argument("--port-base", type=int, default=None, help="first port, then one per host (default: ephemeral)")
    parser.add_argument("--faults", default=None, help="YAML file with a list of faults to inject")
    parser.add_argument("--registry", default=None, help="crawler registry to write (default OUT/registry.yaml)")
    parser.add_argument("--no-ipv6", action="store_true", help="listen on 127.0.0.1 only")
    parser.add_argument("--log-requests", action="store_true", help="print one line per request to stderr")
    args = parser.parse_args(argv)
    serve_forever(
        args.out_dir, port_base=args.port_base, faults=args.faults or (), registry_path=args.registry,
        bind_ipv6=not args.no_ipv6, log_requests=args.log_requests,
    )


if __name__ == "__main__":
    main()
