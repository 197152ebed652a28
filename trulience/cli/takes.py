"""`trulience generate` makes (or resumes) a take here; `trulience runs` controls a take
between segments and shows its state."""

from pathlib import Path

import click

from trulience.catalog.database import database_url
from trulience.cli.common import (
    Commands,
    actor,
    catalog,
    settings,
    storage,
    with_catalog,
    with_take_args,
)


@click.command("generate")
@click.argument("character")
@click.argument("scene_type")
@click.option("--project", help="Project of the take (default: the character's first).")
@click.option("--new-take", is_flag=True, help="Start another take when the newest is complete.")
def generate(character: str, scene_type: str, project: str | None, new_take: bool) -> None:
    """Generate (or resume) a take here, on the configured backend (the ComfyUI pool when
    COMFYUI_WORKERS is set, else the local preview); prints progress. Pipelines run the same
    loop as the Dagster asset `segments`."""
    import tempfile

    from trulience.generation.loop import TakeComplete, run_loop
    from trulience.progress import Progress, loop_events
    from trulience.workers.configured import (
        backend_for,
        describe_backend,
        register_configured_workers,
    )

    chosen = settings()
    progress = Progress(click.echo, "segment")
    with catalog(chosen) as conn, tempfile.TemporaryDirectory() as work:
        register_configured_workers(conn, chosen.comfyui_workers)  # the start-up step
        backend = backend_for(
            database_url(chosen),
            chosen.comfyui_workers,
            holder=actor(),
            report=progress.note,
        )
        click.echo(f"{character}/{scene_type} on the {describe_backend(backend)}")
        try:
            result = run_loop(
                conn,
                storage(chosen),
                backend,
                character,
                scene_type,
                Path(work),
                project=project,
                events=loop_events(progress),
                new_take=new_take,
            )
        except TakeComplete as exc:  # nothing to do is not a failure
            click.echo(str(exc))
            return
    click.echo(
        f"take {result.take.take}: {len(result.plan)} segments, {result.frames} frames"
        f" ({len(result.generated)} generated now)"
    )


@click.group(cls=Commands)
def runs() -> None:
    """Control a take between segments: pause, resume, cancel; see its state."""


@with_catalog
def _control(conn, character: str, scene_type: str, project: str | None, control: str) -> None:
    from trulience.catalog.scenes import set_take_control
    from trulience.generation.loop import find_take

    take = find_take(conn, character, scene_type, project)
    set_take_control(conn, take.id, control, actor())
    click.echo(
        f"{character}/{scene_type} take {take.take}: {control} "
        f"(the loop acts on it between segments)"
    )


# Controls the loop reads between segments: command -> (control, what it does).
_CONTROLS = {
    "pause": ("pause", "Pause the take after its current segment."),
    "resume": ("run", "Let a paused take continue."),
    "cancel": ("cancel", "Stop the take after its current segment; finished segments are kept."),
}


def _control_command(control: str):
    def command(character: str, scene_type: str, project: str | None) -> None:
        _control(character, scene_type, project, control)

    return with_take_args(command)


for _name, (_control_name, _help) in _CONTROLS.items():
    runs.command(_name, help=_help)(_control_command(_control_name))


@runs.command("interrupt")
@with_take_args
@with_catalog
def runs_interrupt(conn, character: str, scene_type: str, project: str | None) -> None:
    """Stop the take now: interrupt its running prompt (or remove it from the worker's
    queue) and cancel the take; finished segments are kept, nothing is retried."""
    from trulience.generation.loop import find_take
    from trulience.workers.interrupt import interrupt_take

    take = find_take(conn, character, scene_type, project)
    stopped = interrupt_take(conn, take.id, actor())
    if not stopped:
        click.echo(
            f"{character}/{scene_type} take {take.take}: cancelled; no prompt of it is on a "
            "worker now, so it stops before its next segment"
        )
    for outcome in stopped:
        click.echo(outcome.describe())


@runs.command("status")
@with_take_args
@with_catalog
def runs_status(conn, character: str, scene_type: str, project: str | None) -> None:
    """The take's status, control and committed segments."""
    from trulience.catalog.scenes import current_segments
    from trulience.generation.loop import find_take

    take = find_take(conn, character, scene_type, project)
    done = current_segments(conn, take.id)
    click.echo(
        f"take {take.take}: status {take.status}, control {take.control}, "
        f"segments {len(done)}/{take.planned_segments or '?'}"
        + (f", failure: {take.failure}" if take.failure else "")
    )
    for index, segment in done.items():
        click.echo(
            f"  segment {index:>3} attempt {segment.attempt} {segment.frames} frames "
            f"seed {segment.provenance.get('seed')} {segment.sha256[:12]}"
        )


COMMANDS = {"generate": generate, "runs": runs}
