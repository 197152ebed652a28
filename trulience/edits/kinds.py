"""The kinds of edit command: what each reads as its target's state and how it writes one.

A state is plain JSON, so a command's `before` and `after` are stored as they are compared:
a metadata field is `{"value": v}` when set and `{}` when unset; whole metadata is the
object; a name is its text; a tag is whether the character carries it; a scene type's
settings are its newest version's settings (a write stores a new version: history is kept).
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg

from trulience.auth.permissions import Permission
from trulience.catalog import characters, scene_types
from trulience.catalog.errors import InvalidValue
from trulience.catalog.tags import Subject, normalise_tag, tag, tags_of, untag
from trulience.metadata import InvalidMetadata, metadata_problems, schema_for

State = Any


def plain(value: Any) -> State:
    """`value` as the JSON it is stored as (numbers from numeric columns become floats)."""

    def convert(item: Any) -> Any:
        if isinstance(item, Decimal):
            return float(item)
        raise TypeError(f"{type(item).__name__} is not a JSON value")

    return json.loads(json.dumps(value, default=convert))


@dataclass(frozen=True, slots=True)
class Edit:
    """One change to make: `kind` on `target` (a slug), its `field` where the kind has one,
    and `change`, from which the wanted state follows the current one (`after`)."""

    kind: str
    target: str
    field: str = ""
    change: Any = None
    unset: bool = False


def set_field(character: str, name: str, value: Any) -> Edit:
    """Set one field of a character's metadata."""
    return Edit("set_field", character, name, plain(value))


def unset_field(character: str, name: str) -> Edit:
    """Remove one field from a character's metadata."""
    return Edit("set_field", character, name, unset=True)


def replace_metadata(character: str, metadata: dict) -> Edit:
    """Replace a character's whole metadata."""
    return Edit("replace_metadata", character, "", plain(metadata))


def rename(character: str, name: str) -> Edit:
    """Give a character a new display name."""
    return Edit("rename", character, "name", name)


def add_tag(character: str, name: str) -> Edit:
    """Tag a character."""
    return Edit("tag", character, normalise_tag(name), True)


def remove_tag(character: str, name: str) -> Edit:
    """Take a tag off a character."""
    return Edit("tag", character, normalise_tag(name), False)


def scene_type_settings(scene_type: str, **settings: Any) -> Edit:
    """Store a new version of a scene type with these settings changed (others kept)."""
    unknown = sorted(set(settings) - set(scene_types.SETTINGS))
    if unknown:
        raise InvalidValue("scene type", ", ".join(unknown), None, "is not a scene type setting")
    return Edit("scene_type_settings", scene_type, "", plain(settings))


@dataclass(frozen=True, slots=True)
class Kind:
    """How one kind of command reads and writes its target's state, and names itself."""

    target_kind: str
    permission: Permission
    read: Callable[[psycopg.Connection, str, str], State]
    write: Callable[[psycopg.Connection, str, str, State], None]
    after: Callable[[Edit, State], State]
    label: Callable[[Edit, State], str]
    what: Callable[[str, str], str]  # "character ada's field 'age'"


def _schema(conn: psycopg.Connection, slug: str) -> dict:
    """The metadata schema of a character: its first project's, or the studio default."""
    for project in characters.projects_of(conn, slug):
        return schema_for(project.settings)
    return schema_for({})


def _write_metadata(conn: psycopg.Connection, slug: str, metadata: dict) -> None:
    """Validate against the character's schema (InvalidMetadata, field by field), then save."""
    problems = metadata_problems(metadata, _schema(conn, slug))
    if problems:
        raise InvalidMetadata(f"character {slug} metadata", problems)
    characters.update_metadata(conn, slug, metadata)


def _read_field(conn: psycopg.Connection, slug: str, name: str) -> State:
    metadata = characters.get_character(conn, slug).metadata
    return {"value": metadata[name]} if name in metadata else {}


def _write_field(conn: psycopg.Connection, slug: str, name: str, state: State) -> None:
    metadata = dict(characters.get_character(conn, slug).metadata)
    if "value" in state:
        metadata[name] = state["value"]
    else:
        metadata.pop(name, None)
    _write_metadata(conn, slug, metadata)


def _field_label(edit: Edit, _before: State) -> str:
    if edit.unset:
        return f"unset {edit.field} of {edit.target}"
    return f"set {edit.field} of {edit.target}"


def _write_name(conn: psycopg.Connection, slug: str, _field: str, state: State) -> None:
    characters.rename_character(conn, slug, state)


def _read_tag(conn: psycopg.Connection, slug: str, name: str) -> State:
    return any(t.name == name for t in tags_of(conn, Subject(character=slug)))


def _write_tag(conn: psycopg.Connection, slug: str, name: str, state: State) -> None:
    if state:
        tag(conn, name, Subject(character=slug))
    else:
        untag(conn, name, Subject(character=slug))


def _read_settings(conn: psycopg.Connection, slug: str, _field: str) -> State:
    version = scene_types.latest_version(conn, slug)
    return plain({name: getattr(version, name) for name in scene_types.SETTINGS})


def _write_settings(conn: psycopg.Connection, slug: str, _field: str, state: State) -> None:
    scene_types.add_version(conn, slug, **state)


def _settings_label(edit: Edit, _before: State) -> str:
    return f"change {', '.join(sorted(edit.change))} of scene type {edit.target}"


KINDS: dict[str, Kind] = {
    "set_field": Kind(
        "character",
        Permission.MANAGE_CHARACTERS,
        _read_field,
        _write_field,
        lambda edit, _before: {} if edit.unset else {"value": edit.change},
        _field_label,
        lambda target, name: f"character {target}'s field {name!r}",
    ),
    "replace_metadata": Kind(
        "character",
        Permission.MANAGE_CHARACTERS,
        lambda conn, slug, _f: plain(characters.get_character(conn, slug).metadata),
        lambda conn, slug, _f, state: _write_metadata(conn, slug, state),
        lambda edit, _before: edit.change,
        lambda edit, _before: f"replace metadata of {edit.target}",
        lambda target, _name: f"character {target}'s metadata",
    ),
    "rename": Kind(
        "character",
        Permission.MANAGE_CHARACTERS,
        lambda conn, slug, _f: characters.get_character(conn, slug).name,
        _write_name,
        lambda edit, _before: edit.change,
        lambda edit, _before: f"rename {edit.target} to {edit.change}",
        lambda target, _name: f"character {target}'s name",
    ),
    "tag": Kind(
        "character",
        Permission.MANAGE_CHARACTERS,
        _read_tag,
        _write_tag,
        lambda edit, _before: edit.change,
        lambda edit, _b: f"{'tag' if edit.change else 'untag'} {edit.target} {edit.field}",
        lambda target, name: f"character {target}'s tag {name!r}",
    ),
    "scene_type_settings": Kind(
        "scene_type",
        Permission.MANAGE_SCENE_TYPES,
        _read_settings,
        _write_settings,
        lambda edit, before: before | edit.change,
        _settings_label,
        lambda target, _name: f"scene type {target}'s settings",
    ),
}
