"""Throughput of the page extractor on the labelled fixture pages, in one process.

    .venv/bin/python bench/bench_extract.py [--pages 20000] [--profile]

Prints pages/s per core and peak RSS. The target is 2,000 pages/s per core. These fixture pages
are small (1.9 KiB on average): lexbor parses 22-39k of them per second on our VMs, whose speed
swings by a third from one run to the next, and the whole extraction costs about 12 parses.

Throughput is computed from the process's CPU time, so other processes on a shared machine do not
count against it. They still slow it down (shared caches, hyper-threads), so the run is split into
rounds that alternate with a parse-only baseline (decode + lexbor parse of the same pages), and the
ratio of the two is printed as well: that ratio does not depend on the machine or its load. The
median over the rounds of each round's rate and ratio is printed too: a burst of load on a shared
machine moves the totals but hardly the medians.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from selectolax.lexbor import LexborHTMLParser  # noqa: E402

from assets.normalize import extract_page  # noqa: E402

PAGES = ROOT / "tests" / "fixtures" / "pages"
ROUNDS = 10

Page = tuple[bytes, str, "str | None", "str | None"]


def load_mix() -> list[Page]:
    labels = json.loads((PAGES / "labels.json").read_text(encoding="utf-8"))
    return [
        ((PAGES / name).read_bytes(), spec["url"], spec["charset"], spec["column_kind"])
        for name, spec in labels.items()
    ]


def extract_all(mix: list[Page], pages: int, offset: int = 0) -> float:
    """CPU seconds to extract `pages` pages cycling through the mix."""
    start = time.process_time()
    for i in range(offset, offset + pages):
        body, url, charset, column_kind = mix[i % len(mix)]
        extract_page(body, url, charset=charset, column_kind=column_kind)
    return time.process_time() - start


def parse_all(texts: list[str], pages: int, offset: int = 0) -> float:
    """CPU seconds to parse the same pages with lexbor only (the floor of any extractor)."""
    start = time.process_time()
    for i in range(offset, offset + pages):
        LexborHTMLParser(texts[i % len(texts)])
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=20_000)
    parser.add_argument("--profile", action="store_true", help="print the 25 most expensive functions")
    args = parser.parse_args()

    mix = load_mix()
    texts = [body.decode(extract_page(body, url, charset=cs)["encoding"], "replace") for body, url, cs, _ in mix]
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(extract_all, mix, args.pages)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return
    chunk = max(1, args.pages // ROUNDS)
    wall = time.perf_counter()
    extract_rounds, parse_rounds = [], []
    for round_no in range(ROUNDS):
        extract_rounds.append(extract_all(mix, chunk, round_no * chunk))
        parse_rounds.append(parse_all(texts, chunk, round_no * chunk))
    wall = time.perf_counter() - wall
    extract_cpu, parse_cpu = sum(extract_rounds), sum(parse_rounds)
    pages = chunk * ROUNDS
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    size = sum(len(body) for body, *_ in mix) / len(mix)
    print(f"{pages} pages from {len(mix)} fixtures (mean {size / 1024:.1f} KiB); {wall:.1f} s wall for the whole run")
    print(f"extract:    {pages / extract_cpu:8,.0f} pages/s per core ({extract_cpu / pages * 1e6:.0f} µs/page CPU)")
    print(f"parse only: {pages / parse_cpu:8,.0f} pages/s per core ({parse_cpu / pages * 1e6:.0f} µs/page CPU)")
    print(f"extract costs {extract_cpu / parse_cpu:.1f} parses")
    median_rate = statistics.median(chunk / cpu for cpu in extract_rounds)
    median_ratio = statistics.median(e / p for e, p in zip(extract_rounds, parse_rounds))
    print(f"median of {ROUNDS} rounds: {median_rate:,.0f} pages/s per core, {median_ratio:.1f} parses")
    print(f"peak RSS {peak_kib / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
