"""`zwgk demo`: the sample portal, served for real, through every stage of the pipeline."""

from __future__ import annotations

import json
import signal
from datetime import date
import threading
from pathlib import Path

import duckdb
from rich.console import Console

from sample_portal.generator import DEFAULT_SEED, generate_portal
from sample_portal.server import PortalServer
from assets.publish.console import publish_with_progress
from assets.validate import validate_warehouse
from catalog.local import ensure_stack
from assets.validate.report import build_report
from zwgk.progress import harvest_with_progress, normalize_with_progress, print_validation


def _portal_is_current(portal: Path) -> bool:
    try:
        manifest = json.loads((portal / "portal.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return manifest.get("seed") == DEFAULT_SEED and (portal / "ground_truth.json").exists()


def run_demo(workdir: Path, *, port_base: int, keep_serving: bool, publish: bool, console: Console) -> None:
    portal, data = workdir / "portal", workdir / "data"
    if not _portal_is_current(portal):
        summary = generate_portal(portal)
        console.print(f"[green]sample portal generated:[/] {summary.units} units, {summary.documents} documents")
    with PortalServer(portal, port_base=port_base, registry_path=portal / "registry.yaml") as server:
        for key, port in server.ports.items():
            console.print(f"portal host {server.hosts[key].hostname} → http://127.0.0.1:{port}/")
        registry = server.registry
        harvest_with_progress(registry, None, data / "harvest", polite=False, console=console)
        warehouse = data / "zwgk.duckdb"
        normalize_with_progress(registry, data / "harvest", warehouse, console=console)
        # The sample portal's ground truth is stated as of a fixed date; validate as of the same day.
        as_of = date.fromisoformat(json.loads((portal / "portal.json").read_text(encoding="utf-8"))["as_of"])
        print_validation(validate_warehouse(warehouse, as_of), console)
        report = build_report(warehouse, workdir / "report")
        _print_summary(console, portal, data)
        console.print(f"[bold]supervisors' report:[/] {report.resolve().as_uri()}")
        if publish:
            stack = ensure_stack()
            publish_with_progress(warehouse, stack.url, stack.token(), out_dir=data / "publish", console=console,
                                  registry_unit_ids=registry.ids)
            console.print(f"[bold]open-data catalog:[/] {stack.url}/dataset/")
        if keep_serving:
            console.print("serving the sample portal; Ctrl-C to stop")
            stop = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            try:
                stop.wait()
            except KeyboardInterrupt:
                pass


def _print_summary(console: Console, portal: Path, data: Path) -> None:
    with duckdb.connect(str(data / "zwgk.duckdb"), read_only=True) as con:
        counts = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
                  for t in ("units", "columns", "resources", "attachments")}
    console.print(f"[bold]warehouse[/] {data / 'zwgk.duckdb'}: " + ", ".join(f"{n} {t}" for t, n in counts.items()))
    console.print(f"registry {portal / 'registry.yaml'}; ground truth {portal / 'ground_truth.json'}")
    console.print("Dagster UI: `uv run zwgk sites serve var/demo/portal` in one terminal, then "
                  "`uv run dagster dev -w workspace.yaml` and open http://127.0.0.1:3000")
