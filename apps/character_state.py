"""The character page's session state, apart from its views (issue 17): one character's
source images with their QA verdicts, its identity band per face model, its takes per scene
type with status and review decision, a metadata form generated from its project's schema
(PRD-66: field errors at the field, nothing written on error) and its own overrides of
scene-type settings (PRD-108). Every edit goes through `CharacterEditing._save`.
"""

import json
from dataclasses import dataclass
from typing import Any

import param
import psycopg

from apps.library_state import CharacterEditing
from trulience import character_edits
from trulience.catalog import character_overrides
from trulience.catalog.characters import get_character, projects_of
from trulience.catalog.library_pages import (
    CharacterTake,
    IdentityBand,
    editable_characters,
    identity_bands,
    scene_type_slugs,
    takes_of,
)
from trulience.catalog.source_images import list_source_images
from trulience.catalog.tags import Subject, tags_of
from trulience.config import Settings
from trulience.metadata import metadata_problems


@dataclass(frozen=True, slots=True)
class ImageRow:
    """A source image as the page lists it: its QA verdict and why it failed, if it did."""

    name: str
    version: int
    uri: str
    width: int
    height: int
    primary: bool
    qa_status: str
    qa_score: float | None
    failures: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FormField:
    """One field of the metadata form, from the schema: its name, JSON type (or the allowed
    values), whether required, and the text it holds now."""

    name: str
    kind: str
    choices: tuple[Any, ...]
    required: bool
    text: str


def field_text(value: Any) -> str:
    """A metadata value as the form shows it: text as is, anything else as JSON."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def field_value(kind: str, text: str) -> Any:
    """What a form field's text means for its schema type (None when blank: unset). A text
    that does not read as its type is kept as typed, so the schema names the problem."""
    text = text.strip()
    if not text:
        return None
    if kind == "string":
        return text
    if kind == "array":
        if text.startswith("["):
            try:
                return json.loads(text)
            except ValueError:
                return text
        return [part.strip() for part in text.split(",") if part.strip()]
    try:
        return json.loads(text)
    except ValueError:
        return text


def form_fields(schema: dict[str, Any], metadata: dict[str, Any]) -> list[FormField]:
    """The schema's declared fields, required ones first, then any undeclared field the
    metadata holds (a schema stored in the catalog keeps no order of its own)."""
    required = set(schema.get("required", []))
    declared_specs = (schema.get("properties") or {}).items()
    fields = []
    for name, spec in sorted(declared_specs, key=lambda item: item[0] not in required):
        kind = spec.get("type", "string") if "enum" not in spec else "choice"
        kind = kind if isinstance(kind, str) else "string"
        choices = tuple(spec.get("enum", ()))
        fields.append(
            FormField(name, kind, choices, name in required, field_text(metadata.get(name)))
        )
    declared = {f.name for f in fields}
    for name, value in metadata.items():
        if name not in declared:
            fields.append(FormField(name, "any", (), False, field_text(value)))
    return fields


class CharacterSession(CharacterEditing):
    """One browser session of the character page."""

    slug = param.String(default="", doc="The character shown.")
    title = param.String(default="", doc="The character's name.")
    projects = param.List(default=[])
    tags = param.List(default=[])
    images = param.List(default=[], item_type=ImageRow)
    bands = param.List(default=[], item_type=IdentityBand)
    takes = param.List(default=[], item_type=CharacterTake)
    fields = param.List(default=[], item_type=FormField)
    metadata_version = param.Integer(default=0)
    field_errors = param.Dict(default={}, doc="Field name ('$' for the whole) → its problem.")
    scene_types = param.List(default=[], doc="Every scene type a character may override.")
    overrides = param.Dict(default={}, doc="Scene type → this character's own settings.")
    override_error = param.String(default=None, allow_None=True)

    def __init__(self, settings: Settings, **params):
        super().__init__(settings, "character", **params)
        self._schema: dict[str, Any] = {}
        self._metadata: dict[str, Any] = {}
        self.param.watch(lambda _: self.read(), "slug")

    def open(self, slug: str) -> None:
        """Show character `slug` (re-read when it is shown already)."""
        if slug == self.slug:
            self.read()
        else:
            self.slug = slug

    def read(self) -> None:
        """Re-read the character: record, images, bands, takes, form and overrides."""
        if not self.slug:
            return
        found = self._viewing(self._read)
        if found is None:
            return
        self._schema, self._metadata = found.pop("schema"), found.pop("metadata")
        self.param.update(
            **found, fields=form_fields(self._schema, self._metadata), field_errors={}
        )

    def _read(self, conn: psycopg.Connection) -> dict[str, Any]:
        slug = self.slug
        character = get_character(conn, slug)
        (editable,) = editable_characters(conn, [slug])
        return {
            "title": character.name,
            "metadata": character.metadata,
            "metadata_version": character.metadata_version,
            "schema": character_edits.schema_of(editable),
            "projects": [p.slug for p in projects_of(conn, slug)],
            "tags": [t.name for t in tags_of(conn, Subject(character=slug))],
            "images": [
                ImageRow(
                    i.original_name,
                    i.version,
                    i.uri,
                    i.width,
                    i.height,
                    i.is_primary,
                    i.qa_status,
                    float(i.qa["score"]) if "score" in (i.qa or {}) else None,
                    tuple(str(f) for f in (i.qa or {}).get("failures", [])),
                )
                for i in list_source_images(conn, slug)
            ],
            "bands": identity_bands(conn, slug),
            "takes": takes_of(conn, slug),
            "scene_types": scene_type_slugs(conn),
            "overrides": character_overrides.overrides_of(conn, slug),
        }

    # -- the metadata form ---------------------------------------------------------------

    def metadata_from(self, texts: dict[str, str]) -> dict[str, Any]:
        """The metadata the form's texts (field → text) make, over what the character holds
        (fields the form does not show are kept; a blank field is removed)."""
        kinds = {f.name: f.kind for f in self.fields}
        metadata = dict(self._metadata)
        for name, text in texts.items():
            value = field_value(kinds.get(name, "any"), text)
            if value is None:
                metadata.pop(name, None)
            else:
                metadata[name] = value
        return metadata

    def save_metadata(self, texts: dict[str, str]) -> bool:
        """Check the form against the schema: each problem is shown at its field and
        nothing is written; valid, it is saved (audited under the user) and re-read."""
        metadata = self.metadata_from(texts)
        problems = metadata_problems(metadata, self._schema)
        if problems:
            self.field_errors = _by_field(problems)
            self.say("not saved: fix the fields marked", "danger")
            return False
        slug, version = self.slug, self.metadata_version
        saved = self._save(
            lambda conn, token: character_edits.edit_metadata(conn, token, slug, metadata, version)
        )
        if saved is None:
            return False
        self.read()
        self.say(f"saved {slug}'s metadata (version {saved.metadata_version})", "success")
        return True

    # -- scene-type overrides ------------------------------------------------------------

    def save_override(self, scene_type: str, text: str) -> bool:
        """Store this character's own settings for `scene_type` from JSON text (`{}` or
        blank removes them); a refusal names the setting and nothing is written."""
        try:
            settings = json.loads(text) if text.strip() else {}
        except ValueError as exc:
            self.override_error = f"not JSON: {exc}"
            return False
        if not isinstance(settings, dict):
            self.override_error = 'must be a JSON object of settings, like {"seed": 7}'
            return False
        slug = self.slug
        self.override_error = None
        stored = self._save(
            lambda conn, token: character_edits.set_scene_override(
                conn, token, slug, scene_type, settings
            )
        )
        if stored is None:  # the refusal (naming the setting) was said
            self.override_error = self.notice[0] if self.notice else "refused"
            return False
        self.read()
        self.say(
            f"{slug} in {scene_type}: {json.dumps(stored) if stored else 'no overrides'}", "success"
        )
        return True


def _by_field(problems) -> dict[str, str]:
    """Problems by form field: '$.age' → 'age'; a problem of the whole stays '$'."""
    errors: dict[str, str] = {}
    for p in problems:
        name = p.field[2:].split(".")[0].split("[")[0] if p.field.startswith("$.") else "$"
        errors[name] = f"{errors[name]}; {p.message}" if name in errors else p.message
    return errors
