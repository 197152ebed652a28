"""`trulience undo` and `redo`: take back your latest catalog edit, or make it again (PRD-51).

The stack is the catalog's, per actor ($TRULIENCE_ACTOR, or cli:<login>): an edit made in
the Studio as user:bob is undone here with TRULIENCE_ACTOR=user:bob, and the other way round."""

import click

from trulience.auth.acting import Operator
from trulience.cli.common import ID, LIMIT, actor, with_catalog
from trulience.edits import history, redo, undo


def _state(command) -> str:
    if command.undone_at is None:
        return "applied"
    return "undone, redone" if command.redone_at else "undone"


@click.command("undo")
@click.argument("edit_id", type=ID, required=False)
@click.option("--list", "listing", is_flag=True, help="Show your newest edits instead.")
@click.option("--limit", type=LIMIT, default=20, show_default=True)
@with_catalog
def undo_command(conn, edit_id: int | None, listing: bool, limit: int) -> None:
    """Undo your latest edit (or edit EDIT_ID, with the rest of its bulk edit)."""
    if listing:
        commands = history(conn, Operator(actor()), limit)
        for c in commands:
            click.echo(f"#{c.id:<6} {c.applied_at:%Y-%m-%d %H:%M} {_state(c):<15} {c.label}")
        if not commands:
            click.echo(f"no edits by {actor()}")
        return
    done = undo(conn, Operator(actor()), edit_id)
    click.echo(f"undone: {done.label}")


@click.command("redo")
@with_catalog
def redo_command(conn) -> None:
    """Make again the edit you undid last."""
    done = redo(conn, Operator(actor()))
    click.echo(f"redone: {done.label}")


COMMANDS = {"undo": undo_command, "redo": redo_command}
