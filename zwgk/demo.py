"""`zwgk demo`: the sample portal, served for real, through every stage of the pipeline."""

from __future__ import annotations

import json
import signal
import threading
from datetime import date
from pathlib import Path

from rich.console import Console

from catalog.local import ensure_stack
from sample_portal.generator import DEFAULT_SEED, generate_portal
from sample_portal.server import PortalServer
from zwgk.pipeline import PipelinePaths, print_outcome, run_pipeline


def _portal_is_current(portal: Path) -> bool:
    try:
        manifest = json.loads((portal / "portal.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return manifest.get("seed") == DEFAULT_SEED and (portal / "ground_truth.json").exists()


def _local_ckan() -> tuple[str, str]:
    stack = ensure_stack()
    return stack.url, stack.token()


def run_demo(workdir: Path, *, port_base: int, keep_serving: bool, publish: bool, console: Console) -> None:
    portal = workdir / "portal"
    if not _portal_is_current(portal):
        summary = generate_portal(portal)
        console.print(f"[green]sample portal generated:[/] {summary.units} units, {summary.documents} documents")
    # The sample portal's ground truth is stated as of a fixed date: validate as of the same day.
    as_of = date.fromisoformat(json.loads((portal / "portal.json").read_text(encoding="utf-8"))["as_of"])
    paths = PipelinePaths.beside(workdir / "data" / "zwgk.duckdb")
    with PortalServer(portal, port_base=port_base, registry_path=portal / "registry.yaml") as server:
        for key, port in server.ports.items():
            console.print(f"portal host {server.hosts[key].hostname} → http://127.0.0.1:{port}/")
        # Our own portal: crawl limits lifted.
        result = run_pipeline(server.registry, paths, as_of=as_of, console=console, polite=False,
                              publish=publish, ckan=_local_ckan)
        print_outcome(result, paths, console)
        console.print(f"registry {portal / 'registry.yaml'}; ground truth {portal / 'ground_truth.json'}")
        console.print("Dagster UI: `uv run zwgk sites serve var/demo/portal` in one terminal, then "
                      "`uv run dagster dev -w workspace.yaml` and open http://127.0.0.1:3000")
        if keep_serving:
            _serve_until_stopped(console)


def _serve_until_stopped(console: Console) -> None:
    console.print("serving the sample portal; Ctrl-C to stop")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
