"""Scale-out: unit runs whose steps execute in real Celery workers, through a real Redis broker,
on each lake catalog: the embedded DuckDB file and PostgreSQL (a fresh database on the stack's).

Starts Debian's redis-server on a free port and three `dagster-celery` workers sharing a temporary
DAGSTER_HOME, as docs/scale-out.md describes: `harvest` consumes the main host's harvest queue,
`steps-1` and `steps-2` both consume the general queue, each with concurrency 1. A small generated
portal is served, and two units of that host are run at the same time with `dagster job execute`,
each in its own process as a launched run would be (the resources are configured from the
environment when the definitions are imported, so a run needs a fresh process anyway).

To show the two general workers writing at once whatever the machine's speed, the test holds the
lake (a PostgreSQL lock on the catalog's snapshot table; the embedded catalog's file lock) until
both units' normalize steps have started, then lets go: both steps are then inside their write
together. Nothing here is skipped: a broker, worker or PostgreSQL that cannot start fails the
test with its log.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import duckdb
import pytest
import redis
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus

from catalog.local import stack_postgres
from lake_catalogs import LakeCatalog
from orchestration.celery import HARVEST_STEP, STEPS_QUEUE, harvest_queue
from orchestration.partitions import unit_partitions
from sample_portal.generator import generate_portal
from sample_portal.server import PortalServer
from core.warehouse import connect as warehouse_connect

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]  # the module setup runs in the first test

REPO = Path(__file__).parents[1]
BIN = Path(sys.executable).parent
UNITS = ("qzf", "zfb")  # both on the portal's main host: their harvests must not overlap
ENTRY_DELAY = 4.0  # seconds the main host takes to serve a unit's entry page: harvests long enough to collide
STARTUP_SECONDS = 120
RUN_SECONDS = 240
NORMALIZE_STEP = "normalized_resources"
GENERAL_WORKERS = ("steps-1", "steps-2")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_server_binary() -> str:
    """Debian's redis-server, installed with apt-get when missing (CI runs as root)."""
    if not shutil.which("redis-server"):
        for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "redis-server"]):
            done = subprocess.run(command, capture_output=True, text=True,
                                  env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
            if done.returncode:
                pytest.fail(f"redis-server is not installed and `{' '.join(command)}` failed:\n{done.stderr[-2000:]}")
    return shutil.which("redis-server") or pytest.fail("redis-server is still not on PATH after apt-get install")


def tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else "(no log)"


def stop_group(process: subprocess.Popen) -> None:
    """Stop a process started in its own session, with every child it forked (celery's pool)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    """A private redis-server; yields its URL (database 1, as the default ZWGK_CELERY_BROKER)."""
    work = tmp_path_factory.mktemp("redis")
    port = free_port()
    log = work / "redis.log"
    server = subprocess.Popen(
        [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(work), "--logfile", str(log)],
        start_new_session=True,
    )
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if server.poll() is not None or time.monotonic() > deadline:
                stop_group(server)
                pytest.fail(f"redis-server did not start on port {port}:\n{tail(log)}")
            time.sleep(0.1)
    yield f"redis://127.0.0.1:{port}/1"
    stop_group(server)


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    work = tmp_path_factory.mktemp("scale-out-portal")
    generate_portal(work / "portal", units=3, docs_per_unit=10)
    with PortalServer(work / "portal", registry_path=work / "registry.yaml") as server:
        server.add_fault(host="main", path="/*/zfxxgk/", kind="delay", seconds=ENTRY_DELAY)
        yield server


@pytest.fixture(scope="module")
def deployment(tmp_path_factory, broker, portal, module_lake_catalog: LakeCatalog):
    """Environment and DAGSTER_HOME shared by the workers and the runs, as on a real deployment."""
    home = tmp_path_factory.mktemp("dagster-home")
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    # Late acknowledgement, as docs/scale-out.md says: a busy worker reserves no second task.
    (home / "celery.yaml").write_text(json.dumps({"execution": {"config": {
        "broker": broker, "backend": broker, "config_source": {"task_acks_late": True}}}}))
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",  # dagster-celery starts `celery` from PATH
        "DAGSTER_HOME": str(home),
        "ZWGK_DEPLOYMENT": "local",
        "ZWGK_REGISTRY": str(portal.registry_path),
        "ZWGK_DATA_DIR": str(home / "data"),
        "ZWGK_POLITE": "0",
        "ZWGK_AS_OF": "2021-03-01",
        "ZWGK_CELERY_BROKER": broker,
        "ZWGK_LOCK_WAIT": str(RUN_SECONDS),  # embedded catalog: the workers wait for the test's hold
        **module_lake_catalog.env,
    }
    # Create the instance's storage once, before processes race to create it; the lake too.
    with DagsterInstance.from_config(str(home)) as instance:
        instance.add_dynamic_partitions(unit_partitions.name, [unit.id for unit in portal.registry.units])
    with warehouse_connect(home / "data" / "zwgk.duckdb"):
        pass
    return home, env


def start_worker(home: Path, env: dict, name: str, queue: str, concurrency: int) -> subprocess.Popen:
    """`dagster-celery worker start` as in docs/scale-out.md, in its own session so it can be stopped whole."""
    with (home / f"worker-{name}.log").open("w") as log:
        return subprocess.Popen(
            [str(BIN / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app",
             "-y", str(home / "celery.yaml"), "-n", name, "-q", queue, "-i", "orchestration.definitions",
             "--", "--concurrency", str(concurrency), "--without-mingle", "--without-gossip"],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )


def wait_ready(home: Path, workers: dict[str, subprocess.Popen]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    waiting = set(workers)
    while waiting:
        for name in sorted(waiting):
            log = home / f"worker-{name}.log"
            if f"{name}@{socket.gethostname()} ready." in log.read_text(errors="replace"):
                waiting.discard(name)
            elif workers[name].poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"celery worker {name} did not start:\n{tail(log)}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def workers(deployment, portal):
    home, env = deployment
    main_host = portal.registry.get(UNITS[0]).host
    workers = {
        "harvest": start_worker(home, env, "harvest", harvest_queue(main_host), concurrency=1),
        **{name: start_worker(home, env, name, STEPS_QUEUE, concurrency=1) for name in GENERAL_WORKERS},
    }
    try:
        wait_ready(home, workers)
        yield workers
    finally:
        for process in workers.values():
            stop_group(process)


class LakeHold:
    """Holds the lake so that no step gets into it until `release()`: on PostgreSQL a psql session
    with the catalog's snapshot table locked; on the embedded catalog a process with the file open
    for writing. Either way, a step reaching the lake waits, as behind a long writer."""

    def __init__(self, catalog: LakeCatalog, env: dict, warehouse: Path):
        if catalog.name == "postgres":
            pg = stack_postgres()
            dbname = catalog.env["ZWGK_LAKE_CATALOG"].split("dbname=")[1].split()[0]
            command = ["psql", "-h", str(pg.socket_dir), "-p", str(pg.port), "-U", pg.user, "-d", dbname,
                       "-v", "ON_ERROR_STOP=1", "-qtAX"]
            script = "BEGIN;\nLOCK TABLE ducklake_snapshot IN ACCESS EXCLUSIVE MODE;\nSELECT 'held';\n"
            self.release_line = "COMMIT;\n"
        else:
            command = [sys.executable, "-c", "import sys\nfrom core.warehouse import connect\n"
                       f"with connect({str(warehouse)!r}):\n    print('held', flush=True); sys.stdin.readline()\n"]
            script, self.release_line = "", "\n"
        self.process = subprocess.Popen(command, cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        self.process.stdin.write(script)
        self.process.stdin.flush()
        line = self.process.stdout.readline().strip()
        if line != "held":
            self.process.kill()
            pytest.fail(f"could not hold the {catalog.name} lake: {line} {self.process.stdout.read()[-2000:]}")

    def release(self) -> float:
        released = time.time()
        if self.process.poll() is None:
            self.process.stdin.write(self.release_line)
            self.process.stdin.close()
            self.process.wait(timeout=30)
        return released


def step_times(logs, step: str) -> dict[DagsterEventType, float]:
    return {entry.dagster_event.event_type: entry.timestamp for entry in logs
            if entry.dagster_event and entry.step_key == step}


def wait_until_both_normalize_steps_started(home: Path, launched: dict[str, subprocess.Popen]) -> None:
    deadline = time.monotonic() + RUN_SECONDS
    started: set[str] = set()
    while started != set(UNITS):
        with DagsterInstance.from_config(str(home)) as instance:
            for run in instance.get_runs():
                unit = run.tags.get("dagster/partition")
                if DagsterEventType.STEP_START in step_times(instance.all_logs(run.run_id), NORMALIZE_STEP):
                    started.add(unit)
        ended = [unit for unit, process in launched.items() if process.poll() is not None]
        if ended or time.monotonic() > deadline:
            outputs = "\n".join(f"--- {unit}\n{tail(home / f'run-{unit}.log')}" for unit in launched)
            pytest.fail(f"normalize started only for {sorted(started)} (runs ended: {ended}):\n{outputs}\n"
                        f"{tail(home / 'worker-steps-1.log')}\n{tail(home / 'worker-steps-2.log')}")
        time.sleep(0.5)


class Runs(NamedTuple):
    by_unit: dict  # unit -> (run, its event log, the run process's output)
    released: float  # when the lake was let go, both normalize steps waiting on it


@pytest.fixture(scope="module")
def runs(deployment, workers, module_lake_catalog) -> Runs:
    """Both units' runs, started together while the lake is held; released once both units'
    normalize steps have started. Returns each unit's run and its step events."""
    home, env = deployment
    hold = LakeHold(module_lake_catalog, env, home / "data" / "zwgk.duckdb")
    launched = {}
    for unit in UNITS:
        with (home / f"run-{unit}.log").open("w") as log:  # a file, not a pipe nobody reads while we wait
            launched[unit] = subprocess.Popen(
                [str(BIN / "dagster"), "job", "execute", "-m", "orchestration.definitions", "-j",
                 "unit_pipeline_celery", "--tags", json.dumps({"dagster/partition": unit})],
                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
            )
    try:
        wait_until_both_normalize_steps_started(home, launched)
    finally:
        released = hold.release()
    outputs = {}
    for unit, process in launched.items():
        try:
            process.wait(timeout=RUN_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        outputs[unit] = tail(home / f"run-{unit}.log", 80)
    with DagsterInstance.from_config(str(home)) as instance:
        by_unit = {run.tags["dagster/partition"]: run for run in instance.get_runs()}
        missing = [unit for unit in UNITS if unit not in by_unit]
        assert not missing, f"no run recorded for {missing}:\n" + "\n".join(o[-3000:] for o in outputs.values())
        return Runs({unit: (by_unit[unit], instance.all_logs(by_unit[unit].run_id), outputs[unit]) for unit in UNITS},
                    released)


def step_workers(logs) -> dict[str, str]:
    """Step key -> the Celery worker that executed it, from dagster-celery's engine events."""
    return {
        entry.step_key: entry.dagster_event.event_specific_data.metadata["Celery worker"].value
        for entry in logs
        if entry.dagster_event and entry.dagster_event.event_type == DagsterEventType.ENGINE_EVENT
        and "Celery worker" in (entry.dagster_event.event_specific_data.metadata or {})
    }


class Harvest(NamedTuple):
    submitted: float  # by the run worker, to the host's queue
    started: float  # in the Celery worker
    ended: float


def harvest_of(logs) -> Harvest:
    submitted = next(entry.timestamp for entry in logs
                     if entry.user_message.startswith(f'Submitting celery task for step "{HARVEST_STEP}"'))
    times = {entry.dagster_event.event_type: entry.timestamp for entry in logs
             if entry.dagster_event and entry.step_key == HARVEST_STEP}
    return Harvest(submitted, times[DagsterEventType.STEP_START], times[DagsterEventType.STEP_SUCCESS])


def test_unit_runs_succeed_on_celery_workers(runs):
    for unit, (run, _, output) in runs.by_unit.items():
        assert run.status == DagsterRunStatus.SUCCESS, f"run of {unit} failed:\n{output[-4000:]}"


def test_harvest_runs_on_its_host_queue_and_the_other_steps_on_the_general_one(runs, portal):
    queue = harvest_queue(portal.registry.get(UNITS[0]).host)
    general = {f"{name}@{socket.gethostname()}" for name in GENERAL_WORKERS}
    for unit, (_, logs, _) in runs.by_unit.items():
        ran_on = step_workers(logs)
        assert set(ran_on) == {HARVEST_STEP, NORMALIZE_STEP, "unit_verdicts"}, unit
        assert ran_on[HARVEST_STEP] == f"harvest@{socket.gethostname()}", unit
        assert {ran_on[NORMALIZE_STEP], ran_on["unit_verdicts"]} <= general, unit
        messages = [entry.user_message for entry in logs]
        assert f'Submitting celery task for step "{HARVEST_STEP}" to queue "{queue}".' in messages
        for step in (NORMALIZE_STEP, "unit_verdicts"):
            assert f'Submitting celery task for step "{step}" to queue "{STEPS_QUEUE}".' in messages


def test_two_workers_normalize_the_two_units_at_once(runs):
    """Both normalize steps were running, on different workers, when the lake was let go: their
    writes (a replacement of each unit's rows) ran concurrently, and both committed."""
    ran_on = {unit: step_workers(logs)[NORMALIZE_STEP] for unit, (_, logs, _) in runs.by_unit.items()}
    assert len(set(ran_on.values())) == 2, f"one worker normalized both units: {ran_on}"
    times = {unit: step_times(logs, NORMALIZE_STEP) for unit, (_, logs, _) in runs.by_unit.items()}
    starts = [t[DagsterEventType.STEP_START] for t in times.values()]
    ends = [t[DagsterEventType.STEP_SUCCESS] for t in times.values()]
    assert max(starts) < runs.released < min(ends), (starts, runs.released, ends)


def test_units_of_one_host_are_harvested_one_after_the_other(runs):
    first, second = sorted((harvest_of(logs) for _, logs, _ in runs.by_unit.values()), key=lambda h: h.started)
    assert second.submitted < first.ended, "the second harvest was not submitted while the first ran: nothing tested"
    assert first.ended <= second.started, "two units of one host were harvested at once"


def test_the_warehouse_holds_both_units_once(runs, deployment, module_lake_catalog):
    home, _ = deployment
    with warehouse_connect(home / "data" / "zwgk.duckdb", read_only=True) as con:
        resources = dict(con.execute("SELECT unit_id, count(*) FROM resources GROUP BY unit_id").fetchall())
        distinct = dict(con.execute("SELECT unit_id, count(DISTINCT resource_id) FROM resources GROUP BY 1").fetchall())
        units = con.execute("SELECT unit_id FROM units ORDER BY 1").fetchall()
        verdicts = dict(con.execute("SELECT unit_id, verdict FROM unit_scores").fetchall())
    assert set(resources) == set(UNITS) and min(resources.values()) >= 10
    assert resources == distinct, "a resource was written twice"
    assert units == [(unit,) for unit in sorted(UNITS)]
    assert verdicts == {unit: "合格" for unit in UNITS}


def test_the_documented_queue_listing_names_each_host_and_the_general_queue(portal):
    listed = subprocess.run([sys.executable, "-m", "orchestration.celery", "--registry", str(portal.registry_path)],
                            cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    hosts = sorted({unit.host for unit in portal.registry.units})  # www.bh.zwgk.test:PORT, www.teda.zwgk.test:PORT
    assert len(hosts) == 2
    assert listed == [f"zwgk-harvest.{host}" for host in hosts] + [STEPS_QUEUE]
