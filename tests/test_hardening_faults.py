"""Faults end to end, with the real servers: harvest → normalize → validate of a good run, then a
re-run of the same portal under faults. Each fault must be recorded for its URL, units without faults
must get the same verdicts, and nothing the good run stored may be lost. Then SIGKILL in the middle of
normalize's write (the final tables must equal an uninterrupted run's), and a locked warehouse.

test_harvest_faults.py covers the harvest stage alone under the same faults (and SIGKILL mid-harvest);
this module follows the faults through to the warehouse and the verdicts.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import pytest

from assets.harvest import HarvestSettings, harvest_units, open_unit_store
from assets.normalize.build import normalize_units
from assets.validate import validate_warehouse
from sample_portal.generator import generate_portal
from sample_portal.server import PortalServer
from core.maintenance import SHARED_CATALOG_GRACE, maintain_warehouse
from core.warehouse import connect as warehouse_connect

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parents[1]
AS_OF = date(2021, 3, 1)
GOOD_NOW, FAULT_NOW = datetime(2021, 3, 1, 8), datetime(2021, 3, 2, 8)
UNITS = 7  # qzf zfb teda ftz gxq dj stc
UNTOUCHED = ("dj", "stc")  # no faults injected (dj sits behind its anti-bot gate in both runs)
RESOURCE_CONTENT = ("url", "title", "index_no", "publisher", "doc_number", "written_date", "publish_date", "body_text",
                    "doc_kind", "validity", "has_pii", "column_kind", "first_seen", "removed_at")


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _rows(db: Path, sql: str, *params) -> list[tuple]:
    with warehouse_connect(db, read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def _resources(db: Path, unit_id: str) -> dict[str, tuple]:
    cols = ", ".join(RESOURCE_CONTENT)
    return {_path(r[0]): r[1:] for r in _rows(db, f"SELECT {cols} FROM resources WHERE unit_id = ?", unit_id)}


def _verdicts(db: Path, run_id: str, unit_id: str) -> dict[str, tuple]:
    rows = _rows(db, "SELECT check_id, status, message, evidence_url FROM check_results WHERE run_id = ? AND unit_id = ?",
                 run_id, unit_id)
    return {check: (status, message, _path(url) if url else None) for check, status, message, url in rows}


@dataclass
class FaultRun:
    db: Path
    store: Path
    good: dict  # unit -> resources after the good run
    good_columns: dict  # unit -> {column path: (name, kind, item_count)}
    faults: dict  # unit -> {path: fault kind}
    errors: dict  # unit -> {path: error}
    statuses: dict  # unit -> {path: status} after the fault run
    normalize: dict  # unit -> NormalizeSummary of the fault run
    recovering: str
    changed_content: set


def _columns(db: Path, unit_id: str) -> dict[str, tuple]:
    return {_path(u): (n, k, c) for u, n, k, c in
            _rows(db, "SELECT url, name, kind, item_count FROM columns WHERE unit_id = ?", unit_id)}


def _details(store: Path, unit_id: str) -> list[str]:
    return sorted(_path(p["url"]) for p in open_unit_store(store, unit_id).pages.to_pylist() if p["role"] == "detail")


@pytest.fixture(scope="module")
def fault_run(tmp_path_factory) -> FaultRun:
    work = tmp_path_factory.mktemp("faultrun")
    generate_portal(work / "portal", units=UNITS, docs_per_unit=20)
    db, store = work / "zwgk.duckdb", work / "harvest"
    with PortalServer(work / "portal", registry_path=work / "registry.yaml") as server:
        registry = server.registry
        # -- the good run
        assert all(s.failed is None for s in harvest_units(registry, None, store, HarvestSettings(polite=False)))
        normalize_units(registry.units, store, db, now=GOOD_NOW)
        validate_warehouse(db, AS_OF, run_id="good")
        good = {u.id: _resources(db, u.id) for u in registry.units}
        good_columns = {u.id: _columns(db, u.id) for u in registry.units}

        # -- faults for the re-run
        host_of = {h.hostname: h for h in server.hosts.values()}
        faults: dict[str, dict[str, dict]] = {}
        changed: set[str] = set()

        def fault(unit_id: str, path: str, **spec) -> None:
            host = host_of[urlsplit(registry.get(unit_id).url).hostname]
            server.add_fault(host=host.key, path=path, **spec)
            faults.setdefault(unit_id, {})[path] = spec

        def change(unit_id: str, path: str) -> None:
            """A new version of the page (so a conditional GET gets a 200 the fault applies to)."""
            host = host_of[urlsplit(registry.get(unit_id).url).hostname]
            with open(Path(host.root) / path.lstrip("/"), "ab") as page:
                page.write(b"\n<!-- new version -->\n")
            changed.add(path)

        qzf = _details(store, "qzf")
        for path, spec in zip(qzf, [dict(kind="timeout", seconds=3), dict(kind="status", code=503),
                                    dict(kind="truncate"), dict(kind="redirect_loop"), dict(kind="reset"),
                                    dict(kind="huge"),  # the default: 10 MB
                                    dict(kind="wrong_charset")], strict=False):
            fault("qzf", path, **spec)
        for path in (qzf[2], qzf[6]):  # truncate, wrong_charset (utf-8 page labelled gbk)
            change("qzf", path)
        recovering = qzf[7]
        server.add_fault(host="main", path=recovering, kind="status", code=500, times=2)  # a burst of 5xx
        ftz = _details(store, "ftz")
        fault("ftz", ftz[0], kind="wrong_charset")  # GBK page labelled utf-8
        change("ftz", ftz[0])
        fault("zfb", _details(store, "zfb")[3], kind="binary_as_html")
        guide = next(c["column_url"] for c in open_unit_store(store, "gxq").columns.to_pylist() if c["kind"] == "guide")
        fault("gxq", _path(guide), kind="status", code=503)  # the guide column
        fault("teda", urlsplit(registry.get("teda").url).path, kind="status", code=503)  # the whole site down

        # -- the re-run: every detail revalidated, so every fault is met
        settings = HarvestSettings(polite=False, full_recheck=True, timeout=0.5, max_retries=2, backoff_base=0.01)
        summaries = {s.unit_id: s for s in harvest_units(registry, None, store, settings)}
    normalized = {s.unit_id: s for s in normalize_units(registry.units, store, db, now=FAULT_NOW)}
    validate_warehouse(db, AS_OF, run_id="faults")
    errors = {u: {_path(e.url): e.error for e in s.errors} for u, s in summaries.items()}
    statuses = {u.id: {_path(p["url"]): p["status"] for p in open_unit_store(store, u.id).pages.to_pylist()}
                for u in registry.units}
    return FaultRun(db, store, good, good_columns, faults, errors, statuses, normalized, recovering, changed)


def test_each_fault_is_recorded_for_its_url(fault_run):
    kinds = {u: {p: f["kind"] for p, f in by_path.items()} for u, by_path in fault_run.faults.items()}
    expected_prefix = {"timeout": "timeout after 0.5s", "status": "HTTP 503", "truncate": "truncated body",
                       "redirect_loop": "too many redirects", "reset": "connection error", "huge": "too large",
                       "binary_as_html": "binary body served as text/html"}
    for unit_id, by_path in kinds.items():
        failing = {p: k for p, k in by_path.items() if k != "wrong_charset"}
        recorded = {p: e for p, e in fault_run.errors[unit_id].items() if not p.endswith((".pdf", ".doc", ".docx"))}
        assert set(recorded) == set(failing), unit_id
        for path, kind in failing.items():
            assert recorded[path].startswith(expected_prefix[kind]), (unit_id, path, recorded[path])
    assert fault_run.statuses["qzf"][fault_run.recovering] == 200  # two 500s, then a success: no error
    assert fault_run.recovering not in fault_run.errors["qzf"]
    assert not fault_run.errors["stc"]
    assert fault_run.errors["dj"] and all(e.startswith("blocked: 瑞数") for e in fault_run.errors["dj"].values())


def test_units_without_faults_keep_identical_verdicts_and_rows(fault_run):
    for unit_id in UNTOUCHED:
        assert _verdicts(fault_run.db, "faults", unit_id) == _verdicts(fault_run.db, "good", unit_id), unit_id
        assert _resources(fault_run.db, unit_id) == fault_run.good[unit_id]
        assert _columns(fault_run.db, unit_id) == fault_run.good_columns[unit_id]


def test_failed_detail_pages_keep_their_stored_rows_and_only_c18_reports_them(fault_run):
    """Timeouts, 5xx, truncation, redirect loops, resets and a 10 MB page: the page's last good
    version stays in the warehouse, and mislabelled charsets are decoded to the same text. The only
    verdict that moves is C18 (links usable), which now fails naming a page that did not answer:
    by design, a page that fails at check time is reported as a broken link."""
    for unit_id in ("qzf", "ftz"):
        now = _resources(fault_run.db, unit_id)
        before = fault_run.good[unit_id]
        assert set(now) == set(before), unit_id
        for path in before:  # pages in changed_content were re-extracted from new bytes: same text
            assert now[path] == before[path], (unit_id, path)
    assert _verdicts(fault_run.db, "faults", "ftz") == _verdicts(fault_run.db, "good", "ftz")
    good, faulty = _verdicts(fault_run.db, "good", "qzf"), _verdicts(fault_run.db, "faults", "qzf")
    assert {c: v for c, v in faulty.items() if c != "C18"} == {c: v for c, v in good.items() if c != "C18"}
    assert good["C18"][0] == "pass" and faulty["C18"][0] == "fail"
    named = [p for p in fault_run.faults["qzf"] if p in faulty["C18"][1]]
    assert named and fault_run.errors["qzf"][named[0]] in faulty["C18"][1], faulty["C18"]


def test_a_page_turning_into_binary_keeps_its_stored_resource(fault_run):
    """zfb: a detail page answered 200 text/html with binary bytes on the re-run. The harvest reports
    it ("binary body served as text/html"); the resource extracted from its last good version must
    stay in the warehouse, like every other failed fetch."""
    [path] = fault_run.faults["zfb"]
    assert fault_run.errors["zfb"][path] == "binary body served as text/html"
    assert path in _resources(fault_run.db, "zfb"), "the stored resource was dropped"
    assert _resources(fault_run.db, "zfb") == fault_run.good["zfb"]


def test_a_column_page_failing_on_a_rerun_keeps_its_column_and_the_verdict(fault_run):
    """gxq: its 政府信息公开指南 column answered 503 on the re-run. The column existed and was read on
    the good run; one failed fetch must not delete its row nor turn C02 into "未设置…栏目": no
    verdict moves, and the blank-column check says one column could not be read this time."""
    [path] = fault_run.faults["gxq"]
    assert fault_run.errors["gxq"] == {path: "HTTP 503"}
    assert _columns(fault_run.db, "gxq") == fault_run.good_columns["gxq"], "a column row was dropped"
    good, faulty = _verdicts(fault_run.db, "good", "gxq"), _verdicts(fault_run.db, "faults", "gxq")
    assert {c: v[0] for c, v in faulty.items()} == {c: v[0] for c, v in good.items()}
    assert "另有1个栏目本次无法读取" in faulty["C06"][1]
    [(access,)] = _rows(fault_run.db, "SELECT access FROM columns WHERE unit_id = ? AND kind = 'guide'", "gxq")
    assert access == "unreachable"


def test_a_unit_whose_site_is_down_keeps_its_rows_and_says_why(fault_run):
    """teda: its entry page answered 503 on the re-run. One run cannot establish 站点无法访问 (the
    national rule takes a week of probes), so every check is n/a naming the status and the unit's
    verdict is 无法核查, never a veto; nothing stored before may be deleted."""
    verdicts = _verdicts(fault_run.db, "faults", "teda")
    assert verdicts["C01"][0] == "n/a" and "503" in verdicts["C01"][1] and "无法核查" in verdicts["C01"][1]
    assert {v[0] for v in verdicts.values()} == {"n/a"}
    with warehouse_connect(fault_run.db, read_only=True) as con:
        [(verdict, score)] = con.execute(
            "SELECT verdict, score FROM unit_scores WHERE run_id = 'faults' AND unit_id = 'teda'").fetchall()
    assert (verdict, score) == ("无法核查", None)
    assert _resources(fault_run.db, "teda") == fault_run.good["teda"]
    assert _columns(fault_run.db, "teda") == fault_run.good_columns["teda"], "the unit's column rows were dropped"


# -- SIGKILL in the middle of normalize -------------------------------------------------------------

KILLED_NORMALIZE = textwrap.dedent("""
    import sys, time
    from datetime import datetime
    from core import warehouse
    from assets.normalize.build import normalize_units
    from core.registry import load_registry

    registry_path, store, db, units, kill_batch, table = sys.argv[1:7]
    load_table = warehouse.load_table  # inside replace_units' transaction: one bulk insert per table
    calls = {table: 0}

    def load_then_hang(con, name, rows):
        load_table(con, name, rows)
        if name != table:
            return
        calls[table] += 1
        if calls[table] == int(kill_batch):  # the batch's tables up to `table` written, not committed
            print("mid-write", flush=True)
            time.sleep(600)

    warehouse.load_table = load_then_hang
    registry = load_registry(registry_path)
    normalize_units([registry.get(u) for u in units.split(",")], store, db, now=datetime(2021, 3, 1, 8), batch_size=2)
    print("finished", flush=True)
""")
KILL_UNITS = ["qzf", "teda", "ftz", "jyj", "mzj", "xcjd", "hbjd", "yjbz"]  # 4 batches of 2


def _normalize_killed(pipeline_data, db: Path, kill_batch: int, lake_env: dict[str, str],
                      table: str = "resources") -> None:
    """Normalize KILL_UNITS in a child that hangs after its `kill_batch`-th insert into `table`
    (inside the batch's transaction), and SIGKILL it there."""
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_NORMALIZE, str(pipeline_data.store_dir.parent / "registry.yaml"),
         str(pipeline_data.store_dir), str(db), ",".join(KILL_UNITS), str(kill_batch), table],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", **lake_env})
    try:
        line = child.stdout.readline().strip()
        assert line == "mid-write", f"normalize did not reach the write it should be killed in: {line!r}"
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        child.kill()
        child.wait()


def _tables(db: Path) -> dict[str, list[tuple]]:
    """Every table of the warehouse, every row, sorted (NULL-safe)."""
    with warehouse_connect(db, read_only=True) as con:
        names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                           "WHERE table_catalog = current_database() ORDER BY 1").fetchall()]
        return {n: sorted(con.execute(f'SELECT * FROM "{n}"').fetchall(), key=repr) for n in names}


@pytest.fixture(scope="module")
def reference(pipeline_data, tmp_path_factory) -> dict[str, list[tuple]]:
    """The same units normalized without interruption, at the same `now`, on the embedded catalog
    (module fixtures come before the tests' `lake_catalog`; rows do not depend on the catalog)."""
    assert not os.environ.get("ZWGK_LAKE_CATALOG"), "the reference is the embedded catalog's"
    db = tmp_path_factory.mktemp("reference") / "zwgk.duckdb"
    units = [pipeline_data.registry.get(u) for u in KILL_UNITS]
    normalize_units(units, pipeline_data.store_dir, db, now=datetime(2021, 3, 1, 8), batch_size=2)
    tables = _tables(db)
    assert len(tables["resources"]) > 300 and {r[0] for r in tables["units"]} == set(KILL_UNITS)
    return tables


def test_sigkill_mid_normalize_loses_nothing_and_a_rerun_equals_an_uninterrupted_run(pipeline_data, reference, tmp_path,
                                                                                    lake_catalog):
    db = tmp_path / "zwgk.duckdb"
    _normalize_killed(pipeline_data, db, kill_batch=2, lake_env=lake_catalog.env)  # batch 1 committed, batch 2 killed mid-write
    after_kill = _tables(db)
    committed = set(KILL_UNITS[:2])
    assert {r[0] for r in after_kill["units"]} == committed  # no half-written unit
    for name in ("units", "resources", "columns", "attachments", "link_checks"):
        assert after_kill[name] == [r for r in reference[name] if _unit_of(name, r) in committed], name
    # Data files the killed transaction wrote are named by no snapshot: readers never see them,
    # and maintenance deletes them as orphans without changing a row. On a shared catalog it only
    # deletes files older than its grace period (another machine may be mid-write): run it later.
    later = datetime.now(timezone.utc) + SHARED_CATALOG_GRACE + timedelta(hours=1)
    maintenance = maintain_warehouse(db, now=later)
    assert maintenance.orphans_deleted > 0 and maintenance.snapshots_expired == 0
    assert _tables(db) == after_kill
    normalize_units([pipeline_data.registry.get(u) for u in KILL_UNITS], pipeline_data.store_dir, db,
                    now=datetime(2021, 3, 1, 8), batch_size=2)
    assert _tables(db) == reference


def test_sigkill_while_rewriting_units_keeps_their_previous_rows(pipeline_data, reference, tmp_path, lake_catalog):
    db = tmp_path / "zwgk.duckdb"
    normalize_units([pipeline_data.registry.get(u) for u in KILL_UNITS], pipeline_data.store_dir, db,
                    now=datetime(2021, 3, 1, 8), batch_size=2)
    # An unchanged store: the re-run rewrites the units' units and columns rows (their last_seen)
    # and nothing else. Batch 3's rows are deleted and rewritten, then the process is killed before COMMIT.
    _normalize_killed(pipeline_data, db, kill_batch=3, lake_env=lake_catalog.env, table="columns")
    assert _tables(db) == reference


def _unit_of(table: str, row: tuple) -> str:
    import schemas

    return row[schemas.table(table).field_names.index("unit_id")]


# -- a warehouse locked by another process ----------------------------------------------------------


@pytest.fixture
def locked_warehouse(tmp_path):
    warehouse = tmp_path / "locked.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import duckdb, time
        con = duckdb.connect({str(warehouse)!r}); con.execute('CREATE TABLE t(a INT)')
        print('ready', flush=True); time.sleep(120)""")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        yield warehouse
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("command", [["validate", "--as-of", "2021-03-01"], ["report", "--out", "{tmp}/report"]])
def test_cli_on_a_locked_warehouse_gives_one_clear_message(command, locked_warehouse, tmp_path):
    """normalize waits for the lock and then raises WarehouseLockedError naming the file
    (test_normalize.py); validate and report must say the same in one message, not a traceback."""
    args = [a.replace("{tmp}", str(tmp_path)) for a in command]
    result = subprocess.run([sys.executable, "-m", "zwgk.cli", *args, "--db", str(locked_warehouse)], cwd=REPO,
                            capture_output=True, text=True, timeout=300,
                            env={"PATH": "/usr/bin:/bin", "COLUMNS": "200", "ZWGK_LOCK_WAIT": "2"})
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert str(locked_warehouse) in output and "lock" in output.lower()
    assert "Traceback" not in output and "╭" not in output, output[-1500:]


def test_a_locked_unit_store_fails_that_unit_only_with_a_clear_message(tmp_path):
    from harvest_sites import build_portal

    spec = build_portal(tmp_path / "portal")
    store = tmp_path / "store"
    with PortalServer(spec.out_dir) as server:
        harvest_units(server.registry, ["kw"], store, HarvestSettings(polite=False))
        holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
            import duckdb, time
            con = duckdb.connect({str(store / 'units' / 'kw.duckdb')!r})
            print('ready', flush=True); time.sleep(120)""")], stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout.readline().strip() == "ready"
            summaries = {s.unit_id: s for s in harvest_units(server.registry, ["kw", "mzj"], store,
                                                              HarvestSettings(polite=False))}
        finally:
            holder.kill()
            holder.wait()
    assert summaries["kw"].failed and "kw.duckdb" in summaries["kw"].failed and "lock" in summaries["kw"].failed.lower()
    assert summaries["mzj"].failed is None and summaries["mzj"].new > 0
    assert open_unit_store(store, "kw").pages.num_rows > 0
