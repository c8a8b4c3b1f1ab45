"""Content-addressed raw bodies: `raw/ab/cdef….gz` = gzip (level 1) of the body whose sha256 is `abcdef…`.

Files are written to a unique temporary name in the same directory and renamed into place, so
concurrent harvest processes and a SIGKILL mid-write never leave a partial file under a final name.
Identical bodies (the same page in two units, an unchanged page) are stored once.
"""

from __future__ import annotations

import gzip
import os
import secrets
from pathlib import Path


def raw_path(store_dir: str | Path, sha256: str) -> Path:
    return Path(store_dir) / "raw" / sha256[:2] / f"{sha256[2:]}.gz"


class RawWriter:
    """Writes bodies under one store directory, remembering which fan-out folders exist.

    Runs in a worker thread; it uses plain `os` calls so that it holds the GIL as little as
    possible between its syscalls (the event loop waits for the GIL whenever this thread has it).
    """

    def __init__(self, store_dir: str | Path):
        self._raw = os.path.join(str(store_dir), "raw")
        self._token = f"{os.getpid()}.{secrets.token_hex(4)}"
        self._folders: set[str] = set()

    def write(self, sha256: str, body: bytes) -> None:
        folder = os.path.join(self._raw, sha256[:2])
        if folder not in self._folders:
            os.makedirs(folder, exist_ok=True)
            self._folders.add(folder)
        path = os.path.join(folder, f"{sha256[2:]}.gz")
        if os.path.exists(path):
            return
        tmp = f"{path}.{self._token}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, gzip.compress(body, compresslevel=1, mtime=0))
        finally:
            os.close(fd)
        os.replace(tmp, path)


def read_raw(store_dir: str | Path, sha256: str) -> bytes:
    """The exact body bytes that were received for `sha256` (raises FileNotFoundError if absent)."""
    return gzip.decompress(raw_path(store_dir, sha256).read_bytes())
