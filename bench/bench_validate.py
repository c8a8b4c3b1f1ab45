"""End-to-end time of the validation stage on a synthetic 1,000-unit, 1M-resource warehouse.

    .venv/bin/python bench/bench_validate.py [--units 1000] [--docs-per-unit 1000] [--db PATH] [--keep]

Synthesizes the warehouse in bulk through Arrow (column layout, document mix, dates, texts and
defect rates modelled on the sample portal), then validates it in a fresh child process, so the
figures printed — seconds per step of `validate_warehouse` and peak RSS — belong to validation
alone. Target: ≤ 60 s for 1,000 units × 1,000 documents on a 2-core machine.

For comparison in the same run, the same rows are copied into plain DuckDB tables in a file of
their own and validated by the same code (the child opens that file where it would open the
lake), and the lake is validated again after `zwgk maintain` has merged its small files.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import schemas  # noqa: E402
from core import lake, warehouse  # noqa: E402
from sample_portal import content  # noqa: E402

AS_OF = date(2021, 3, 1)
NOW = datetime(2021, 3, 1, 6, 0)
UNITS_PER_CHUNK = 50
MAIN_HOST = "www.bh.zwgk.test:8080"
DEFECT_RATE = 0.02
DEFECTS = ("unreachable", "pii", "stale_news", "dup_index", "blank", "no_guide", "broken_link", "unmarked",
           "copy", "publisher", "no_reason", "late_report")
# code, name, kind, parent, share of the unit's documents (the rest of the layout is fixed-size).
LAYOUT = (
    ("zn", "政府信息公开指南", "guide", None, 0), ("zd", "政府信息公开制度", "system", None, 0),
    ("fdzdgknr", "法定主动公开内容", "statutory", None, 0), ("ndbg", "政府信息公开工作年度报告", "annual_report", None, 0),
    ("jgxx", "机构信息", "org_info", "fdzdgknr", 0), ("qzqd", "权责清单", "power_list", "fdzdgknr", 0),
    ("gfxwj", "行政规范性文件", "normative", "fdzdgknr", 0.08), ("zcjd", "政策解读", "interpretation", "fdzdgknr", 0),
    ("zcwj", "政策文件", "policy", "fdzdgknr", 0.2), ("tzgg", "通知公告", "notice", "fdzdgknr", 0.2),
    ("gzdt", "工作动态", "news", "fdzdgknr", 0.4), ("yjya", "应急预案", "emergency_plan", "fdzdgknr", 0),
    ("bzml", "基层政务公开事项标准目录", "standard_catalog", "fdzdgknr", 0), ("hygk", "会议公开", "meeting", "fdzdgknr", 0),
    ("czxx", "财政预决算", "other", "fdzdgknr", 0.02), ("rsxx", "人事信息", "other", "fdzdgknr", 0.02),
)
DOC_KINDS = {"guide": "公开指南", "system": "公开制度", "annual_report": "年度报告", "normative": "规范性文件",
             "interpretation": "政策解读", "emergency_plan": "应急预案"}
REPORT_TEXT = "".join(("一、总体情况。", "二、主动公开政府信息情况。", "三、收到和处理政府信息公开申请情况。",
                       "四、政府信息公开行政复议、行政诉讼情况。", "五、存在的主要问题及改进情况。", "六、其他需要报告的事项。"))
GUIDE_TEXT = ("二、依申请公开。公民、法人或者其他组织可以提出申请。三、工作机构：本机关办公室。"
              "地址：滨海新区第二大街1号。办公时间：工作日9:00—17:00。联系电话：022-25000000。")


@dataclass
class UnitPlan:
    unit_id: str
    name: str
    kind: str
    host: str
    org_code: str
    emergency: bool
    areas: tuple[str, ...]
    docs: int
    defects: set[str] = field(default_factory=set)

    @property
    def base(self) -> str:
        return f"http://{self.host}/{self.unit_id}/zfxxgk/"


def plan_units(rng: np.random.Generator, count: int, docs_per_unit: int) -> list[UnitPlan]:
    plans = []
    for i in range(count):
        kind = "district" if i < 2 else "zone" if i < 7 else str(rng.choice(["bureau", "street", "town"],
                                                                            p=[0.35, 0.4, 0.25]))
        own_host = kind == "zone" or rng.random() < 0.05
        areas = ("民生", "环保", "征地", "房屋征收") if kind == "district" else \
            tuple(rng.choice(list(content.KEY_AREA_DOCS), 1)) if rng.random() < 0.2 else ()
        plans.append(UnitPlan(
            unit_id=f"u{i:04d}", name=f"区第{i}单位", kind=kind,
            host=f"www.u{i:04d}.zwgk.test:8080" if own_host else MAIN_HOST, org_code=f"{rng.integers(10**8, 10**9)}",
            emergency=kind != "bureau" or rng.random() < 0.3, areas=areas,
            docs=max(60, int(rng.normal(docs_per_unit, docs_per_unit * 0.15))),
            defects={d for d in DEFECTS if rng.random() < DEFECT_RATE},
        ))
    return plans


class Chunk:
    """Rows of a few units, column-wise, ready to become Arrow tables."""

    def __init__(self):
        self.resources: dict[str, list] = {name: [] for name in schemas.table("resources").field_names}
        self.rows: dict[str, list[dict]] = {"units": [], "columns": [], "link_checks": []}

    def add_resources(self, n: int, **fields) -> None:
        for name, values in self.resources.items():
            given = fields.get(name)
            values.extend(given if isinstance(given, list) else [given] * n)

    def tables(self) -> dict[str, pa.Table]:
        tables = {name: pa.Table.from_pylist(rows, schema=schemas.arrow_schema(name))
                  for name, rows in self.rows.items()}
        tables["resources"] = pa.Table.from_pydict(self.resources, schema=schemas.arrow_schema("resources"))
        return tables


class UnitSynth:
    """One unit's columns, resources and link checks."""

    def __init__(self, plan: UnitPlan, rng: np.random.Generator, chunk: Chunk):
        self.plan, self.rng, self.chunk = plan, rng, chunk
        self.seq = 0
        self.normative_bodies: list[str] = []

    def texts(self, pool: tuple[str, ...], n: int, k: int) -> list[str]:
        picks = self.rng.integers(0, len(pool), (n, k))
        return ["".join(pool[j] for j in row) for row in picks]

    def dates(self, n: int, newest_days: int, span_days: int) -> list[date]:
        ages = self.rng.integers(newest_days, max(span_days, newest_days + 1), n)
        ages[0] = self.rng.integers(1, newest_days + 1)
        return [AS_OF - timedelta(days=int(a)) for a in ages]

    def index_numbers(self, days: list[date]) -> list[str]:
        start = self.seq
        self.seq += len(days)
        return [f"{self.plan.org_code}/{d.year}-{start + i + 1:05d}" for i, d in enumerate(days)]

    def build(self) -> None:
        p = self.plan
        self.chunk.rows["units"].append({
            "unit_id": p.unit_id, "name": p.name, "kind": p.kind, "url": p.base, "host": p.host,
            "entry_ok": "unreachable" not in p.defects, "entry_status": 404 if "unreachable" in p.defects else 200,
            "entry_error": None, "parent": None, "aliases": [f"天津市滨海新区第{p.unit_id}单位"],
            "emergency_duties": p.emergency, "key_areas": list(p.areas), "first_seen": NOW, "last_seen": NOW,
            "removed_at": None, "schema_version": schemas.SCHEMA_VERSION,
        })
        normative: tuple[list[str], list[str]] = ([], [])
        for code, name, kind, parent, share in LAYOUT:
            if not self.wanted(kind, code):
                continue
            column_id = f"{p.unit_id}-{code}"
            url = f"{p.base}{code}/"
            days = self.add_column_docs(code, kind, column_id, url, self.count(code, kind, share), normative)
            children = sum(1 for c in LAYOUT if c[3] == code and self.wanted(c[2], c[0]))
            self.chunk.rows["columns"].append({
                "column_id": column_id, "unit_id": p.unit_id, "name": name, "kind": kind, "url": url,
                "parent_column_id": f"{p.unit_id}-{parent}" if parent else None, "item_count": len(days),
                "child_count": children, "newest_item_date": max((d for d in days if d), default=None),
                "has_note": not days and "blank" not in p.defects, "note_text": None,
                "list_pages": max(1, len(days) // 15), "walked_fully": True, "first_seen": NOW, "last_seen": NOW,
                "schema_version": schemas.SCHEMA_VERSION,
            })

    def wanted(self, kind: str, code: str) -> bool:
        p = self.plan
        return {"standard_catalog": p.kind in ("district", "street", "town"), "meeting": p.kind == "district",
                "emergency_plan": p.emergency, "guide": "no_guide" not in p.defects}.get(kind, True)

    def count(self, code: str, kind: str, share: float) -> int:
        fixed = {"guide": 1, "system": 2, "annual_report": 3, "org_info": 4, "power_list": 1, "emergency_plan": 2,
                 "standard_catalog": 1, "meeting": 3, "statutory": 0}
        if kind in fixed:
            return fixed[kind]
        if kind == "interpretation":
            return -1  # one per normative document, added with them
        if kind == "other" and ("blank" in self.plan.defects or (code == "rsxx" and self.rng.random() < 0.3)):
            return 0
        return max(2, int(self.plan.docs * share * self.rng.uniform(0.8, 1.2)))

    def add_column_docs(self, code, kind, column_id, url, n, normative) -> list[date]:
        p = self.plan
        if kind == "interpretation":
            return self.add_interpretations(column_id, url, normative)
        if n == 0:
            return []
        newest, span = {"news": (10, 170), "policy": (60, 800), "notice": (60, 700)}.get(kind, (30, 900))
        if kind == "news" and "stale_news" in p.defects:
            newest = 30
        days = self.dates(n, newest, span)
        if kind == "annual_report":
            days = [date(AS_OF.year - k, 1, 20) for k in range(n)]
            if "late_report" in p.defects:
                days[0] = date(AS_OF.year, 2, 20)
        if kind == "standard_catalog":
            days = [date(2020, 11, 20)]
        titles = self.titles(kind, n)
        if kind == "policy" and p.areas:
            titles[1:1 + len(p.areas)] = [content.KEY_AREA_DOCS[a][0] for a in p.areas][: max(n - 1, 0)]
        is_news = kind == "news"
        urls = [f"{url}t{i:05d}.html" for i in range(n)]
        ids = [f"{p.unit_id}-{code}-{i}" for i in range(n)]
        index = [None] * n if is_news else self.index_numbers(days)
        if "dup_index" in p.defects and kind == "notice":
            index[1] = index[0]
        publisher = [p.name] * n
        if "publisher" in p.defects and kind == "policy":
            publisher[0] = "区审计局"
        fields = dict(
            resource_id=ids, unit_id=p.unit_id, column_id=column_id, column_kind=kind, url=urls, title=titles,
            index_no=index, publisher=None if is_news else publisher, publish_date=days, list_date=days,
            written_date=None if is_news else [d - timedelta(days=int(k))
                                               for d, k in zip(days, self.rng.integers(0, 6, n))],
            subject=[content.SUBJECTS[j] for j in self.rng.integers(0, len(content.SUBJECTS), n)],
            disclosure="主动公开", doc_kind=DOC_KINDS.get(kind, "其他"), is_marked_abolished=False,
            body_text=self.bodies(kind, n), has_pii=[bool(x) for x in self.rng.random(n) < 0.00001],
            raw_labels="{}", content_sha256=[f"{hash(i) & (2**64 - 1):064x}" for i in ids],
            first_seen=NOW, last_seen=NOW,
            removed_at=[NOW if x else None for x in self.rng.random(n) < 0.003], schema_version=schemas.SCHEMA_VERSION,
        )
        if kind == "annual_report":
            fields["report_figures"] = [json.dumps({"本年新收": 10, "上年结转": 1, "办理结果总计": 9, "结转下年度": 2},
                                                   ensure_ascii=False)] * n
            fields["title"] = [f"{p.name}{d.year - 1}年政府信息公开工作年度报告" for d in days]
        if kind == "normative":
            self.normative_fields(fields, n, normative)
        if "pii" in p.defects and kind == "notice":
            fields["has_pii"][0] = True
        if "no_reason" in p.defects and kind == "policy":
            fields["disclosure"] = ["不予公开"] + ["主动公开"] * (n - 1)
        self.chunk.add_resources(n, **fields)
        if kind in ("policy", "notice", "normative"):
            self.add_link_checks(urls[::3])
        return days

    def titles(self, kind: str, n: int) -> list[str]:
        pools = {"news": content.NEWS_TOPICS, "policy": content.POLICY_TOPICS, "notice": content.NOTICE_TOPICS,
                 "org_info": tuple(content.ORG_INFO), "meeting": ("区政府常务会议",)}
        pool = pools.get(kind, (f"{self.plan.name}{kind}",))
        return [f"{pool[i % len(pool)]}（{i // len(pool) + 1}）" for i in range(n)]

    def bodies(self, kind: str, n: int) -> list[str]:
        if kind == "annual_report":
            return [REPORT_TEXT] * n
        if kind == "guide":
            return [GUIDE_TEXT] * n
        if kind == "org_info":
            return list(content.ORG_INFO.values())[:n]
        if kind == "news":
            return self.texts(content.NEWS_SENTENCES, n, 3)
        return self.texts(content.SENTENCES, n, 3)

    def normative_fields(self, fields: dict, n: int, normative: tuple[list[str], list[str]]) -> None:
        p = self.plan
        fields["title"] = [f"关于印发{p.name}{content.NORMATIVE_SUBJECTS[i % 10]}管理办法（第{i + 1}号）的通知"
                           for i in range(n)]
        fields["doc_number"] = [f"津滨{p.unit_id}规〔2020〕{i + 1}号" for i in range(n)]
        fields["body_text"] = [b + "本办法自发布之日起施行，有效期5年。" for b in self.texts(content.SENTENCES, n, 4)]
        fields["validity"] = ["有效"] * n
        fields["validity_period_text"] = "有效期5年"
        fields["valid_until"] = [d + timedelta(days=5 * 365) for d in fields["publish_date"]]
        if self.rng.random() < 0.35 or "unmarked" in p.defects:
            fields["body_text"][-1] += f"《{fields['title'][0]}》（{fields['doc_number'][0]}）同时废止。"
            if "unmarked" not in p.defects:
                fields["validity"][0] = "废止"
        normative[0].extend(fields["resource_id"])
        normative[1].extend(fields["title"])
        self.normative_bodies = fields["body_text"]

    def add_interpretations(self, column_id: str, url: str, normative: tuple[list[str], list[str]]) -> list[date]:
        p = self.plan
        targets, titles = normative
        n = len(targets)
        days = self.dates(n, 20, 900)
        bodies = [f"近日，{p.name}印发了《{t}》，现就有关内容解读如下。" + b
                  for t, b in zip(titles, self.texts(content.INTERPRETATION_SENTENCES, n, 4))]
        if "copy" in p.defects and n:
            bodies[0] = f"现将《{titles[0]}》解读如下。" + self.normative_bodies[0]
        ids = [f"{p.unit_id}-zcjd-{i}" for i in range(n)]
        self.chunk.add_resources(
            n, resource_id=ids, unit_id=p.unit_id, column_id=column_id, column_kind="interpretation",
            url=[f"{url}t{i:05d}.html" for i in range(n)], title=[f"《{t}》政策解读" for t in titles],
            index_no=self.index_numbers(days), publisher=p.name, publish_date=days, list_date=days,
            written_date=days, disclosure="主动公开", doc_kind="政策解读", interprets=list(targets),
            interprets_title=list(titles), is_marked_abolished=False, body_text=bodies, has_pii=False,
            raw_labels="{}", content_sha256=[f"{hash(i) & (2**64 - 1):064x}" for i in ids], first_seen=NOW,
            last_seen=NOW, schema_version=schemas.SCHEMA_VERSION,
        )
        return days

    def add_link_checks(self, sources: list[str]) -> None:
        broken = "broken_link" in self.plan.defects
        for number, source in enumerate(sources):
            self.chunk.rows["link_checks"].append({
                "unit_id": self.plan.unit_id, "source_url": source, "target_url": source + ".pdf", "kind": "attachment",
                "status": 404 if broken and number == 0 else 200, "error": None, "checked_at": NOW})


def synthesize(db: Path, units: int, docs_per_unit: int, seed: int = 20201130) -> int:
    """Write the synthetic warehouse; returns the number of resources."""
    rng = np.random.default_rng(seed)
    plans = plan_units(rng, units, docs_per_unit)
    total = 0
    with warehouse.connect(db) as con:
        for start in range(0, len(plans), UNITS_PER_CHUNK):
            chunk = Chunk()
            for plan in plans[start:start + UNITS_PER_CHUNK]:
                UnitSynth(plan, rng, chunk).build()
            for name, table in chunk.tables().items():
                warehouse.load_table(con, name, table)
            total += len(chunk.resources["resource_id"])
        hosts = sorted({p.host for p in plans})
        con.register("hosts_rows", pa.Table.from_pylist([
            {"host": h, "ipv6_addresses": ["::1"], "ipv6_ok": h == MAIN_HOST or rng.random() < 0.7,
             "http_status": 200, "error": None, "checked_at": NOW} for h in hosts],
            schema=schemas.arrow_schema("hosts")))
        con.execute("INSERT INTO hosts SELECT * FROM hosts_rows")
    return total


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def copy_to_plain(db: Path, plain: Path) -> None:
    """The lake's tables, row for row, as native tables of a plain DuckDB file."""
    plain.unlink(missing_ok=True)
    with warehouse.connect(db, read_only=True) as con:
        con.execute(f"ATTACH '{plain}' AS plain")
        for name in schemas.load_schema().tables:
            con.execute(schemas.ddl(name).replace(f'"{name}"', f'plain."{name}"', 1))
            con.execute(f'INSERT INTO plain."{name}" SELECT * FROM lake."{name}"')
        con.execute("DETACH plain")


def open_plain_as_the_warehouse(plain: Path) -> None:
    """In this (child) process, `core.warehouse.connect` opens the plain file instead of the lake,
    attached under the lake's name so every query and cursor of the stage runs unchanged."""
    from contextlib import contextmanager

    import duckdb

    @contextmanager
    def connect(path, *, read_only=False, wait_seconds=None):
        con = duckdb.connect()
        con.execute(f"ATTACH '{plain}' AS {lake.LAKE}" + (" (READ_ONLY)" if read_only else ""))
        con.execute(f"USE {lake.LAKE}")
        try:
            yield con
        finally:
            con.close()

    warehouse.connect = connect


READS = {
    "resources by unit and kind": "SELECT unit_id, doc_kind, count(*), max(publish_date) FROM resources GROUP BY ALL",
    "one unit's resources": "SELECT * FROM resources WHERE unit_id = 'u0007'",
    "columns joined to resources": "SELECT c.kind, count(*) FROM columns c JOIN resources r USING (column_id) GROUP BY 1",
}


def time_reads(db: Path) -> dict[str, float]:
    """Best of three for each query, on the lake or (in a child process) the plain file."""
    timings = {}
    with warehouse.connect(db, read_only=True) as con:
        for label, sql in READS.items():
            best = float("inf")
            for _ in range(3):
                started = time.perf_counter()
                con.sql(sql).to_arrow_table()
                best = min(best, time.perf_counter() - started)
            timings[label] = best
    return timings


def data_files(db: Path) -> int:
    return sum(1 for _ in lake.data_dir(db).rglob("*.parquet"))


def validate(db: Path, plain: bool = False) -> None:
    """Run in a child process: the stage's own seconds and peak RSS."""
    if plain:
        open_plain_as_the_warehouse(db)
    for label, seconds in time_reads(db).items():
        print(f"  query {label:<30} {seconds * 1000:8.1f} ms")
    started = time.perf_counter()
    import great_expectations  # noqa: F401 - timed apart: a long-lived process pays it once

    gx_import = time.perf_counter() - started
    from assets.validate import validate_warehouse

    summary = validate_warehouse(db, AS_OF, run_id="bench")
    for step, seconds in summary.seconds.items():
        print(f"  validate_warehouse {step:<13} {seconds:7.2f} s")
    print(f"  (GX import, once per process: {gx_import:.2f} s)")
    print(f"  units {summary.units}: 合格 {summary.passed}, 不合格 {summary.failed}, vetoed {summary.vetoed}")
    print(f"  failures by check: {summary.failures_by_check}")
    print(f"  peak RSS of the validating process: {peak_rss_mb():.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--docs-per-unit", type=int, default=1000)
    parser.add_argument("--db", type=Path, help="warehouse file (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="reuse --db if it exists instead of rebuilding it")
    parser.add_argument("--validate-only", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--plain", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.validate_only:
        validate(args.validate_only, plain=args.plain)
        return
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "bench.duckdb"
        if not (args.keep and db.exists()):
            db.unlink(missing_ok=True)
            shutil.rmtree(lake.data_dir(db), ignore_errors=True)
            started = time.perf_counter()
            resources = synthesize(db, args.units, args.docs_per_unit)
            size = db.stat().st_size + sum(p.stat().st_size for p in lake.data_dir(db).rglob("*.*"))
            print(f"synthesized {args.units} units, {resources} resources in {time.perf_counter() - started:.1f} s "
                  f"({size / 2**20:.0f} MB with its lake data; synthesis peak RSS {peak_rss_mb():.0f} MB)")
        plain = db.with_name(db.stem + ".plain.duckdb")
        started = time.perf_counter()
        copy_to_plain(db, plain)
        print(f"copied into plain DuckDB tables ({plain.stat().st_size / 2**20:.0f} MB) in "
              f"{time.perf_counter() - started:.1f} s")
        runs = [("DuckLake, as loaded", db, False), ("plain DuckDB tables, same rows", plain, True)]
        for label, path, is_plain in runs:
            if label.startswith("DuckLake"):
                print(f"{label} ({data_files(db)} data files):")
            else:
                print(f"{label}:")
            child = [sys.executable, __file__, "--validate-only", str(path)] + (["--plain"] if is_plain else [])
            subprocess.run(child, check=True)
        from core.maintenance import maintain_warehouse

        started = time.perf_counter()
        summary = maintain_warehouse(db, keep_days=0)
        print(f"zwgk maintain in {time.perf_counter() - started:.1f} s: " + "; ".join(summary.lines()))
        print(f"DuckLake after maintenance ({data_files(db)} data files):")
        subprocess.run([sys.executable, __file__, "--validate-only", str(db)], check=True)
        plain.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
