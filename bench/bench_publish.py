"""Publishing 200 units to the local CKAN, DataStore included: first run, no-change rerun, one changed unit.

    .venv/bin/python bench/bench_publish.py [--units 200] [--docs-per-unit 30] [--keep]

Synthesizes a warehouse (Chinese titles and bodies, two-day spacing of publish dates, every
unit scored), brings the local stack up with `ensure_stack()`, and publishes under a dedicated
name prefix (`bench-<random>-`) so the real catalog is untouched. Every published table is also
loaded into the DataStore (each unit's directory and verdict, the all-units catalogue, the
scorecard, the dictionary). Prints API calls, write calls, DataStore tables and rows loaded and
seconds per run, then the first-run and no-change times; the prefix's datasets and
organizations are purged afterwards unless --keep.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import ckanapi  # noqa: E402

from assets.publish import publish_catalog  # noqa: E402
from assets.publish.names import Names  # noqa: E402
from catalog.local import ensure_stack  # noqa: E402
from publish_builder import PublishWarehouse  # noqa: E402

KINDS = ("bureau", "street", "town", "zone")
BODY = "为进一步做好政府信息公开工作，根据《中华人民共和国政府信息公开条例》，结合本单位实际，现将有关事项通知如下。"


def synthesize(units: int, docs: int) -> PublishWarehouse:
    warehouse = PublishWarehouse()
    for u in range(units):
        unit_id = f"u{u:04d}"
        warehouse.unit(unit_id, f"滨海新区第{u + 1}单位", KINDS[u % len(KINDS)])
        for d in range(docs):
            warehouse.resource(unit_id, d + 1, f"关于做好第{d + 1}项重点工作的通知", BODY * 10,
                               published=date(2020, 1, 1))
        warehouse.score("bench-run", unit_id, failed=("C13",) if u % 7 == 0 else ())
    return warehouse


def purge(ckan: ckanapi.RemoteCKAN, names: Names) -> None:
    while datasets := ckan.action.package_search(fq=names.search_filter, rows=1000, include_private=True)["results"]:
        for dataset in datasets:
            ckan.action.dataset_purge(id=dataset["id"])
    for org in ckan.action.organization_list(limit=1000):
        if org == names.platform_org or org.startswith(names.platform_org + "-"):
            ckan.action.organization_purge(id=org)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--docs-per-unit", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="leave the published datasets in CKAN")
    args = parser.parse_args()

    stack = ensure_stack()
    names = Names(f"bench-{uuid.uuid4().hex[:6]}-")
    ckan = ckanapi.RemoteCKAN(stack.url, apikey=stack.token())
    with tempfile.TemporaryDirectory(prefix="zwgk-bench-publish-") as tmp:
        base = Path(tmp)
        started = time.perf_counter()
        warehouse = synthesize(args.units, args.docs_per_unit)
        warehouse.write(base / "warehouse.duckdb")
        print(f"warehouse: {args.units} units x {args.docs_per_unit} resources "
              f"in {time.perf_counter() - started:.1f} s; prefix {names.prefix}")

        def publish(label: str):
            summary = publish_catalog(base / "warehouse.duckdb", stack.url, stack.token(), out_dir=base / "out",
                                      name_prefix=names.prefix)
            counts = summary.counts()
            print(f"{label:<16} api calls {summary.api_calls:>5}  write calls {summary.write_calls:>5}  "
                  f"{summary.seconds:6.1f} s  created {counts['created']}, updated {counts['updated']}, "
                  f"unchanged {counts['unchanged']}; DataStore {counts['datastore_tables_loaded']} tables, "
                  f"{counts['datastore_rows_loaded']} rows loaded", flush=True)
            return summary

        try:
            first = publish("first run")
            again = publish("no-change rerun")
            warehouse.resources[0]["title"] += "（修订）"
            warehouse.write(base / "warehouse.duckdb")
            publish("one unit changed")
            print(f"{args.units} units with the DataStore: first run {first.seconds:.1f} s "
                  f"({first.write_calls} writes), no-change rerun {again.seconds:.1f} s ({again.write_calls} writes)")
        finally:
            if not args.keep:
                started = time.perf_counter()
                purge(ckan, names)
                print(f"purged {names.prefix}* in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
