"""Dagster wrapper of the publish stage: the whole catalog, incrementally."""

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, RetryPolicy, asset

from assets.validate.asset import supervisors_report, unit_verdicts
from orchestration.resources import CkanResource, RegistryResource, StorageResource

from . import publish_catalog


@asset(
    deps=[unit_verdicts, supervisors_report],
    group_name="publish",
    kinds={"ckan"},
    retry_policy=RetryPolicy(max_retries=3, delay=60),
    description="Datasets and scorecards in the CKAN catalog; unchanged data makes no write calls.",
)
def ckan_catalog(context: AssetExecutionContext, ckan: CkanResource, storage: StorageResource,
                 registry: RegistryResource) -> MaterializeResult:
    """Publish every unit's directory, the catalogue, the scorecard and the data dictionary."""

    def log_dataset(event) -> None:
        if event.kind == "dataset":
            context.log.info(f"{event.dataset}: {event.detail}")

    summary = publish_catalog(storage.warehouse_path, ckan.url, ckan.api_token(), out_dir=storage.root / "publish",
                              registry_unit_ids=registry.load().ids, name_prefix=ckan.name_prefix,
                              progress=log_dataset)
    return MaterializeResult(metadata={
        **summary.counts(),
        "blocked": MetadataValue.text(", ".join(summary.blocked_units) or "none"),
        "catalog": MetadataValue.url(f"{ckan.url}/dataset/"),
        "seconds": round(summary.seconds, 1),
    })
