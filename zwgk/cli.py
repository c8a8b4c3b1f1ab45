"""The `zwgk` command line. Each command is a thin shell over a stage's plain functions."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from core.registry import RegistryError, load_registry
from core.warehouse import WarehouseLockedError, WriteConflictError

app = typer.Typer(help="zwgk: harvest, normalize, validate and publish 政府信息公开 columns.", no_args_is_help=True)
sites_app = typer.Typer(help="The built-in sample Binhai portal.", no_args_is_help=True)
registry_app = typer.Typer(help="Unit registries.", no_args_is_help=True)
schema_app = typer.Typer(help="The versioned resource schema.", no_args_is_help=True)
app.add_typer(sites_app, name="sites")
app.add_typer(registry_app, name="registry")
app.add_typer(schema_app, name="schema")

console = Console(stderr=True)


@contextmanager
def _stage_errors():
    """Errors a user can act on, as one line each: a locked or missing warehouse, a bad argument."""
    try:
        yield
    except (WarehouseLockedError, WriteConflictError, FileNotFoundError, ValueError) as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None


def _load_registry_or_exit(path: Path):
    try:
        return load_registry(path)
    except RegistryError as exc:
        console.print(f"[red]invalid registry:[/] {exc}")
        raise typer.Exit(2) from None


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=console, transient=True)


@sites_app.command("generate")
def sites_generate(
    out: Path = typer.Argument(..., help="Output directory (its sites/ is replaced)."),
    seed: int = typer.Option(None, help="Random seed; the same seed gives the same bytes."),
    units: Optional[int] = typer.Option(None, help="Number of units (default: the 44 real Binhai units)."),
    docs_per_unit: int = typer.Option(None, help="Documents per unit (scale knob)."),
    as_of: Optional[str] = typer.Option(None, help="Date the ground truth is computed for (YYYY-MM-DD)."),
) -> None:
    """Generate the sample portal: static sites, portal.json and ground_truth.json."""
    from sample_portal import generator

    kwargs = {}
    if seed is not None:
        kwargs["seed"] = seed
    if docs_per_unit is not None:
        kwargs["docs_per_unit"] = docs_per_unit
    if as_of:
        kwargs["as_of"] = date.fromisoformat(as_of)
    with _progress() as progress:
        task = progress.add_task("generating units", total=None)
        summary = generator.generate_portal(
            out, units=units, progress=lambda done, total: progress.update(task, completed=done, total=total), **kwargs
        )
    console.print(
        f"[green]portal written[/] to {summary.out_dir}: {summary.units} units, {summary.documents} documents, "
        f"{summary.files} files, {summary.bytes / 1e6:.1f} MB"
    )


@sites_app.command("serve")
def sites_serve(
    out: Path = typer.Argument(..., help="A directory written by `zwgk sites generate`."),
    port_base: int = typer.Option(8701, help="First port; hosts get consecutive ports (0 = ephemeral)."),
    faults: Optional[Path] = typer.Option(None, help="YAML list of faults to inject (see sample_portal/server.py)."),
    registry: Optional[Path] = typer.Option(None, help="Where to write the crawler registry (default OUT/registry.yaml)."),
) -> None:
    """Serve the sample portal over HTTP (IPv4 and IPv6) until interrupted."""
    from sample_portal.server import serve_forever

    if not (out / "portal.json").exists():
        console.print(f"[red]error:[/] {out}/portal.json not found; run `zwgk sites generate {out}` first")
        raise typer.Exit(2)
    serve_forever(out, port_base=port_base or None, faults=faults or (), registry_path=registry)


@registry_app.command("check")
def registry_check(path: Path = typer.Argument(..., help="Registry YAML file.")) -> None:
    """Validate a registry file and list its units."""
    try:
        registry = load_registry(path)
    except RegistryError as exc:
        console.print(f"[red]invalid registry:[/] {exc}")
        raise typer.Exit(2) from None
    kinds: dict[str, int] = {}
    for unit in registry.units:
        kinds[unit.kind] = kinds.get(unit.kind, 0) + 1
    hosts = sorted({u.host for u in registry.units})
    console.print(f"[green]ok[/] {path}: {len(registry.units)} units ({kinds}) on {len(hosts)} host(s)")


@app.command("harvest")
def harvest(
    units_file: Path = typer.Option(..., "--units", help="Unit registry YAML."),
    store: Path = typer.Option(Path("var/harvest"), help="Harvest store directory."),
    unit: Optional[list[str]] = typer.Option(None, "--unit", help="Harvest only this unit (repeatable)."),
    polite: bool = typer.Option(True, help="--no-polite lifts rate limits (only for your own test portals)."),
    full_recheck: bool = typer.Option(False, help="Revalidate every stored page, not only those due."),
) -> None:
    """Crawl the units' 政府信息公开 columns into the harvest store."""
    from zwgk.progress import harvest_with_progress

    registry = _load_registry_or_exit(units_file)
    summaries = harvest_with_progress(registry, unit or None, store, polite=polite, full_recheck=full_recheck,
                                      console=console)
    failed = [s for s in summaries if s.failed]
    raise typer.Exit(1 if failed and len(failed) == len(summaries) else 0)


@app.command("extract")
def extract(
    page: Path = typer.Argument(..., help="A saved HTML page."),
    url: str = typer.Option(..., help="The URL the page was fetched from (resolves its links)."),
    charset: Optional[str] = typer.Option(None, help="Charset from the HTTP header, if known."),
    column_kind: Optional[str] = typer.Option(None, help="Kind of the column the page is listed in."),
) -> None:
    """Print one page as a resource record in JSON (the pipeline's own extraction code)."""
    from core.records import record_json

    try:
        body = page.read_bytes()
    except OSError as exc:
        console.print(f"[red]error:[/] cannot read {page}: {exc.strerror}")
        raise typer.Exit(2) from None
    from assets.normalize.extract import ExtractionError, extract_page

    try:
        typer.echo(record_json(extract_page(body, url, charset=charset, column_kind=column_kind)))
    except ExtractionError as exc:
        console.print(f"[red]error:[/] {page}: {exc}")
        raise typer.Exit(1) from None


@app.command("normalize")
def normalize(
    units_file: Path = typer.Option(..., "--units", help="Unit registry YAML."),
    store: Path = typer.Option(Path("var/harvest"), help="Harvest store directory."),
    db: Path = typer.Option(Path("var/zwgk.duckdb"), help="Warehouse: its DuckLake catalog file (data in <name>.lake/ beside it)."),
    unit: Optional[list[str]] = typer.Option(None, "--unit", help="Normalize only this unit (repeatable)."),
    rebuild: bool = typer.Option(False, help="Re-extract every unit into a new warehouse beside the current one, "
                                             "then swap it in (e.g. after a DuckDB upgrade; README)."),
) -> None:
    """Extract harvested pages into the resource schema in the warehouse."""
    from assets.normalize.build import RebuildIncompleteError
    from zwgk.progress import normalize_with_progress

    if rebuild and unit:
        console.print("[red]error:[/] --rebuild rebuilds the whole warehouse; it takes no --unit")
        raise typer.Exit(2)
    registry = _load_registry_or_exit(units_file)
    with _stage_errors():
        try:
            normalize_with_progress(registry, store, db, console=console, unit_ids=unit or None, rebuild=rebuild)
        except RebuildIncompleteError as exc:
            console.print(f"[red]error:[/] {exc}")
            raise typer.Exit(1) from None


def _parse_date(value: str | None, option: str) -> date:
    if not value:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        console.print(f"[red]error:[/] {option} {value!r} is not a date (YYYY-MM-DD)")
        raise typer.Exit(2) from None


@app.command("validate")
def validate(
    db: Path = typer.Option(Path("var/zwgk.duckdb"), help="Warehouse: its DuckLake catalog file (data in <name>.lake/ beside it)."),
    as_of: Optional[str] = typer.Option(None, help="Apply the rules as of this date (default today)."),
    run_id: Optional[str] = typer.Option(None, help="Run id (default: a new timestamped id)."),
    unit: Optional[list[str]] = typer.Option(None, "--unit", help="Validate only this unit (repeatable)."),
    data_docs: Optional[Path] = typer.Option(None, help="Also build GX Data Docs into this directory."),
) -> None:
    """Decide checks C01–C22 for every unit and score them."""
    from zwgk.progress import print_validation

    day = _parse_date(as_of, "--as-of")
    from assets.validate import validate_warehouse

    with _stage_errors():
        summary = validate_warehouse(db, day, run_id=run_id, units=unit or None, data_docs_dir=data_docs)
    print_validation(summary, console)


@app.command("report")
def report(
    db: Path = typer.Option(Path("var/zwgk.duckdb"), help="Warehouse: its DuckLake catalog file (data in <name>.lake/ beside it)."),
    out: Path = typer.Option(Path("var/report"), help="Directory for the static HTML report."),
    run_id: Optional[str] = typer.Option(None, help="Report this run (default: the latest)."),
    at: Optional[str] = typer.Option(None, "--at", help="Render from the lake as it was: after run RUN_ID, or at the "
                                     "end of DATE (YYYY-MM-DD, Beijing time)."),
) -> None:
    """Render the supervisors' report (static HTML, works offline)."""
    from assets.validate.report import build_report

    snapshot = _snapshot_or_exit(db, at) if at else None
    if snapshot and not run_id and snapshot.stage == "validate":
        run_id = snapshot.run_id  # the validation run that wrote that snapshot
    with _stage_errors():
        index = build_report(db, out, run_id=run_id, snapshot=snapshot.snapshot_id if snapshot else None)
    if snapshot:
        console.print(f"as of lake snapshot {snapshot.snapshot_id} ({snapshot.beijing_time:%Y-%m-%d %H:%M:%S} "
                      f"Beijing time{', run ' + snapshot.run_id if snapshot.run_id else ''})")
    console.print(f"[green]report written:[/] {index.resolve().as_uri()}")


def _snapshot_or_exit(db: Path, at: str):
    """The lake snapshot `--at` names; a clear message and exit code 2 when there is none."""
    from core.history import HistoryError, resolve
    from core.warehouse import connect

    try:
        with connect(db, read_only=True) as con:
            return resolve(con, at)
    except (HistoryError, FileNotFoundError) as exc:
        console.print(f"[red]error:[/] --at {at}: {exc}")
        raise typer.Exit(2) from None


@app.command("maintain")
def maintain(
    db: Path = typer.Option(Path("var/zwgk.duckdb"), help="Warehouse: its DuckLake catalog file (data in <name>.lake/ beside it)."),
    keep_days: Optional[float] = typer.Option(
        None, help="Keep snapshots (old states, old reports) this many days (default $ZWGK_LAKE_RETENTION_DAYS, else 400)."),
    dry_run: bool = typer.Option(False, help="Only say what would be expired and deleted."),
) -> None:
    """Expire old snapshots, merge small files and delete files no snapshot needs (DuckLake's own maintenance)."""
    from core.maintenance import maintain_warehouse

    with _stage_errors():
        with console.status(f"maintaining {db}"):
            summary = maintain_warehouse(db, keep_days=keep_days, dry_run=dry_run)
    for line in summary.lines():
        console.print(line)


def ckan_target(ckan_url: str | None) -> tuple[str, str]:
    """CKAN URL and token: from the environment (production), else the local stack (started if needed)."""
    import os

    url = ckan_url or os.environ.get("ZWGK_CKAN_URL")
    if url:
        token = os.environ.get("ZWGK_CKAN_TOKEN")
        token_file = os.environ.get("ZWGK_CKAN_TOKEN_FILE")
        if not token and token_file:
            token = Path(token_file).read_text(encoding="utf-8").strip()
        if not token:
            console.print("[red]error:[/] set ZWGK_CKAN_TOKEN or ZWGK_CKAN_TOKEN_FILE for the CKAN at " + url)
            raise typer.Exit(2)
        return url, token
    from catalog.local import ensure_stack

    stack = ensure_stack()
    return stack.url, stack.token()


@app.command("publish")
def publish(
    db: Path = typer.Option(Path("var/zwgk.duckdb"), help="Warehouse: its DuckLake catalog file (data in <name>.lake/ beside it)."),
    units_file: Optional[Path] = typer.Option(None, "--units", help="Registry: units missing from it are marked superseded."),
    unit: Optional[list[str]] = typer.Option(None, "--unit", help="Publish only this unit's directory (repeatable)."),
    out_dir: Path = typer.Option(Path("var/publish"), help="Where the export files are written."),
    run_id: Optional[str] = typer.Option(None, help="Validation run for the scorecard (default: latest)."),
    ckan_url: Optional[str] = typer.Option(None, help="CKAN URL (default $ZWGK_CKAN_URL, else the local stack)."),
) -> None:
    """Publish datasets and scorecards to CKAN; unchanged data makes no write calls."""
    from assets.publish import PublishError
    from assets.publish.console import publish_with_progress

    registry_ids = _load_registry_or_exit(units_file).ids if units_file else None
    url, token = ckan_target(ckan_url)
    try:
        publish_with_progress(db, url, token, out_dir=out_dir, console=console, registry_unit_ids=registry_ids,
                              units=unit or None, run_id=run_id)
    except PublishError as exc:
        console.print(f"[red]publish failed:[/] {exc}")
        raise typer.Exit(1) from None
    console.print(f"catalog: {url}/dataset/")


@app.command("run")
def run(
    units_file: Path = typer.Option(..., "--units", help="Unit registry YAML."),
    db: Path = typer.Option(..., help="Warehouse DuckDB file; harvest/, report/, publish/ go beside it."),
    as_of: Optional[str] = typer.Option(None, help="Apply the rules as of this date (default today)."),
    unit: Optional[list[str]] = typer.Option(None, "--unit", help="Run only this unit (repeatable)."),
    publish: bool = typer.Option(True, help="Publish to CKAN ($ZWGK_CKAN_URL, else the local stack)."),
    polite: bool = typer.Option(True, help="--no-polite lifts crawl limits (only for your own test portals)."),
    full_recheck: bool = typer.Option(False, help="Revalidate every stored page, not only those due."),
    run_id: Optional[str] = typer.Option(None, help="Run id tagging every snapshot of the run (default: a new id)."),
) -> None:
    """Run the whole pipeline in this process, with live progress and a final summary.

    Exits 0 when the pipeline ran, even if units fail checks; 1 on a pipeline error, naming the step.
    """
    from zwgk.pipeline import PipelineError, PipelinePaths, print_outcome, run_pipeline

    registry = _load_registry_or_exit(units_file)
    for unit_id in unit or []:
        if unit_id not in registry.ids:
            console.print(f"[red]error:[/] unit {unit_id!r} is not in {units_file}")
            raise typer.Exit(2)
    paths = PipelinePaths.beside(db)
    try:
        result = run_pipeline(registry, paths, as_of=_parse_date(as_of, "--as-of"), console=console,
                              unit_ids=unit or None, polite=polite, publish=publish,
                              ckan=lambda: ckan_target(None), full_recheck=full_recheck, run_id=run_id)
    except PipelineError as exc:
        console.print(f"[red]pipeline error:[/] {exc}")
        raise typer.Exit(1) from None
    print_outcome(result, paths, console)


@app.command("demo")
def demo(
    workdir: Path = typer.Option(Path("var/demo"), help="Where the portal and the data go."),
    port_base: int = typer.Option(8701, help="First port of the sample portal's hosts."),
    serve: bool = typer.Option(False, help="Keep serving the sample portal afterwards (Ctrl-C to stop)."),
    publish: bool = typer.Option(True, help="Publish to the local CKAN (brings the stack up; first time ~4 min)."),
) -> None:
    """Generate and serve the sample portal, then run every stage on it."""
    from zwgk.demo import run_demo

    run_demo(workdir, port_base=port_base, keep_serving=serve, publish=publish, console=console)


@schema_app.command("ddl")
def schema_ddl() -> None:
    """Print the DDL of every table, as the warehouse creates them in its DuckLake."""
    import schemas

    typer.echo(schemas.all_ddl())


@schema_app.command("docs")
def schema_docs(out: Path = typer.Option(Path("docs/data-dictionary.md"), help="Markdown file to write.")) -> None:
    """Write the data dictionary as Markdown."""
    import schemas

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(schemas.markdown(), encoding="utf-8")
    console.print(f"[green]wrote[/] {out} (schema {schemas.SCHEMA_VERSION})")


if __name__ == "__main__":
    app()
