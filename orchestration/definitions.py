"""The one Definitions object: every asset, resource, job, schedule and sensor of zwgk.

Resources are chosen per deployment (`ZWGK_DEPLOYMENT=local|production`) and configured from
the environment; see orchestration/resources.py for the variables.
"""

from __future__ import annotations

import os

from pathlib import Path

from dagster import AssetSelection, Definitions, EnvVar, ScheduleDefinition, define_asset_job

from assets.harvest.asset import harvested_pages
from assets.normalize.asset import normalized_resources
from assets.publish.asset import ckan_catalog
from assets.validate.asset import supervisors_report, unit_verdicts
from orchestration.celery import unit_pipeline_celery
from orchestration.maintenance import lake_maintenance, maintenance_schedule
from orchestration.resources import (
    CkanResource,
    CrawlPolicyResource,
    RegistryResource,
    StorageResource,
    ValidationResource,
)
from orchestration.sensors import registry_sync_sensor, republish_sensor

DEMO_REGISTRY = "var/demo/portal/registry.yaml"
DEMO_DATA_DIR = "var/demo/data"
LOCAL_CKAN_TOKEN = str(Path(os.environ.get("ZWGK_CKAN_HOME", "~/.local/share/zwgk-ckan")) / "run" / "token")


def resources_for(deployment: str) -> dict:
    if deployment == "production":
        return {
            "registry": RegistryResource(path=EnvVar("ZWGK_REGISTRY")),
            "storage": StorageResource(data_dir=EnvVar("ZWGK_DATA_DIR")),
            "crawl": CrawlPolicyResource(polite=True),
            "validation": ValidationResource(as_of=os.environ.get("ZWGK_AS_OF", "")),
            "ckan": CkanResource(url=EnvVar("ZWGK_CKAN_URL"), token=EnvVar("ZWGK_CKAN_TOKEN")),
        }
    return {
        "registry": RegistryResource(path=os.environ.get("ZWGK_REGISTRY", DEMO_REGISTRY)),
        "storage": StorageResource(data_dir=os.environ.get("ZWGK_DATA_DIR", DEMO_DATA_DIR)),
        "crawl": CrawlPolicyResource(polite=os.environ.get("ZWGK_POLITE", "1") != "0"),
        # The sample portal's ground truth is stated as of 2021-03-01.
        "validation": ValidationResource(as_of=os.environ.get("ZWGK_AS_OF", "2021-03-01")),
        "ckan": CkanResource(url=os.environ.get("ZWGK_CKAN_URL", "http://127.0.0.1:5000"),
                             token=os.environ.get("ZWGK_CKAN_TOKEN", ""),
                             token_file=os.environ.get("ZWGK_CKAN_TOKEN_FILE", LOCAL_CKAN_TOKEN)),
    }


UNIT_STAGES = AssetSelection.assets(harvested_pages, normalized_resources, unit_verdicts)
unit_pipeline_job = define_asset_job(
    "unit_pipeline",
    selection=UNIT_STAGES,
    description="Harvest, normalize and validate units (one partition per unit; a backfill runs them all).",
)
publish_job = define_asset_job(
    "publish_catalog",
    selection=AssetSelection.assets(supervisors_report, ckan_catalog),
    description="Render the report and publish the catalog from the latest verdicts.",
)
daily_schedule = ScheduleDefinition(
    name="daily_pipeline",
    cron_schedule="0 2 * * *",
    execution_timezone="Asia/Shanghai",
    job=unit_pipeline_job,
    description="Every night at 02:00 Beijing time, every unit.",
)

defs = Definitions(
    assets=[harvested_pages, normalized_resources, unit_verdicts, supervisors_report, ckan_catalog],
    resources=resources_for(os.environ.get("ZWGK_DEPLOYMENT", "local")),
    jobs=[unit_pipeline_job, publish_job, unit_pipeline_celery, lake_maintenance],
    schedules=[daily_schedule, maintenance_schedule],
    sensors=[registry_sync_sensor, republish_sensor(publish_job)],
)
