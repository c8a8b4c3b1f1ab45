"""HTTP server for the generated sample portal: static files, many hosts, injectable faults.

The generator writes a portal tree (``portal.json`` + ``sites/<host>/…``); this module serves it
over real sockets so the crawler can be tested end to end without the network:

* one listener per host of the manifest, on 127.0.0.1 and, for hosts with ``ipv6: true``, also on
  ``::1`` at the same port (an IPv4-only host must refuse IPv6, like the real FTZ site);
* static conventions of the tree: ``/a/`` serves ``/a/index.html``; ``/a/list.html?page=3``
  serves the file ``/a/list.html@page=3``; unknown queries fall back to the plain file, except
  ``page=N`` which is a 404 when no such page was generated;
* HTTP/1.1 keep-alive, GET/HEAD, single ``Range`` requests, ``ETag``/``Last-Modified`` validators;
* faults (slow, failing, truncated, looping, huge, mislabelled answers) configured at start, from
  Python, or over HTTP at ``/__zwgk__/faults`` on any listener;
* a bounded log of every request, which tests use to check politeness and robots compliance.

The hot path is kept short because a crawler benchmark pushes >1,000 pages/s through one
process: small files are cached with their precomputed validators, headers are only split,
never fully validated, and faults are not looked at unless some are configured.
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
import os
import random
import re
import signal
import socket
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

from zwgk.registry import OPTIONAL_FIELDS, Registry, dump_registry, load_registry, parse_registry

SERVER_NAME = "zwgk-sample-portal"
CONTROL_PREFIX = "/__zwgk__/"
DEFAULT_LOG_SIZE = 200_000
IDLE_TIMEOUT = 60.0  # seconds a keep-alive connection may sit idle between requests
MAX_HEAD = 64 * 1024  # request line + headers
MAX_CONTROL_BODY = 1024 * 1024
CACHE_MAX_FILE = 512 * 1024  # files up to this size are kept in memory
CACHE_MAX_BYTES = 128 * 1024 * 1024
CACHE_MAX_ENTRIES = 100_000
IPV6_BIND_ATTEMPTS = 8

NOT_FOUND_TEXT = "页面不存在"

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
_SERVER_LINE = f"Server: {SERVER_NAME}"
OCTET_STREAM = "application/octet-stream"


# --------------------------------------------------------------------------- manifest


@dataclass(frozen=True)
class Host:
    """One site of the portal: the listener(s) of one hostname and its document root."""

    key: str
    hostname: str
    root: str  # absolute, symlinks resolved: the boundary no request may leave
    ipv6: bool = True
    charset: str = "utf-8"

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
    hosts = []
    for entry in data["hosts"]:
        hosts.append(
            Host(
                key=entry["key"],
                hostname=entry["hostname"].lower(),
                root=os.path.realpath(out_dir / entry["root"]),
                ipv6=bool(entry.get("ipv6", True)),
                charset=entry.get("charset", "utf-8"),
            )
        )
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

    def start(self, host_key: str, family: int, request: Request) -> dict[str, Any]:
        headers = request.headers
        entry = {
            "mono": time.monotonic(),  # CLOCK_MONOTONIC: comparable with other processes' time.monotonic()
            "time": time.time(),
            "host": host_key,
            "family": family,
            "method": request.method,
            "path": request.target,
            "status": None,  # stays None when the server never answers (reset, timeout)
            "bytes": 0,
            "user_agent": headers.get("user-agent"),
            "if_none_match": headers.get("if-none-match"),
            "if_modified_since": headers.get("if-modified-since"),
            "range": headers.get("range"),
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


# --------------------------------------------------------------------------- HTTP pieces


@dataclass(slots=True)
class Request:
    method: str
    target: str  # path + "?" + query as sent, without scheme/authority
    path: str
    query: str
    http10: bool
    headers: dict[str, str]


@dataclass(slots=True)
class FileSlice:
    """A body streamed from disk with sendfile instead of being held in memory."""

    path: str
    offset: int
    count: int


@dataclass(slots=True)
class HugeBody:
    size: int


Body = bytes | FileSlice | HugeBody


@dataclass(slots=True)
class Response:
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


class _BadRequest(Exception):
    pass


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


def _error_response(host: Host, status: int, headers: Iterable[tuple[str, str]] = ()) -> Response:
    text = NOT_FOUND_TEXT if status == 404 else f"{status} {_REASONS[status]}"
    return Response(
        status,
        [("Content-Type", f"text/html; charset={host.charset}"), *headers],
        _page_html(str(status), text, host.charset),
    )


def _json_response(status: int, data: Any) -> Response:
    body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    return Response(status, [("Content-Type", "application/json")], body)


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


def _parse_head(head: bytes) -> Request:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _BadRequest(lines[0])
    method, target, version = parts
    if target.startswith(("http://", "https://")):  # absolute-form: drop scheme and authority
        slash = target.find("/", target.find("//") + 2)
        target = target[slash:] if slash >= 0 else "/"
    target = target.partition("#")[0]
    if not target.startswith("/"):
        raise _BadRequest(lines[0])
    headers = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    path, _, query = target.partition("?")
    return Request(method, target, path, query, version == "HTTP/1.0", headers)


def _wants_keep_alive(request: Request) -> bool:
    connection = request.headers.get("connection", "").lower()
    if request.http10:
        return "keep-alive" in connection
    return "close" not in connection


def _has_body(request: Request) -> bool:
    return "transfer-encoding" in request.headers or request.headers.get("content-length", "0") not in ("", "0")


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
        self._faults = FaultTable(self.hosts)
        self._faults.add(load_faults(faults))
        self._log = RequestLog(log_size)
        self._cache = FileCache()
        self._binary_bodies: dict[int, bytes] = {}
        self._servers: list[asyncio.AbstractServer] = []
        self._connections: set[asyncio.Task] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._date_second = -1
        self._date_line = ""

    # ---- public API

    def start(self) -> PortalServer:
        """Bind every listener in a background thread; raises what binding raised."""
        if self._thread is not None:
            raise RuntimeError("server already started")
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            try:
                asyncio.run(self._run(on_ready=ready.set))
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
        """``http://127.0.0.1:<port>`` of a host: usable without the registry's name resolution."""
        return f"http://127.0.0.1:{self.ports[host_key]}"

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
        for host in self.manifest.hosts:
            self.ports[host.key] = await self._bind_host(host, self._wanted_ports[host.key])
        self.registry = self._write_registry()

    async def _bind_host(self, host: Host, port: int) -> int:
        """Listen on 127.0.0.1 (and ::1 at the same port); an ephemeral port is retried if ::1 has it."""
        attempts = IPV6_BIND_ATTEMPTS if port == 0 else 1
        for attempt in itertools.count(1):
            v4 = await self._listen(host, "127.0.0.1", port)
            chosen = v4.sockets[0].getsockname()[1]
            if not (host.ipv6 and self.bind_ipv6):
                self._servers.append(v4)
                return chosen
            try:
                v6 = await self._listen(host, "::1", chosen)
            except OSError as exc:
                v4.close()
                await v4.wait_closed()
                if exc.errno != errno.EADDRINUSE or attempt >= attempts:
                    raise
                continue
            self._servers += [v4, v6]
            return chosen

    async def _listen(self, host: Host, address: str, port: int) -> asyncio.AbstractServer:
        async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await self._connection(host, reader, writer)

        return await asyncio.start_server(on_connection, address, port, limit=MAX_HEAD, backlog=512)

    async def _close(self) -> None:
        for server in self._servers:
            server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()

    def _write_registry(self) -> Registry:
        """Write the crawler's registry (atomically: benchmarks may read it from another process)."""
        addresses = ["127.0.0.1", "::1"] if self.bind_ipv6 else ["127.0.0.1"]
        units = []
        for unit in self.manifest.units:
            host = self.hosts[unit["host"]]
            entry = {k: unit[k] for k in ("id", "name", "kind") if k in unit}
            entry["url"] = f"http://{host.hostname}:{self.ports[host.key]}{unit['path']}"
            entry.update({k: unit[k] for k in OPTIONAL_FIELDS if k in unit})
            units.append(entry)
        data = {
            "allow_private_addresses": True,
            "resolve": {h.hostname: list(addresses) for h in self.manifest.hosts},
            "units": units,
        }
        text = dump_registry(parse_registry(data, source=str(self.registry_path)))
        self.registry_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.registry_path.with_name(self.registry_path.name + f".{os.getpid()}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, self.registry_path)
        return load_registry(self.registry_path)

    # ---- connections

    async def _connection(self, host: Host, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._connections.add(task)
        sock = writer.get_extra_info("socket")
        family = 6 if sock is not None and sock.family == socket.AF_INET6 else 4
        try:
            while await self._exchange(host, family, reader, writer):
                pass
        except (OSError, asyncio.IncompleteReadError):  # client gone, idle timeout, file vanished mid-send
            pass
        finally:
            self._connections.discard(task)
            writer.close()

    async def _exchange(
        self, host: Host, family: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Read one request and answer it; False when the connection must end."""
        try:
            async with asyncio.timeout(IDLE_TIMEOUT):
                head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError:
            await self._send(writer, None, _error_response(host, 431), keep_alive=False)
            return False
        try:
            request = _parse_head(head)
        except _BadRequest:
            await self._send(writer, None, _error_response(host, 400), keep_alive=False)
            return False
        keep_alive = _wants_keep_alive(request)
        if request.path.startswith(CONTROL_PREFIX):
            return await self._control(request, reader, writer, keep_alive)
        if _has_body(request):  # crawlers send none; rather than parse one, end the connection
            keep_alive = False
        entry = self._log.start(host.key, family, request)
        fault = self._faults.take(host.key, request.target) if self._faults else None
        if fault is not None:
            entry["fault"] = fault.kind
            response = await self._faulty_response(host, request, fault, writer)
        else:
            response = self._static_response(host, request)
        if response is None:
            return False
        entry["status"] = response.status
        entry["bytes"] = await self._send(writer, request, response, keep_alive and not response.close)
        if self.log_requests:
            line = f"{host.key} IPv{family} {request.method} {request.target} {response.status} {entry['bytes']}"
            print(line, file=sys.stderr, flush=True)
        return keep_alive and not response.close

    async def _send(
        self, writer: asyncio.StreamWriter, request: Request | None, response: Response, keep_alive: bool
    ) -> int:
        """Write the answer; returns the number of body bytes sent."""
        body = response.body
        length = _body_length(body)
        head = self._head(response, length, keep_alive, request is not None and request.http10)
        if response.status == 304 or (request is not None and request.method == "HEAD"):
            writer.write(head)
            await writer.drain()
            return 0
        count = length if response.limit is None else min(response.limit, length)
        if isinstance(body, bytes):
            writer.write(head + (body if count == length else body[:count]))
            await writer.drain()
        elif isinstance(body, FileSlice):
            writer.write(head)
            await writer.drain()
            with open(body.path, "rb") as handle:
                await asyncio.get_running_loop().sendfile(writer.transport, handle, body.offset, count)
        else:
            writer.write(head)
            for chunk in _huge_chunks(body.size, count):
                writer.write(chunk)
                await writer.drain()
        return count

    def _head(self, response: Response, length: int, keep_alive: bool, http10: bool) -> bytes:
        lines = [f"HTTP/1.1 {response.status} {_REASONS[response.status]}", self._date(), _SERVER_LINE]
        lines += [f"{name}: {value}" for name, value in response.headers]
        if response.status != 304:
            lines.append(f"Content-Length: {length}")
        if not keep_alive:
            lines.append("Connection: close")
        elif http10:
            lines.append("Connection: keep-alive")
        lines.append("\r\n")
        return "\r\n".join(lines).encode("latin-1")

    def _date(self) -> str:
        now = int(time.time())
        if now != self._date_second:
            self._date_second = now
            self._date_line = "Date: " + email.utils.formatdate(now, usegmt=True)
        return self._date_line

    # ---- static files

    def _static_response(self, host: Host, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            headers = [("Allow", "GET, HEAD"), ("Content-Type", "text/plain; charset=utf-8")]
            return Response(405, headers, b"method not allowed\n")
        try:
            path, st = self._locate(host, request)
            return self._file_response(host, request, path, self._cache.get(path, st))
        except _Reject as reject:
            return _error_response(host, reject.status, reject.headers)

    def _locate(self, host: Host, request: Request) -> tuple[str, os.stat_result]:
        """File (and its stat) answering the request's path and query, by the tree's conventions."""
        query = request.query
        if "/" in query or ".." in query or "\\" in query:
            raise _Reject(400)
        try:
            decoded = unquote(request.path, errors="strict")
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
            location = request.path + "/" + (f"?{query}" if query else "")
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

    def _file_response(self, host: Host, request: Request, path: str, entry: _Entry) -> Response:
        headers = [
            ("Content-Type", host.content_type(_extension(path))),
            ("Last-Modified", entry.last_modified),
            ("ETag", entry.etag),
            ("Accept-Ranges", "bytes"),
        ]
        request_headers = request.headers
        if_none_match = request_headers.get("if-none-match")
        if if_none_match is not None:
            if _etag_matches(if_none_match, entry.etag):
                return Response(304, headers[1:3])
        elif "if-modified-since" in request_headers:
            if _not_modified_since(request_headers["if-modified-since"], entry):
                return Response(304, headers[1:3])
        start, end = 0, entry.size - 1
        status = 200
        if "range" in request_headers:
            try:
                wanted = parse_range(request_headers["range"], entry.size)
            except _Unsatisfiable:
                return Response(416, [("Content-Range", f"bytes */{entry.size}")])
            if wanted is not None:
                (start, end), status = wanted, 206
                headers.append(("Content-Range", f"bytes {start}-{end}/{entry.size}"))
        if entry.body is not None:
            body: Body = entry.body if status == 200 else entry.body[start : end + 1]
        else:
            body = FileSlice(path, start, end - start + 1)
        return Response(status, headers, body)

    # ---- faults

    async def _faulty_response(
        self, host: Host, request: Request, fault: Fault, writer: asyncio.StreamWriter
    ) -> Response | None:
        """The answer a fault gives instead of the normal one; None when nothing is answered."""
        params = fault.params
        kind = fault.kind
        if kind == "delay":
            await asyncio.sleep(params["seconds"])
            return self._static_response(host, request)
        if kind == "status":
            extra = [("Retry-After", str(params["retry_after"]))] if params["retry_after"] is not None else []
            return _error_response(host, int(params["code"]), extra)
        if kind == "timeout":
            await asyncio.sleep(params["seconds"])
            return None
        if kind == "reset":
            sock = writer.get_extra_info("socket")
            if sock is not None:  # linger 0: close() sends RST instead of FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return None
        if kind == "redirect_loop":
            return Response(302, [("Location", _loop_target(request.target))])
        if kind == "huge":
            html = [("Content-Type", f"text/html; charset={host.charset}")]
            return Response(200, html, HugeBody(max(HUGE_MIN_SIZE, int(params["size"]))))
        if kind == "binary_as_html":
            html = [("Content-Type", f"text/html; charset={host.charset}")]
            return Response(200, html, self._binary_body(int(params["size"])))
        response = self._static_response(host, request)
        if kind == "truncate":
            length = _body_length(response.body)
            response.limit = length // 2 if params["bytes"] is None else min(int(params["bytes"]), length)
            response.close = True
        elif kind == "wrong_charset":
            charset = params["charset"] or ("gbk" if host.charset.lower() in ("utf-8", "utf8") else "utf-8")
            response.headers = [
                (name, f"{value.split(';')[0]}; charset={charset}" if name == "Content-Type" else value)
                for name, value in response.headers
            ]
        return response

    def _binary_body(self, size: int) -> bytes:
        """Deterministic bytes that no charset decodes cleanly, cached per size."""
        body = self._binary_bodies.get(size)
        if body is None:
            body = self._binary_bodies[size] = random.Random(size).randbytes(size)
        return body

    # ---- control endpoint

    async def _control(
        self, request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, keep_alive: bool
    ) -> bool:
        """``/__zwgk__/faults`` and ``/__zwgk__/requests``; not logged, never subject to faults."""
        length = request.headers.get("content-length", "0")
        if "transfer-encoding" in request.headers or not length.isdigit() or int(length) > MAX_CONTROL_BODY:
            error = _json_response(400, {"error": f"send a body of at most {MAX_CONTROL_BODY} bytes with Content-Length"})
            await self._send(writer, request, error, keep_alive=False)
            return False
        body = await reader.readexactly(int(length))
        response = self._control_response(request, body)
        await self._send(writer, request, response, keep_alive)
        return keep_alive

    def _control_response(self, request: Request, body: bytes) -> Response:
        name = request.path[len(CONTROL_PREFIX) :].strip("/")
        method = request.method
        if name == "faults":
            if method == "GET":
                return _json_response(200, {"faults": self.faults()})
            if method == "DELETE":
                return _json_response(200, {"cleared": self.clear_faults()})
            if method == "POST":
                try:
                    data = json.loads(body or b"null")
                    faults = self._faults.add(load_faults(data if isinstance(data, list) else [data]))
                except ValueError as exc:
                    return _json_response(400, {"error": str(exc)})
                return _json_response(201, {"added": [f.to_dict() for f in faults], "faults": self.faults()})
        elif name == "requests":
            if method == "GET":
                return _json_response(200, {"requests": self.requests()})
            if method == "DELETE":
                return _json_response(200, {"cleared": self.clear_requests()})
        else:
            return _json_response(404, {"error": f"unknown control resource {name!r}"})
        return _json_response(405, {"error": f"{method} not allowed on {request.path}"})


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

    asyncio.run(server._run(on_ready=announce, handle_signals=True))


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
