"""Validate units: features (SQL) → verdicts (GX suites) → check_results and unit_scores.

`validate_warehouse` runs every current unit (or a chosen few) for one `as_of` and writes all
rows of the run in one transaction; `validate_unit` is the same for one unit (the Dagster asset
is partitioned per unit) and gives that unit exactly the rows a full run gives it, because
every feature is computed per unit. Runs accumulate, so the report can show a trend; writing a
run_id again replaces that run's rows for the units validated.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa

import schemas
from expectations.catalog import FAILED, PASSED, Check, load_catalog, score_unit
from expectations.catalog import UNVERIFIABLE as UNVERIFIABLE_VERDICT
from expectations.suites import FEATURE_COLUMNS, INDEX_COLUMN, SuiteOutcome, run_suites

from core.history import new_run_id
from core.warehouse import RunTag, connect, replace_where
from .document_changes import find_document_changes
from .features import compute_features
from .messages import (NO_EMERGENCY_DUTIES, NOT_APPLICABLE, Details, describe, details, entry_missing, rule_applied,
                       unread_column, unverifiable_unit)
from .rules import ABSENCE_CAUSES, RuleDates

# Entry outcomes that leave the unit unverifiable (无法核查): the column was never read.
UNVERIFIABLE = ("blocked", "unreachable", "unreadable")
# Entry outcomes that show the column is not there: C01 fails, the rest cannot be checked.
MISSING = ("not_found", "soft_404")
# Checks still decided when the unit's entry page is missing (catalog header).
UNBLOCKED = ("C01", "C19")


@dataclass(frozen=True)
class ValidationSummary:
    run_id: str
    as_of: date
    units: int
    passed: int  # verdict 合格
    failed: int  # verdict 不合格
    vetoed: int
    failures_by_check: dict[str, int]
    seconds: dict[str, float] = field(default_factory=dict)
    data_docs_index: Path | None = None
    unverifiable: int = 0  # verdict 无法核查 (the column could not be read)


@dataclass(frozen=True)
class Evaluation:
    """A run's rows, ready to write: one per unit and check, and one per unit."""

    check_results: pa.Table
    unit_scores: pa.Table
    data_docs_index: Path | None
    # Silent edits found in the units' history: an insight shown beside the checks, never scored.
    document_changes: pa.Table | None = None


def _not_applicable(check: Check, row: dict, dates: RuleDates) -> str | None:
    """Why `check` does not apply to the unit (as of the run), or None when it applies."""
    if row["kind"] not in check.applies_to:
        return NOT_APPLICABLE
    if not check.applies(row["kind"], row["emergency_duties"]):
        return NO_EMERGENCY_DUTIES
    if check.due is not None and dates.as_of <= check.due:
        return f"未到期：{check.due.isoformat()}后检查"
    return None


def unverifiable(row: dict) -> bool:
    """The unit's column could not be read at all (gate, unreachable, JS shell): 无法核查."""
    return row["access"] in UNVERIFIABLE


def _entry_missing(check: Check, row: dict) -> bool:
    """The entry page is not there: every check but C01 (which fails) and C19 cannot be checked."""
    return (row["access"] in MISSING or not row["entry_ok"]) and check.id not in UNBLOCKED


def _unread_cause(check: Check, row: dict) -> list[dict]:
    """The unread columns that could hold what a failing check did not find (empty: none could)."""
    causes = ABSENCE_CAUSES.get(check.id)
    unread = row["unread_columns"] or []
    if causes is None or not unread or not causes.applies(row):
        return []
    if causes.kinds is None:
        return unread
    relevant = [c for c in unread if c["kind"] in causes.kinds]
    # A kind with no column at all may sit under a column that could not be read.
    present = any(row.get(f"{kind}_url") for kind in causes.kinds)
    return relevant or ([] if present else unread)


def _verdict(check: Check, row: dict, outcome: SuiteOutcome, dates: RuleDates
             ) -> tuple[str, str, str | None, Details]:
    """(status, message, evidence URL, further evidence) of one check for one unit."""
    reason = _not_applicable(check, row, dates)
    if reason:
        return "n/a", reason, row["entry_url"], Details()
    if unverifiable(row):
        return ("n/a", *unverifiable_unit(row), Details())
    if _entry_missing(check, row):
        return ("n/a", *entry_missing(row), Details())
    passed = row["unit_id"] not in outcome.failures.get(check.id, ())
    if not passed:
        unread = _unread_cause(check, row)
        if unread:
            message, url = unread_column(check.id, unread)
            return "n/a", message, url, Details(evidence_urls=[c["url"] for c in unread])
    message, url = describe(check.id, row, passed, dates)
    return ("pass" if passed else "fail"), message, url, details(check.id, row)


def _unit_rows(row: dict, outcome: SuiteOutcome, dates: RuleDates, run_id: str, checked_at: datetime
               ) -> tuple[list[dict], dict]:
    results, statuses, veto_hits = [], {}, {}
    for check in load_catalog().checks:
        status, message, url, more = _verdict(check, row, outcome, dates)
        statuses[check.id] = status
        veto_hits[check.id] = status == "fail" and row["unit_id"] in outcome.vetoes.get(check.id, ())
        results.append({"run_id": run_id, "as_of": dates.as_of, "unit_id": row["unit_id"], "check_id": check.id,
                        "status": status, "severity": check.severity, "evidence_url": url, "message": message,
                        "checked_at": checked_at, "evidence_urls": more.evidence_urls or ([url] if url else []),
                        "evidence_text": more.evidence_text,
                        # The rule as applied, where a supervisor needs it: what failed or was not decided.
                        "rule_applied": rule_applied(check.id, dates) if status != "pass" else None,
                        "warning": more.warning})
    score = score_unit(statuses, veto_hits, unverifiable=unverifiable(row))
    return results, {"run_id": run_id, "as_of": dates.as_of, "unit_id": row["unit_id"], "score": score.score,
                     "verdict": score.verdict, "veto": score.veto, "veto_checks": list(score.veto_checks),
                     "checked_at": checked_at}


def evaluate(con: duckdb.DuckDBPyConnection, as_of: date, run_id: str, units: list[str] | None = None,
             data_docs_dir: Path | None = None, seconds: dict[str, float] | None = None) -> Evaluation:
    """Decide every check for the selected units without writing anything."""
    seconds = {} if seconds is None else seconds
    dates = RuleDates.for_as_of(as_of)
    started = time.perf_counter()
    chunks = feature_chunks(con, units)
    features = pa.concat_tables([compute_features(con, as_of, chunk) for chunk in chunks]) if len(chunks) > 1 \
        else compute_features(con, as_of, units)
    seconds["features"] = time.perf_counter() - started
    started = time.perf_counter()
    outcome = run_suites(features.select([INDEX_COLUMN, *FEATURE_COLUMNS]).to_pandas(), run_id, data_docs_dir)
    seconds["expectations"] = time.perf_counter() - started
    started = time.perf_counter()
    checked_at = datetime.now(timezone.utc).replace(tzinfo=None)
    check_rows, score_rows = [], []
    for row in features.to_pylist():
        results, score = _unit_rows(row, outcome, dates, run_id, checked_at)
        check_rows += results
        score_rows.append(score)
    seconds["verdicts"] = time.perf_counter() - started
    started = time.perf_counter()
    changes = find_document_changes(con, [r["unit_id"] for r in score_rows], run_id, as_of, checked_at)
    seconds["history"] = time.perf_counter() - started
    return Evaluation(pa.Table.from_pylist(check_rows, schema=schemas.arrow_schema("check_results")),
                      pa.Table.from_pylist(score_rows, schema=schemas.arrow_schema("unit_scores")),
                      outcome.data_docs_index, changes)


# Features are computed for at most about this many current resources at once: every feature is
# per unit, so chunks of units give the same rows, and memory stays bounded at a million documents.
FEATURE_CHUNK_RESOURCES = 200_000


def feature_chunks(con: duckdb.DuckDBPyConnection, units: list[str] | None,
                   limit: int | None = None) -> list[list[str] | None]:
    """The selected units in order, cut into chunks of about `limit` current resources
    (default FEATURE_CHUNK_RESOURCES; `[units]` when they fit in one)."""
    limit = limit or FEATURE_CHUNK_RESOURCES
    counts = con.execute("""
        SELECT u.unit_id, count(r.unit_id) FROM units u
        LEFT JOIN resources r ON r.unit_id = u.unit_id AND r.removed_at IS NULL
        WHERE u.removed_at IS NULL AND ($units IS NULL OR list_contains($units, u.unit_id))
        GROUP BY u.unit_id ORDER BY u.unit_id""", {"units": units}).fetchall()
    if sum(n for _, n in counts) <= limit:
        return [units]
    chunks: list[list[str] | None] = []
    chunk, size = [], 0
    for unit_id, n in counts:
        if chunk and size + n > limit:
            chunks.append(chunk)
            chunk, size = [], 0
        chunk.append(unit_id)
        size += n
    return chunks + [chunk]


def write_results(con: duckdb.DuckDBPyConnection, evaluation: Evaluation, run_id: str,
                  units: list[str] | None = None, as_of: date | None = None, extra_tag: dict | None = None) -> None:
    """Replace the run's rows (for `units`, or all of the run) in one transaction, in bulk via Arrow;
    the lake snapshot it commits is tagged with the run (`zwgk report --at RUN` finds it)."""
    scope = "run_id = $run_id"
    params: dict = {"run_id": run_id}
    if units is not None:
        scope += " AND list_contains($units, unit_id)"
        params["units"] = units
    tables = {"check_results": evaluation.check_results, "unit_scores": evaluation.unit_scores}
    if evaluation.document_changes is not None:
        tables["document_changes"] = evaluation.document_changes
    replace_where(con, scope, params, tables, tag=RunTag(run_id, "validate", as_of, extra_tag or {}))


def _check_units_exist(con: duckdb.DuckDBPyConnection, units: list[str]) -> None:
    known = {u for (u,) in con.execute(
        "SELECT unit_id FROM units WHERE removed_at IS NULL AND list_contains($units, unit_id)", {"units": units}
    ).fetchall()}
    missing = sorted(set(units) - known)
    if missing:
        raise ValueError(f"not current units of the warehouse: {', '.join(missing)}")


def _summary(evaluation: Evaluation, run_id: str, as_of: date, seconds: dict[str, float]) -> ValidationSummary:
    scores = evaluation.unit_scores.to_pydict()
    failures: dict[str, int] = {check_id: 0 for check_id in load_catalog().ids}
    for check_id, status in zip(evaluation.check_results["check_id"].to_pylist(),
                                evaluation.check_results["status"].to_pylist()):
        failures[check_id] += status == "fail"
    return ValidationSummary(
        run_id=run_id, as_of=as_of, units=len(scores["unit_id"]), passed=scores["verdict"].count(PASSED),
        failed=scores["verdict"].count(FAILED), vetoed=sum(scores["veto"]), failures_by_check=failures,
        seconds=seconds, data_docs_index=evaluation.data_docs_index,
        unverifiable=scores["verdict"].count(UNVERIFIABLE_VERDICT),
    )


def validate_warehouse(db_path: str | Path, as_of: date, run_id: str | None = None, units: list[str] | None = None,
                       data_docs_dir: str | Path | None = None, extra_tag: dict | None = None) -> ValidationSummary:
    """Validate every current unit (or `units`) as of `as_of` and store the run's results and scores.

    With `data_docs_dir`, GX runs in a file-backed context there and builds its Data Docs site
    (the data team's view of every expectation); otherwise in an ephemeral context.
    """
    run_id = run_id or new_run_id()
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    with connect(db_path) as con:
        if units is not None:
            units = list(dict.fromkeys(units))
            _check_units_exist(con, units)
        evaluation = evaluate(con, as_of, run_id, units, Path(data_docs_dir) if data_docs_dir else None, seconds)
        write_started = time.perf_counter()
        write_results(con, evaluation, run_id, units, as_of, extra_tag)
        seconds["write"] = time.perf_counter() - write_started
    seconds["total"] = time.perf_counter() - started
    return _summary(evaluation, run_id, as_of, seconds)


def validate_unit(db_path: str | Path, unit_id: str, as_of: date, run_id: str | None = None,
                  data_docs_dir: str | Path | None = None, extra_tag: dict | None = None) -> ValidationSummary:
    """Validate one unit alone (one Dagster partition); its rows equal those of a full run."""
    return validate_warehouse(db_path, as_of, run_id, [unit_id], data_docs_dir, extra_tag)
