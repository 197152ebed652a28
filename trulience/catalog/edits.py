"""Edit commands (PRD-51): the recorded stack of catalog edits each actor can undo and redo.

The policy (what a command does, when an undo is refused) is in trulience/edits/; this is
the stack's storage: recording a command, finding an actor's latest applied or undone group,
marking a group undone or redone, and what touched a target after a command."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from trulience.catalog.errors import NotFound, writing
from trulience.catalog.fetch import many

_COLUMNS = (
    "id, group_id, actor, kind, target_kind, target, field, label, before, after, applied_at, "
    "undone_at, undone_by, redone_at, redo_of"
)

# Kinds that change the same thing of a target: a later one of the family may depend on
# an earlier one (a whole-metadata replacement touches every field).
FAMILIES = {
    "set_field": "metadata",
    "replace_metadata": "metadata",
    "rename": "name",
    "tag": "tag",
    "scene_type_settings": "scene_type_settings",
}


@dataclass(frozen=True, slots=True)
class EditCommand:
    """One recorded edit: what it changed (kind, target, field), from `before` to `after`."""

    id: int
    group_id: int
    actor: str
    kind: str
    target_kind: str
    target: str
    field: str
    label: str
    before: Any
    after: Any
    applied_at: datetime
    undone_at: datetime | None
    undone_by: str | None
    redone_at: datetime | None
    redo_of: int | None


@dataclass(frozen=True, slots=True)
class Touch:
    """Who last changed a target, and when (a later command, or an audited write)."""

    actor: str
    at: datetime


def new_group(conn: psycopg.Connection) -> int:
    """A fresh group id: the commands of one edit (one, or many for a bulk edit)."""
    return conn.execute("SELECT nextval('edit_command_groups')").fetchone()[0]


def record_command(
    conn: psycopg.Connection,
    group_id: int,
    actor: str,
    kind: str,
    target_kind: str,
    target: str,
    field: str,
    label: str,
    before: Any,
    after: Any,
    redo_of: int | None = None,
) -> EditCommand:
    """Record one applied command of a group."""
    values = {"kind": kind, "target_kind": target_kind, "label": label, "actor": actor}
    with writing(conn, values):
        return many(
            conn,
            EditCommand,
            f"""INSERT INTO edit_commands (group_id, actor, kind, target_kind, target, field,
                                          label, before, after, redo_of)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING {_COLUMNS}""",
            (
                group_id,
                actor,
                kind,
                target_kind,
                target,
                field,
                label,
                Jsonb(before),
                Jsonb(after),
                redo_of,
            ),
        )[0]


def drop_redo_stack(conn: psycopg.Connection, actor: str) -> int:
    """A new edit by `actor`: what they undid can no longer be redone. How many commands."""
    with writing(conn):
        return conn.execute(
            """UPDATE edit_commands SET redo_dropped_at = clock_timestamp()
                WHERE actor = %s AND undone_at IS NOT NULL AND redone_at IS NULL
                  AND redo_dropped_at IS NULL""",
            (actor,),
        ).rowcount


def group_commands(conn: psycopg.Connection, group_id: int) -> list[EditCommand]:
    """The commands of one group, in the order they were applied, locked for the caller."""
    rows = many(
        conn,
        EditCommand,
        f"SELECT {_COLUMNS} FROM edit_commands WHERE group_id = %s ORDER BY id FOR UPDATE",
        (group_id,),
    )
    if not rows:
        raise NotFound("edit", group_id)
    return rows


def group_of(conn: psycopg.Connection, command_id: int) -> int:
    """The group of a command (NotFound: no such edit)."""
    row = conn.execute("SELECT group_id FROM edit_commands WHERE id = %s", (command_id,)).fetchone()
    if row is None:
        raise NotFound("edit", command_id)
    return row[0]


def group_label(conn: psycopg.Connection, group_id: int) -> str:
    """What a group's edit is called ("set age of ada")."""
    row = conn.execute(
        "SELECT label FROM edit_commands WHERE group_id = %s ORDER BY id LIMIT 1", (group_id,)
    ).fetchone()
    if row is None:
        raise NotFound("edit", group_id)
    return row[0]


def latest_applied_group(conn: psycopg.Connection, actor: str) -> int | None:
    """The group of `actor`'s newest command not undone (what undo takes back), if any."""
    row = conn.execute(
        """SELECT group_id FROM edit_commands WHERE actor = %s AND undone_at IS NULL
            ORDER BY id DESC LIMIT 1""",
        (actor,),
    ).fetchone()
    return row[0] if row else None


def latest_undone_group(conn: psycopg.Connection, actor: str) -> int | None:
    """The group `actor` undid last and may still redo (redo stack top), if any."""
    row = conn.execute(
        """SELECT group_id FROM edit_commands
            WHERE actor = %s AND undone_at IS NOT NULL AND redone_at IS NULL
              AND redo_dropped_at IS NULL
            ORDER BY undone_at DESC, id DESC LIMIT 1""",
        (actor,),
    ).fetchone()
    return row[0] if row else None


def mark_undone(conn: psycopg.Connection, group_id: int, by: str) -> None:
    """The group was undone by `by`, now."""
    with writing(conn):
        conn.execute(
            """UPDATE edit_commands SET undone_at = clock_timestamp(), undone_by = %s
                WHERE group_id = %s AND undone_at IS NULL""",
            (by, group_id),
        )


def mark_redone(conn: psycopg.Connection, group_id: int) -> None:
    """The undone group was applied again (as a new group whose commands are `redo_of` it)."""
    with writing(conn):
        conn.execute(
            "UPDATE edit_commands SET redone_at = clock_timestamp() WHERE group_id = %s",
            (group_id,),
        )


def later_touch(conn: psycopg.Connection, command: EditCommand) -> Touch | None:
    """Who changed `command`'s target since it was applied: the newest later command of its
    family on the same target and field (or on the whole target), else, for a character's
    metadata or name, the newest audited write to its row (made outside the commands)."""
    family = [k for k, f in FAMILIES.items() if f == FAMILIES[command.kind]]
    row = conn.execute(
        """SELECT actor, coalesce(undone_at, applied_at) FROM edit_commands
            WHERE target_kind = %s AND target = %s AND kind = ANY (%s) AND id > %s
              AND group_id <> %s AND (field = %s OR field = '' OR %s = '')
            ORDER BY id DESC LIMIT 1""",
        (
            command.target_kind,
            command.target,
            family,
            command.id,
            command.group_id,
            command.field,
            command.field,
        ),
    ).fetchone()
    if row is not None:
        return Touch(row[0], row[1])
    if command.target_kind != "character" or FAMILIES[command.kind] == "tag":
        return None
    found = conn.execute(
        """SELECT actor, at FROM audit_log
            WHERE table_name = 'characters' AND at > %s AND after ->> 'slug' = %s
            ORDER BY id DESC LIMIT 1""",
        (command.applied_at, command.target),
    ).fetchone()
    return Touch(found[0], found[1]) if found else None


def history(conn: psycopg.Connection, actor: str, limit: int = 20) -> list[EditCommand]:
    """`actor`'s newest commands, newest first (applied, undone and redone alike)."""
    return many(
        conn,
        EditCommand,
        f"SELECT {_COLUMNS} FROM edit_commands WHERE actor = %s ORDER BY id DESC LIMIT %s",
        (actor, limit),
    )
