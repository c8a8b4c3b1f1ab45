"""The publisher against the real local CKAN (catalog/stack.sh): layout, anonymous downloads,
the DataStore (anonymous queries, labels, types, masking), per-unit verdicts, idempotence,
incremental updates, superseding, and recovery from CKAN dying mid-publish or a half-loaded table.

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

from assets.publish import PublishError, datastore, publish_catalog
from assets.publish.metadata import SUPERSEDED_NOTE
from assets.publish.tables import RESOURCES
from assets.publish.names import Names
from catalog.local import CkanStack, ensure_stack
from publish_builder import ID_NUMBER, INJECTION, MOBILE, small_warehouse
from search_catalog import purge_namespace

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
    purge_namespace(ckan, NAMES)
    yield Scenario(stack, NAMES, tmp_path_factory.mktemp("publish"))
    purge_namespace(ckan, NAMES)


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
    assert sorted(r["format"] for r in shown["resources"]) == ["CSV", "DataStore", "DataStore", "JSON", "Parquet"]
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
        for resource in _files(dataset):
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


DIRECTORY_TABLE = "政府信息公开目录（在线预览与查询）"
UNIT_VERDICT_TABLE = "本单位政务公开评估结果"


@pytest.fixture(scope="module")
def anonymous(stack):
    return ckanapi.RemoteCKAN(stack.url)  # no token: what the public can do


def test_every_published_table_is_in_the_datastore_with_a_preview(first, ckan):
    expected = {NAMES.directory("jyj"): [DIRECTORY_TABLE, UNIT_VERDICT_TABLE],
                NAMES.directory("xgjd"): [DIRECTORY_TABLE, UNIT_VERDICT_TABLE],
                NAMES.catalogue: ["全部单位政府信息公开目录（在线预览与查询）"],
                NAMES.scorecard: ["单位得分（在线预览与查询）", "检查结果（在线预览与查询）"],
                NAMES.dictionary: ["数据字典（在线预览与查询）"],
                NAMES.document_changes: ["未标注的正文修改（在线预览与查询）"]}  # empty: one run, no history
    for dataset in search(ckan, "*:*"):
        tables = _tables(dataset)
        assert [t["name"] for t in tables] == expected[dataset["name"]]
        for table in tables:
            assert table["datastore_active"] is True and table["format"] == "DataStore"
            assert len(table["content_sha256"]) == 64
            views = ckan.action.resource_view_list(id=table["id"])
            assert [v["view_type"] for v in views] == ["datatables_view"], table["name"]


def test_datastore_fields_carry_schema_types_and_chinese_labels(first, anonymous, ckan):
    table = _table(ckan, NAMES.directory("jyj"), DIRECTORY_TABLE)
    fields = {f["id"]: f for f in anonymous.action.datastore_search(resource_id=table["id"], limit=0)["fields"]}
    assert list(fields) == ["_id", *RESOURCES.names]
    assert {name: fields[name]["type"] for name in ("title", "publish_date", "first_seen", "is_marked_abolished",
                                                     "keywords")} == {
        "title": "text", "publish_date": "date", "first_seen": "timestamp", "is_marked_abolished": "bool",
        "keywords": "text"}
    assert fields["title"]["info"]["label"] == "名称" and fields["publish_date"]["info"]["label"] == "发布日期"
    assert all(fields[c.name]["info"]["label"] == c.header for c in RESOURCES.columns)


def test_anonymous_datastore_search_filters_sorts_pages_and_picks_fields(first, anonymous, ckan):
    table = _table(ckan, NAMES.catalogue, "全部单位政府信息公开目录（在线预览与查询）")
    page = anonymous.action.datastore_search(resource_id=table["id"], filters={"unit_id": "jyj"},
                                             fields=["title", "publish_date"], sort="publish_date asc",
                                             limit=2, offset=1)
    assert page["total"] == 4
    assert [f["id"] for f in page["fields"]] == ["title", "publish_date"]
    assert page["records"] == [{"title": "'" + INJECTION, "publish_date": "2021-01-06"},
                               {"title": "'-关于调整课后服务收费标准的公示", "publish_date": "2021-01-07"}]
    assert anonymous.action.datastore_search(resource_id=table["id"], filters={"unit_id": "xgjd"})["total"] == 2


def test_anonymous_datastore_search_sql_is_read_only(first, anonymous, ckan):
    table = _table(ckan, NAMES.scorecard, "检查结果（在线预览与查询）")
    rows = anonymous.action.datastore_search_sql(
        sql=f'SELECT unit_id, check_id FROM "{table["id"]}" WHERE status = \'fail\' ORDER BY unit_id')["records"]
    assert rows == [{"unit_id": "jyj", "check_id": "C13"}, {"unit_id": "mzj", "check_id": "C20"}]
    for statement in (f'DELETE FROM "{table["id"]}"', f'UPDATE "{table["id"]}" SET status = \'pass\'',
                      f'DROP TABLE "{table["id"]}"'):
        with pytest.raises(ckanapi.ValidationError):
            anonymous.action.datastore_search_sql(sql=statement)
    assert anonymous.action.datastore_search(resource_id=table["id"], filters={"status": "fail"})["total"] == 2


def test_datastore_rows_are_masked_neutral_and_leave_out_the_vetoed_unit(first, anonymous, ckan):
    catalogue = _table(ckan, NAMES.catalogue, "全部单位政府信息公开目录（在线预览与查询）")
    unmasked = anonymous.action.datastore_search_sql(
        sql=f'SELECT count(*) AS n FROM "{catalogue["id"]}" WHERE body_text LIKE \'%{ID_NUMBER}%\' '
            f'OR body_text LIKE \'%{MOBILE}%\' OR title LIKE \'%{MOBILE}%\'')["records"]
    assert unmasked == [{"n": 0}]
    masked = anonymous.action.datastore_search_sql(
        sql=f'SELECT title FROM "{catalogue["id"]}" WHERE body_text LIKE \'%120107********2315%\'')["records"]
    assert masked == [{"title": "学生资助名单（联系电话138****1234）"}]
    assert anonymous.action.datastore_search(resource_id=catalogue["id"], filters={"unit_id": "mzj"})["total"] == 0
    titles = {r["title"] for r in anonymous.action.datastore_search(resource_id=catalogue["id"], limit=100)["records"]}
    assert "'" + INJECTION in titles and INJECTION not in titles
    dump = download(catalogue["url"]).decode("utf-8-sig")  # the table as a CSV download
    assert ID_NUMBER not in dump and "'" + INJECTION.replace('"', '""') in dump


def test_unit_dataset_shows_its_latest_verdict_score_and_failed_checks(first, anonymous, ckan):
    shown = ckan.action.package_show(id=NAMES.directory("jyj"))
    assert ("**政务公开评估**（检查基准日 2021-03-01）：合格，得分 95 分；未通过的检查项：C13 " in shown["notes"])
    verdict = _table(ckan, NAMES.directory("jyj"), UNIT_VERDICT_TABLE)
    rows = anonymous.action.datastore_search(resource_id=verdict["id"], sort="_id", limit=100)["records"]
    assert len(rows) == 22 and {(r["verdict"], r["score"], r["as_of"]) for r in rows} == {("合格", 95.0, "2021-03-01")}
    assert (rows[0]["check_id"], rows[0]["status"]) == ("C13", "fail") and rows[0]["check_title"]
    assert all(r["status"] == "pass" for r in rows[1:])
    plain = ckan.action.package_show(id=NAMES.directory("xgjd"))["notes"]
    assert "：合格，得分 100 分；全部检查项通过。" in plain


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
        # Each changed table's DataStore rows are reloaded (drop, create, preview checked, hash);
        # the unit's own verdict table and every other dataset's tables are not touched.
        assert summary.calls_by_action == {"package_search": 1, "package_patch": 2, "resource_update": 6,
                                           "datastore_delete": 2, "datastore_create": 2, "resource_view_list": 2,
                                           "resource_patch": 2}
        assert summary.write_calls == 14
        assert sorted((load.dataset, load.rows) for load in summary.datastore_loads) == [
            (NAMES.directory("xgjd"), 2), (NAMES.catalogue, 6)]
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
    assert shown["state"] == "active" and len(shown["resources"]) == 5
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
                                     "package_create": 1, "resource_create": 3, "datastore_create": 2,
                                     "resource_view_create": 2}
    assert Counter(ckan.action.package_list())[NAMES.directory("xgjd")] == 1
    assert len(ckan.action.package_show(id=NAMES.directory("xgjd"))["resources"]) == 5


def test_a_dropped_datastore_table_is_reloaded_once_and_only_it(first, scenario, ckan):
    scenario.publish()
    table = _table(ckan, NAMES.directory("xgjd"), DIRECTORY_TABLE)
    ckan.action.datastore_delete(resource_id=table["id"], force=True)  # the table is gone, the resource stays
    again = scenario.publish()
    assert again.calls_by_action == {"package_search": 1, "datastore_create": 1, "resource_view_list": 1,
                                     "resource_patch": 1}
    assert [(load.dataset, load.resource, load.rows) for load in again.datastore_loads] == [
        (NAMES.directory("xgjd"), DIRECTORY_TABLE, 2)]
    assert ckan.action.datastore_search(resource_id=table["id"])["total"] == 2
    assert scenario.publish().write_calls == 0


def test_a_half_loaded_table_in_chunks_is_loaded_again_whole(stack, ckan, tmp_path, monkeypatch):
    """Tables bigger than a chunk load in several calls and get their hash last: a table whose
    hash is missing (a load cut off between chunks) is reloaded whole by the next run."""
    monkeypatch.setattr(datastore, "CHUNK_ROWS", 2)
    names = Names(f"t{uuid.uuid4().hex[:8]}-")
    purge_namespace(ckan, names)
    chunked = Scenario(stack, names, tmp_path)
    try:
        created = chunked.publish()
        # The catalogue's 6 rows: create with 2, then 2 inserts; its hash is patched in last.
        catalogue = _table(ckan, names.catalogue, "全部单位政府信息公开目录（在线预览与查询）")
        assert ckan.action.datastore_search(resource_id=catalogue["id"])["total"] == 6
        assert created.calls_by_action["datastore_upsert"] >= 2 and len(catalogue["content_sha256"]) == 64
        ckan.action.datastore_delete(resource_id=catalogue["id"], filters={"unit_id": "jyj"}, force=True)
        ckan.action.resource_patch(id=catalogue["id"], content_sha256="")  # as if cut off mid-load
        rerun = chunked.publish()
        assert [(load.dataset, load.rows) for load in rerun.datastore_loads] == [(names.catalogue, 6)]
        assert rerun.calls_by_action == {"package_search": 1, "datastore_delete": 1, "datastore_create": 1,
                                         "datastore_upsert": 2, "resource_view_list": 1, "resource_patch": 1}
        assert ckan.action.datastore_search(resource_id=catalogue["id"])["total"] == 6
        assert chunked.publish().write_calls == 0
    finally:
        purge_namespace(ckan, names)


def test_ckan_stopped_mid_publish_gives_a_clear_error_and_a_rerun_completes(stack, ckan, tmp_path):
    names = Names(f"t{uuid.uuid4().hex[:8]}-")
    purge_namespace(ckan, names)
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
            files = [r["url"].rsplit("/", 1)[-1] for r in _files(dataset)]
            assert len(files) == len(set(files)) == (6 if dataset["name"] == names.scorecard else 3)
            tables = [r["name"] for r in _tables(dataset)]
            with_two_tables = (names.scorecard, names.directory("jyj"), names.directory("xgjd"))
            assert len(tables) == len(set(tables)) == (2 if dataset["name"] in with_two_tables else 1)
            assert all(r["datastore_active"] is True for r in _tables(dataset))
        assert interrupted.publish().write_calls == 0
    finally:
        purge_namespace(ckan, names)


def _files(dataset: dict) -> list[dict]:
    return [r for r in dataset["resources"] if r.get("url_type") != "datastore"]


def _tables(dataset: dict) -> list[dict]:
    return [r for r in dataset["resources"] if r.get("url_type") == "datastore"]


def _table(ckan, dataset: str, name: str) -> dict:
    return next(r for r in _tables(ckan.action.package_show(id=dataset)) if r["name"] == name)


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
