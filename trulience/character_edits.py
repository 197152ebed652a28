"""Edits of library characters (issue 17: PRD-66, PRD-88, PRD-108): one character's metadata
checked against its project's schema field by field, the same field or tag changed across
many characters (counted first, then applied in one transaction), and a character's own
overrides of a scene type's settings. Nothing is written when any part is refused, and the
audit log names who made the change (a producer: `manage_characters`)."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg

from trulience import edits
from trulience.auth.acting import Acting, actor_name
from trulience.auth.permissions import Permission
from trulience.catalog import character_overrides as overrides
from trulience.catalog.characters import get_character
from trulience.catalog.database import acting_as
from trulience.catalog.errors import ConflictingEdit
from trulience.catalog.library_pages import (
    EditableCharacter,
    characters_tagged,
    editable_characters,
)
from trulience.catalog.records import Character
from trulience.catalog.tags import normalise_tag
from trulience.errors import TrulienceError
from trulience.generation.scene_config import check_settings, known_fields, placeholders, resolve
from trulience.generation.scene_definition import InvalidSceneType
from trulience.metadata import InvalidMetadata, Problem, metadata_problems, schema_for


def schema_of(character: EditableCharacter) -> dict[str, Any]:
    """The metadata schema that applies to a character: its first project's, or the default."""
    return schema_for(character.project_settings or {})


def edit_metadata(
    conn: psycopg.Connection,
    actor: Acting,
    slug: str,
    metadata: dict[str, Any],
    expected_version: int | None = None,
) -> Character:
    """Replace a character's metadata once it satisfies its schema; InvalidMetadata lists
    every problem by field and nothing is written. With `expected_version`, an edit made
    meanwhile is refused (ConflictingEdit) rather than overwritten."""
    actor_name(conn, actor, Permission.MANAGE_CHARACTERS)
    (character,) = editable_characters(conn, [slug])
    problems = metadata_problems(metadata, schema_of(character))
    if problems:
        raise InvalidMetadata(f"character {slug!r} metadata", problems)
    if expected_version is not None and character.metadata_version != expected_version:
        raise ConflictingEdit(
            f"character {slug!r} metadata is at version {character.metadata_version}, "
            f"not {expected_version}: it was edited meanwhile; reload and reapply"
        )
    edits.apply(conn, actor, [edits.replace_metadata(slug, metadata)])  # undoable (PRD-51)
    return get_character(conn, slug)


class BulkEditRefused(TrulienceError):
    """A bulk edit some character refuses: names each character and field, writes nothing."""

    def __init__(self, problems: list[tuple[str, Problem]]):
        self.problems = problems
        shown = "; ".join(f"character {slug!r} {p}" for slug, p in problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        super().__init__(f"bulk edit refused, nothing changed: {shown}{more}")


@dataclass(frozen=True, slots=True)
class BulkResult:
    """What a bulk edit does (dry run) or did: how many characters it covers and which of
    them it changes (the others already are as asked)."""

    selected: int
    changed: list[str]
    applied: bool

    def summary(self, what: str) -> str:
        """One line for the user: 'would set …' on a dry run, 'set …' once applied."""
        verb = what if self.applied else f"would {what}"
        return f"{verb} on {len(self.changed)} of {self.selected} characters"


def bulk_set_field(
    conn: psycopg.Connection,
    actor: Acting,
    slugs: Sequence[str],
    field: str,
    value: Any,
    apply: bool = False,
) -> BulkResult:
    """Set metadata `field` to `value` (None removes it) on every character named. Each
    character's new metadata is checked against its own schema first; one refusal refuses
    all (BulkEditRefused naming the characters and fields). `apply` False only counts."""
    actor_name(conn, actor, Permission.MANAGE_CHARACTERS)  # refused before any read
    field = field.strip()
    if not field:
        raise BulkEditRefused([("(any)", Problem("$", "name the field to set"))])
    characters = editable_characters(conn, list(dict.fromkeys(slugs)))
    changed: list[tuple[EditableCharacter, dict[str, Any]]] = []
    problems: list[tuple[str, Problem]] = []
    for character in characters:
        new = {k: v for k, v in character.metadata.items() if k != field}
        if value is not None:
            new[field] = value
        if new == character.metadata:
            continue
        problems += [(character.slug, p) for p in metadata_problems(new, schema_of(character))]
        changed.append((character, new))
    if problems:
        raise BulkEditRefused(problems)
    if apply and changed:  # one transaction, one undoable group (PRD-51): all or nothing
        edits.apply(
            conn,
            actor,
            [
                edits.unset_field(c.slug, field)
                if value is None
                else edits.set_field(c.slug, field, value)
                for c, _ in changed
            ],
        )
    return BulkResult(len(characters), [c.slug for c, _ in changed], apply)


def bulk_tag(
    conn: psycopg.Connection,
    actor: Acting,
    slugs: Sequence[str],
    name: str,
    add: bool = True,
    apply: bool = False,
) -> BulkResult:
    """Add (or remove) tag `name` on every character named, in one transaction; `apply`
    False only counts the characters it would change."""
    actor_name(conn, actor, Permission.MANAGE_CHARACTERS)  # refused before any read
    wanted = normalise_tag(name)
    if not wanted:
        raise BulkEditRefused([("(any)", Problem("tag", "name the tag to add or remove"))])
    characters = editable_characters(conn, list(dict.fromkeys(slugs)))
    having = characters_tagged(conn, [c.slug for c in characters], wanted)
    changed = [c.slug for c in characters if (c.slug in having) != add]
    if apply and changed:  # one undoable group (PRD-51)
        made = edits.add_tag if add else edits.remove_tag
        edits.apply(conn, actor, [made(slug, wanted) for slug in changed])
    return BulkResult(len(characters), changed, apply)


def set_scene_override(
    conn: psycopg.Connection,
    actor: Acting,
    character: str,
    scene_type: str,
    settings: dict[str, Any],
) -> dict[str, Any]:
    """Store `character`'s own settings for `scene_type` (PRD-108; empty removes them):
    each setting checked as a scene type's is (InvalidSceneType naming the field), and the
    effective configuration with them must still be consistent. Returns what was stored."""
    who = actor_name(conn, actor, Permission.MANAGE_CHARACTERS)
    checked = check_settings(scene_type, settings)
    known = known_fields(conn)
    for name in ("prompt_template", "negative_prompt"):
        unknown = placeholders(checked.get(name) or "", scene_type, name) - known
        if unknown:
            listed = ", ".join("{" + u + "}" for u in sorted(unknown))
            raise InvalidSceneType(scene_type, name, f"unknown placeholder(s) {listed}")
    stored = {k: str(v) if isinstance(v, Decimal) else v for k, v in checked.items()}
    with acting_as(conn, who):
        overrides.set_override(conn, character, scene_type, stored)
        try:
            resolve(conn, scene_type, character)
        except InvalidSceneType as exc:
            if "not set on the scene type nor on any parent" not in exc.reason:
                raise InvalidSceneType(
                    scene_type, exc.field, f"with {character!r}'s overrides: {exc.reason}"
                ) from exc
    return stored
