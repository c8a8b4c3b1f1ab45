"""The `zwgk` command line. Each command is a thin shell over a stage's plain functions."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from zwgk.registry import RegistryError, load_registry

app = typer.Typer(help="zwgk: harvest, normalize, validate and publish 政府信息公开 columns.", no_args_is_help=True)
sites_app = typer.Typer(help="The built-in sample Binhai portal.", no_args_is_help=True)
registry_app = typer.Typer(help="Unit registries.", no_args_is_help=True)
schema_app = typer.Typer(help="The versioned resource schema.", no_args_is_help=True)
app.add_typer(sites_app, name="sites")
app.add_typer(registry_app, name="registry")
app.add_typer(schema_app, name="schema")

console = Console(stderr=True)


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


@schema_app.command("ddl")
def schema_ddl() -> None:
    """Print the DuckDB DDL of every table."""
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
