"""Running a stage's hooks, and what their outcomes mean for the stage.

The hooks configured for the take's project (all scene types, then its own scene type) run
one after the other through a `HookRunner` (resources/hooks.py runs them through
dagster-pipes). Each finished run is recorded at once. A veto the hook reports refuses the
stage; a hook that exits non-zero or times out refuses it (its `on_failure` is 'veto', the
default), fails the run ('fail') or is only recorded ('continue'). A refusal is recorded on
the take (its failure reason; after QA the take is marked as failing QA so it is not
assembled), told to the producers (a `hook_vetoed` notification) and never touches its
committed segments."""

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg

from trulience.catalog import hooks as catalog
from trulience.catalog.branches import cell_of
from trulience.catalog.hooks import FinishedRun, Hook, HookRun, NewHook
from trulience.catalog.scenes import get_take, set_take_state
from trulience.errors import TrulienceError
from trulience.notify import notify
from trulience.production.hooks.spec import parse_hook

STAGE_WORDS = {
    "before_generation": "generation",
    "after_qa": "the take after QA",
    "before_assembly": "assembly",
    "before_delivery": "delivery",
    "step": "its step",
}


@dataclass(frozen=True, slots=True)
class HookOutcome:
    """What a runner saw of one hook run: how it ended and what it reported."""

    exit_code: int | None
    timed_out: bool = False
    error: str | None = None  # it could not be started
    veto: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


# (the hook, what it is told about the take) -> how it ended
HookRunner = Callable[[Hook, dict[str, Any]], HookOutcome]


class StageVetoed(TrulienceError):
    """A hook refused the stage; `reason` says which hook and why."""

    def __init__(self, reason: str, runs: list[HookRun]):
        self.reason, self.runs = reason, runs
        super().__init__(reason)


class HookFailed(TrulienceError):
    """A hook whose `on_failure` is 'fail' failed: the run fails (and may be retried)."""

    def __init__(self, reason: str, runs: list[HookRun]):
        self.reason, self.runs = reason, runs
        super().__init__(reason)


def add_hook(conn: psycopg.Connection, project: str, name: str, **fields: Any) -> Hook:
    """Check a hook's configuration (InvalidHook names the bad field) and store it."""
    hook: NewHook = parse_hook(project, name, **fields)
    return catalog.insert_hook(conn, hook)


def subject(conn: psycopg.Connection, stage: str, scene_id: int, run_id: str | None) -> dict:
    """What a hook is told: the stage, the take and its cell, the run."""
    take = get_take(conn, scene_id)
    cell = cell_of(conn, scene_id)
    return {
        "stage": stage,
        "take_id": take.id,
        "take": take.take,
        "status": take.status,
        "project": cell.project,
        "character": cell.character,
        "scene_type": cell.scene_type,
        "run_id": run_id,
    }


def environment(about: dict[str, Any]) -> dict[str, str]:
    """The same as environment variables, for shell and Node hooks (TRULIENCE_PYTHON runs
    the reporter, trulience.production.hooks.report)."""
    env = {f"TRULIENCE_HOOK_{key.upper()}": "" if v is None else str(v) for key, v in about.items()}
    return env | {"TRULIENCE_PYTHON": sys.executable}


def judge(hook: Hook, outcome: HookOutcome) -> tuple[str, str]:
    """The recorded outcome of a hook run and its reason ('' when it passed). A reported
    veto stands even if the hook then failed or hung."""
    if outcome.veto is not None:
        said = outcome.veto.strip() or "no reason given"
        return "vetoed", f"hook {hook.name} vetoed {STAGE_WORDS[hook.stage]}: {said}"
    if outcome.timed_out:
        return "timed_out", (
            f"hook {hook.name} timed out after {hook.timeout_s:g} s and was killed"
        )
    if outcome.error is not None:
        return "failed", f"hook {hook.name} could not start: {outcome.error}"
    if outcome.exit_code != 0:
        return "failed", f"hook {hook.name} failed (exit status {outcome.exit_code})"
    return "passed", ""


def run_stage(
    conn: psycopg.Connection,
    runner: HookRunner,
    stage: str,
    scene_id: int,
    run_id: str | None = None,
) -> list[HookRun]:
    """Run the stage's hooks on a take in order; the records of their runs. Raises
    StageVetoed (recorded on the take) or HookFailed at the first hook that refuses."""
    take = get_take(conn, scene_id)
    about = subject(conn, stage, scene_id, run_id)
    runs: list[HookRun] = []
    for hook in catalog.hooks_for(conn, take.project_id, take.scene_type_id, stage):
        started = datetime.now(UTC)
        outcome = runner(hook, about)
        verdict, reason = judge(hook, outcome)
        runs.append(
            catalog.record_hook_run(
                conn,
                FinishedRun(
                    hook,
                    scene_id,
                    run_id,
                    verdict,
                    reason,
                    outcome.exit_code,
                    outcome.metadata,
                    started,
                ),
            )
        )
        if verdict == "passed" or (hook.on_failure == "continue" and verdict != "vetoed"):
            continue
        if verdict == "vetoed" or hook.on_failure == "veto":
            _refuse(conn, hook, scene_id, reason)
            raise StageVetoed(reason, runs)
        raise HookFailed(reason, runs)
    return runs


def _refuse(conn: psycopg.Connection, hook: Hook, scene_id: int, reason: str) -> None:
    """Record the refusal on the take and tell the producers: after QA the take is refused
    like a failed gate (so it is not assembled); before a stage its status stands."""
    with conn.transaction():  # the take's record and the notice together, or neither
        status = "qa_failed" if hook.stage == "after_qa" else get_take(conn, scene_id).status
        set_take_state(conn, scene_id, status, failure=reason)
        about = {"scene_id": scene_id, "stage": hook.stage, "hook": hook.name}
        notify(conn, "hook_vetoed", about, reason)
