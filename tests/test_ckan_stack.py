"""The local CKAN stack (catalog/stack.sh) end to end: real CKAN, PostgreSQL, Redis and Solr 9.

Run alone with `pytest tests/test_ckan_stack.py`. The module fixture brings the stack up
with `ensure_stack()` (minutes the first time on a machine, ~1 s when it is running); if it
cannot start, every test here fails with the component and its log tail, never skips.
What the tests create is purged before and after, so reruns start clean.
"""

from __future__ import annotations

import io
import os
import subprocess
import urllib.request

import ckanapi
import pytest

from catalog.local import CkanStack, ensure_stack, stack_status

# The first `up` on a fresh machine installs everything: allow for it in the fixture's test.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

ORG = "zwgk-stack-test-org"
DATASET = "zwgk-stack-test-jyj-directory"
CSV_BYTES = "\ufeff单位,栏目,条数\n区教育局,政府信息公开目录,12\n区教育局,法定主动公开内容,7\n".encode("utf-8")
SCHEMING_FIELDS = {
    "unit_id": "jyj",
    "unit_kind": "bureau",
    "dataset_kind": "directory",
    "temporal_start": "2024-01-01",
    "temporal_end": "2024-12-31",
    "update_frequency": "monthly",
    "contact_name": "区教育局办公室",
    "contact_email": "gk@jyj.example.org",
    "source_urls": ["https://www.bh.zwgk.test/jyj/zfxxgk/", "https://www.bh.zwgk.test/jyj/zfxxgk/index_1.html"],
    "schema_version": "1.0",
    "content_sha256": "a" * 64,
    "superseded": False,
}


@pytest.fixture(scope="module")
def stack() -> CkanStack:
    return ensure_stack()  # raises StackError (component + log tail) if the stack cannot start


@pytest.fixture(scope="module")
def catalog(stack: CkanStack) -> ckanapi.RemoteCKAN:
    return ckanapi.RemoteCKAN(stack.url, apikey=stack.token())


def _purge(catalog: ckanapi.RemoteCKAN) -> None:
    for action, name in (("dataset_purge", DATASET), ("organization_purge", ORG)):
        try:
            catalog.call_action(action, {"id": name})
        except ckanapi.NotFound:
            pass


@pytest.fixture(scope="module")
def published(catalog: ckanapi.RemoteCKAN):
    """An organization with one public scheming dataset and an uploaded CSV resource."""
    _purge(catalog)  # leftovers of an interrupted run
    org = catalog.action.organization_create(name=ORG, title="区教育局（测试）")
    dataset = catalog.action.package_create(
        name=DATASET, title="区教育局 政府信息公开目录", notes="本地 CKAN 栈测试数据集。",
        owner_org=org["id"], private=False, license_id="cc-by",
        tags=[{"name": "教育"}, {"name": "zwgk"}], **SCHEMING_FIELDS)
    resource = catalog.action.resource_create(
        package_id=dataset["id"], name="信息公开目录", format="CSV", content_sha256="b" * 64,
        upload=("jyj-directory.csv", io.BytesIO(CSV_BYTES)))
    yield {"org": org, "dataset": dataset, "resource": resource}
    _purge(catalog)


def _get(url: str) -> tuple[bytes, str]:
    """Anonymous GET: no API token."""
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read(), response.headers.get("Content-Type", "")


def test_status_reports_every_component_running(stack):
    status = stack_status()
    for component in ("postgres", "redis", "solr", "ckan"):
        assert status[component]["state"] == "running", status
    assert status["ckan"]["url"] == stack.url
    assert status["solr"]["url"] == stack.solr_url


def test_status_show_answers_with_ckan_version(catalog):
    status = catalog.action.status_show()
    assert status["ckan_version"].startswith("2.1")
    assert {"scheming_datasets", "dcat"} <= set(status["extensions"])


def test_solr_core_serves_ckans_own_schema(stack):
    body, _ = _get(stack.solr_url + "/schema/name?wt=json")
    assert b'"name":"ckan-2.1' in body.replace(b" ", b"")


def test_package_show_returns_the_scheming_fields(catalog, published):
    shown = catalog.action.package_show(id=DATASET)
    for field, value in SCHEMING_FIELDS.items():
        assert shown[field] == value, field
    assert shown["organization"]["name"] == ORG
    assert {t["name"] for t in shown["tags"]} == {"教育", "zwgk"}
    (resource,) = shown["resources"]
    assert resource["format"] == "CSV"
    assert resource["content_sha256"] == "b" * 64


def test_package_search_filters_on_an_exact_field(catalog, published):
    # CKAN indexes unit_id through its schema's catch-all string field: exact match only.
    found = catalog.action.package_search(fq='unit_id:"jyj"', rows=1000)
    assert DATASET in {d["name"] for d in found["results"]}
    prefix = catalog.action.package_search(fq=f'unit_id:"jy" AND name:"{DATASET}"')
    assert prefix["count"] == 0
    text = catalog.action.package_search(q="政府信息公开目录", fq=f'name:"{DATASET}"')
    assert text["count"] == 1


def test_anonymous_download_returns_the_uploaded_bytes(published):
    body, _ = _get(published["resource"]["url"])
    assert body == CSV_BYTES


def test_dcat_endpoints_describe_the_dataset(stack, published):
    dataset_uri = f"{stack.url}/dataset/{published['dataset']['id']}"
    rdf, rdf_type = _get(f"{stack.url}/dataset/{DATASET}.rdf")
    assert rdf_type.startswith("application/rdf+xml")
    assert dataset_uri.encode() in rdf
    assert "区教育局 政府信息公开目录".encode() in rdf
    ttl, ttl_type = _get(f"{stack.url}/catalog.ttl")
    assert ttl_type.startswith("text/turtle")
    assert f"<{dataset_uri}>".encode() in ttl


# ---- the DataStore ---------------------------------------------------------------------

# Runs in the CKAN venv (it has SQLAlchemy and psycopg2); the password comes in the environment,
# never on a command line. Prints one line per attempt: "<what> ok" or "<what> refused: <reason>".
_AS_READ_ONLY_ROLE = r"""
import os, sqlalchemy
def attempt(what, database, sql):
    url = f"postgresql://datastore_ro:{os.environ['RO_PASSWORD']}@127.0.0.1:{os.environ['PG_PORT']}/{database}"
    try:
        with sqlalchemy.create_engine(url).begin() as con:
            con.execute(sqlalchemy.text(sql))
        print(what, "ok")
    except sqlalchemy.exc.SQLAlchemyError as exc:
        print(what, "refused:", str(exc.orig).splitlines()[0])
attempt("select", "datastore_default", 'SELECT count(*) FROM "_table_metadata"')
attempt("create", "datastore_default", "CREATE TABLE zwgk_probe (x int)")
attempt("ckan_db", "ckan_default", "SELECT 1")
"""


def test_status_show_lists_the_datastore_and_its_preview(catalog):
    assert {"datastore", "datatables_view"} <= set(catalog.action.status_show()["extensions"])


def test_datastore_read_only_password_is_the_owners_alone(stack):
    etc = stack.token_file.parent.parent / "etc"
    password = etc / "datastore-ro-password"
    assert password.stat().st_mode & 0o777 == 0o600
    assert etc.stat().st_mode & 0o777 == 0o700
    assert len(password.read_text().strip()) >= 24


def test_datastore_read_role_can_only_read_the_datastore(stack):
    base = stack.token_file.parent.parent
    env = {**os.environ, "RO_PASSWORD": (base / "etc" / "datastore-ro-password").read_text().strip(),
           "PG_PORT": os.environ.get("ZWGK_CKAN_PG_PORT", "5433")}
    out = subprocess.run([str(base / "venv" / "bin" / "python"), "-c", _AS_READ_ONLY_ROLE], env=env,
                         capture_output=True, text=True, timeout=60, check=True).stdout.splitlines()
    assert out[0] == "select ok"
    assert out[1].startswith("create refused: permission denied for schema public"), out
    assert out[2].startswith("ckan_db refused:") and "permission denied for database" in out[2], out


def test_anonymous_users_query_a_datastore_table(catalog, published, stack):
    table = catalog.action.datastore_create(
        resource={"package_id": published["dataset"]["id"], "name": "在线查询"},
        fields=[{"id": "unit", "type": "text", "info": {"label": "单位"}}, {"id": "count", "type": "int4"}],
        records=[{"unit": "区教育局", "count": 12}, {"unit": "区民政局", "count": 7}])
    anonymous = ckanapi.RemoteCKAN(stack.url)
    found = anonymous.action.datastore_search(resource_id=table["resource_id"], filters={"unit": "区民政局"})
    assert found["records"][0]["count"] == 7
    sql = anonymous.action.datastore_search_sql(sql=f'SELECT sum(count) AS n FROM "{table["resource_id"]}"')
    assert sql["records"] == [{"n": 19}]
