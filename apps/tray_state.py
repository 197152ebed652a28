"""The Studio's job tray, apart from its view (PRD-54): what runs and waits now — segments
on the workers and in the segment queue, takes being made (segments committed of planned),
batches queued or running (`trulience.catalog.jobs.active_jobs`, one query) — and the
Dagster runs started or queued, when the Studio can read the Dagster instance
(DAGSTER_HOME with a dagster.yaml). Reading runs needs the instance only, never the code
location; with no instance the tray shows the catalog's view and says so.

Plain Python drives it as the page does (tests/test_palette_state.py): `read()` (the shell
calls it on each `trulience_pool` / `trulience_queue` event and every 15 s)."""

from dataclasses import dataclass

import param

from apps.studio_state import StudioSession
from trulience.auth import users as accounts
from trulience.auth.errors import AuthError
from trulience.auth.permissions import Permission, require
from trulience.catalog.database import connect
from trulience.catalog.jobs import Job, active_jobs
from trulience.errors import TrulienceError

RUNS_SHOWN = 10


@dataclass(frozen=True, slots=True)
class Run:
    """A Dagster run started or queued: its id, job and status."""

    run_id: str
    job: str
    status: str


def progress_text(job: Job) -> str:
    """A job's progress as the tray says it."""
    if job.kind == "running":
        return f"{job.done} s"
    if job.kind == "waiting":
        return f"#{job.done} in line"
    if job.total:
        return f"{job.done} of {job.total}"
    return f"{job.done} done"


def dagster_runs(settings) -> tuple[list[Run], str]:
    """The Dagster instance's started and queued runs (its own storage, no code location),
    and a note: '' when read, else why the tray shows the catalog's view only."""
    home = settings.effective_dagster_home
    if not (home / "dagster.yaml").is_file():
        return [], f"Dagster runs: no instance at {home} (the catalog's view only)"
    try:
        from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

        with DagsterInstance.from_config(str(home)) as instance:
            wanted = [DagsterRunStatus.STARTED, DagsterRunStatus.QUEUED]
            found = instance.get_runs(RunsFilter(statuses=wanted), limit=RUNS_SHOWN)
            return [Run(r.run_id, r.job_name, r.status.value) for r in found], ""
    except Exception as error:  # an instance we cannot read: say so, show the catalog's
        return [], f"Dagster runs: cannot read the instance ({type(error).__name__}: {error})"


class TrayState(param.Parameterized):
    """The job tray of one Studio session."""

    jobs = param.List([], item_type=Job)
    runs = param.List([], item_type=Run)
    note = param.String("", doc="Why Dagster's runs are not shown ('' when they are).")

    def __init__(self, studio: StudioSession, **params):
        super().__init__(**params)
        self.studio = studio
        studio.param.watch(lambda _: self.read(), "user")

    @property
    def count(self) -> int:
        """How many jobs run or wait (the tray's badge)."""
        return len(self.jobs) + len(self.runs)

    def read(self) -> None:
        """Re-read the catalog's jobs and Dagster's runs (nothing before login)."""
        token = self.studio.token
        if token is None:
            self.param.update(jobs=[], runs=[], note="")
            return
        try:
            with connect(self.studio.url) as conn:
                require(accounts.user_for_session(conn, token), Permission.VIEW)
                jobs = active_jobs(conn)
        except AuthError as refused:
            self.studio.login.expired(refused)
            return
        except TrulienceError as error:
            self.studio.say(str(error), "danger")
            return
        runs, note = dagster_runs(self.studio.settings)
        changed = {
            name: value
            for name, value in {"jobs": jobs, "runs": runs, "note": note}.items()
            if getattr(self, name) != value
        }
        if changed:
            self.param.update(**changed)
