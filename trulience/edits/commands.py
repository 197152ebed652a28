"""Applying, undoing and redoing edit commands, per actor, in one transaction each.

`apply` makes one or many edits (a bulk edit is one group, undone together), records each
with the state it replaced and drops the actor's redo stack. `undo` gives the targets of the
actor's latest group back their `before`, `redo` re-applies the latest undone group; both
refuse, naming who and when, when a later edit changed what they would overwrite.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC

import psycopg

from trulience.auth.acting import Acting, actor_name
from trulience.auth.permissions import Permission
from trulience.catalog import edits as stack
from trulience.catalog.database import acting_as
from trulience.catalog.edits import EditCommand, Touch
from trulience.catalog.errors import InvalidValue
from trulience.edits.kinds import KINDS, Edit
from trulience.errors import TrulienceError


class EditRefused(TrulienceError):
    """An undo or redo that would overwrite a later edit, or that has nothing to act on."""


@dataclass(frozen=True, slots=True)
class Applied:
    """What an apply, undo or redo did: its group, its label and its commands."""

    group_id: int
    label: str
    commands: list[EditCommand]


def who(actor: str) -> str:
    """An actor as people read it: 'user:bob' is bob, an operator keeps its name."""
    return actor.removeprefix("user:")


def _check(conn: psycopg.Connection, actor: Acting, kinds: set[str]) -> str:
    """The audit name of `actor`, once it may make every kind of edit in `kinds`."""
    name = ""
    for permission in {KINDS[kind].permission for kind in kinds} or {Permission.VIEW}:
        name = actor_name(conn, actor, permission)
    return name


def apply(
    conn: psycopg.Connection, actor: Acting, edits: Sequence[Edit], label: str | None = None
) -> Applied | None:
    """Make `edits` as one undoable group, all or nothing (None when none changes anything).

    Refused before anything is written: an unknown kind, the same field twice, or a value
    the target refuses (InvalidMetadata names each field)."""
    unknown = sorted({e.kind for e in edits} - set(KINDS))
    if unknown:
        raise InvalidValue("edit", "kind", unknown[0], "must be one of: " + ", ".join(KINDS))
    seen = set()
    for edit in edits:
        if (edit.kind, edit.target, edit.field) in seen:
            raise InvalidValue("edit", edit.field or edit.kind, edit.target, "is edited twice")
        seen.add((edit.kind, edit.target, edit.field))
    name = _check(conn, actor, {e.kind for e in edits})
    with acting_as(conn, name):
        changes = []
        for edit in edits:
            kind = KINDS[edit.kind]
            before = kind.read(conn, edit.target, edit.field)
            after = kind.after(edit, before)
            if after != before:
                kind.write(conn, edit.target, edit.field, after)
                changes.append((edit, before, after))
        if not changes:
            return None
        group = stack.new_group(conn)
        label = label or _label([(edit, before) for edit, before, _ in changes])
        stack.drop_redo_stack(conn, name)
        commands = [
            stack.record_command(
                conn,
                group,
                name,
                edit.kind,
                KINDS[edit.kind].target_kind,
                edit.target,
                edit.field,
                label,
                before,
                after,
            )
            for edit, before, after in changes
        ]
    return Applied(group, label, commands)


def _label(changes: list[tuple[Edit, object]]) -> str:
    """What a group is called: its one edit's label; for the same edit of many targets,
    "set age of 3 characters"; else the first edit's label "and N more"."""
    first, before = changes[0]
    label = KINDS[first.kind].label(first, before)
    if len(changes) == 1:
        return label
    same = (first.kind, first.field, first.unset, first.change)
    if all((e.kind, e.field, e.unset, e.change) == same for e, _ in changes):
        noun = "characters" if KINDS[first.kind].target_kind == "character" else "scene types"
        return KINDS[first.kind].label(replace(first, target=f"{len(changes)} {noun}"), before)
    return f"{label} and {len(changes) - 1} more"


def _changed(command: EditCommand, touch: Touch | None, since: str) -> EditRefused:
    what = KINDS[command.kind].what(command.target, command.field)
    if touch is None:
        return EditRefused(f"{what} was changed {since}; undo that first")
    at = touch.at.astimezone(UTC).strftime("%H:%M")
    return EditRefused(f"{what} was changed by {who(touch.actor)} at {at} {since}; undo that first")


def _group(conn: psycopg.Connection, name: str, group_id: int) -> list[EditCommand]:
    commands = stack.group_commands(conn, group_id)
    owner = commands[0].actor
    if owner != name:
        raise EditRefused(
            f"edit #{commands[0].id} ({commands[0].label}) is {who(owner)}'s; "
            "each person undoes their own edits"
        )
    return commands


def undo(conn: psycopg.Connection, actor: Acting, command_id: int | None = None) -> Applied:
    """Undo `actor`'s latest edit not undone (or the edit with `command_id`, with its group).

    Refused (EditRefused) when there is none, or when a later edit changed what it set."""
    name = _check(conn, actor, set())
    with acting_as(conn, name):
        if command_id is None:
            group_id = stack.latest_applied_group(conn, name)
            if group_id is None:
                raise EditRefused(f"nothing to undo: {who(name)} has no edit left to undo")
        else:
            group_id = stack.group_of(conn, command_id)
        commands = _group(conn, name, group_id)
        if commands[0].undone_at is not None:
            raise EditRefused(f"edit #{commands[0].id} ({commands[0].label}) is already undone")
        _check(conn, actor, {c.kind for c in commands})
        for command in commands:
            kind = KINDS[command.kind]
            if kind.read(conn, command.target, command.field) != command.after:
                raise _changed(command, stack.later_touch(conn, command), "after this edit")
        for command in reversed(commands):
            KINDS[command.kind].write(conn, command.target, command.field, command.before)
        stack.mark_undone(conn, group_id, name)
    return Applied(group_id, commands[0].label, commands)


def redo(conn: psycopg.Connection, actor: Acting) -> Applied:
    """Apply again the edit `actor` undid last (a new group, each command `redo_of` its
    original); refused when there is none, or a later edit changed what it would set."""
    name = _check(conn, actor, set())
    with acting_as(conn, name):
        group_id = stack.latest_undone_group(conn, name)
        if group_id is None:
            raise EditRefused(f"nothing to redo: {who(name)} has no undone edit to redo")
        commands = _group(conn, name, group_id)
        _check(conn, actor, {c.kind for c in commands})
        for command in commands:
            kind = KINDS[command.kind]
            if kind.read(conn, command.target, command.field) != command.before:
                touch = stack.later_touch(conn, command)
                raise _changed(command, touch, "after this edit was undone")
        group = stack.new_group(conn)
        again = []
        for command in commands:
            KINDS[command.kind].write(conn, command.target, command.field, command.after)
            again.append(
                stack.record_command(
                    conn,
                    group,
                    name,
                    command.kind,
                    command.target_kind,
                    command.target,
                    command.field,
                    command.label,
                    command.before,
                    command.after,
                    redo_of=command.id,
                )
            )
        stack.mark_redone(conn, group_id)
    return Applied(group, commands[0].label, again)


@dataclass(frozen=True, slots=True)
class Stack:
    """What undo and redo would do now for one actor: their labels, or None."""

    undo: str | None
    redo: str | None


def stack_of(conn: psycopg.Connection, actor: Acting) -> Stack:
    """The labels of `actor`'s next undo and next redo (None where there is nothing)."""
    name = _check(conn, actor, set())
    undo_group = stack.latest_applied_group(conn, name)
    redo_group = stack.latest_undone_group(conn, name)
    return Stack(
        stack.group_label(conn, undo_group) if undo_group is not None else None,
        stack.group_label(conn, redo_group) if redo_group is not None else None,
    )


def history(conn: psycopg.Connection, actor: Acting, limit: int = 20) -> list[EditCommand]:
    """`actor`'s newest edit commands, newest first."""
    return stack.history(conn, _check(conn, actor, set()), limit)
