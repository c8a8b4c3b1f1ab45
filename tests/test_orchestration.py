"""Dagster: unit partitions materialize through a real instance, with their asset checks."""

from __future__ import annotations

import json
from pathlib import Path

from dagster import DagsterInstance, build_sensor_context, materialize

from assets.harvest.asset import harvested_pages
from assets.normalize.asset import normalized_resources
from assets.validate.asset import VERDICT_CHECK, VETO_CHECK, unit_verdicts
from orchestration.definitions import defs
from orchestration.partitions import unit_partitions
from orchestration.resources import CrawlPolicyResource, RegistryResource, StorageResource, ValidationResource
from orchestration.sensors import partition_changes, registry_sync_sensor
from sample_portal.server import PortalServer


def check_outcomes(result) -> dict[str, bool]:
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


def test_unit_partitions_materialize_with_asset_checks(sample_portal_dir, tmp_path):
    instance = DagsterInstance.ephemeral()
    truth = json.loads((Path(sample_portal_dir) / "ground_truth.json").read_text(encoding="utf-8"))["units"]
    leaking = next(u for u, t in truth.items() if t["checks"]["C20"]["status"] == "fail")
    with PortalServer(sample_portal_dir, registry_path=tmp_path / "registry.yaml") as server:
        resources = {
            "registry": RegistryResource(path=str(server.registry_path)),
            "storage": StorageResource(data_dir=str(tmp_path / "data")),
            "crawl": CrawlPolicyResource(polite=False),
            "validation": ValidationResource(as_of="2021-03-01"),
        }
        instance.add_dynamic_partitions(unit_partitions.name, ["mzj", leaking])
        assets = [harvested_pages, normalized_resources, unit_verdicts]
        clean = materialize(assets, partition_key="mzj", resources=resources, instance=instance)
        leaky = materialize(assets, partition_key=leaking, resources=resources, instance=instance,
                            raise_on_error=False)
    assert clean.success
    assert check_outcomes(clean) == {VETO_CHECK: True, VERDICT_CHECK: True}
    fetched = clean.asset_materializations_for_node("harvested_pages")[0].metadata["fetched"].value
    assert fetched > 40
    # `leaking` publishes an unmasked ID number (seeded C20 defect): the blocking check fails the run.
    assert check_outcomes(leaky)[VETO_CHECK] is False
    assert not leaky.success


def test_registry_sensor_adds_and_removes_partitions(sample_portal_dir, tmp_path):
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(unit_partitions.name, ["gone"])
    with PortalServer(sample_portal_dir, registry_path=tmp_path / "registry.yaml") as server:
        context = build_sensor_context(instance=instance, resources={"registry": RegistryResource(path=str(server.registry_path))})
        result = registry_sync_sensor(context)
    [add, delete] = result.dynamic_partitions_requests
    assert len(add.partition_keys) == 44 and "jyj" in add.partition_keys
    assert list(delete.partition_keys) == ["gone"]
    assert partition_changes(["a", "b"], ["b", "c"]) == (["a"], ["c"])


def test_definitions_load_every_stage():
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"harvested_pages", "normalized_resources", "unit_verdicts", "supervisors_report", "ckan_catalog"} <= keys
    assert {"unit_pipeline", "publish_catalog"} <= {job.name for job in defs.resolve_all_job_defs()}


def test_dagster_validates_the_workspace():
    """The same command the data team runs: the code location loads and every definition is valid."""
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    dagster = Path(sys.executable).with_name("dagster")
    result = subprocess.run([str(dagster), "definitions", "validate", "-w", "workspace.yaml"], cwd=repo,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "All code locations passed validation" in result.stdout + result.stderr
