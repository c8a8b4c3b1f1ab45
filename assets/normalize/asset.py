"""Dagster wrapper of the normalize stage: one unit partition per materialization."""

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from assets.harvest.asset import harvested_pages
from core.history import daily_run_id
from core.warehouse import RunTag
from orchestration.partitions import unit_partitions
from orchestration.resources import RegistryResource, StorageResource

from .build import normalize_unit


@asset(
    partitions_def=unit_partitions,
    deps=[harvested_pages],
    group_name="normalize",
    kinds={"python", "duckdb"},
    description="The unit's pages extracted into the resource schema (units, columns, resources, attachments).",
)
def normalized_resources(
    context: AssetExecutionContext, registry: RegistryResource, storage: StorageResource
) -> MaterializeResult:
    """Extract the unit's harvested pages and replace its rows in the warehouse in one transaction."""
    unit = registry.load().get(context.partition_key)
    # Tagged like the day's validation, so `zwgk report --at` finds the whole day's run.
    tag = RunTag(daily_run_id(), "normalize", extra={"dagster_run_id": context.run.run_id})
    summary = normalize_unit(unit, storage.harvest_dir, storage.warehouse_path, tag=tag)
    return MaterializeResult(metadata={
        "resources": summary.resources,
        "extracted": summary.extracted,
        "reused": summary.reused,
        "removed": summary.removed,
        "columns": summary.columns,
        "errors": len(summary.errors),
        "error_sample": MetadataValue.md("\n".join(f"- {e}" for e in summary.errors[:20]) or "none"),
        "warehouse": MetadataValue.path(str(storage.warehouse_path)),
    })
