"""The supervisors' report: static HTML from check_results and unit_scores, readable offline.

    OUT/index.html          ranking (filter by unit kind), unit × check heat map, trend across runs
    OUT/units/<unit>.html   every check of one unit: status, message, evidence link, basis, rule,
                            and the silent edits found in its documents (an insight, not scored)

The report can be rendered from the lake as it was at any kept snapshot (`snapshot`, found by
core.history from a run id or a date): the same code on the old state gives the same pages, but
for the one line that says when they were rendered and from which snapshot.

No CDN, no external script: CSS is inline, charts are SVG drawn on the server, and the kind
filter is a few lines of inline JavaScript (without it every row stays visible). Jinja2
autoescaping is on, so harvested text (titles in messages, unit names) is always shown as text.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb
from jinja2 import Environment, FileSystemLoader, select_autoescape

from expectations.catalog import load_catalog
from expectations.suites import data_docs_index as default_data_docs_index

from core import history
from core.warehouse import connect
from . import charts

TEMPLATES = Path(__file__).with_name("templates")
# Where build_report looks for GX Data Docs when not told: validate with data_docs_dir=OUT/gx.
DATA_DOCS_SUBDIR = "gx"
KIND_LABELS = {"district": "区政府", "zone": "开发区", "bureau": "委局", "street": "街道", "town": "镇"}
STATUS_LABELS = {"pass": "合格", "fail": "不合格", "n/a": "不适用"}
# An n/a whose message starts so was not decided because the page could not be read (not because
# the check does not apply): shown in the 无法核查 colour.
UNVERIFIED_PREFIX = "无法核查"
VERDICT_CSS = {"合格": "pass", "不合格": "fail", "无法核查": "unverified"}
ACCESS_LABELS = {"ok": "可访问", "empty": "无内容", "unreachable": "无法访问", "blocked": "反爬拦截",
                 "not_found": "页面不存在", "soft_404": "页面不存在（软404）", "unreadable": "无法读取（脚本加载）"}
SEVERITY_LABELS = {"veto": "否决项", "major": "重要", "minor": "一般"}


@dataclass(frozen=True)
class Run:
    run_id: str
    as_of: date
    checked_at: datetime
    units: int
    passed: int
    vetoed: int
    unverifiable: int = 0

    @property
    def failed(self) -> int:
        return self.units - self.passed - self.unverifiable

    @property
    def verified(self) -> int:
        return self.units - self.unverifiable

    @property
    def pass_rate(self) -> float:
        """合格 among the units that could be verified (无法核查 is neither a pass nor a failure)."""
        return 100.0 * self.passed / self.verified if self.verified else 0.0

    @property
    def label(self) -> str:
        return f"{self.as_of.isoformat()} {self.checked_at:%H:%M}"


def page_name(unit_id: str) -> str:
    """A safe file name for a unit's page: its id when plain, else the id made plain plus a hash."""
    plain = re.sub(r"[^A-Za-z0-9_-]", "_", unit_id)
    if plain != unit_id:
        plain += "-" + hashlib.sha256(unit_id.encode()).hexdigest()[:8]
    return f"{plain}.html"


def safe_href(url: str | None) -> str | None:
    """Only http(s) evidence becomes a link: a harvested `javascript:` URL must never be clickable."""
    return url if url and re.match(r"https?://", url, re.IGNORECASE) else None


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["safe_href"] = safe_href
    env.filters["page_name"] = page_name
    env.globals.update(KIND_LABELS=KIND_LABELS, STATUS_LABELS=STATUS_LABELS, SEVERITY_LABELS=SEVERITY_LABELS,
                       VERDICT_CSS=VERDICT_CSS, ACCESS_LABELS=ACCESS_LABELS, UNVERIFIED_PREFIX=UNVERIFIED_PREFIX)
    return env


def _runs(con: duckdb.DuckDBPyConnection) -> list[Run]:
    rows = con.execute("""
        SELECT run_id, min(as_of), min(checked_at), count(*), count(*) FILTER (WHERE verdict = '合格'),
               count(*) FILTER (WHERE veto), count(*) FILTER (WHERE verdict = '无法核查')
        FROM unit_scores GROUP BY run_id ORDER BY min(checked_at), run_id
    """).fetchall()
    return [Run(*row) for row in rows]


def _units(con: duckdb.DuckDBPyConnection, run_id: str, runs: list[Run]) -> list[dict]:
    """The run's units, ranked: 合格, then 不合格, by score; the units that could not be verified last."""
    rows = con.execute("""
        SELECT s.unit_id, coalesce(u.name, s.unit_id) AS name, u.kind, u.url, s.score, s.verdict, s.veto,
               s.veto_checks, u.access, u.access_detail, u.access_url, u.access_excerpt
        FROM unit_scores s LEFT JOIN units u USING (unit_id)
        WHERE s.run_id = $run_id
        ORDER BY CASE s.verdict WHEN '合格' THEN 0 WHEN '不合格' THEN 1 ELSE 2 END, s.score DESC NULLS LAST,
                 name, s.unit_id
    """, {"run_id": run_id}).fetchall()
    history: dict[str, dict[str, float]] = {}
    for unit_id, run, score in con.execute("SELECT unit_id, run_id, score FROM unit_scores").fetchall():
        history.setdefault(unit_id, {})[run] = score
    units = []
    rank = 0
    for (unit_id, name, kind, url, score, verdict, veto, veto_checks, access, access_detail, access_url,
         access_excerpt) in rows:
        trend = [history.get(unit_id, {}).get(r.run_id) for r in runs]
        rank = rank + 1 if score is not None else rank  # units that could not be verified are not ranked
        units.append({"rank": rank if score is not None else None, "unit_id": unit_id, "name": name,
                      "kind": kind or "", "url": url, "score": score, "verdict": verdict, "veto": veto,
                      "veto_checks": veto_checks or [], "trend": trend, "sparkline": charts.sparkline(trend),
                      "access": access, "access_detail": access_detail, "access_url": access_url,
                      "access_excerpt": access_excerpt})
    return units


def _columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[dict]]:
    """unit id → its columns with their access outcome (the unit page's 栏目读取情况)."""
    columns: dict[str, list[dict]] = {}
    present = {c for (c,) in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = 'columns'").fetchall()}
    if "access" not in present:  # a warehouse written before access outcomes were recorded
        return columns
    for unit_id, name, url, items, access, detail, source, rendered, note in con.execute("""
        SELECT unit_id, name, url, item_count, access, access_detail, list_source, rendered,
               CASE WHEN has_note AND item_count = 0 THEN note_text END
        FROM columns ORDER BY unit_id, url
    """).fetchall():
        columns.setdefault(unit_id, []).append({"name": name, "url": url, "items": items, "access": access,
                                                "detail": detail, "source": source, "rendered": rendered,
                                                "note": note})
    return columns


def _results(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, dict[str, dict]]:
    """unit id → check id → result row of the run."""
    results: dict[str, dict[str, dict]] = {}
    for unit_id, check_id, status, severity, url, message, urls, text, rule, warning in con.execute("""
        SELECT unit_id, check_id, status, severity, evidence_url, message, evidence_urls, evidence_text,
               rule_applied, warning
        FROM check_results WHERE run_id = $run_id
    """, {"run_id": run_id}).fetchall():
        results.setdefault(unit_id, {})[check_id] = {
            "status": status, "severity": severity, "evidence_url": url, "message": message,
            # Runs written before these were recorded have only the one evidence URL.
            "evidence_urls": urls or ([url] if url else []), "evidence_text": text, "rule_applied": rule,
            "warning": warning}
    return results


def _document_changes(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, list[dict]]:
    """unit id → the silent edits the run found in its documents (none in a lake from before
    silent edits were looked for)."""
    changes: dict[str, list[dict]] = {}
    try:
        rows = con.execute("""
            SELECT unit_id, url, title, publish_date, before_snapshot, before_seen_at, after_snapshot, after_seen_at,
                   passages
            FROM document_changes WHERE run_id = $run_id ORDER BY unit_id, url, after_snapshot
        """, {"run_id": run_id}).fetchall()
    except duckdb.CatalogException:
        return changes
    for unit_id, url, title, publish_date, before, before_at, after, after_at, passages in rows:
        changes.setdefault(unit_id, []).append({
            "url": url, "title": title, "publish_date": publish_date,
            "before": history.Snapshot(before, _as_utc(before_at)), "after": history.Snapshot(after, _as_utc(after_at)),
            "passages": json.loads(passages)})
    return changes


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc)


def _check_totals(results: dict[str, dict[str, dict]]) -> dict[str, dict[str, int]]:
    totals = {c.id: {"pass": 0, "fail": 0, "n/a": 0, "unverified": 0} for c in load_catalog().checks}
    for checks in results.values():
        for check_id, result in checks.items():
            if unverified(result):
                totals[check_id]["unverified"] += 1
            else:
                totals[check_id][result["status"]] += 1
    return totals


def unverified(result: dict | None) -> bool:
    """An n/a that says the page could not be read, not that the check does not apply."""
    return bool(result) and result["status"] == "n/a" and (result["message"] or "").startswith(UNVERIFIED_PREFIX)


def _data_docs_link(out_dir: Path, data_docs_index: Path | None) -> str | None:
    index = data_docs_index or default_data_docs_index(out_dir / DATA_DOCS_SUBDIR)
    return Path(os.path.relpath(index, out_dir)).as_posix() if index.exists() else None


def build_report(db_path: str | Path, out_dir: str | Path, run_id: str | None = None,
                 data_docs_index: str | Path | None = None, snapshot: int | None = None) -> Path:
    """Write the report of `run_id` (default: the latest run) into `out_dir`; returns index.html.

    `data_docs_index` is the GX Data Docs index.html to link; by default OUT/gx's, if present.
    With `snapshot`, the lake is read as it was at that snapshot (core.history finds it).
    """
    out_dir = Path(out_dir)
    with connect(db_path, read_only=True, snapshot_version=snapshot) as con:
        runs = _runs(con)
        where = f"{db_path}" + (f" at snapshot {snapshot}" if snapshot is not None else "")
        if not runs:
            raise ValueError(f"{where}: no validation run to report on")
        run = next((r for r in runs if r.run_id == run_id), None) if run_id else runs[-1]
        if run is None:
            raise ValueError(f"{where}: no validation run {run_id!r}")
        units = _units(con, run.run_id, runs)
        results = _results(con, run.run_id)
        columns = _columns(con)
        changes = _document_changes(con, run.run_id)
        read_at = history.current_snapshot(con)
    checks = load_catalog().checks
    env = _environment()
    env.tests["unverified"] = unverified
    trend = charts.line_chart([r.pass_rate for r in runs], [r.label for r in runs], unit="%")
    (out_dir / "units").mkdir(parents=True, exist_ok=True)
    # The one line that differs when the same snapshot is rendered again: when, and from which snapshot.
    common = {"run": run, "runs": runs, "checks": checks, "snapshot": read_at,
              "generated": datetime.now(history.BEIJING).strftime("%Y-%m-%d %H:%M:%S")}
    index = out_dir / "index.html"
    index.write_text(env.get_template("index.html.j2").render(
        units=units, results=results, totals=_check_totals(results), trend=trend,
        kinds=[k for k in KIND_LABELS if any(u["kind"] == k for u in units)],
        changed_units={unit_id: len(found) for unit_id, found in changes.items()},
        data_docs=_data_docs_link(out_dir, Path(data_docs_index) if data_docs_index else None), **common,
    ), encoding="utf-8")
    unit_template = env.get_template("unit.html.j2")
    for unit in units:
        chart = charts.line_chart(unit["trend"], [r.label for r in runs], width=520, height=180)
        (out_dir / "units" / page_name(unit["unit_id"])).write_text(unit_template.render(
            unit=unit, results=results.get(unit["unit_id"], {}), trend=chart,
            columns=columns.get(unit["unit_id"], []), changes=changes.get(unit["unit_id"], []), **common),
            encoding="utf-8")
    return index
