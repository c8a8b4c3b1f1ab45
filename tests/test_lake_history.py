"""History as a feature, end to end on a small sample portal: two runs of the pipeline with a
document edited silently and another taken down in between.

The second report lists the silent edit with its changed passage and both snapshots; `zwgk report
--at` the first run reproduces the first report byte for byte but for its marked "rendered at"
line; the removed document keeps its row with first_seen/last_seen/removed_at right.
"""

from __future__ import annotations

import re
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from core import history
from core.warehouse import connect
from sample_portal.edits import ADDED_CONDITION, edit_document_silently, remove_document
from sample_portal.generator import generate_portal
from sample_portal.server import PortalServer
from zwgk.cli import app

runner = CliRunner()
RENDERED_LINE = re.compile(r"^.*data-rendered.*$", re.MULTILINE)


def run(registry: Path, db: Path, run_id: str, *extra: str) -> None:
    result = runner.invoke(app, ["run", "--units", str(registry), "--db", str(db), "--as-of", "2021-03-01",
                                 "--no-publish", "--no-polite", "--run-id", run_id, *extra])
    assert result.exit_code == 0, result.output


def pages(report: Path) -> dict[str, str]:
    return {p.relative_to(report).as_posix(): p.read_text(encoding="utf-8") for p in sorted(report.rglob("*.html"))}


def without_rendered_line(html: str) -> str:
    return RENDERED_LINE.sub("", html)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    work = tmp_path_factory.mktemp("history")
    portal = work / "portal"
    generate_portal(portal, units=5, docs_per_unit=25)
    db = work / "data" / "zwgk.duckdb"
    with PortalServer(portal, registry_path=portal / "registry.yaml") as server:
        run(server.registry_path, db, "run-1")
        shutil.copytree(work / "data" / "report", work / "report-1")
        edit = edit_document_silently(portal, "zfb")
        removed_path = remove_document(portal, "qzf")
        # Detail pages are revisited weekly; a full recheck revisits them now.
        run(server.registry_path, db, "run-2", "--full-recheck")
    return {"work": work, "db": db, "edit": edit, "removed_path": removed_path}


def test_the_second_report_lists_the_silent_edit_with_its_passage_and_both_snapshots(two_runs):
    db, edit = two_runs["db"], two_runs["edit"]
    with connect(db, read_only=True) as con:
        normalized = {s.run_id: s for s in history.snapshots(con) if s.stage == "normalize"}
    page = (two_runs["work"] / "data" / "report" / "units" / "zfb.html").read_text(encoding="utf-8")
    section = page[page.index('<section id="silent-edits">'):]
    section = section[:section.index("</section>")]
    assert "不计分" in section and "not a scored check" in section
    assert re.search(r'<a href="[^"]+' + re.escape(edit.path) + '"', section)
    added = ADDED_CONDITION.rstrip("。")
    assert f"<del></del>" in section and f"<ins>{added}</ins>" in section
    assert normalized["run-1"].label in section and normalized["run-2"].label in section
    index = (two_runs["work"] / "data" / "report" / "index.html").read_text(encoding="utf-8")
    assert 'href="units/zfb.html#silent-edits">区政府办公室</a>：1 处' in index
    first = (two_runs["work"] / "report-1" / "units" / "zfb.html").read_text(encoding="utf-8")
    assert "未发现" in first[first.index('<section id="silent-edits">'):] and added not in first
    # Only the edited document: nothing else on the portal changed its text.
    with connect(db, read_only=True) as con:
        changed = con.execute("SELECT unit_id, url FROM document_changes WHERE run_id = 'run-2'").fetchall()
    assert [(u, url.split(":", 2)[-1].split("/", 1)[-1]) for u, url in changed] == [("zfb", edit.path.lstrip("/"))]


def test_report_at_the_first_run_reproduces_the_first_report(two_runs):
    work, db = two_runs["work"], two_runs["db"]
    result = runner.invoke(app, ["report", "--db", str(db), "--out", str(work / "report-at-1"), "--at", "run-1"])
    assert result.exit_code == 0, result.output
    first, again = pages(work / "report-1"), pages(work / "report-at-1")
    assert first.keys() == again.keys() and "units/zfb.html" in first
    for name in first:
        assert without_rendered_line(again[name]) == without_rendered_line(first[name]), name
    with connect(db, read_only=True) as con:
        snapshot = history.snapshot_of_run(con, "run-1")
    assert f"as of lake snapshot {snapshot.snapshot_id}</span>" in RENDERED_LINE.search(again["index.html"]).group(0)
    # The marked line is the only difference: the first report was rendered from that snapshot too.
    assert RENDERED_LINE.search(first["index.html"]).group(0).split("·", 1)[1] == \
        RENDERED_LINE.search(again["index.html"]).group(0).split("·", 1)[1]


def test_report_at_today_reproduces_the_latest_report(two_runs):
    work, db = two_runs["work"], two_runs["db"]
    today = datetime.now(history.BEIJING).date().isoformat()
    result = runner.invoke(app, ["report", "--db", str(db), "--out", str(work / "report-today"), "--at", today])
    assert result.exit_code == 0, result.output
    latest, again = pages(work / "data" / "report"), pages(work / "report-today")
    assert {n: without_rendered_line(h) for n, h in again.items()} == \
        {n: without_rendered_line(h) for n, h in latest.items()}


def test_a_removed_document_keeps_its_row_and_its_history(two_runs):
    db, removed_path = two_runs["db"], two_runs["removed_path"]
    query = ("SELECT first_seen, last_seen, removed_at FROM resources WHERE unit_id = 'qzf' AND url LIKE ?")
    with connect(db, read_only=True) as con:
        first_run = history.snapshot_of_run(con, "run-1").snapshot_id
        [(first_seen, last_seen, removed_at)] = con.execute(query, ["%" + removed_path]).fetchall()
        kept = dict(con.execute("SELECT url, first_seen FROM resources WHERE unit_id = 'qzf' AND removed_at IS NULL"
                                ).fetchall())
        last_seen_now = con.execute("SELECT max(last_seen) FROM resources WHERE removed_at IS NULL").fetchone()[0]
        [(unit_first, unit_last)] = con.execute("SELECT first_seen, last_seen FROM units WHERE unit_id = 'qzf'"
                                                ).fetchall()
    with connect(db, snapshot_version=first_run) as old:
        [(old_first_seen, old_last_seen, old_removed_at)] = old.execute(query, ["%" + removed_path]).fetchall()
        old_kept = dict(old.execute("SELECT url, first_seen FROM resources WHERE unit_id = 'qzf'").fetchall())
        [(old_unit_first, old_unit_last)] = old.execute(
            "SELECT first_seen, last_seen FROM units WHERE unit_id = 'qzf'").fetchall()
    assert old_removed_at is None and removed_at is not None
    assert first_seen == old_first_seen and last_seen == old_last_seen <= removed_at
    assert removed_at > old_last_seen and last_seen_now > old_last_seen
    assert all(kept[url] == old_kept[url] for url in kept), "first_seen survives a re-run"
    assert unit_first == old_unit_first and unit_last > old_unit_last
