"""Stage hooks as a Dagster resource: each hook's script runs through dagster-pipes'
PipesSubprocessClient, under trulience's timeout wrapper (its whole process group killed
when it overruns), so its logs reach the run's log and its metadata and veto come back."""

import json
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import psycopg
from dagster import (
    AssetExecutionContext,
    ConfigurableResource,
    Failure,
    MaterializeResult,
    MetadataValue,
    OpExecutionContext,
    PipesSubprocessClient,
)

from trulience.catalog.hooks import Hook, HookRun
from trulience.production.hooks.spec import command
from trulience.production.hooks.stage import (
    HookFailed,
    HookOutcome,
    HookRunner,
    StageVetoed,
    environment,
    run_stage,
)

WRAPPER = "trulience.production.hooks.process"


class HooksResource(ConfigurableResource):
    """Runs the hooks of a take's stage; `grace_s` is how long a timed-out hook's process
    group has between SIGTERM and SIGKILL."""

    grace_s: float = 2.0

    def run_stage(
        self,
        context: AssetExecutionContext | OpExecutionContext,
        conn: psycopg.Connection,
        stage: str,
        scene_id: int,
    ) -> dict[str, MetadataValue]:
        """Run the stage's hooks; their runs as asset metadata. A refusal is a Failure that
        says which hook refused and why (a veto is not retried, a failing hook may be)."""
        try:
            runs = run_stage(conn, self.runner(context), stage, scene_id, context.run.run_id)
        except StageVetoed as exc:
            raise Failure(
                description=exc.reason, metadata=hook_metadata(exc.runs), allow_retries=False
            ) from exc
        except HookFailed as exc:
            raise Failure(description=exc.reason, metadata=hook_metadata(exc.runs)) from exc
        return hook_metadata(runs)

    def runner(self, context: AssetExecutionContext | OpExecutionContext) -> HookRunner:
        """One hook run through the pipes subprocess client, as a HookOutcome."""
        client = PipesSubprocessClient()

        def run(hook: Hook, about: dict[str, Any]) -> HookOutcome:
            context.log.info(
                f"Hook {hook.name} runs {hook.runtime} script {hook.script} "
                f"{about['stage'].replace('_', ' ')} of take {about['take_id']} "
                f"(timeout {hook.timeout_s:g} s)."
            )
            with tempfile.TemporaryDirectory(prefix="trulience-hook-") as work:
                ended_file = Path(work) / "outcome.json"
                wrapped = [
                    sys.executable, "-m", WRAPPER, "--timeout", str(hook.timeout_s),
                    "--grace", str(self.grace_s), "--outcome", str(ended_file), "--",
                    *command(hook),
                ]  # fmt: skip
                try:
                    with warnings.catch_warnings():
                        # raised inside dagster's own pipes code (its use of context.run_id,
                        # a preview API of its own), nothing a caller can change
                        warnings.filterwarnings("ignore", module=r"dagster\._core\.pipes")
                        invocation = client.run(
                            context=context, command=wrapped, extras=about, env=environment(about)
                        )
                    ended = json.loads(ended_file.read_text())
                except Exception as exc:  # a stopped run (a BaseException) goes on up
                    # the wrapper itself broke (it cannot import trulience, say; the pipes
                    # client then raises its own non-public error): the hook gave no
                    # verdict, which its on_failure judges
                    context.log.error(f"Hook {hook.name} could not be run: {exc}")
                    return HookOutcome(exit_code=None, error=f"its runner failed ({exc})")
            outcome = reported(
                ended,
                invocation.get_custom_messages(),
                invocation.get_results(implicit_materializations=False),
            )
            context.log.info(_sentence(hook, outcome))
            return outcome

        return run


def reported(ended: dict, messages: Any, results: Any) -> HookOutcome:
    """How the hook ended (from the wrapper) with what it reported: vetoes and metadata in
    custom messages, metadata in materializations."""
    metadata: dict[str, Any] = {}
    vetoes: list[str] = []
    for result in results:
        if isinstance(result, MaterializeResult):
            metadata |= {k: v.value for k, v in (result.metadata or {}).items()}
    for payload in messages:
        if isinstance(payload, dict):
            metadata |= payload.get("metadata") or {}
            if payload.get("veto") is not None:
                vetoes.append(str(payload["veto"]))
    return HookOutcome(
        exit_code=ended["exit_code"],
        timed_out=ended["timed_out"],
        error=ended["error"],
        veto="; ".join(vetoes) if vetoes else None,
        # as JSON the catalog can hold: other values as text, NaN and Infinity too
        metadata=json.loads(json.dumps(metadata, default=str), parse_constant=str),
    )


def _sentence(hook: Hook, outcome: HookOutcome) -> str:
    if outcome.timed_out:
        how = f"timed out after {hook.timeout_s:g} s; its process group was killed"
    elif outcome.error:
        how = f"could not start ({outcome.error})"
    else:
        how = f"exited with status {outcome.exit_code}"
    said = f", vetoing: {outcome.veto}" if outcome.veto is not None else ""
    figures = ", ".join(f"{k} = {v}" for k, v in outcome.metadata.items())
    return f"Hook {hook.name} {how}{said}." + (f" It reported {figures}." if figures else "")


def hook_metadata(runs: list[HookRun]) -> dict[str, MetadataValue]:
    """One metadata entry per hook run: its outcome, reason and what it reported."""
    return {
        f"hook {run.hook_name}": MetadataValue.json(
            {"stage": run.stage, "outcome": run.outcome, "reason": run.reason}
            | {"exit_code": run.exit_code, "metadata": run.metadata}
        )
        for run in runs
    }
