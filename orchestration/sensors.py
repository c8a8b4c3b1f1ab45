"""Sensors: keep the unit partitions equal to the registry's units."""

from __future__ import annotations

from dagster import (
    AssetKey,
    EventLogEntry,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    asset_sensor,
    sensor,
)

from orchestration.partitions import unit_partitions
from orchestration.resources import RegistryResource
from core.registry import RegistryError


def partition_changes(registered: list[str], existing: list[str]) -> tuple[list[str], list[str]]:
    """(to add, to delete) so that the partitions equal the registry's unit ids."""
    return sorted(set(registered) - set(existing)), sorted(set(existing) - set(registered))


@sensor(minimum_interval_seconds=60, description="Adds and removes unit partitions to match the registry.")
def registry_sync_sensor(context: SensorEvaluationContext, registry: RegistryResource):
    try:
        unit_ids = registry.load().ids
    except RegistryError as exc:
        return SkipReason(f"registry not loaded: {exc}")
    existing = context.instance.get_dynamic_partitions(unit_partitions.name)
    to_add, to_delete = partition_changes(unit_ids, existing)
    if not to_add and not to_delete:
        return SkipReason(f"{len(unit_ids)} units, partitions up to date")
    requests = []
    if to_add:
        requests.append(unit_partitions.build_add_request(to_add))
    if to_delete:
        requests.append(unit_partitions.build_delete_request(to_delete))
    context.log.info(f"registry sync: +{len(to_add)} -{len(to_delete)} unit partitions")
    return SensorResult(dynamic_partitions_requests=requests)


def republish_sensor(publish_job):
    """Republish (report + catalog) after new verdicts; publishing is incremental, so this is cheap."""

    @asset_sensor(asset_key=AssetKey("unit_verdicts"), job=publish_job, minimum_interval_seconds=300,
                  name="republish_on_new_verdicts")
    def _republish(context: SensorEvaluationContext, asset_event: EventLogEntry):
        # One run key per verdict event: Dagster skips keys it has already launched.
        yield RunRequest(run_key=f"verdicts-{asset_event.storage_id}")

    return _republish
