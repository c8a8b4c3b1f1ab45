"""Sample portal server benchmark: the aiohttp.web server against the previous hand-written one.

    .venv/bin/python bench/bench_portal_server.py                  # ~12k files, 2 rounds, 16 and 32 connections
    .venv/bin/python bench/bench_portal_server.py --portal var/portal --rounds 3
    .venv/bin/python bench/bench_portal_server.py --harvest        # also the harvester's first run against each
    .venv/bin/python bench/bench_portal_server.py --profile /tmp/portal.prof   # and where the new one spends time

A portal is generated with `sample_portal.generator` (cached under --work between runs of the same
size) unless --portal names one. The OLD server is `sample_portal/server.py` as of --old-rev,
extracted with `git show` into a temporary file; the NEW one is `python -m sample_portal.server`.
Each runs in its own process, one at a time, alternating (old, new, then new, old, …), so both
see the same machine. Against each, an aiohttp client on uvloop (as the harvester) GETs every file
of the portal once per pass, through the registry's host names, with a browser User-Agent: one
pass with the server's cache cold, then one pass per concurrency level. Reported per server and
concurrency: requests/s (the client shares the two cores, so this is the pair's rate) and the
server process's CPU seconds per 1,000 requests (from /proc: what the server takes away from a
crawler on the same machine), then new/old ratios.

Only URLs both servers answer alike are driven: files of HTTPS hosts and paths under a dynamic
route's prefix are left out (the old server has neither TLS nor dynamic routes), and counted.

--harvest runs the harvester's first run over every unit of the registry (politeness lifted, in a
child process as in bench_harvest.py) against each server in turn, fresh store each time: pages/s
with each server, which is the figure that decides whether the new server keeps the harvester
busy. It compares like with like only on a portal without HTTPS hosts or dynamic routes (generate
one with the generator of --old-rev, or pass --portal).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pstats
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from aiohttp.abc import AbstractResolver

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def main() -> None:
    args = _parse_args()
    if args.harvest_child:
        _harvest_child(Path(args.harvest_child[0]), Path(args.harvest_child[1]), args.harvest_concurrency)
        return
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    portal = Path(args.portal) if args.portal else _generate(work, args.units, args.docs_per_unit)
    with tempfile.TemporaryDirectory(prefix="zwgk-old-server-") as temporary:
        servers = {
            "old": _old_server_command(args.old_rev, Path(args.git_repo), Path(temporary)),
            "new": [sys.executable, "-m", "sample_portal.server"],
        }
        results = _compare(servers, portal, work, args)
        harvest = _compare_harvests(servers, portal, work, args) if args.harvest else None
        if args.profile:
            _profile(servers["new"], portal, work, args)
    _report(results, harvest, args.concurrency)


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--portal", help="serve this generated portal instead of generating one")
    parser.add_argument("--units", type=int, default=20, help="units of the generated portal")
    parser.add_argument("--docs-per-unit", type=int, default=500, help="documents per unit of the generated portal")
    parser.add_argument("--work", default="/tmp/zwgk-bench-portal-server", help="portal, registries, stores")
    parser.add_argument("--old-rev", default="b04b57a", help="git revision of the old server")
    parser.add_argument("--git-repo", default=str(REPO), help="repository to take the old server from")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16, 32], help="client connections")
    parser.add_argument("--rounds", type=int, default=2, help="alternations of old and new")
    parser.add_argument("--port-base", type=int, default=19400)
    parser.add_argument("--harvest", action="store_true", help="also time the harvester's first run against each")
    parser.add_argument("--harvest-concurrency", type=int, default=16, help="harvester connections per host")
    parser.add_argument("--profile", metavar="FILE", help="profile the new server during one pass at the top concurrency")
    parser.add_argument("--harvest-child", nargs=2, metavar=("REGISTRY", "STORE"), help=argparse.SUPPRESS)
    return parser.parse_args()


# -- portal, servers -------------------------------------------------------------------------------


def _generate(work: Path, units: int, docs_per_unit: int) -> Path:
    """Generate (or reuse) a portal of the given size."""
    from sample_portal.generator import generate_portal

    portal = work / "portal"
    marker = portal / "bench-size.json"
    wanted = {"units": units, "docs_per_unit": docs_per_unit}
    if marker.exists() and json.loads(marker.read_text()) == wanted:
        return portal
    started = time.monotonic()
    summary = generate_portal(portal, units=units, docs_per_unit=docs_per_unit)
    marker.write_text(json.dumps(wanted))
    print(f"generated {summary.units} units, {summary.files} files in {time.monotonic() - started:.1f}s")
    return portal


def _old_server_command(rev: str, git_repo: Path, directory: Path) -> list[str]:
    """The old server, extracted from git (no copy is kept in the repository), run as a script."""
    source = subprocess.run(
        ["git", "-C", str(git_repo), "show", f"{rev}:sample_portal/server.py"],
        check=True, capture_output=True,
    ).stdout
    path = directory / "old_portal_server.py"
    path.write_bytes(source)
    return [sys.executable, str(path)]


@dataclass
class Running:
    process: subprocess.Popen
    registry: Path

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _start(command: list[str], portal: Path, registry: Path, port_base: int, log: Path) -> Running:
    """Start a server in its own process; it is ready once it has written its registry."""
    registry.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # the extracted old server imports zwgk from here
    with log.open("ab") as stderr:
        process = subprocess.Popen(
            [*command, str(portal), "--port-base", str(port_base), "--registry", str(registry)],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=stderr,
        )
    deadline = time.monotonic() + 60
    while not registry.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit(f"{command} did not start; see {log}")
        time.sleep(0.05)
    return Running(process, registry)


# -- URLs and the client ---------------------------------------------------------------------------


def _urls(portal: Path, registry_path: Path) -> tuple[list[str], int]:
    """Every file both servers serve alike, as a URL on the registry's host names; and how many were left out."""
    from sample_portal.server import load_manifest
    from core.registry import load_registry

    registry = load_registry(registry_path)
    origins = {}
    for unit in registry.units:
        parts = urlsplit(unit.url)
        origins[parts.hostname] = f"http://{parts.netloc}"
    prefixes: dict[str, list[str]] = {}
    dynamic = portal / "dynamic.json"
    for route in json.loads(dynamic.read_text(encoding="utf-8")) if dynamic.exists() else []:
        prefixes.setdefault(route["host"], []).append(route["prefix"])
    urls, left_out = [], 0
    for host in load_manifest(portal).hosts:
        for path in sorted(Path(host.root).rglob("*")):
            if not path.is_file():
                continue
            target = _target(path.relative_to(host.root).as_posix())
            served_alike = host.scheme == "http" and host.hostname in origins
            if not served_alike or any(target.startswith(p) for p in prefixes.get(host.key, ())):
                left_out += 1
                continue
            urls.append(origins[host.hostname] + target)
    return urls, left_out


def _target(relative: str) -> str:
    """The request target of a file: ``list.html@page=2`` is ``list.html?page=2``."""
    directory, _, name = relative.rpartition("/")
    name, at, query = name.partition("@")
    path = "/" + quote(f"{directory}/{name}" if directory else name)
    return path + (f"?{query}" if at else "")


class _RegistryResolver(AbstractResolver):
    """Names resolve from the registry's ``resolve`` map, IPv4 first (as the harvester's policy)."""

    def __init__(self, resolve: dict[str, tuple[str, ...]]) -> None:
        self._resolve = resolve

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[dict]:
        addresses = [a for a in self._resolve[host] if ":" not in a] or list(self._resolve[host])
        return [
            {"hostname": host, "host": a, "port": port, "family": socket.AF_INET6 if ":" in a else socket.AF_INET,
             "proto": 0, "flags": socket.AI_NUMERICHOST}
            for a in addresses
        ]

    async def close(self) -> None:
        pass


async def _drive(urls: list[str], concurrency: int, resolve: dict) -> dict:
    """GET every URL once with `concurrency` keep-alive connections; rate, statuses, bytes."""
    import aiohttp

    connector = aiohttp.TCPConnector(limit=concurrency, resolver=_RegistryResolver(resolve), ttl_dns_cache=None)
    statuses: dict[int, int] = {}
    received = 0
    queue = iter(urls)

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal received
        for url in queue:
            async with session.get(url, allow_redirects=False) as response:
                received += len(await response.read())
                statuses[response.status] = statuses.get(response.status, 0) + 1

    async with aiohttp.ClientSession(connector=connector, headers={"User-Agent": USER_AGENT}) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {"requests": len(urls), "elapsed": elapsed, "statuses": statuses, "bytes": received}


def _pass(running: Running, urls: list[str], concurrency: int, resolve: dict) -> dict:
    import uvloop

    cpu = running.cpu_seconds()
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        result = runner.run(_drive(urls, concurrency, resolve))
    result["server_cpu"] = running.cpu_seconds() - cpu
    result["rate"] = result["requests"] / result["elapsed"]
    result["cpu_per_1000"] = 1000 * result["server_cpu"] / result["requests"]
    return result


# -- the comparisons -------------------------------------------------------------------------------


def _order(round_number: int) -> list[str]:
    return ["old", "new"] if round_number % 2 == 0 else ["new", "old"]


def _compare(servers: dict[str, list[str]], portal: Path, work: Path, args: argparse.Namespace) -> dict:
    """Alternate the servers; per server and pass, a list of results (one per round)."""
    from core.registry import load_registry

    results: dict[tuple[str, str], list[dict]] = {}
    for round_number in range(args.rounds):
        for name in _order(round_number):
            port_base = args.port_base + (0 if name == "old" else 50)
            registry = work / f"registry-{name}.yaml"
            running = _start(servers[name], portal, registry, port_base, work / f"server-{name}.log")
            try:
                urls, left_out = _urls(portal, registry)
                resolve = load_registry(registry).resolve
                passes = [("cold", args.concurrency[0])] + [(str(c), c) for c in args.concurrency]
                for label, concurrency in passes:
                    result = _pass(running, urls, concurrency, resolve)
                    results.setdefault((name, label), []).append(result)
                    print(f"round {round_number + 1} {name:>3} {label:>4}: {result['rate']:7.0f} requests/s, "
                          f"server {result['cpu_per_1000']:.3f} CPU s/1000, statuses {result['statuses']}", flush=True)
            finally:
                running.stop()
    results[("urls", "")] = [{"count": len(urls), "left_out": left_out}]
    return results


def _compare_harvests(servers: dict[str, list[str]], portal: Path, work: Path, args: argparse.Namespace) -> dict:
    """The harvester's first run against each server in turn (fresh store each time)."""
    results: dict[str, list[dict]] = {}
    for round_number in range(args.rounds):
        for name in _order(round_number):
            registry = work / f"registry-harvest-{name}.yaml"
            running = _start(servers[name], portal, registry, args.port_base + 100, work / f"server-{name}.log")
            store = work / f"store-{name}"
            shutil.rmtree(store, ignore_errors=True)
            try:
                cpu = running.cpu_seconds()
                output = subprocess.run(
                    [sys.executable, __file__, "--harvest-child", str(registry), str(store),
                     "--harvest-concurrency", str(args.harvest_concurrency)],
                    cwd=REPO, check=True, capture_output=True, text=True,
                ).stdout
                result = json.loads(output.strip().splitlines()[-1])
                result["server_cpu"] = running.cpu_seconds() - cpu
            finally:
                running.stop()
            if not result["requests"]:
                raise SystemExit(f"the harvest against the {name} server requested nothing: {result}")
            result["rate"] = result["requests"] / result["elapsed"]
            results.setdefault(name, []).append(result)
            print(f"round {round_number + 1} {name:>3} harvest: {result['requests']} pages in {result['elapsed']:.1f}s "
                  f"= {result['rate']:.0f} pages/s, errors {result['errors']}, failed {result['failed'] or 'none'}, "
                  f"server CPU {result['server_cpu']:.1f}s", flush=True)
    return results


def _harvest_child(registry_path: Path, store: Path, concurrency: int) -> None:
    """One first run of every unit, politeness lifted; prints one JSON line (timed after imports)."""
    import pyarrow

    from assets.harvest import HarvestSettings, harvest_units
    from core.registry import load_registry

    pyarrow.table({"warm": [1]})  # pyarrow imports pandas on first use: keep that out of the timing
    registry = load_registry(registry_path)
    started = time.monotonic()
    summaries = harvest_units(registry, None, store, HarvestSettings(polite=False, unpolite_concurrency=concurrency))
    print(json.dumps({
        "elapsed": time.monotonic() - started,
        "requests": sum(s.requests for s in summaries),
        "errors": sum(s.error_count for s in summaries),
        "failed": [s.unit_id for s in summaries if s.failed],
        "units": len(summaries),
    }))


def _profile(command: list[str], portal: Path, work: Path, args: argparse.Namespace) -> None:
    """Run the new server under cProfile for one pass at the top concurrency; print where it spends time."""
    from core.registry import load_registry

    profiled = [sys.executable, "-m", "cProfile", "-o", args.profile, *command[1:]]
    registry = work / "registry-profile.yaml"
    running = _start(profiled, portal, registry, args.port_base + 150, work / "server-profile.log")
    try:
        urls, _ = _urls(portal, registry)
        _pass(running, urls, args.concurrency[0], load_registry(registry).resolve)  # fill the cache first
        _pass(running, urls, args.concurrency[-1], load_registry(registry).resolve)
    finally:
        running.stop()  # SIGTERM: the server returns from serve_forever and cProfile writes its file
    print(f"\nprofile of the new server (cache warm-up pass + one pass at {args.concurrency[-1]}), by own time:")
    pstats.Stats(args.profile).sort_stats("tottime").print_stats(25)


# -- report ----------------------------------------------------------------------------------------


def _report(results: dict, harvest: dict | None, concurrency: list[int]) -> None:
    urls = results[("urls", "")][0]
    print(f"\n{urls['count']} URLs per pass ({urls['left_out']} files left out: HTTPS hosts, dynamic prefixes); "
          "medians over rounds")
    print(f"{'pass':>6} | {'old req/s':>9} {'new req/s':>9} {'new/old':>7} | "
          f"{'old CPU s/1000':>14} {'new CPU s/1000':>14} {'new/old':>7}")
    for label in ["cold"] + [str(c) for c in concurrency]:
        old, new = results[("old", label)], results[("new", label)]
        old_rate, new_rate = _median(old, "rate"), _median(new, "rate")
        old_cpu, new_cpu = _median(old, "cpu_per_1000"), _median(new, "cpu_per_1000")
        name = "cold16" if label == "cold" else f"c={label}"
        print(f"{name:>6} | {old_rate:9.0f} {new_rate:9.0f} {new_rate / old_rate:7.2f} | "
              f"{old_cpu:14.3f} {new_cpu:14.3f} {new_cpu / old_cpu:7.2f}")
    if harvest:
        old_rate, new_rate = _median(harvest["old"], "rate"), _median(harvest["new"], "rate")
        print(f"\nharvester first run: old {old_rate:.0f} pages/s, new {new_rate:.0f} pages/s, "
              f"new/old {new_rate / old_rate:.2f} (server CPU old {_median(harvest['old'], 'server_cpu'):.1f}s, "
              f"new {_median(harvest['new'], 'server_cpu'):.1f}s)")


def _median(results: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in results)


if __name__ == "__main__":
    main()
