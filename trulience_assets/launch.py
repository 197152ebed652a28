"""Run work of this code location on the local Dagster instance, in this process: a job's
partitions, a sensor's tick, a batch's backfill. The runs land in the instance the Dagster
UI shows, exactly as the daemon's would.

Plain functions that return what happened (`RunOutcome`, `SensorTick`, `BackfillOutcome`)
and print nothing: the CLI (trulience/cli/pipeline.py, the one door from the core) says it.
"""

import functools
import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dagster import DagsterInstance, Definitions, RunRequest, build_sensor_context
from dagster._core.storage.tags import REPOSITORY_LABEL_TAG
from dagster._core.workspace.load import location_origins_from_yaml_paths

from trulience.config import Settings
from trulience.errors import TrulienceError
from trulience_assets.batch import describe_backfill, launch_batch
from trulience_assets.definitions import build_definitions
from trulience_assets.instance import open_instance, prepare_home
from trulience_assets.partitions import missing_partitions

__all__ = [
    "BackfillOutcome",
    "RunOutcome",
    "SensorTick",
    "describe_backfill",
    "evaluate_sensor",
    "launched_tags",
    "prepare_home",
    "run_backfill",
    "run_job",
    "run_requests",
    "run_sensor",
    "shell",
]

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
LAUNCHED_BY_TAG = "trulience/launched_by"
USER_TAG = "trulience/user"
SENSOR_TAG = "trulience/sensor"  # a sensor evaluated from the CLI (the daemon tags its own)
WORKSPACE = Path(__file__).resolve().parents[1] / "workspace.yaml"


@functools.cache
def _location_name() -> str:
    """The code location's name as the webserver and the daemon load it (workspace.yaml)."""
    (origin,) = location_origins_from_yaml_paths([str(WORKSPACE)])
    return origin.location_name


def repository_tags(defs: Definitions) -> dict[str, str]:
    """The tag a run launched through the webserver or the daemon carries and a run made in
    this process lacks: its code location. The UI lists a job's runs (and its partitions'
    status) by it, so without it a CLI run would be missing from the job's pages. Dagster
    1.13 sets it from the run's remote origin (DagsterRun.tags_for_storage), which an
    in-process run has none of; revisit on a Dagster upgrade."""
    label = f"{defs.get_repository_def().name}@{_location_name()}"
    return {REPOSITORY_LABEL_TAG: label}


def launched_tags(by: str | None = None) -> dict[str, str]:
    """The tags naming who launched a run from the CLI: the command line, and `by` (the
    CLI's actor, as the audit log names it; default the login of whoever ran it). The
    Dagster UI filters runs by them."""
    if by is None:
        try:
            by = f"cli:{getpass.getuser()}"
        except (OSError, KeyError):  # no login name in this environment (a bare container)
            by = "cli:unknown"
    return {LAUNCHED_BY_TAG: "cli", USER_TAG: by}


@dataclass(frozen=True)
class RunOutcome:
    """One run of a job: its partition (None for an unpartitioned job), whether it
    succeeded, its run id, and the asset checks that failed (name, description)."""

    job: str
    partition_key: str | None
    ok: bool
    run_id: str
    failed_checks: tuple[tuple[str, str | None], ...] = ()


@dataclass(frozen=True)
class SensorTick:
    """One evaluation of a sensor: the runs it requests, or why it requests none."""

    sensor: str
    job: str | None
    requests: tuple[RunRequest, ...] = ()
    skipped: str | None = None  # the sensor's skip message when it requested nothing


@dataclass(frozen=True)
class BackfillOutcome:
    """A batch's backfill: its id once created, or why it was not."""

    batch_id: int
    backfill_id: str | None = None
    refusal: str | None = None

    @property
    def ok(self) -> bool:
        return self.backfill_id is not None


OnRun = Callable[[RunOutcome], None]


@contextmanager
def shell(settings: Settings) -> Iterator[tuple[Definitions, DagsterInstance]]:
    """The code location's definitions and the settings' local instance (prepared from the
    one template), disposed of afterwards."""
    instance = open_instance(settings.effective_dagster_home)
    try:
        yield build_definitions(settings), instance
    finally:
        instance.dispose()


def _execute(
    defs: Definitions,
    instance: DagsterInstance,
    job_name: str,
    key: str | None,
    tags: dict[str, str],
    run_config: dict | None = None,
) -> RunOutcome:
    result = defs.resolve_job_def(job_name).execute_in_process(
        partition_key=key,
        instance=instance,
        tags=repository_tags(defs) | tags,
        raise_on_error=False,
        # step-by-step DEBUG lines belong in the Dagster UI, not on the terminal
        run_config=(run_config or {}) | QUIET,
    )
    failed = tuple(
        (evaluation.check_name, evaluation.description)
        for evaluation in result.get_asset_check_evaluations()
        if not evaluation.passed
    )
    return RunOutcome(job_name, key, result.success, result.run_id, failed)


def _each(runs: Iterator[RunOutcome], on_run: OnRun | None) -> list[RunOutcome]:
    """Every outcome, each handed to `on_run` as its run finishes."""
    done = []
    for outcome in runs:
        if on_run is not None:
            on_run(outcome)
        done.append(outcome)
    return done


def run_job(
    defs: Definitions,
    instance: DagsterInstance,
    job_name: str,
    keys: list[str],
    on_run: OnRun | None = None,
    by: str | None = None,
) -> list[RunOutcome]:
    """Run a partitioned job for the given keys (every partition when empty); an
    unpartitioned job (the lake) runs once; tagged as launched from the CLI by `by`."""
    with defs.resources["catalog"].connect(actor="dagster:launch") as conn:
        for definition, missing in missing_partitions(instance, conn).items():
            if missing:
                instance.add_dynamic_partitions(definition.name, missing)
    job = defs.resolve_job_def(job_name)
    if job.partitions_def is None:
        keys = [None]
    else:
        keys = keys or job.partitions_def.get_partition_keys(dynamic_partitions_store=instance)
    tags = launched_tags(by)
    runs = (_execute(defs, instance, job_name, key, tags) for key in keys)
    return _each(runs, on_run)


def evaluate_sensor(defs: Definitions, instance: DagsterInstance, sensor_name: str) -> SensorTick:
    """Evaluate a sensor once, as the daemon would; the dynamic partitions it asks for are
    added, the runs it requests are returned (not yet run)."""
    sensor = defs.resolve_sensor_def(sensor_name)
    result = sensor(
        build_sensor_context(instance=instance, resources=defs.resources, definitions=defs)
    )
    if result is None or not hasattr(result, "run_requests"):
        skipped = getattr(result, "skip_message", None) or "nothing to do"
        return SensorTick(sensor_name, None, skipped=skipped)
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, request.partition_keys)
    return SensorTick(sensor_name, sensor.job_name, tuple(result.run_requests))


def run_requests(
    defs: Definitions,
    instance: DagsterInstance,
    tick: SensorTick,
    on_run: OnRun | None = None,
    by: str | None = None,
) -> list[RunOutcome]:
    """Run what a sensor tick requested, one run after another, tagged as launched from
    the CLI by `by` through that sensor."""
    tags = launched_tags(by) | {SENSOR_TAG: tick.sensor}
    runs = (
        _execute(defs, instance, tick.job, r.partition_key, tags | dict(r.tags), r.run_config)
        for r in tick.requests
    )
    return _each(runs, on_run)


def run_sensor(
    defs: Definitions,
    instance: DagsterInstance,
    sensor_name: str,
    on_run: OnRun | None = None,
    by: str | None = None,
) -> tuple[SensorTick, list[RunOutcome]]:
    """Evaluate a sensor once and run what it requests, as the daemon would."""
    tick = evaluate_sensor(defs, instance, sensor_name)
    return tick, run_requests(defs, instance, tick, on_run, by)


def run_backfill(defs: Definitions, instance: DagsterInstance, batch_id: int) -> BackfillOutcome:
    """Launch a recorded batch as a Dagster backfill; the daemon executes it."""
    try:
        return BackfillOutcome(batch_id, backfill_id=launch_batch(defs, instance, batch_id))
    except TrulienceError as exc:
        return BackfillOutcome(batch_id, refusal=str(exc))
