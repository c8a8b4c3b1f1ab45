"""The catalog `scripts/demo.sh` publishes, published into a namespace of the local CKAN, for the
search tests: the sample portal's units harvested (the session's `pipeline_data`), normalized into
a warehouse of its own, validated as of the portal's date and published like `zwgk demo` does,
with a name prefix so that it never touches the demo's own catalog.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import ckanapi

from assets.publish import publish_catalog
from assets.publish.names import Names


def publish_sample_catalog(pipeline_data, work: Path, ckan_url: str, token: str, names: Names):
    """Normalize the harvested sample portal into `work`, validate and publish it under `names`.
    Returns the PublishSummary."""
    from assets.normalize.build import normalize_units
    from assets.validate import validate_warehouse

    warehouse = work / "zwgk.duckdb"
    registry = pipeline_data.registry
    normalize_units(list(registry.units), pipeline_data.store_dir, warehouse)
    manifest = json.loads((pipeline_data.portal_dir / "portal.json").read_text(encoding="utf-8"))
    validation = validate_warehouse(warehouse, date.fromisoformat(manifest["as_of"]))
    return publish_catalog(warehouse, ckan_url, token, out_dir=work / "publish", run_id=validation.run_id,
                           registry_unit_ids=registry.ids, name_prefix=names.prefix, retries=2, backoff=0.5)


def purge_namespace(ckan: ckanapi.RemoteCKAN, names: Names) -> None:
    """Delete for good every dataset and organization of the namespace."""
    for dataset in ckan.action.package_search(fq=names.search_filter, rows=1000, include_private=True)["results"]:
        ckan.action.dataset_purge(id=dataset["id"])
    for org in ckan.action.organization_list(limit=1000):
        if org == names.platform_org or org.startswith(names.platform_org + "-"):
            ckan.action.organization_purge(id=org)
