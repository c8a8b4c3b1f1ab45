"""Harvest benchmark: first-run pages/s, no-change re-run cost, peak RSS, and Scrapy on the same requests.

    .venv/bin/python bench/bench_harvest.py                  # ~20,000 pages per portal, a few minutes
    .venv/bin/python bench/bench_harvest.py --pages 100000   # the RSS figure for ~100k pages
    .venv/bin/python bench/bench_harvest.py --portals mixed --no-scrapy

Two portals, measured in one run: `static` (server-rendered TRS lists only, the baseline the Scrapy
ratio was first taken on) and `mixed` (the synthetic units cycle through every list mechanism:
static, Hanweb jpage and xxgk search POST paging, IGS and gkmlpt JSON, SiteServer with iframes
and output.aspx). Only the synthetic scale units are harvested: the base units' Chromium-rendered
columns, gate and TLS host are exercised by the tests, not timed here.

Each portal is generated with `sample_portal.generator` (cached under --work between runs of the
same size) and served by `python -m sample_portal.server` in its own process. Each harvest runs
in a fresh child process with politeness lifted, so its peak RSS (`getrusage`) is its own;
timings start after imports. Scrapy (in its own venv, created on first use with uv; not a project
dependency) then replays the same requests — GETs, HEADs, and the list POSTs with their forms and
headers — at the same total concurrency, extracting links and hashing bodies like a minimal
spider, without any storage.

Targets (issues): first run >= 1,000 pages/s on 2 cores; re-run <= 10 % of the first run;
peak RSS <= 500 MB at ~100k pages; zwgk/Scrapy on static lists at or above ~3x.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SCRAPY_VENV = Path("/tmp/zwgk-scrapy-venv")
SCRAPY_SCRIPT = REPO / "bench" / "scrapy_urls.py"
PAGES_PER_DOC = 1.3  # detail page + ~15 % attachments + list pages, measured on the generator's output
DOCS_PER_UNIT = 500
BASE_UNITS = 44  # generated but not harvested (see the docstring)
SYNTHETIC = re.compile(r"^u\d{4}$")
PORTALS = {"static": ("static",), "mixed": None}  # synthetic units' mechanisms (None: all)


def main() -> None:
    args = _parse_args()
    if args.child:
        _child_harvest(Path(args.child[0]), Path(args.child[1]), args.concurrency)
        return
    work = Path(args.work)
    results = {}
    for number, name in enumerate(args.portals):
        portal = _generate(work / name, args.pages, PORTALS[name])
        server, registry = _serve(portal, args.port_base + 10 * number)
        try:
            store = work / name / "store"
            shutil.rmtree(store, ignore_errors=True)
            first = _run_child(registry, store, args.concurrency)
            second = _run_child(registry, store, args.concurrency)
            results[name] = {"first": first, "rerun": second}
            if not args.no_scrapy:
                urls = _url_list(store, work / name / "urls.jsonl")
                results[name]["scrapy"] = _run_scrapy(urls, args.concurrency * _host_count(portal))
        finally:
            server.terminate()
            server.wait()
    for name, result in results.items():
        print(f"== {name} portal ==")
        _report(result)


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=20_000, help="approximate pages (requests) per harvest")
    parser.add_argument("--concurrency", type=int, default=16, help="connections per host (both crawlers)")
    parser.add_argument("--work", default="/tmp/zwgk-bench-harvest", help="portal, store and URL list")
    parser.add_argument("--port-base", type=int, default=19300)
    parser.add_argument("--portals", nargs="+", choices=sorted(PORTALS), default=["static", "mixed"])
    parser.add_argument("--no-scrapy", action="store_true", help="skip the Scrapy comparison")
    parser.add_argument("--child", nargs=2, metavar=("REGISTRY", "STORE"), help=argparse.SUPPRESS)
    return parser.parse_args()


# -- portal and server ---------------------------------------------------------------------------


def _generate(work: Path, pages: int, mechanisms: tuple[str, ...] | None) -> Path:
    """Generate (or reuse) a portal whose synthetic units hold about `pages` pages."""
    from sample_portal.generator import generate_portal

    units = BASE_UNITS + max(4, round(pages / PAGES_PER_DOC / DOCS_PER_UNIT))
    portal = work / "portal"
    marker = portal / "bench-size.json"
    wanted = {"units": units, "docs_per_unit": DOCS_PER_UNIT, "mechanisms": mechanisms}
    if marker.exists() and json.loads(marker.read_text()) == json.loads(json.dumps(wanted)):
        return portal
    started = time.monotonic()
    summary = generate_portal(portal, units=units, docs_per_unit=DOCS_PER_UNIT, synthetic_mechanisms=mechanisms)
    marker.write_text(json.dumps(wanted))
    print(f"generated {summary.units} units, {summary.documents} documents in {time.monotonic() - started:.1f}s")
    return portal


def _serve(portal: Path, port_base: int) -> tuple[subprocess.Popen, Path]:
    registry = portal / "bench-registry.yaml"
    registry.unlink(missing_ok=True)
    server = subprocess.Popen(
        [sys.executable, "-m", "sample_portal.server", str(portal), "--port-base", str(port_base),
         "--registry", str(registry)],
        cwd=REPO, stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not registry.exists():
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the sample portal server did not start")
        time.sleep(0.1)
    return server, registry


def _host_count(portal: Path) -> int:
    return len(json.loads((portal / "portal.json").read_text(encoding="utf-8"))["hosts"])


# -- our harvester, one child process per run ----------------------------------------------------------


def _run_child(registry: Path, store: Path, concurrency: int) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", str(registry), str(store), "--concurrency", str(concurrency)],
        cwd=REPO, check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def _child_harvest(registry_path: Path, store: Path, concurrency: int) -> None:
    import resource

    import pyarrow

    from assets.harvest import HarvestSettings, harvest_units
    from core.registry import load_registry

    pyarrow.table({"warm": [1]})  # pyarrow imports pandas on first use: keep that out of the timing
    registry = load_registry(registry_path)
    synthetic = [u for u in registry.units if SYNTHETIC.match(u.id)]
    started, cpu = time.monotonic(), time.process_time()
    summaries = harvest_units(registry, synthetic, store, HarvestSettings(polite=False, unpolite_concurrency=concurrency))
    elapsed = time.monotonic() - started
    print(json.dumps({
        "elapsed": elapsed,
        "cpu": time.process_time() - cpu,
        "requests": sum(s.requests for s in summaries),
        "fetched": sum(s.fetched for s in summaries),
        "not_modified": sum(s.not_modified for s in summaries),
        "errors": sum(s.error_count for s in summaries),
        "failed": [s.unit_id for s in summaries if s.failed],
        "units": len(summaries),
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


# -- Scrapy on the same URLs ---------------------------------------------------------------------------


def _url_list(store: Path, target: Path) -> Path:
    """Every request the first run made for a page (GET for pages, HEAD for attachments, POST with
    form and headers for list pages paged by POST), one JSON per line."""
    from assets.harvest import open_unit_store
    from assets.harvest.listing import decode

    with target.open("w", encoding="utf-8") as out:
        for db in sorted((store / "units").glob("*.duckdb")):
            pages = open_unit_store(store, db.stem).pages.to_pylist()
            posts = {}
            for page in pages:  # the list requests adapters asked for, stored with what they read
                reading = decode(page["links"])
                for request in reading.listing.requests if reading else ():
                    if request.method == "POST":
                        posts[request.url] = request
            for page in pages:
                if page["status"] is None:
                    continue
                request = posts.get(page["url"])
                if request is not None:
                    out.write(json.dumps({"url": page["url"], "method": "POST", "form": list(request.form),
                                          "headers": list(request.headers)}, ensure_ascii=False) + "\n")
                else:
                    method = "HEAD" if page["role"] == "attachment" else "GET"
                    out.write(json.dumps({"url": page["url"], "method": method}) + "\n")
    return target


def _scrapy_python() -> Path:
    python = SCRAPY_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run(["uv", "venv", "-q", "--python", "3.11", str(SCRAPY_VENV)], check=True)
        subprocess.run(["uv", "pip", "install", "-q", "--python", str(python), "scrapy"], check=True)
    return python


def _run_scrapy(urls: Path, concurrency: int) -> dict:
    output = subprocess.run(
        [str(_scrapy_python()), str(SCRAPY_SCRIPT), str(urls), str(concurrency)],
        cwd=REPO, check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


# -- report ----------------------------------------------------------------------------------------------


def _report(results: dict) -> None:
    first, rerun = results["first"], results["rerun"]
    rate = first["requests"] / first["elapsed"]
    print(f"units: {first['units']}, failed: {first['failed'] or 'none'}, errors: {first['errors']}")
    print(f"first run : {first['requests']:>7} pages in {first['elapsed']:6.1f}s = {rate:7.0f} pages/s "
          f"(cpu {first['cpu']:.1f}s)   target >= 1000")
    print(f"re-run    : {rerun['requests']:>7} requests ({rerun['not_modified']} x 304) in {rerun['elapsed']:6.1f}s "
          f"= {100 * rerun['elapsed'] / first['elapsed']:.1f}% of the first run   target <= 10%")
    print(f"peak RSS  : {max(first['rss_mb'], rerun['rss_mb']):.0f} MB   target <= 500 MB at ~100k pages")
    if "scrapy" in results:
        scrapy = results["scrapy"]
        scrapy_rate = scrapy["responses"] / scrapy["elapsed"]
        print(f"scrapy    : {scrapy['responses']:>7} pages in {scrapy['elapsed']:6.1f}s = {scrapy_rate:7.0f} pages/s "
              f"(same URLs, concurrency {scrapy['concurrency']}, no storage)")
        print(f"ratio     : zwgk / scrapy = {rate / scrapy_rate:.2f}")


if __name__ == "__main__":
    main()
