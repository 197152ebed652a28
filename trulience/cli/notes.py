"""`trulience notes`: notes on any entity (a project, character, scene type, take, segment or
delivery), listed in threads, searched by text; @username mentions tell that user."""

import click

from trulience.cli.common import ID, LIMIT, Commands, as_user, user_named, with_catalog

_SUBJECT_OPTIONS = [
    click.option("--project", help="On this project (slug)."),
    click.option("--character", help="On this character (slug)."),
    click.option("--scene-type", help="On this scene type (slug)."),
    click.option("--take", type=ID, help="On this take (its scene id)."),
    click.option("--segment", type=ID, help="On this segment (its id)."),
    click.option("--delivery", type=ID, help="On this delivery (its deliverable id)."),
]


def with_subject(command):
    """The options naming what a note is on: exactly one of them."""
    for option in reversed(_SUBJECT_OPTIONS):
        command = option(command)
    return command


def _subject(project, character, scene_type, take, segment, delivery):
    from trulience.catalog.tags import Subject

    return Subject(
        project=project,
        character=character,
        scene_type=scene_type,
        scene_id=take,
        segment_id=segment,
        deliverable_id=delivery,
    )


@click.group(cls=Commands)
def notes() -> None:
    """Notes on any entity: add, list, search (@username tells that user)."""


@notes.command("add")
@click.argument("body")
@with_subject
@click.option("--frame", type=click.IntRange(0, 2**31 - 1), help="At this frame (a take only).")
@click.option("--reply-to", type=ID, help="As a reply to this note (on the same subject).")
@as_user
@with_catalog
def notes_add(
    conn, body, project, character, scene_type, take, segment, delivery, frame, reply_to, as_user
):
    """Write BODY as a note on the subject named by one option; @username mentions tell
    those users, and names nobody has are reported."""
    from trulience.review.notes import write_note

    subject = _subject(project, character, scene_type, take, segment, delivery)
    written = write_note(conn, user_named(conn, as_user), subject, body, frame, reply_to)
    click.echo(f"note {written.note.id} on {subject.kind.replace('_', ' ')} {subject.key}")
    if written.mentions.notified:
        click.echo("told: " + ", ".join(f"@{n}" for n in written.mentions.notified))
    for problem in written.mentions.unknown:
        click.echo(f"not told: {problem}")


@notes.command("list")
@with_subject
@as_user
@with_catalog
def notes_list(conn, project, character, scene_type, take, segment, delivery, as_user):
    """The notes on one subject, in threads (replies indented under their note)."""
    from trulience.review.notes import notes_on

    subject = _subject(project, character, scene_type, take, segment, delivery)
    found = notes_on(conn, user_named(conn, as_user), subject)
    if not found:
        click.echo(f"no notes on {subject.kind.replace('_', ' ')} {subject.key}")
    for note in found:
        where = "" if note.frame is None else f" frame {note.frame}"
        indent = "  " * note.depth
        click.echo(f"{indent}#{note.id} {note.author} [{note.status}]{where}: {note.body}")


@notes.command("search")
@click.argument("text")
@click.option(
    "--on",
    "kind",
    type=click.Choice(["project", "character", "scene_type", "scene", "segment", "deliverable"]),
    help="Only notes on this kind of subject.",
)
@click.option("--limit", type=LIMIT, default=50, show_default=True)
@as_user
@with_catalog
def notes_search(conn, text, kind, limit, as_user):
    """Notes matching TEXT (words, "a phrase", -word, or), best match first."""
    from trulience.review.notes import search_notes

    found = search_notes(conn, user_named(conn, as_user), text, kind, limit)
    if not found:
        click.echo(f"no note matches {text!r}")
    for hit in found:
        click.echo(
            f"#{hit.id} on {hit.subject_kind.replace('_', ' ')} {hit.subject_key} "
            f"by {hit.author} ({hit.rank:.3f}): {hit.body}"
        )


COMMANDS = {"notes": notes}
