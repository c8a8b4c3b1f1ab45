"""The whole pipeline in one process: the same stage functions the Dagster assets wrap, in the
asset graph's order (harvest → normalize → validate → report → publish).

Used by `zwgk run` and `zwgk demo`. Units failing checks are results, not errors; an exception in a
stage is a pipeline error and is raised as `PipelineError` naming the stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable

from rich.console import Console

from zwgk.progress import harvest_with_progress, normalize_with_progress, print_validation
from core.history import new_run_id
from core.registry import Registry
from core.warehouse import RunTag


class PipelineError(RuntimeError):
    def __init__(self, step: str, cause: BaseException):
        super().__init__(f"step {step} failed: {type(cause).__name__}: {cause}")
        self.step = step


@dataclass(frozen=True)
class PipelinePaths:
    warehouse: Path
    harvest: Path
    report: Path
    publish: Path

    @classmethod
    def beside(cls, warehouse: Path) -> PipelinePaths:
        """Everything next to the warehouse file: harvest/, report/, publish/."""
        root = warehouse.parent
        return cls(warehouse, root / "harvest", root / "report", root / "publish")


@dataclass
class PipelineResult:
    harvest: list = field(default_factory=list)
    normalize: list = field(default_factory=list)
    validation: object = None
    report: Path | None = None
    publish: object = None
    run_id: str | None = None


def _step(name: str, console: Console, action: Callable):
    console.rule(f"[bold]{name}")
    try:
        return action()
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # every stage error becomes a named pipeline error
        raise PipelineError(name, exc) from exc


def run_pipeline(registry: Registry, paths: PipelinePaths, *, as_of: date, console: Console,
                 unit_ids: list[str] | None = None, polite: bool = True, publish: bool = True,
                 ckan: Callable[[], tuple[str, str]] | None = None, full_recheck: bool = False,
                 run_id: str | None = None) -> PipelineResult:
    """Run every stage for the selected units; `ckan()` returns (url, token) when publishing.

    One run id for the whole run: every lake snapshot it writes is tagged with it (and `as_of`),
    and it is the validation run's id, so `zwgk report --at RUN_ID` shows the lake as this run left it.
    """
    from assets.validate import validate_warehouse
    from assets.validate.report import build_report

    result = PipelineResult()
    result.run_id = run_id = run_id or new_run_id()
    result.harvest = _step("harvest", console, lambda: _harvest(registry, unit_ids, paths, polite, console,
                                                                 full_recheck))
    result.normalize = _step("normalize", console, lambda: normalize_with_progress(
        registry, paths.harvest, paths.warehouse, console=console, unit_ids=unit_ids,
        tag=RunTag(run_id, "normalize", as_of)))
    result.validation = _step("validate", console, lambda: validate_warehouse(paths.warehouse, as_of, run_id=run_id,
                                                                              units=unit_ids))
    print_validation(result.validation, console)
    result.report = _step("report", console, lambda: build_report(paths.warehouse, paths.report))
    console.print(f"[bold]supervisors' report:[/] {result.report.resolve().as_uri()}")
    if publish:
        result.publish = _step("publish", console, lambda: _publish(registry, paths, unit_ids, ckan, console))
    return result


def _harvest(registry: Registry, unit_ids, paths: PipelinePaths, polite: bool, console: Console,
             full_recheck: bool = False) -> list:
    """One unit failing is a result; every unit failing means the stage itself is broken."""
    summaries = harvest_with_progress(registry, unit_ids, paths.harvest, polite=polite, console=console,
                                      full_recheck=full_recheck)
    failed = [s for s in summaries if s.failed]
    if summaries and len(failed) == len(summaries):
        raise RuntimeError(f"every unit failed, e.g. unit {failed[0].unit_id}: {failed[0].failed}")
    return summaries


def _publish(registry: Registry, paths: PipelinePaths, unit_ids, ckan, console: Console):
    from assets.publish.console import publish_with_progress

    url, token = ckan()
    summary = publish_with_progress(paths.warehouse, url, token, out_dir=paths.publish, console=console,
                                    registry_unit_ids=registry.ids, units=unit_ids)
    console.print(f"[bold]open-data catalog:[/] {url}/dataset/")
    return summary


def print_outcome(result: PipelineResult, paths: PipelinePaths, console: Console) -> None:
    """The final summary: units passed and failed, which units a veto failed, where the report is."""
    from core.warehouse import connect

    validation = result.validation
    with connect(paths.warehouse, read_only=True) as con:
        vetoes = con.execute(
            "SELECT unit_id, veto_checks FROM unit_scores WHERE run_id = ? AND veto ORDER BY unit_id",
            [validation.run_id]).fetchall()
        unverified = con.execute(
            "SELECT s.unit_id, u.access, u.access_detail FROM unit_scores s JOIN units u USING (unit_id) "
            "WHERE s.run_id = ? AND s.verdict = '无法核查' ORDER BY s.unit_id", [validation.run_id]).fetchall()
    console.rule("[bold]done")
    console.print(f"{validation.units} units: [green]{validation.passed} 合格[/], [red]{validation.failed} 不合格[/] "
                  f"({validation.vetoed} by veto), [blue]{validation.unverifiable} 无法核查[/]")
    for unit_id, checks in vetoes:
        console.print(f"  veto: {unit_id} ({', '.join(checks)})")
    for unit_id, access, detail in unverified:
        console.print(f"  无法核查: {unit_id} ({access}: {detail})")
    console.print(f"report: {result.report.resolve().as_uri()}")
    console.print(f"warehouse: {paths.warehouse}")
