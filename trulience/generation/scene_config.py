"""Scene types (PRD-23, 27, 100): definition with validation, versions, inheritance, and the
effective configuration a take is made with.

A scene type names a parent and overrides some of its settings; NULL means "inherit". The
effective configuration walks the chain from the root down, each level overriding the one
above; presets and params merge key by key. Editing a scene type stores a new version; a
take keeps the effective configuration it started with.
"""

import json
import math
import string
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import psycopg
import yaml

from trulience.catalog import scene_types as repo
from trulience.catalog.errors import NotFound, writing
from trulience.catalog.workflows import get_workflow, workflow_by_id
from trulience.errors import TrulienceError
from trulience.metadata import DEFAULT_SCHEMA
from trulience.slugs import InvalidSlug, check_slug

REQUIRED = ("target_duration_s", "segment_duration_s", "fps", "width", "height")
# What a scene type definition (CLI or file) may say, besides slug, name and parent.
FIELDS = (
    "workflow",
    "prompt_template",
    "negative_prompt",
    "target_duration_s",
    "segment_duration_s",
    "fps",
    "width",
    "height",
    "seed_policy",
    "seed",
    "qa_rules",
    "presets",
    "preset",
    "params",
)
_NUMBERS = ("target_duration_s", "segment_duration_s", "fps")
_INTEGERS = ("width", "height", "seed")
_OBJECTS = ("qa_rules", "presets", "params")
_TEXTS = ("workflow", "prompt_template", "negative_prompt", "seed_policy", "preset")


class InvalidSceneType(TrulienceError):
    """A scene type definition that cannot be stored; names the scene type and field."""

    def __init__(self, scene_type: str, field: str, reason: str):
        self.scene_type, self.field, self.reason = scene_type, field, reason
        super().__init__(f"scene type {scene_type!r}, {field}: {reason}")


def placeholders(template: str, scene_type: str, field: str) -> set[str]:
    """The {names} a prompt template uses; a malformed template is refused."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise InvalidSceneType(scene_type, field, f"malformed template: {exc}") from exc
    names = set()
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise InvalidSceneType(
                scene_type, field, f"placeholder {{{name}}} must be a plain field name"
            )
        names.add(name)
    return names


def known_fields(conn: psycopg.Connection) -> set[str]:
    """Fields a prompt may use: the character's name and slug, and every metadata field the
    studio schema or any project's schema declares."""
    known = {"name", "slug"} | set(DEFAULT_SCHEMA["properties"])
    for (schema,) in conn.execute(
        "SELECT settings -> 'metadata_schema' FROM projects WHERE settings ? 'metadata_schema'"
    ):
        known |= set((schema or {}).get("properties", {}))
    return known


@dataclass(frozen=True)
class SceneConfig:
    """The effective configuration of a scene type: everything a take needs."""

    scene_type: str
    version_id: int
    version: int
    lineage: tuple[str, ...]
    target_duration_s: Decimal
    segment_duration_s: Decimal
    fps: Fraction
    width: int
    height: int
    prompt_template: str = ""
    negative_prompt: str = ""
    seed_policy: str = "increment"
    seed: int = 0
    workflow: str | None = None
    workflow_version: int | None = None
    workflow_sha256: str | None = None
    qa_rules: dict[str, Any] = field(default_factory=dict)
    presets: dict[str, Any] = field(default_factory=dict)
    preset: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def total_frames(self) -> int:
        """Frames in the finished scene: target duration x fps, exactly."""
        return round(Fraction(self.target_duration_s) * self.fps)

    @property
    def frames_per_segment(self) -> int:
        return max(1, round(Fraction(self.segment_duration_s) * self.fps))

    def frame_plan(self) -> list[int]:
        """Frames of each segment; the last one is trimmed so the total is exact."""
        total, each = self.total_frames, self.frames_per_segment
        count = math.ceil(total / each)
        return [each] * (count - 1) + [total - each * (count - 1)]

    def segment_params(self) -> dict[str, Any]:
        """The chosen preset's parameters with the scene type's own params on top."""
        return {**self.presets.get(self.preset or "", {}), **self.params}

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["target_duration_s"] = str(self.target_duration_s)
        data["segment_duration_s"] = str(self.segment_duration_s)
        data["fps"] = str(self.fps)
        data["lineage"] = list(self.lineage)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "SceneConfig":
        values = dict(data)
        values["target_duration_s"] = Decimal(values["target_duration_s"])
        values["segment_duration_s"] = Decimal(values["segment_duration_s"])
        values["fps"] = Fraction(values["fps"])
        values["lineage"] = tuple(values["lineage"])
        return cls(**values)


# The NTSC rates as every editor reads them, not as their rounded decimals.
_NTSC = {
    Decimal("23.976"): Fraction(24000, 1001),
    Decimal("29.97"): Fraction(30000, 1001),
    Decimal("59.94"): Fraction(60000, 1001),
}


def _fps(value: Decimal) -> Fraction:
    return _NTSC.get(value, Fraction(value).limit_denominator(1000))


def resolve(conn: psycopg.Connection, slug: str) -> SceneConfig:
    """The effective configuration of a scene type's newest version, parents included.
    Raises InvalidSceneType when a required setting is set nowhere in the chain."""
    chain = []
    current: str | None = slug
    while current is not None:
        chain.append(repo.latest_version(conn, current))
        parent_id = repo.get_scene_type(conn, current).parent_id
        current = (
            conn.execute("SELECT slug FROM scene_types WHERE id = %s", (parent_id,)).fetchone()[0]
            if parent_id
            else None
        )
    lineage = tuple(
        conn.execute("SELECT slug FROM scene_types WHERE id = %s", (v.scene_type_id,)).fetchone()[0]
        for v in reversed(chain)
    )
    merged: dict[str, Any] = {"presets": {}, "params": {}}
    for version in reversed(chain):  # root first, the scene type itself last
        for name in repo.SETTINGS:
            value = getattr(version, name)
            if value is None:
                continue
            if name in ("presets", "params"):
                merged[name] = {**merged[name], **value}
            else:
                merged[name] = value
    missing = [name for name in REQUIRED if merged.get(name) is None]
    if missing:
        raise InvalidSceneType(
            slug,
            ", ".join(missing),
            f"not set on the scene type nor on any parent ({' > '.join(lineage)})",
        )
    if merged["segment_duration_s"] > merged["target_duration_s"]:
        raise InvalidSceneType(
            slug,
            "segment_duration_s",
            f"{merged['segment_duration_s']} s is longer than the target "
            f"duration {merged['target_duration_s']} s",
        )
    preset = merged.get("preset")
    if preset is not None and preset not in merged["presets"]:
        raise InvalidSceneType(
            slug,
            "preset",
            f"{preset!r} is not one of the presets "
            f"({', '.join(sorted(merged['presets'])) or 'none defined'})",
        )
    workflow = workflow_by_id(conn, merged["workflow_id"]) if merged.get("workflow_id") else None
    own = chain[0]
    return SceneConfig(
        scene_type=slug,
        version_id=own.id,
        version=own.version,
        lineage=lineage,
        target_duration_s=Decimal(merged["target_duration_s"]),
        segment_duration_s=Decimal(merged["segment_duration_s"]),
        fps=_fps(Decimal(merged["fps"])),
        width=int(merged["width"]),
        height=int(merged["height"]),
        prompt_template=merged.get("prompt_template") or "",
        negative_prompt=merged.get("negative_prompt") or "",
        seed_policy=merged.get("seed_policy") or "increment",
        seed=int(merged.get("seed") or 0),
        workflow=workflow.name if workflow else None,
        workflow_version=workflow.version if workflow else None,
        workflow_sha256=workflow.sha256 if workflow else None,
        qa_rules=merged.get("qa_rules") or {},
        presets=merged["presets"],
        preset=preset,
        params=merged["params"],
    )


def render_prompt(
    template: str, name: str, slug: str, metadata: dict[str, Any]
) -> tuple[str, list[str]]:
    """The prompt for one character, and the placeholders it had no value for (left empty)."""
    values = {k: v for k, v in metadata.items() if isinstance(k, str)}
    values |= {"name": name, "slug": slug}
    missing = sorted(
        n for n in placeholders(template, "?", "prompt") if values.get(n) in (None, "")
    )
    rendered = template.format_map(
        {
            **{n: "" for n in missing},
            **{k: ", ".join(map(str, v)) if isinstance(v, list) else v for k, v in values.items()},
        }
    )
    return " ".join(rendered.split()), missing


@dataclass(frozen=True)
class Definition:
    """One scene type as a producer writes it (CLI options or an entry of a YAML file)."""

    slug: str
    name: str
    parent: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)


def parse_definition(entry: Any, where: str) -> Definition:
    """A definition from a YAML/JSON mapping, with every field's type checked."""
    if not isinstance(entry, dict):
        raise InvalidSceneType(where, "(entry)", "must be a mapping of fields")
    slug = entry.get("slug")
    if not isinstance(slug, str):
        raise InvalidSceneType(where, "slug", "is required (text)")
    try:
        check_slug(slug, "slug")
    except InvalidSlug as exc:
        raise InvalidSceneType(slug, "slug", str(exc)) from exc
    unknown = sorted(set(entry) - {"slug", "name", "parent", *FIELDS})
    if unknown:
        raise InvalidSceneType(
            slug,
            ", ".join(unknown),
            "unknown field(s); known: slug, name, parent, " + ", ".join(FIELDS),
        )
    settings = check_settings(slug, {n: entry[n] for n in FIELDS if entry.get(n) is not None})
    name = entry.get("name") or slug.replace("-", " ").capitalize()
    parent = entry.get("parent")
    if parent is not None and not isinstance(parent, str):
        raise InvalidSceneType(slug, "parent", "must be a scene type slug")
    return Definition(slug, str(name), parent, settings)


def check_settings(slug: str, settings: dict[str, Any]) -> dict[str, Any]:
    """Each setting's type and range checked, numbers as Decimal; names the field."""
    checked = {}
    for name, value in settings.items():
        if name not in FIELDS:
            raise InvalidSceneType(slug, name, "unknown setting; known: " + ", ".join(FIELDS))
        if name in _NUMBERS:
            if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
                raise InvalidSceneType(slug, name, f"must be a number, got {value!r}")
            try:
                value = Decimal(str(value))
            except ArithmeticError as exc:
                raise InvalidSceneType(slug, name, f"must be a number, got {value!r}") from exc
            if not value.is_finite() or value <= 0:
                raise InvalidSceneType(slug, name, f"must be greater than 0, got {value}")
        if name in _INTEGERS and (isinstance(value, bool) or not isinstance(value, int)):
            raise InvalidSceneType(slug, name, f"must be a whole number, got {value!r}")
        if name in ("width", "height") and (value % 2 or not 16 <= value <= 8192):
            raise InvalidSceneType(
                slug,
                name,
                f"must be an even number of pixels from 16 to "
                f"8192 (H.264 refuses odd sizes), got {value}",
            )
        if name in _OBJECTS and not isinstance(value, dict):
            raise InvalidSceneType(slug, name, f"must be a mapping, got {type(value).__name__}")
        if name in _TEXTS and not isinstance(value, str):
            raise InvalidSceneType(slug, name, f"must be text, got {value!r}")
        checked[name] = value
    if "qa_rules" in checked:
        _check_qa_rules(slug, checked["qa_rules"])
    target, segment = checked.get("target_duration_s"), checked.get("segment_duration_s")
    if target is not None and segment is not None and segment > target:
        raise InvalidSceneType(
            slug, "segment_duration_s", f"{segment} s is longer than the target duration {target} s"
        )
    return checked


def _check_qa_rules(slug: str, rules: dict[str, Any]) -> None:
    from trulience.qa.video_rules import QARules  # the video gates' own validation

    unknown = sorted(set(rules) - {"video_qa", "max_takes", "retake_params"})
    if unknown:
        raise InvalidSceneType(
            slug,
            "qa_rules",
            f"unknown key(s) {', '.join(unknown)}; "
            "known: video_qa (gate settings), max_takes, retake_params",
        )
    if not isinstance(rules.get("retake_params", {}), dict):
        raise InvalidSceneType(
            slug, "qa_rules.retake_params", "must be a mapping of parameters for retakes"
        )
    takes = rules.get("max_takes", 1)
    if isinstance(takes, bool) or not isinstance(takes, int) or not 1 <= takes <= 20:
        raise InvalidSceneType(slug, "qa_rules.max_takes", f"must be 1 to 20, got {takes!r}")
    try:
        QARules.from_config(rules.get("video_qa", {}))
    except TrulienceError as exc:
        raise InvalidSceneType(slug, "qa_rules", str(exc)) from exc


def _to_columns(conn: psycopg.Connection, definition: Definition) -> dict[str, Any]:
    """Settings as stored: the workflow name becomes its newest version's id."""
    columns = dict(definition.settings)
    workflow = columns.pop("workflow", None)
    if workflow is not None:
        try:
            columns["workflow_id"] = get_workflow(conn, workflow).id
        except NotFound as exc:
            raise InvalidSceneType(
                definition.slug,
                "workflow",
                f"no workflow named {workflow!r}; add it with `trulience workflows add`",
            ) from exc
    return columns


def _same(version: Any, columns: dict[str, Any]) -> bool:
    for name in repo.SETTINGS:
        stored, wanted = getattr(version, name), columns.get(name)
        if name == "presets":
            wanted = wanted or {}
        if isinstance(stored, Decimal) and wanted is not None:
            wanted = Decimal(str(wanted))
        if stored != wanted:
            return False
    return True


def define(conn: psycopg.Connection, definition: Definition, known: set[str] | None = None) -> str:
    """Create a scene type or store a new version of it; returns created / new version N /
    unchanged. Everything is checked first; a refused definition stores nothing."""
    known = known_fields(conn) if known is None else known
    definition = Definition(
        definition.slug,
        definition.name,
        definition.parent,
        check_settings(definition.slug, definition.settings),
    )
    for name in ("prompt_template", "negative_prompt"):
        unknown = placeholders(definition.settings.get(name) or "", definition.slug, name) - known
        if unknown:
            raise InvalidSceneType(
                definition.slug,
                name,
                "unknown placeholder(s) "
                + ", ".join("{" + u + "}" for u in sorted(unknown))
                + "; known: "
                + ", ".join(sorted(known)),
            )
    with writing(conn):
        columns = _to_columns(conn, definition)
        if definition.parent is not None:
            try:
                repo.get_scene_type(conn, definition.parent)
            except NotFound as exc:
                raise InvalidSceneType(
                    definition.slug, "parent", f"no scene type {definition.parent!r}"
                ) from exc
        try:
            current = repo.get_scene_type(conn, definition.slug)
        except NotFound:
            repo.create_scene_type(
                conn, definition.slug, definition.name, definition.parent, **columns
            )
            resolve_if_complete(conn, definition.slug)
            return "created"
        parent_id = current.parent_id
        wanted_parent = (
            repo.get_scene_type(conn, definition.parent).id if definition.parent else None
        )
        if parent_id != wanted_parent:
            repo.set_parent(conn, definition.slug, definition.parent)
        if _same(repo.latest_version(conn, definition.slug), columns):
            resolve_if_complete(conn, definition.slug)
            return "unchanged" if parent_id == wanted_parent else "new parent"
        version = repo.add_version(conn, definition.slug, **columns)
        resolve_if_complete(conn, definition.slug)
        return f"new version {version.version}"


def resolve_if_complete(conn: psycopg.Connection, slug: str) -> None:
    """Check what can be checked of the effective configuration: a scene type meant as an
    abstract parent may lack durations, but what it sets must be consistent."""
    try:
        resolve(conn, slug)
    except InvalidSceneType as exc:
        if "not set on the scene type nor on any parent" not in exc.reason:
            raise


def load_file(path: Path) -> list[Definition]:
    """Definitions from a YAML or JSON file: a list, or a mapping with `scene_types:`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InvalidSceneType(str(path), "(file)", "no such file") from exc
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InvalidSceneType(str(path), "(file)", f"not valid {path.suffix[1:]}: {exc}") from exc
    if isinstance(data, dict):
        data = data.get("scene_types")
    if not isinstance(data, list):
        raise InvalidSceneType(
            str(path), "(file)", "must hold a list of scene types (or scene_types: [...])"
        )
    definitions = [parse_definition(entry, f"{path}[{i}]") for i, entry in enumerate(data)]
    slugs = [d.slug for d in definitions]
    duplicates = sorted({s for s in slugs if slugs.count(s) > 1})
    if duplicates:
        raise InvalidSceneType(str(path), "slug", "defined twice: " + ", ".join(duplicates))
    return _parents_first(definitions)


def _parents_first(definitions: list[Definition]) -> list[Definition]:
    by_slug = {d.slug: d for d in definitions}
    ordered: list[Definition] = []
    visiting: set[str] = set()

    def visit(definition: Definition) -> None:
        if definition in ordered:
            return
        if definition.slug in visiting:
            raise InvalidSceneType(definition.slug, "parent", "the file's parents form a cycle")
        visiting.add(definition.slug)
        if definition.parent in by_slug:
            visit(by_slug[definition.parent])
        visiting.discard(definition.slug)
        ordered.append(definition)

    for definition in definitions:
        visit(definition)
    return ordered


def apply_file(conn: psycopg.Connection, path: Path) -> list[tuple[str, str]]:
    """Define every scene type of a file in one transaction: all or nothing."""
    definitions = load_file(path)
    known = known_fields(conn)
    with writing(conn):
        return [(d.slug, define(conn, d, known)) for d in definitions]
