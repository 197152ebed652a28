"""`trulience generate` makes (or resumes) a take here; `trulience runs` controls a take
between segments and shows its state; `trulience takes` lists the review queue, assigns
takes to reviewers, and reads and writes a take's review notes, drawn ones too (PRD-70)."""

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from trulience.catalog.database import database_url
from trulience.cli.common import (
    ID,
    Commands,
    actor,
    as_user,
    catalog,
    read_json_file,
    settings,
    storage,
    user_named,
    with_catalog,
    with_take_args,
)
from trulience.cli.take_stages import takes_show

if TYPE_CHECKING:
    from trulience.review import ThreadedNote


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
        closing_backend,
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
            with closing_backend(backend):
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


@click.group(cls=Commands)
def takes() -> None:
    """Takes by id (the scene id the review queue shows): the review queue and assigning
    takes to reviewers, a take's review notes, branches (other seed, params or workflow),
    promoting one to its cell's current take, and trims of a segment's head or tail."""


@takes.command("notes")
@click.argument("take_id", type=ID)
@with_catalog
def takes_notes(conn, take_id: int) -> None:
    """The take's notes in reading order, replies indented; a drawn note shows "drawn" and
    the URI of its flattened PNG."""
    from trulience.catalog.notes import threads_on_take
    from trulience.catalog.scenes import get_take

    get_take(conn, take_id)  # an unknown take is "not found", not an empty list
    notes = threads_on_take(conn, take_id)
    if not notes:
        click.echo(f"take {take_id} has no notes")
    for note in notes:
        click.echo(describe_note(note))


def describe_note(note: "ThreadedNote") -> str:
    """One note on one line: id, frame, author, status, body, and where its drawing is."""
    where = "" if note.frame is None else f" frame {note.frame}"
    drawn = "" if note.drawing_uri is None else f"  [drawn: {note.drawing_uri}]"
    indent = "  " * note.depth
    return f"{indent}note {note.id}{where} {note.author} ({note.status}): {note.body}{drawn}"


@takes.command("note")
@click.argument("take_id", type=ID)
@click.argument("body")
@click.option("--as", "username", required=True, help="The reviewer writing the note.")
@click.option("--frame", type=click.IntRange(0, 2**31 - 1), help="The frame it is about.")
@click.option("--reply-to", type=ID, help="The note this one answers.")
@click.option(
    "--drawing",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Drawing JSON (version 1) of what is drawn on the frame; it sets the frame.",
)
@with_catalog
def takes_note(
    conn,
    take_id: int,
    body: str,
    username: str,
    frame: int | None,
    reply_to: int | None,
    drawing: Path | None,
) -> None:
    """Write a note on a take as a reviewer, optionally at a frame, as a reply, or drawn."""
    from trulience.catalog.users import get_user
    from trulience.review import add_note

    note = add_note(
        conn,
        get_user(conn, username),
        take_id,
        body,
        frame,
        reply_to,
        drawing=None if drawing is None else read_json_file(drawing),
        storage=storage(settings()),
    )
    drawn = " (drawn)" if drawing is not None else ""
    where = "" if note.frame is None else f" at frame {note.frame}"
    click.echo(f"note {note.id} added to take {take_id}{where}{drawn}")


def _param(text: str) -> tuple[str, object]:
    """K=V, the value read as JSON when it is JSON (numbers, true, lists), else as text."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise click.BadParameter(f"{text!r} is not KEY=VALUE", param_hint="--param")
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
        return key.strip(), value


@takes.command("branch")
@click.argument("take_id", type=ID)
@click.argument("name")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), help="The branch's seed.")
@click.option("--param", "params", multiple=True, metavar="K=V", help="A param (repeatable).")
@click.option("--workflow", help="Another workflow, by name (its newest version).")
@with_catalog
def takes_branch(
    conn, take_id: int, name: str, seed: int | None, params: tuple[str, ...], workflow: str | None
) -> None:
    """Open branch NAME of TAKE_ID's cell: a new pending take the pipeline generates next."""
    from trulience.auth.acting import Operator
    from trulience.review.branches import create_branch

    overrides = dict(_param(text) for text in params) or None
    take = create_branch(
        conn, Operator(actor()), take_id, name, seed=seed, params=overrides, workflow=workflow
    )
    click.echo(f"branch {name}: take {take.take} (id {take.id}), {take.status}")


@takes.command("promote")
@click.argument("take_id", type=ID)
@with_catalog
def takes_promote(conn, take_id: int) -> None:
    """Make TAKE_ID its cell's current take."""
    from trulience.auth.acting import Operator
    from trulience.review.branches import promote

    row = promote(conn, Operator(actor()), take_id)
    click.echo(f"take {row.take} (branch {row.branch}) is now current")


@takes.command("branches")
@click.argument("take_id", type=ID)
@with_catalog
def takes_branches(conn, take_id: int) -> None:
    """Every take of TAKE_ID's cell: branch, overrides, status, QA, decision, current."""
    from trulience.review.branches import branches

    for b in branches(conn, take_id):
        overrides = {k: v for k, v in b.overrides.items() if k != "from_take"}
        click.echo(
            f"{'*' if b.current else ' '} take {b.take:>3} (id {b.scene_id}) {b.branch:<16} "
            f"{b.status:<10} QA {b.qa_passed}/{b.segments} passed, {b.qa_failed} failed; "
            f"revision {b.revision} {b.decision or 'undecided'}"
            + (f"  {json.dumps(overrides, sort_keys=True)}" if overrides else "")
        )


@takes.command("trim")
@click.argument("take_id", type=ID)
@click.argument("segment", type=click.IntRange(0, 2**31 - 1))
@click.option("--head", type=click.IntRange(0, 2**31 - 1), default=0, show_default=True)
@click.option("--tail", type=click.IntRange(0, 2**31 - 1), default=0, show_default=True)
@click.option("--reason", help="Why (kept with the trim).")
@with_catalog
def takes_trim(conn, take_id: int, segment: int, head: int, tail: int, reason: str | None) -> None:
    """Cut HEAD frames from the start and TAIL from the end of SEGMENT and reassemble the
    take around that segment's seams only (0 and 0 undo the segment's trim)."""
    from trulience.auth.acting import Operator
    from trulience.delivery.trims import trim_segment

    done = trim_segment(
        conn,
        Operator(actor()),
        storage(settings()),
        take_id,
        segment,
        head,
        tail,
        reason=reason,
    )
    click.echo(
        f"segment {segment} trimmed (head {head}, tail {tail}): {done.frames} frames, "
        f"{done.reencoded_frames} re-encoded, revision {done.revision}"
    )


@takes.command("assign")
@click.argument("take_id", type=ID)
@click.argument("user")
@click.option("--due", type=click.DateTime(["%Y-%m-%d"]), help="Due by the end of DATE (UTC).")
@as_user
@with_catalog
def takes_assign(conn, take_id: int, user: str, due, as_user: str) -> None:
    """Ask USER (a reviewer, producer or admin) to review take TAKE_ID (its scene id), by
    --due DATE; replaces an earlier assignment and tells USER. Producers and admins only."""
    from trulience.review.queue import assign, due_day

    made = assign(conn, user_named(conn, as_user), take_id, user, due and due.date())
    when = "no due date" if made.due_at is None else f"due {due_day(made.due_at)}"
    click.echo(f"take {made.scene_id}: assigned to {made.assignee} by {made.assigned_by}, {when}")


@takes.command("queue")
@click.option("--mine", is_flag=True, help="Only the takes assigned to you.")
@click.option("--unassigned", is_flag=True, help="Only the takes nobody is assigned.")
@click.option("--overdue", is_flag=True, help="Only takes past their due date, not yet decided.")
@click.option("--project", help="Only this project's takes.")
@click.option("--character", help="Only this character's takes.")
@click.option(
    "--status",
    type=click.Choice(["awaiting", "flagged", "rejected", "approved", "all"]),
    default="awaiting",
    show_default=True,
    help="Review status of the take's newest revision.",
)
@click.option(
    "--sort",
    type=click.Choice(["age", "due", "character", "status"]),
    default="age",
    show_default=True,
)
@as_user
@with_catalog
def takes_queue(conn, mine, unassigned, overdue, project, character, status, sort, as_user):
    """The review queue: each take's id, cell, revision, status, age, assignee, due date."""
    from trulience.review.queue import QueueFilters, queue

    if mine and unassigned:
        raise click.UsageError("--mine and --unassigned exclude each other")
    filters = QueueFilters(
        project=project,
        character=character,
        review_status=None if status == "all" else status,
        assignee="mine" if mine else "unassigned" if unassigned else None,
        overdue=overdue,
    )
    found = queue(conn, user_named(conn, as_user), filters, sort)
    if not found:
        click.echo("no takes in the queue match")
    for take in found:
        click.echo(describe_queued(take))


def describe_queued(take) -> str:
    """One line of the queue: id, cell, revision, status, waiting time, assignee, due."""
    from datetime import UTC, datetime

    from trulience.review.queue import due_day

    waited = datetime.now(UTC) - (take.waiting_since or take.created_at)
    hours = int(waited.total_seconds() // 3600)
    age = f"{hours // 24}d{hours % 24:02d}h" if hours >= 24 else f"{hours}h"
    due = "" if take.due_at is None else f" due {due_day(take.due_at)}"
    return (
        f"{take.scene_id:>6}  {take.project}/{take.character}/{take.scene_type} take {take.take}"
        f" r{take.revision}  {take.review_status:<8} {age:>6}  "
        f"{take.assignee or '(unassigned)'}{due}{'  OVERDUE' if take.overdue else ''}"
    )


takes.add_command(takes_show)
COMMANDS = {"generate": generate, "runs": runs, "takes": takes}
