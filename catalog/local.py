"""The local CKAN stack (catalog/stack.sh) from Python, for the tests and the demo.

    from catalog.local import ensure_stack

    stack = ensure_stack()             # `stack.sh up`: idempotent, ~1 s when already running
    catalog = ckanapi.RemoteCKAN(stack.url, apikey=stack.token())

The stack's location and ports come from the ZWGK_CKAN_* environment variables that
stack.sh reads (see catalog/README.md); this module passes the environment through.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

STACK_SH = Path(__file__).resolve().with_name("stack.sh")

# stack.sh's failure line: "[ckan-stack 12:00:01] FAILED solr: <why>", then the log tail.
_FAILED = re.compile(r"FAILED (?P<component>[\w-]+): (?P<reason>.*)")


class StackError(RuntimeError):
    """The stack could not be brought up; `component` names the part that failed
    (apt, ckan, solr, postgres, redis; "timeout", or "stack.sh" for an unexpected exit) and
    the message ends with its log tail."""

    def __init__(self, component: str, message: str) -> None:
        super().__init__(f"local CKAN stack: {component} failed: {message}")
        self.component = component


@dataclass(frozen=True)
class CkanStack:
    url: str            # CKAN site URL, e.g. http://127.0.0.1:5000
    token_file: Path    # sysadmin API token, mode 600; read it with token(), never print it
    solr_url: str       # the CKAN core, e.g. http://127.0.0.1:8983/solr/ckan

    def token(self) -> str:
        return self.token_file.read_text(encoding="utf-8").strip()


def ensure_stack(timeout: float = 1800) -> CkanStack:
    """Run `stack.sh up` and return where the stack answers.

    The first run installs everything (Debian packages, CKAN venv, Solr via Maven: minutes);
    later runs only start what is stopped. stack.sh's progress lines are echoed to stderr
    as they come. Raises StackError naming the failed component, with its log tail.
    """
    proc = subprocess.Popen(
        ["bash", str(STACK_SH), "up"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, encoding="utf-8", errors="replace",
        start_new_session=True,  # so a timeout can stop stack.sh with its pip/mvn/ckan children
    )
    progress: list[str] = []
    stdout: list[str] = []
    readers = [threading.Thread(target=_echo_lines, args=(proc.stderr, progress), daemon=True),
               threading.Thread(target=stdout.extend, args=(proc.stdout,), daemon=True)]
    for reader in readers:
        reader.start()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        # The servers stack.sh starts run in sessions of their own and are not touched.
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise StackError("timeout", f"`stack.sh up` took more than {timeout:.0f} s\n"
                         + "".join(progress[-40:])) from None
    finally:
        for reader in readers:
            reader.join(5)
    if proc.returncode != 0:
        raise _failure(proc.returncode, progress)
    values = dict(line.rstrip("\n").split("=", 1) for line in stdout if "=" in line)
    return CkanStack(url=values["ckan_url"], token_file=Path(values["token_file"]),
                     solr_url=values["solr_url"])


@dataclass(frozen=True)
class StackPostgres:
    """The stack's PostgreSQL as its superuser `postgres`, over the Unix socket in
    $ZWGK_CKAN_HOME/pg where stack.sh's initdb gives local connections trust: no password."""
    socket_dir: Path
    port: int
    user: str = "postgres"

    def libpq(self, dbname: str) -> str:
        """A libpq connection string, e.g. for `ZWGK_LAKE_CATALOG=postgres:<this>`."""
        return f"dbname={dbname} host={self.socket_dir} port={self.port} user={self.user}"

    def psql(self, sql: str, dbname: str = "postgres") -> subprocess.CompletedProcess:
        return subprocess.run(
            ["psql", "-h", str(self.socket_dir), "-p", str(self.port), "-U", self.user, "-d", dbname,
             "-v", "ON_ERROR_STOP=1", "-qtAX", "-c", sql],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)


def stack_postgres() -> StackPostgres:
    """Where stack.sh runs PostgreSQL, from the same ZWGK_CKAN_HOME / ZWGK_CKAN_PG_PORT it reads."""
    home = Path(os.environ.get("ZWGK_CKAN_HOME") or Path.home() / ".local/share/zwgk-ckan")
    return StackPostgres(home / "pg", int(os.environ.get("ZWGK_CKAN_PG_PORT", "5433")))


def stack_status() -> dict[str, dict[str, object]]:
    """`stack.sh status` as {component: {"state", "pid", "url"}}; components are
    postgres, redis, solr, ckan (state "running"/"stopped") and token ("present"/"missing")."""
    out = subprocess.run(["bash", str(STACK_SH), "status"], stdin=subprocess.DEVNULL,
                         capture_output=True, text=True, check=False).stdout
    status: dict[str, dict[str, object]] = {}
    for line in out.splitlines():
        name, state, pid, url = line.split(maxsplit=3)
        status[name] = {"state": state, "pid": int(pid) if pid.isdigit() else None, "url": url}
    return status


def _echo_lines(stream, sink: list[str]) -> None:
    for line in stream:
        sink.append(line)
        sys.stderr.write(line)
        sys.stderr.flush()


def _failure(returncode: int, progress: list[str]) -> StackError:
    for i, line in enumerate(progress):
        match = _FAILED.search(line)
        if match:
            detail = "".join(progress[i + 1:])
            return StackError(match["component"], f"{match['reason']}\n{detail}".rstrip())
    return StackError("stack.sh", f"exited with {returncode}\n" + "".join(progress[-40:]))


if __name__ == "__main__":  # python -m catalog.local: bring the stack up, print where it is
    try:
        stack = ensure_stack()
    except StackError as exc:
        sys.exit(str(exc))
    print(f"CKAN {stack.url}\nSolr {stack.solr_url}\ntoken file {stack.token_file}")
