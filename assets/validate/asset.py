"""Dagster wrappers of the validation stage: per-unit verdicts with blocking checks, and the report."""

from core.history import daily_run_id
from core.warehouse import connect
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    MaterializeResult,
    MetadataValue,
    asset,
)

from assets.normalize.asset import normalized_resources
from orchestration.partitions import unit_partitions
from orchestration.resources import StorageResource, ValidationResource

from .report import build_report
from .results import validate_unit

VETO_CHECK = "no_personal_information"
VERDICT_CHECK = "unit_verdict"


@asset(
    partitions_def=unit_partitions,
    deps=[normalized_resources],
    group_name="validate",
    kinds={"python", "duckdb"},
    check_specs=[
        AssetCheckSpec(VETO_CHECK, asset="unit_verdicts", blocking=True,
                       description="C20: no unmasked personal information; blocks publishing the unit."),
        AssetCheckSpec(VERDICT_CHECK, asset="unit_verdicts",
                       description="The unit's verdict (合格) under checks C01–C22."),
    ],
    description="Checks C01–C22 decided for the unit, scored, written to check_results and unit_scores.",
)
def unit_verdicts(context: AssetExecutionContext, storage: StorageResource, validation: ValidationResource):
    """Validate one unit; its asset checks show the verdict in the UI and stop publishing on a C20 veto."""
    unit_id = context.partition_key
    summary = validate_unit(storage.warehouse_path, unit_id, validation.as_of_date(), run_id=daily_run_id(),
                            extra_tag={"dagster_run_id": context.run.run_id})
    with connect(storage.warehouse_path, read_only=True) as con:
        score, verdict, vetoes = con.execute(
            "SELECT score, verdict, veto_checks FROM unit_scores WHERE run_id = ? AND unit_id = ?",
            [summary.run_id, unit_id]).fetchall()[0]
        failed = [r[0] for r in con.execute(
            "SELECT check_id FROM check_results WHERE run_id = ? AND unit_id = ? AND status = 'fail' ORDER BY 1",
            [summary.run_id, unit_id]).fetchall()]
    yield MaterializeResult(metadata={
        "run_id": summary.run_id, "as_of": str(summary.as_of), "score": score, "verdict": verdict,
        "failed_checks": MetadataValue.text(", ".join(failed) or "none"),
    })
    yield AssetCheckResult(check_name=VETO_CHECK, passed="C20" not in vetoes,
                           metadata={"veto_checks": ", ".join(vetoes) or "none"})
    yield AssetCheckResult(check_name=VERDICT_CHECK, passed=verdict == "合格", severity=AssetCheckSeverity.WARN,
                           metadata={"score": score, "failed_checks": ", ".join(failed) or "none"})


@asset(
    deps=[unit_verdicts],
    group_name="validate",
    kinds={"html"},
    description="The supervisors' report: ranking, unit × check heat map, per-unit evidence, trend.",
)
def supervisors_report(storage: StorageResource) -> MaterializeResult:
    """Render the static HTML report from the latest validation run."""
    index = build_report(storage.warehouse_path, storage.report_dir)
    return MaterializeResult(metadata={"report": MetadataValue.url(index.resolve().as_uri()),
                                       "path": MetadataValue.path(str(index))})
