"""Dagster wrapper of the harvest stage: one unit partition per materialization."""

from dagster import AssetExecutionContext, Failure, MaterializeResult, MetadataValue, RetryPolicy, asset

from orchestration.partitions import unit_partitions
from orchestration.resources import CrawlPolicyResource, RegistryResource, StorageResource

from . import HarvestSettings, harvest_units


@asset(
    partitions_def=unit_partitions,
    group_name="harvest",
    kinds={"python", "duckdb"},
    retry_policy=RetryPolicy(max_retries=2, delay=30),
    description="The unit's 政府信息公开 column crawled into the harvest store (raw pages, fetch log, evidence).",
)
def harvested_pages(
    context: AssetExecutionContext, registry: RegistryResource, storage: StorageResource, crawl: CrawlPolicyResource
) -> MaterializeResult:
    """Crawl one unit politely and incrementally; page errors are metadata, a unit failure fails the run."""
    units = registry.load()
    unit = units.get(context.partition_key)
    [summary] = harvest_units(units, [unit], storage.harvest_dir, HarvestSettings(polite=crawl.polite))
    errors = "\n".join(f"- {e}" for e in summary.errors[:20]) or "none"
    metadata = {
        "url": MetadataValue.url(unit.url),
        "fetched": summary.fetched,
        "not_modified": summary.not_modified,
        "new": summary.new,
        "changed": summary.changed,
        "removed": summary.removed,
        "errors": summary.error_count,
        "error_sample": MetadataValue.md(errors),
        "seconds": round(summary.elapsed, 2),
    }
    if summary.failed:
        raise Failure(description=f"unit {unit.id} ({unit.url}): {summary.failed}", metadata=metadata)
    context.log.info(f"unit {unit.id}: {summary.fetched} fetched, {summary.not_modified} not modified, "
                     f"{summary.error_count} errors")
    return MaterializeResult(metadata=metadata)
