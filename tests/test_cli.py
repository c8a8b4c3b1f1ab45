"""The `zwgk` command line: the data team's commands, exit codes and messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sample_portal.generator import generate_portal
from sample_portal.server import PortalServer
from zwgk.cli import app

runner = CliRunner()
FIXTURES = Path(__file__).parent / "fixtures" / "pages"


@pytest.fixture(scope="module")
def small_portal(tmp_path_factory):
    """Five units, generated into a directory of their own (not the built-in demo portal)."""
    out = tmp_path_factory.mktemp("small-portal")
    generate_portal(out, units=5, docs_per_unit=25)
    with PortalServer(out, registry_path=out / "registry.yaml") as server:
        yield server


def test_run_goes_through_every_stage_and_summarises(small_portal, tmp_path):
    db = tmp_path / "data" / "zwgk.duckdb"
    result = runner.invoke(app, ["run", "--units", str(small_portal.registry_path), "--db", str(db),
                                 "--as-of", "2021-03-01", "--no-publish", "--no-polite"])
    assert result.exit_code == 0, result.output
    assert "5 units:" in result.output and "合格" in result.output
    assert (tmp_path / "data" / "report" / "index.html").exists()
    assert (tmp_path / "data" / "harvest" / "units" / "qzf.duckdb").exists()


def test_run_names_the_failing_step(small_portal, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    result = runner.invoke(app, ["run", "--units", str(small_portal.registry_path), "--db",
                                 str(blocker / "zwgk.duckdb"), "--no-publish", "--no-polite"])
    assert result.exit_code == 1
    assert "pipeline error: step harvest failed" in " ".join(result.output.split())


def test_run_rejects_an_unknown_unit(small_portal, tmp_path):
    result = runner.invoke(app, ["run", "--units", str(small_portal.registry_path), "--db",
                                 str(tmp_path / "z.duckdb"), "--unit", "nope", "--no-publish"])
    assert result.exit_code == 2 and "unit 'nope' is not in" in result.output


def test_extract_prints_the_resource_as_json():
    page = FIXTURES / "trs_abolished.html"
    result = runner.invoke(app, ["extract", str(page), "--url", "http://www.example.gov.cn/a/t1.html"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["url"] == "http://www.example.gov.cn/a/t1.html"
    assert record["is_marked_abolished"] is True
    assert record["publish_date"] is None or len(record["publish_date"]) == 10


def test_extract_refuses_binary_and_names_the_file(tmp_path):
    pdf = tmp_path / "x.html"
    pdf.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 20)
    result = runner.invoke(app, ["extract", str(pdf), "--url", "http://h/x.html"])
    assert result.exit_code == 1 and "x.html" in result.output


def test_registry_check_reports_the_bad_entry(tmp_path):
    bad = tmp_path / "units.yaml"
    bad.write_text("units:\n  - {id: jyj, name: 区教育局, kind: ministry, url: 'http://h/jyj/'}\n", encoding="utf-8")
    result = runner.invoke(app, ["registry", "check", str(bad)])
    assert result.exit_code == 2
    assert "units[0] (id 'jyj'): unknown kind 'ministry'" in " ".join(result.output.split())
