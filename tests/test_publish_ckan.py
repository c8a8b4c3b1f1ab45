"""The publisher against the real local CKAN (catalog/stack.sh): layout, anonymous downloads,
idempotence, incremental updates, superseding, and recovery from CKAN dying mid-publish.

The module fixture brings the stack up with `ensure_stack()`; if it cannot start, every test
fails with the component and its log tail (never skips). Every name carries a prefix unique
to the session, and what the tests create is purged before and after.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import signal
import time
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

import ckanapi
import pyarrow.parquet as pq
import pytest

from assets.publish import PublishError, publish_catalog
from assets.publish.metadata import SUPERSEDED_NOTE
from assets.publish.names import Names
from catalog.local import CkanStack, ensure_stack
from publish_builder import ID_NUMBER, INJECTION, MOBILE, small_warehouse

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

NAMES = Names(f"t{uuid.uuid4().hex[:8]}-")
DIRECTORIES = [NAMES.directory("jyj"), NAMES.directory("xgjd")]
SHARED = [NAMES.catalogue, NAMES.scorecard, NAMES.document_changes, NAMES.dictionary]


@pytest.fixture(scope="module")
def stack() -> CkanStack:
    return ensure_stack()  # raises StackError (component + log tail) if the stack cannot start


@pytest.fixture(scope="module")
def ckan(stack):
    return ckanapi.RemoteCKAN(stack.url, apikey=stack.token())


def purge(ckan: ckanapi.RemoteCKAN, names: Names) -> None:
    for dataset in ckan.action.package_search(fq=names.search_filter, rows=1000, include_private=True)["results"]:
        ckan.action.dataset_purge(id=dataset["id"])
    for org in ckan.action.organization_list(limit=1000):
        if org == names.platform_org or org.startswith(names.platform_org + "-"):
            ckan.action.organization_purge(id=org)


class Scenario:
    """One catalog namespace: a warehouse file, an export directory, and publish()."""

    def __init__(self, stack: CkanStack, names: Names, base: Path):
        self.stack, self.names, self.base = stack, names, base
        self.warehouse = base / "warehouse.duckdb"
        self.out_dir = base / "out"
        small_warehouse().write(self.warehouse)

    def publish(self, **kwargs):
        return publish_catalog(self.warehouse, self.stack.url, self.stack.token(), out_dir=self.out_dir,
                               name_prefix=self.names.prefix, retries=2, backoff=0.2, **kwargs)


@pytest.fixture(scope="module")
def scenario(stack, ckan, tmp_path_factory):
    purge(ckan, NAMES)
    yield Scenario(stack, NAMES, tmp_path_factory.mktemp("publish"))
    purge(ckan, NAMES)


@pytest.fixture(scope="module")
def first(scenario):
    """The first publish of the small warehouse into an empty namespace."""
    return scenario.publish()


def search(ckan, fq: str) -> list[dict]:
    return ckan.action.package_search(fq=f"{fq} AND {NAMES.search_filter}", rows=1000)["results"]


def download(url: str) -> bytes:
    """Anonymous GET: no API token."""
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def test_first_publish_creates_every_dataset_but_the_blocked_units(first, ckan):
    assert sorted(first.created) == sorted(DIRECTORIES + SHARED)
    assert first.blocked_units == ["mzj"]  # C20 veto
    assert first.write_calls == first.api_calls - 1  # one bulk read, then writes only
    shown = ckan.action.package_show(id=NAMES.directory("jyj"))
    assert shown["title"] == "区教育局政府信息公开目录"
    assert shown["organization"]["name"] == NAMES.unit_org("jyj") and shown["organization"]["title"] == "区教育局"
    assert (shown["unit_id"], shown["unit_kind"], shown["dataset_kind"]) == ("jyj", "bureau", "directory")
    assert (shown["temporal_start"], shown["temporal_end"]) == ("2021-01-05", "2021-01-08")
    assert shown["license_id"] == "cc-by" and shown["update_frequency"] == "daily"
    assert shown["source_urls"] == ["http://www.bh.zwgk.test:8080/jyj/zfxxgk/"]
    assert shown["superseded"] is False and len(shown["content_sha256"]) == 64
    assert {"政务公开", "委办局"} <= {t["name"] for t in shown["tags"]}
    assert sorted(r["format"] for r in shown["resources"]) == ["CSV", "JSON", "Parquet"]
    with pytest.raises(ckanapi.NotFound):
        ckan.action.package_show(id=NAMES.directory("mzj"))


def test_package_search_filters_on_exact_fields(first, ckan):
    assert [d["name"] for d in search(ckan, 'unit_id:"jyj"')] == [NAMES.directory("jyj")]
    assert search(ckan, 'unit_id:"jy"') == []
    assert [d["name"] for d in search(ckan, 'dataset_kind:"scorecard"')] == [NAMES.scorecard]
    assert len(search(ckan, 'dataset_kind:"directory"')) == 2


def test_anonymous_download_of_every_resource_returns_the_published_bytes(first, scenario, ckan):
    datasets = search(ckan, "*:*")
    assert sorted(d["name"] for d in datasets) == sorted(DIRECTORIES + SHARED)
    for dataset in datasets:
        for resource in dataset["resources"]:
            body = download(resource["url"])
            local = scenario.out_dir / dataset["name"] / resource["url"].rsplit("/", 1)[-1]
            assert body == local.read_bytes(), resource["url"]
            assert hashlib.sha256(body).hexdigest() == resource["content_sha256"]


def test_personal_information_is_masked_in_every_download(first, ckan):
    for dataset in search(ckan, "*:*"):
        for resource in dataset["resources"]:
            body = download(resource["url"])
            text = (str(pq.read_table(io.BytesIO(body)).to_pylist()) if resource["format"] == "Parquet"
                    else body.decode("utf-8"))
            assert ID_NUMBER not in text and MOBILE not in text, resource["url"]
    csv_text = download(_resource(ckan, NAMES.directory("jyj"), "CSV")["url"]).decode("utf-8-sig")
    assert "120107********2315" in csv_text and "138****1234" in csv_text


def test_csv_injection_is_neutralized_in_the_download(first, ckan):
    body = download(_resource(ckan, NAMES.directory("jyj"), "CSV")["url"])
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    titles = {row["名称"] for row in rows}
    assert "'" + INJECTION in titles and INJECTION not in titles
    assert "'-关于调整课后服务收费标准的公示" in titles


def test_second_publish_makes_zero_writes(first, scenario):
    again = scenario.publish()
    assert (again.api_calls, again.write_calls) == (1, 0)
    assert sorted(again.unchanged) == sorted(DIRECTORIES + SHARED)


def test_changing_one_unit_updates_only_its_dataset_and_the_catalogue(first, scenario):
    scenario.publish()
    changed = small_warehouse()
    changed.resources[-1]["title"] = "关于开展环境卫生整治的通知（修订）"
    changed.write(scenario.warehouse)
    try:
        summary = scenario.publish()
        assert sorted(summary.updated) == sorted([NAMES.directory("xgjd"), NAMES.catalogue])
        assert summary.calls_by_action == {"package_search": 1, "package_patch": 2, "resource_update": 6}
        assert summary.write_calls == 8
    finally:
        small_warehouse().write(scenario.warehouse)
        scenario.publish()


def test_dropped_unit_is_marked_superseded_never_deleted(first, scenario, ckan):
    scenario.publish()
    dropped = scenario.publish(registry_unit_ids=["jyj", "mzj"])
    assert dropped.superseded == [NAMES.directory("xgjd")]
    assert sorted(dropped.updated) == sorted([NAMES.catalogue, NAMES.scorecard])
    shown = ckan.action.package_show(id=NAMES.directory("xgjd"))
    assert shown["superseded"] is True and shown["notes"].startswith(SUPERSEDED_NOTE)
    assert shown["state"] == "active" and len(shown["resources"]) == 3
    assert scenario.publish(registry_unit_ids=["jyj", "mzj"]).write_calls == 0

    back = scenario.publish()  # the unit is registered again
    assert NAMES.directory("xgjd") in back.updated
    assert ckan.action.package_show(id=NAMES.directory("xgjd"))["superseded"] is False


def test_a_deleted_dataset_is_published_again_once(first, scenario, ckan):
    scenario.publish()
    ckan.action.package_delete(id=NAMES.directory("xgjd"))
    again = scenario.publish()
    # CKAN frees a deleted dataset's name; its organization is found by the 409 on create.
    assert again.created == [NAMES.directory("xgjd")]
    assert again.calls_by_action == {"package_search": 1, "organization_create": 1, "organization_show": 1,
                                     "package_create": 1, "resource_create": 3}
    assert Counter(ckan.action.package_list())[NAMES.directory("xgjd")] == 1
    assert len(ckan.action.package_show(id=NAMES.directory("xgjd"))["resources"]) == 3


def test_ckan_stopped_mid_publish_gives_a_clear_error_and_a_rerun_completes(stack, ckan, tmp_path):
    names = Names(f"t{uuid.uuid4().hex[:8]}-")
    purge(ckan, names)
    interrupted = Scenario(stack, names, tmp_path)
    pid_file = stack.token_file.parent / "ckan.pid"  # $ZWGK_CKAN_HOME/run/ckan.pid

    def stop_ckan_mid_dataset(event):  # writes: jyj's organization, dataset, first file
        if event.kind == "write" and event.write_calls == 3:
            _stop(int(pid_file.read_text()))

    try:
        with pytest.raises(PublishError) as failure:
            interrupted.publish(progress=stop_ckan_mid_dataset)
        message = str(failure.value)
        assert f"resource_create for dataset '{names.directory('jyj')}'" in message
        assert f"{stack.url}/api/action/" in message and "unavailable after 3 attempts" in message
    finally:
        ensure_stack()
    try:
        rerun = interrupted.publish()
        assert rerun.updated == [names.directory("jyj")]  # its two missing files, nothing else
        assert sorted(rerun.created) == sorted([names.directory("xgjd"), names.catalogue, names.scorecard,
                                                names.document_changes, names.dictionary])
        datasets = ckan.action.package_search(fq=names.search_filter, rows=1000)["results"]
        assert sorted(d["name"] for d in datasets) == sorted(names.directory(u) for u in ("jyj", "xgjd")) + sorted(
            [names.catalogue, names.scorecard, names.document_changes, names.dictionary])
        listed = Counter(ckan.action.package_list())
        assert all(listed[d["name"]] == 1 for d in datasets)
        for dataset in datasets:
            files = [r["url"].rsplit("/", 1)[-1] for r in dataset["resources"]]
            assert len(files) == len(set(files)) == (6 if dataset["name"] == names.scorecard else 3)
        assert interrupted.publish().write_calls == 0
    finally:
        purge(ckan, names)


def _resource(ckan, dataset: str, fmt: str) -> dict:
    return next(r for r in ckan.action.package_show(id=dataset)["resources"] if r["format"] == fmt)


def _stop(pid: int) -> None:
    """Stop the CKAN server by its PID file's id and wait until it is gone."""
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return
        if state == "Z":
            return
        time.sleep(0.1)
    raise AssertionError(f"CKAN (pid {pid}) did not stop within 30 s")
