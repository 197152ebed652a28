"""A scene type's authoring (PRD-63): where each effective setting comes from (its own
version, a parent's, or the default), an edit stored as a new version, the diff between
any two versions, and a rollback that stores a NEW version equal to an old one (history is
never rewritten).

Settings are shown as a producer writes them: the workflow by its name and version, numbers
as text, mappings as JSON. An edit names settings by their definition names (FIELDS); None
clears a setting, so it is inherited again.
"""

import difflib
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg

from trulience.catalog import scene_types as repo
from trulience.catalog.errors import NotFound, writing
from trulience.catalog.records import SceneTypeVersion
from trulience.catalog.scene_type_versions import scene_type_version, scene_type_versions
from trulience.catalog.workflows import get_workflow, workflow_by_id
from trulience.generation.scene_config import (
    FIELDS,
    InvalidSceneType,
    check_settings,
    known_fields,
    placeholders,
    resolve_if_complete,
)

# What a setting is when no scene type in the chain sets it (as resolve() falls back).
DEFAULTS: dict[str, Any] = {
    "prompt_template": "",
    "negative_prompt": "",
    "seed_policy": "increment",
    "seed": 0,
    "qa_rules": {},
    "presets": {},
    "params": {},
}
_MERGED = ("presets", "params")  # merged key by key down the chain


@dataclass(frozen=True)
class SettingSource:
    """One effective setting of a scene type: its value as shown, and where it comes from:
    "own" (this scene type's newest version), "inherited" (from `origin`), "default" or
    "unset"; `own` is this scene type's own value (shown text, "" when it inherits)."""

    name: str
    value: str
    source: str
    origin: str | None
    own: str


@dataclass(frozen=True)
class VersionEntry:
    """One stored version of a scene type: number, when, and its prompt template."""

    version: int
    created_at: datetime
    prompt_template: str


@dataclass(frozen=True)
class DiffLine:
    """One line of a unified diff: kind is "file" (the two headers), "add", "remove",
    "context" or "hunk"."""

    kind: str
    text: str


@dataclass(frozen=True)
class VersionDiff:
    """What changed from version `old` to version `new`: the settings that differ (name,
    old text, new text) and a unified diff of both versions' settings, prompt line by line."""

    slug: str
    old: int
    new: int
    changed: tuple[tuple[str, str, str], ...]
    lines: tuple[DiffLine, ...]

    def unified(self) -> str:
        """The diff as text, as `diff -u` prints it."""
        return "\n".join(line.text for line in self.lines)


def shown(value: Any) -> str:
    """A setting's value as a producer reads and writes it."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def definition_settings(conn: psycopg.Connection, version: SceneTypeVersion) -> dict[str, Any]:
    """A version's settings by definition name (the workflow as "name vN"); unset ones None."""
    settings: dict[str, Any] = {}
    for column in repo.SETTINGS:
        value = getattr(version, column)
        if column == "workflow_id":
            workflow = workflow_by_id(conn, value) if value else None
            settings["workflow"] = f"{workflow.name} v{workflow.version}" if workflow else None
        else:
            settings[column] = value
    if settings.get("presets") == {}:
        settings["presets"] = None  # stored as {} when unset: nothing of its own
    return settings


def _chain(conn: psycopg.Connection, slug: str) -> list[tuple[str, SceneTypeVersion]]:
    """(slug, newest version) of the scene type and each parent, the scene type first."""
    chain = []
    current: str | None = slug
    while current is not None:
        chain.append((current, repo.latest_version(conn, current)))
        parent_id = repo.get_scene_type(conn, current).parent_id
        current = repo.scene_type_slug(conn, parent_id) if parent_id else None
    return chain


def sources(conn: psycopg.Connection, slug: str) -> list[SettingSource]:
    """Every setting of `slug` with its effective value and where it comes from (the
    nearest scene type in the chain that sets it; presets and params name each level
    that adds keys)."""
    chain = [(s, definition_settings(conn, v)) for s, v in _chain(conn, slug)]
    own = chain[0][1]
    found = []
    for name in FIELDS:
        setters = [s for s, settings in chain if settings.get(name) not in (None, {})]
        if name in _MERGED and setters:
            merged: dict[str, Any] = {}
            for _, settings in reversed(chain):
                merged |= settings.get(name) or {}
            source = "own" if setters == [slug] else "inherited"
            origin = ", ".join(s for s in setters if s != slug) or None
            value: Any = merged
        elif setters:
            source = "own" if setters[0] == slug else "inherited"
            origin = None if source == "own" else setters[0]
            value = dict(chain)[setters[0]][name]
        elif name in DEFAULTS:
            source, origin, value = "default", None, DEFAULTS[name]
        else:
            source, origin, value = "unset", None, None
        found.append(SettingSource(name, shown(value), source, origin, shown(own.get(name))))
    return found


def history(conn: psycopg.Connection, slug: str) -> list[VersionEntry]:
    """Every version of `slug`, oldest first."""
    return [
        VersionEntry(v.version, v.created_at, v.prompt_template or "")
        for v in scene_type_versions(conn, slug)
    ]


def _text(settings: dict[str, Any]) -> list[str]:
    """A version's own settings as lines, the prompt templates one line per line."""
    lines = []
    for name in FIELDS:
        value = settings.get(name)
        if value is None:
            continue
        if name in ("prompt_template", "negative_prompt"):
            lines += [f"{name}: {line}" for line in str(value).splitlines() or [""]]
        else:
            lines.append(f"{name}: {shown(value)}")
    return lines


def diff(conn: psycopg.Connection, slug: str, old: int, new: int) -> VersionDiff:
    """What changed in `slug`'s own settings from version `old` to version `new`."""
    before = definition_settings(conn, scene_type_version(conn, slug, old))
    after = definition_settings(conn, scene_type_version(conn, slug, new))
    changed = tuple(
        (name, shown(before.get(name)), shown(after.get(name)))
        for name in FIELDS
        if before.get(name) != after.get(name)
    )
    unified = difflib.unified_diff(
        _text(before), _text(after), f"{slug} v{old}", f"{slug} v{new}", lineterm=""
    )
    kinds = {"+": "add", "-": "remove", "@": "hunk"}
    lines = tuple(
        DiffLine("file" if i < 2 else kinds.get(t[:1], "context"), t) for i, t in enumerate(unified)
    )
    return VersionDiff(slug, old, new, changed, lines)


def _columns(version: SceneTypeVersion) -> dict[str, Any]:
    return {name: getattr(version, name) for name in repo.SETTINGS}


def _check_edit(conn: psycopg.Connection, slug: str, changes: dict[str, Any]) -> dict[str, Any]:
    """The changes checked as a definition is (type, range, placeholders); names the field."""
    given = {k: v for k, v in changes.items() if v is not None}
    checked = check_settings(slug, given)
    for name in changes:
        if name not in FIELDS:
            raise InvalidSceneType(slug, name, "unknown setting; known: " + ", ".join(FIELDS))
    known = known_fields(conn)
    for name in ("prompt_template", "negative_prompt"):
        unknown = placeholders(checked.get(name) or "", slug, name) - known
        if unknown:
            raise InvalidSceneType(
                slug,
                name,
                "unknown placeholder(s) "
                + ", ".join("{" + u + "}" for u in sorted(unknown))
                + "; known: "
                + ", ".join(sorted(known)),
            )
    return {name: checked.get(name) for name in changes}


def edit(conn: psycopg.Connection, slug: str, changes: dict[str, Any]) -> SceneTypeVersion | None:
    """Store a new version of `slug`: its newest own settings with `changes` (definition
    names; None clears a setting so it is inherited). None when nothing changed. A refused
    change (InvalidSceneType naming the field) stores nothing."""
    checked = _check_edit(conn, slug, changes)
    with writing(conn):
        latest = repo.latest_version(conn, slug)
        columns = _columns(latest)
        for name, value in checked.items():
            if name == "workflow":
                columns["workflow_id"] = _workflow_id(conn, slug, value)
            else:
                columns[name] = value
        if columns == _columns(latest):
            return None
        version = repo.add_version(conn, slug, **columns)
        resolve_if_complete(conn, slug)
        return version


def _workflow_id(conn: psycopg.Connection, slug: str, value: str | None) -> int | None:
    """The id of a workflow named "name" (newest) or "name vN"."""
    if value is None:
        return None
    name, _, number = value.partition(" v")
    try:
        return get_workflow(conn, name, int(number) if number.isdigit() else None).id
    except NotFound as exc:
        raise InvalidSceneType(
            slug, "workflow", f"no workflow {value!r}; add it with `trulience workflows add`"
        ) from exc


def rollback(conn: psycopg.Connection, slug: str, version: int) -> SceneTypeVersion:
    """Store a NEW version of `slug` whose settings equal version `version`'s (the versions
    between stay as they were); returns the new version."""
    with writing(conn):
        old = scene_type_version(conn, slug, version)
        new = repo.add_version(conn, slug, **_columns(old))
        resolve_if_complete(conn, slug)
        return new


def same_settings(a: SceneTypeVersion, b: SceneTypeVersion) -> bool:
    """Whether two versions store the same settings."""
    return _columns(a) == _columns(b)
