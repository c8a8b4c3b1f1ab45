"""Scale-out: the unit pipeline's steps run by Celery workers, fed through a Redis broker.

`unit_pipeline_celery` materializes the same unit-partitioned assets as `unit_pipeline`, one run
per unit, but each step is a Celery task that a `dagster-celery` worker picks up, on this machine
or another one (docs/scale-out.md says how to run it). Each step goes to a queue chosen for what
it touches, as if its op were tagged `dagster-celery/queue` for that run alone:

* harvest -> `zwgk-harvest.<hostname:port>`, the queue of the unit's host. A unit's crawl limits
  (by default 2 connections and one request a second per host) are kept inside the process that
  harvests it, so two workers harvesting two units of one host at once would double the load on
  it. When each host queue is consumed by one worker with concurrency 1, every host is crawled by
  one process at a time, however many units and workers there are.
* normalize, validate -> `zwgk-steps`, the general queue, consumed by as many workers as wanted.
  They write the warehouse, a DuckLake: with a PostgreSQL catalog (`ZWGK_LAKE_CATALOG`) many
  processes commit at once and a commit that conflicts with another is re-run whole
  (core/warehouse.py). With the embedded catalog (a DuckDB file: one writing process at a time)
  several workers are still correct, each waiting for the file lock (`ZWGK_LOCK_WAIT`), but not
  faster: scale-out needs the PostgreSQL catalog.

Broker and result backend: `ZWGK_CELERY_BROKER` and `ZWGK_CELERY_BACKEND`, default
redis://127.0.0.1:6380/1 (the catalog stack's Redis, database 1), read when a run starts unless
the run config sets `execution.config.broker` / `backend`.

`python -m orchestration.celery [--registry PATH]` prints the queues workers must consume, one a
line: each host's harvest queue (one worker each), then the general queue (any number of workers).
"""

from __future__ import annotations

import argparse
import os

from dagster import (
    AssetSelection,
    Executor,
    Field,
    InitExecutorContext,
    Noneable,
    StringSource,
    build_resources,
    define_asset_job,
    executor,
    multiple_process_executor_requirements,
)
from dagster._core.execution.retries import RetryMode
from dagster._core.storage.tags import PARTITION_NAME_TAG
from dagster_celery.core_execution_loop import core_celery_execution_loop
from dagster_celery.executor import CELERY_CONFIG, CeleryExecutor, _submit_task
from dagster_celery.tags import DAGSTER_CELERY_QUEUE_TAG

from assets.harvest.asset import harvested_pages
from assets.normalize.asset import normalized_resources
from assets.validate.asset import unit_verdicts
from core.registry import Registry, Unit, load_registry

BROKER_ENV = "ZWGK_CELERY_BROKER"
BACKEND_ENV = "ZWGK_CELERY_BACKEND"
DEFAULT_BROKER = "redis://127.0.0.1:6380/1"
HARVEST_QUEUE_PREFIX = "zwgk-harvest."
STEPS_QUEUE = "zwgk-steps"
HARVEST_STEP = harvested_pages.op.name
GENERAL_STEPS = (normalized_resources.op.name, unit_verdicts.op.name)


def broker_url() -> str:
    return os.environ.get(BROKER_ENV, DEFAULT_BROKER)


def backend_url() -> str:
    """Redis keeps the step results too, so nothing but Redis is needed (dagster-celery's default is rpc://)."""
    return os.environ.get(BACKEND_ENV, broker_url())


def harvest_queue(host: str) -> str:
    """The Celery queue of harvest steps for units whose entry URL is on `host` (`hostname:port`)."""
    return HARVEST_QUEUE_PREFIX + host


def worker_queues(registry: Registry) -> list[str]:
    """Every queue the job sends steps to: one per host of the registry, and the general one."""
    return sorted({harvest_queue(unit.host) for unit in registry.units}) + [STEPS_QUEUE]


EXECUTOR_CONFIG = {
    **CELERY_CONFIG,
    "broker": Field(Noneable(StringSource), is_required=False,
                    description=f"Celery broker URL; default ${BROKER_ENV} or {DEFAULT_BROKER}."),
    "backend": Field(Noneable(StringSource), is_required=False,
                     description=f"Celery result backend URL; default ${BACKEND_ENV} or the broker."),
}


@executor(name="zwgk_celery", config_schema=EXECUTOR_CONFIG, requirements=multiple_process_executor_requirements())
def routed_celery_executor(init_context: InitExecutorContext) -> Executor:
    """dagster-celery's executor, configured from the environment, with each step on its queue."""
    config = init_context.executor_config
    return RoutedCeleryExecutor(
        broker=config.get("broker") or broker_url(),
        backend=config.get("backend") or backend_url(),
        include=config.get("include"),
        config_source=config.get("config_source"),
        retries=RetryMode.from_config(config["retries"]),
    )


class RoutedCeleryExecutor(CeleryExecutor):
    """Runs dagster-celery's own execution loop on a plan whose steps name their queues."""

    def execute(self, plan_context, execution_plan):
        queues = dict.fromkeys(GENERAL_STEPS, STEPS_QUEUE)
        if HARVEST_STEP in execution_plan.step_keys_to_execute:
            queues[HARVEST_STEP] = harvest_queue(_run_unit(plan_context).host)
        return core_celery_execution_loop(plan_context, _with_step_queues(execution_plan, queues),
                                          step_execution_fn=_submit_task)


def _run_unit(plan_context) -> Unit:
    """The run's unit (its partition), looked up in the registry resource the job's assets use."""
    unit_id = plan_context.dagster_run.tags.get(PARTITION_NAME_TAG)
    if unit_id is None:
        raise ValueError(f"{plan_context.job_name} runs one unit at a time: give the run a unit partition")
    job = plan_context.job.get_definition()
    with build_resources({"registry": job.resource_defs["registry"]}) as resources:
        return resources.registry.load().get(unit_id)


def _with_step_queues(plan, queues: dict[str, str]):
    """The plan with steps tagged `dagster-celery/queue`, so that routing, priorities and the
    "Submitting celery task … to queue …" events all stay dagster-celery's own.

    Plan and steps are NamedTuples in the pinned dagster; tests/test_scale_out.py notices if not.
    """
    step_dict = {
        handle: step._replace(tags={**step.tags, DAGSTER_CELERY_QUEUE_TAG: queues[step.key]})
        if step.key in queues else step
        for handle, step in plan.step_dict.items()
    }
    return plan._replace(step_dict=step_dict, step_dict_by_key={step.key: step for step in step_dict.values()})


unit_pipeline_celery = define_asset_job(
    "unit_pipeline_celery",
    selection=AssetSelection.assets(harvested_pages, normalized_resources, unit_verdicts),
    executor_def=routed_celery_executor,
    description="unit_pipeline on Celery workers: one run per unit, harvest on its host's queue, "
                "normalize and validate on the general queue, many workers (docs/scale-out.md).",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=(
        f"Print the Celery queues that workers must consume, one a line: each host's harvest queue "
        f"(one worker at concurrency 1 each), then {STEPS_QUEUE} (as many workers as wanted)."))
    registry = os.environ.get("ZWGK_REGISTRY")
    parser.add_argument("--registry", default=registry, required=registry is None,
                        help="registry YAML (default $ZWGK_REGISTRY)")
    for queue in worker_queues(load_registry(parser.parse_args().registry)):
        print(queue)


if __name__ == "__main__":
    main()
