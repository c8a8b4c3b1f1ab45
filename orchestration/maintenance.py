"""Dagster wrapper of lake maintenance (core/maintenance.py): one op, one job, a daily schedule."""

from typing import Optional

from dagster import Config, OpExecutionContext, ScheduleDefinition, job, op

from core.maintenance import maintain_warehouse
from orchestration.resources import StorageResource

# The nightly pipeline holds the warehouse while it runs; maintenance waits for it rather than fail.
PIPELINE_WAIT_SECONDS = 3 * 3600


class MaintenanceConfig(Config):
    keep_days: Optional[float] = None  # None: $ZWGK_LAKE_RETENTION_DAYS, else 400 days
    dry_run: bool = False


@op(description="Expire snapshots past the retention, merge small files, delete files no snapshot needs.")
def maintain_lake(context: OpExecutionContext, config: MaintenanceConfig, storage: StorageResource) -> None:
    summary = maintain_warehouse(storage.warehouse_path, keep_days=config.keep_days, dry_run=config.dry_run,
                                 wait_seconds=PIPELINE_WAIT_SECONDS)
    for line in summary.lines():
        context.log.info(f"{storage.warehouse_path}: {line}")


@job(description="DuckLake maintenance of the warehouse (zwgk maintain).")
def lake_maintenance():
    maintain_lake()


maintenance_schedule = ScheduleDefinition(
    name="daily_lake_maintenance",
    cron_schedule="0 5 * * *",
    execution_timezone="Asia/Shanghai",
    job=lake_maintenance,
    description="Every day at 05:00 Beijing time, after the nightly pipeline: expire, compact, clean up.",
)
