"""Undo and redo of catalog edits (PRD-51): every edit a command recorded with its inverse.

Make edits with `apply(conn, actor, [set_field(...), add_tag(...), ...])` (a list is one
group: a bulk edit undone together); `undo` and `redo` act on the actor's own stack, which
lives in the catalog (edit_commands), so it survives logout and is the same from the CLI
and the apps. See commands.py for the policy and kinds.py for what each kind changes."""

from trulience.edits.commands import (
    Applied,
    EditRefused,
    Stack,
    apply,
    history,
    redo,
    stack_of,
    undo,
    who,
)
from trulience.edits.kinds import (
    KINDS,
    Edit,
    add_tag,
    remove_tag,
    rename,
    replace_metadata,
    scene_type_settings,
    set_field,
    unset_field,
)

__all__ = [
    "KINDS",
    "Applied",
    "Edit",
    "EditRefused",
    "Stack",
    "add_tag",
    "apply",
    "history",
    "redo",
    "remove_tag",
    "rename",
    "replace_metadata",
    "scene_type_settings",
    "set_field",
    "stack_of",
    "undo",
    "unset_field",
    "who",
]
