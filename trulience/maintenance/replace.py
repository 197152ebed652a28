"""Search and replace in character metadata (PRD-18): a dry run saying, per character and
field, the value before and after; then one audited transaction. A replacement that makes
a value break the project's metadata schema is refused, naming the character and field."""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import psycopg

from trulience import edits
from trulience.auth.acting import Operator
from trulience.catalog import characters
from trulience.catalog.database import acting_as
from trulience.catalog.records import Character
from trulience.errors import TrulienceError
from trulience.metadata import Problem, metadata_problems, schema_for, unstorable
from trulience.quoting import excerpt

MAX_PATTERN = 1000


class InvalidReplace(TrulienceError):
    """The search/replace itself is wrong (an empty or invalid pattern, a bad replacement)."""


@dataclass(frozen=True)
class Change:
    """One field of one character: its value before and after the replacement."""

    character: str
    field: str
    before: Any
    after: Any

    def describe(self) -> str:
        before, after = excerpt(str(self.before)), excerpt(str(self.after))
        return f"{self.character}.{self.field}: {before} → {after}"


@dataclass(frozen=True)
class Refusal:
    """A character whose replaced metadata the schema refuses (nothing of it is written)."""

    character: str
    field: str
    reason: str

    def describe(self) -> str:
        return f"{self.character}, field {self.field}: refused: {self.reason}"


@dataclass
class ReplaceReport:
    """What a replacement changes, what it refuses, and whether it was applied."""

    changes: list[Change] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    examined: int = 0
    applied: bool = False

    @property
    def characters(self) -> list[str]:
        return sorted({c.character for c in self.changes})

    def lines(self) -> list[str]:
        """The report as the CLI and the maintenance page print it."""
        out = [c.describe() for c in self.changes] + [r.describe() for r in self.refused]
        verb = "changed" if self.applied else "would change"
        out.append(
            f"{self.examined} character(s) examined: {len(self.characters)} {verb} "
            f"({len(self.changes)} field(s)), {len({r.character for r in self.refused})} refused"
        )
        return out


def _replacer(find: str, replace: str, regex: bool) -> Callable[[str], str]:
    if not find:
        raise InvalidReplace("the text to find is empty")
    if len(find) > MAX_PATTERN:
        raise InvalidReplace(f"the text to find is {len(find):,} characters; at most {MAX_PATTERN}")
    for name, text in (("find", find), ("replace", replace)):
        if reason := unstorable(text):
            raise InvalidReplace(f"the {name} text {reason}")
    if not regex:
        return lambda value: value.replace(find, replace)
    try:
        pattern = re.compile(find)
    except re.error as exc:
        raise InvalidReplace(f"{excerpt(find)} is not a valid regular expression: {exc}") from exc
    try:
        pattern.sub(replace, "")  # a bad group reference shows only when used: try it now
    except (re.error, IndexError) as exc:
        raise InvalidReplace(f"replacement {excerpt(replace)} is not valid: {exc}") from exc
    return lambda value: pattern.sub(replace, value)


def _replaced(value: Any, apply: Callable[[str], str]) -> Any:
    """`value` with every string in it (nested in lists and objects too) replaced."""
    if isinstance(value, str):
        return apply(value)
    if isinstance(value, list):
        return [_replaced(item, apply) for item in value]
    if isinstance(value, dict):
        return {key: _replaced(item, apply) for key, item in value.items()}
    return value


def _schemas(conn: psycopg.Connection, slug: str) -> list[dict[str, Any]]:
    """The metadata schemas a character must meet: its projects', or the default."""
    return [schema_for(p.settings) for p in characters.projects_of(conn, slug)] or [schema_for({})]


def _selected(
    conn: psycopg.Connection, project: str | None, tag: str | None, slugs: Iterable[str] | None
) -> list[Character]:
    chosen = characters.list_characters(conn, project, tag)
    if slugs is None:
        return chosen
    wanted = set(slugs)
    for slug in wanted - {c.slug for c in chosen}:
        characters.get_character(conn, slug)  # NotFound names an unknown slug
    return [c for c in chosen if c.slug in wanted]


def plan_replace(
    conn: psycopg.Connection,
    find: str,
    replace: str,
    field_name: str | None = None,
    regex: bool = False,
    project: str | None = None,
    tag: str | None = None,
    slugs: Iterable[str] | None = None,
) -> tuple[ReplaceReport, dict[str, tuple[Character, dict]]]:
    """What replacing `find` by `replace` in `field_name` (every field when None) would do
    to the chosen characters, and the new metadata of each valid one; writes nothing."""
    apply = _replacer(find, replace, regex)
    report, updates = ReplaceReport(), {}
    for character in _selected(conn, project, tag, slugs):
        report.examined += 1
        after = dict(character.metadata)
        changed = []
        for key, value in character.metadata.items():
            if field_name is not None and key != field_name:
                continue
            new = _replaced(value, apply)
            if new != value:
                after[key] = new
                changed.append(Change(character.slug, key, value, new))
        if not changed:
            continue
        problems = _problems(conn, character.slug, after, {c.field for c in changed})
        if problems:
            report.refused += [Refusal(character.slug, p.field, p.message) for p in problems]
            continue
        report.changes += changed
        updates[character.slug] = (character, after)
    return report, updates


def _problems(
    conn: psycopg.Connection, slug: str, metadata: dict, fields: set[str]
) -> list[Problem]:
    """The schema problems the replacement causes in `fields` (not older ones elsewhere)."""
    found = []
    for key in sorted(fields):
        for text in _strings(metadata[key]):
            if reason := unstorable(text):
                found.append(Problem(key, reason))
    for schema in _schemas(conn, slug):
        for problem in metadata_problems(metadata, schema):
            name = problem.field.removeprefix("$.").split(".")[0].split("[")[0]
            if name in fields or problem.field in ("$", ""):
                found.append(Problem(name or "(metadata)", problem.message))
    return found


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)


def save_metadata(
    conn: psycopg.Connection, actor: str, label: str, changed: dict[str, dict]
) -> None:
    """Write the characters' replaced metadata (slug: metadata) as one undoable group of
    `actor`'s edit commands (PRD-51): `trulience undo` takes the whole replace back."""
    if changed:
        edits.apply(
            conn,
            Operator(actor),
            [edits.replace_metadata(slug, metadata) for slug, metadata in changed.items()],
            label=label,
        )


def replace_in_metadata(
    conn: psycopg.Connection,
    find: str,
    replace: str,
    actor: str,
    field_name: str | None = None,
    regex: bool = False,
    project: str | None = None,
    tag: str | None = None,
    slugs: Iterable[str] | None = None,
    dry_run: bool = False,
) -> ReplaceReport:
    """Replace `find` by `replace` in the chosen characters' metadata: with `dry_run` only
    report; else write every valid character in one transaction audited as `actor` (a
    refused character is left as it was, the others are written)."""
    with acting_as(conn, actor):
        report, updates = plan_replace(conn, find, replace, field_name, regex, project, tag, slugs)
        if dry_run:
            return report
        changed = {character.slug: metadata for character, metadata in updates.values()}
        label = f"replace {find!r} by {replace!r} in {len(changed)} character(s)"
        save_metadata(conn, actor, label, changed)
    report.applied = True
    return report
