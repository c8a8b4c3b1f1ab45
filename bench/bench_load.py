"""Loading benchmark: normalized resources into the warehouse, through Arrow (issue: ≥ 500k rows/s).

Builds realistic resource rows in memory (not timed), then times the production write path,
`assets.normalize.warehouse.replace_units` (delete the units' rows + bulk insert from Arrow, one
transaction per batch of units, as `normalize_units` does), and the one-unit-per-transaction path
that a Dagster partition takes, into one DuckDB file. Prints rows/s and peak RSS.

    uv run python bench/bench_load.py --units 1000 --per-unit 1000
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa

import schemas
from assets.normalize.warehouse import connect, replace_unit, replace_units

BODY = "为深入贯彻落实党中央、国务院决策部署和市委、市政府工作要求，结合我区实际，制定本方案。" * 6


def unit_resources(unit_id: str, count: int) -> pa.Table:
    """`count` resource rows of one unit, with the sizes and shapes the normalizer produces."""
    day = date(2020, 1, 1)
    now = datetime(2021, 3, 1)
    columns = {
        "resource_id": [f"{unit_id}-{i:06d}" for i in range(count)],
        "unit_id": [unit_id] * count,
        "column_id": [f"{unit_id}-col{i % 12}" for i in range(count)],
        "column_kind": [("policy", "notice", "news", "normative")[i % 4] for i in range(count)],
        "url": [f"http://www.bh.zwgk.test/{unit_id}/zfxxgk/t{i}.html" for i in range(count)],
        "title": [f"关于做好第{i}项重点工作的通知" for i in range(count)],
        "index_no": [f"000014349/2020-{i:05d}" for i in range(count)],
        "publisher": ["滨海新区教育局"] * count,
        "doc_number": [f"津滨教〔2020〕{i}号" for i in range(count)],
        "written_date": [day + timedelta(days=i % 365) for i in range(count)],
        "publish_date": [day + timedelta(days=i % 365 + 2) for i in range(count)],
        "list_date": [day + timedelta(days=i % 365 + 2) for i in range(count)],
        "subject": ["综合政务\\政务公开"] * count,
        "keywords": [None] * count,
        "validity": [("有效", None)[i % 2] for i in range(count)],
        "is_marked_abolished": [False] * count,
        "disclosure": ["主动公开"] * count,
        "summary": [BODY[:120]] * count,
        "body_text": [BODY] * count,
        "doc_kind": [("规范性文件", "其他", "其他", "政策解读")[i % 4] for i in range(count)],
        "has_pii": [False] * count,
        "pii_findings": ["[]"] * count,
        "raw_labels": [json.dumps({"索引号": f"000014349/2020-{i:05d}"}, ensure_ascii=False) for i in range(count)],
        "links": ["[]"] * count,
        "warnings": ["[]"] * count,
        "encoding": ["utf-8"] * count,
        "content_sha256": [f"{i:064x}" for i in range(count)],
        "first_seen": [now] * count,
        "last_seen": [now] * count,
        "schema_version": [schemas.SCHEMA_VERSION] * count,
    }
    target = schemas.arrow_schema("resources")
    arrays = [pa.array(columns.get(f.name, [None] * count), type=f.type) for f in target]
    return pa.Table.from_arrays(arrays, schema=target)


def raw_insert_rate(path: Path, table: pa.Table) -> float:
    """The best this machine does: every row in one INSERT from Arrow, checkpointed to disk."""
    with connect(path) as con:
        con.register("incoming", table)
        started = time.perf_counter()
        con.execute("INSERT INTO resources SELECT * FROM incoming")
        con.execute("CHECKPOINT")
        return table.num_rows / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--per-unit", type=int, default=1000)
    args = parser.parse_args()

    tables = [(f"u{n:04d}", unit_resources(f"u{n:04d}", args.per_unit)) for n in range(args.units)]
    rows = args.units * args.per_unit
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = Path(tmp) / "bench.duckdb"
        with connect(warehouse) as con:
            for label, batch in (("first load, 50 units/txn", 50), ("reload, 50 units/txn", 50),
                                 ("reload, 1 unit/txn", 1)):
                started = time.perf_counter()
                for start in range(0, len(tables), batch):
                    part = tables[start:start + batch]
                    if batch == 1:
                        replace_unit(con, part[0][0], {"resources": part[0][1]})
                    else:
                        replace_units(con, [u for u, _ in part], [{"resources": t} for _, t in part])
                seconds = time.perf_counter() - started
                print(f"{label:28s} {rows:>9,} resources in {seconds:6.2f} s = {rows / seconds:>10,.0f} resources/s")
            [(stored,)] = con.execute("SELECT count(*) FROM resources").fetchall()
        assert stored == rows, (stored, rows)
        ceiling = raw_insert_rate(Path(tmp) / "ceiling.duckdb", pa.concat_tables([t for _, t in tables]))
        print(f"{'ceiling: one INSERT, no keys':28s} {rows:>9,} resources at {ceiling:>21,.0f} resources/s "
              "(DuckDB's own bulk rate for these rows on this machine)")
        size = warehouse.stat().st_size
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"warehouse {size / 1e6:,.0f} MB; peak RSS {peak:,.0f} MB (includes the {rows:,} rows built in memory)")


if __name__ == "__main__":
    main()
