"""The CLI's one door to the Dagster shell: jobs, sensors and backfills of the code location,
run in this process on the local instance.

The core (trulience/) imports no Dagster; the CLI is an edge and may, but only here, and
only inside functions: `trulience characters list` never imports Dagster. The import-linter
contract allows exactly `trulience.cli.pipeline -> trulience_assets.launch`.
"""

import contextlib
import functools
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

import click

from trulience.cli.common import actor
from trulience.config import Settings

if TYPE_CHECKING:
    from trulience_assets.launch import RunOutcome

TAIL_LINES = 15  # of a failed stage's log, shown on the terminal


def _launch():
    from trulience_assets import launch

    return launch


def run_line(outcome: "RunOutcome") -> str:
    """A finished run as one line: `  characters [eileen]: ok  (run 1a2b3c4d)`."""
    said = "ok" if outcome.ok else "FAILED"
    for name, description in outcome.failed_checks:
        said += f"; check {name} failed" + (f": {description}" if description else "")
    where = f" [{outcome.partition_key}]" if outcome.partition_key else ""
    return f"  {outcome.job}{where}: {said}  (run {outcome.run_id[:8]})"


def prepare_home(settings: Settings) -> Path:
    """The settings' Dagster home, with the local dagster.yaml written once."""
    return _launch().prepare_home(settings.effective_dagster_home)


def run_job(
    settings: Settings,
    job: str,
    keys: list[str] | tuple[str, ...] = (),
    on_run: Callable[["RunOutcome"], None] | None = None,
) -> bool:
    """Run a job for the partition keys (every partition when none), saying each run as it
    finishes (or handing it to `on_run`); True when every run succeeded."""
    launch = _launch()
    with launch.shell(settings) as (defs, instance):
        runs = launch.run_job(
            defs,
            instance,
            job,
            list(keys),
            on_run or (lambda o: click.echo(run_line(o))),
            by=actor(),
        )
    return all(run.ok for run in runs)


def run_sensor(settings: Settings, sensor: str) -> bool:
    """Evaluate a sensor once and run what it requests, saying each step."""
    launch = _launch()
    with launch.shell(settings) as (defs, instance):
        tick = launch.evaluate_sensor(defs, instance, sensor)
        if tick.skipped is not None:
            click.echo(f"  {sensor}: {tick.skipped}")
            return True
        click.echo(f"  {sensor}: {len(tick.requests)} run(s) requested")
        runs = launch.run_requests(
            defs, instance, tick, lambda o: click.echo(run_line(o)), by=actor()
        )
    return all(run.ok for run in runs)


def survive(work: Callable[[], bool]) -> bool:
    """The work's verdict; a crash in it is a failed step with its traceback on stderr, as
    it was when the work ran in a child process, not the end of the command."""
    try:
        return work()
    except Exception:  # any crash of Dagster work is that work failing
        traceback.print_exc()
        return False


def _survives(function: Callable[..., bool]) -> Callable[..., bool]:
    @functools.wraps(function)
    def run(*args, **kwargs) -> bool:
        return survive(lambda: function(*args, **kwargs))

    return run


@_survives
def launch_backfill(settings: Settings, batch_id: int) -> bool:
    """Create a recorded batch's Dagster backfill (the daemon executes it)."""
    launch = _launch()
    with launch.shell(settings) as (defs, instance):
        outcome = launch.run_backfill(defs, instance, batch_id)
    if not outcome.ok:
        click.echo(f"  batch {batch_id}: not launched: {outcome.refusal}", err=True)
        return False
    click.echo(
        f"  batch {batch_id}: Dagster backfill {outcome.backfill_id} requested; the daemon runs it"
    )
    return True


@_survives
def show_backfill(settings: Settings, batch_id: int) -> bool:
    """Print a batch's backfill, its runs and its delivery runs; False when it is missing."""
    launch = _launch()
    with launch.shell(settings) as (defs, instance):
        ok, lines = launch.describe_backfill(defs, instance, batch_id)
    click.echo("\n".join(lines))
    return ok


@contextlib.contextmanager
def _stderr_to(sink: IO[str]) -> Iterator[None]:
    """Send stderr to `sink`: file descriptor 2 (what OpenCV and other C code write) and
    sys.stderr (Python's logging and warnings, also when a test runner replaced it)."""
    sys.stderr.flush()
    saved = os.dup(2)
    os.dup2(sink.fileno(), 2)
    try:
        with contextlib.redirect_stderr(sink):
            yield
    finally:
        sink.flush()
        os.dup2(saved, 2)
        os.close(saved)


def logged(log: Path, work: Callable[[], bool]) -> bool:
    """Run Dagster work with its stderr (Dagster's and OpenCV's logs) appended to `log`,
    whose new lines' tail is shown only when the work fails."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a", buffering=1) as errors:
        start = errors.tell()
        with _stderr_to(errors):
            ok = survive(work)
    if not ok:
        with log.open() as errors:
            errors.seek(start)
            tail = errors.read().splitlines()[-TAIL_LINES:]
        click.echo("\n".join(f"    | {line}" for line in tail) + f"\n    (all of it: {log})")
    return ok
