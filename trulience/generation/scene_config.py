"""Scene types (PRD-23, 27, 100): definition with validation, versions, inheritance, and the
effective configuration a take is made with.

A scene type names a parent and overrides some of its settings; NULL means "inherit". The
effective configuration walks the chain from the root down, each level overriding the one
above; presets and params merge key by key. Editing a scene type stores a new version; a
take keeps the effective configuration it started with.
"""

import math
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import psycopg

from trulience.catalog import scene_types as repo
from trulience.catalog.character_overrides import override_for
from trulience.catalog.errors import NotFound, writing
from trulience.catalog.workflows import get_workflow, workflow_by_id
from trulience.generation.scene_definition import (
    FIELDS,
    Definition,
    InvalidSceneType,
    check_settings,
    load_file,
    parse_definition,
    placeholders,
)
from trulience.metadata import DEFAULT_SCHEMA

__all__ = [
    "FIELDS",
    "REQUIRED",
    "Definition",
    "InvalidSceneType",
    "SceneConfig",
    "apply_file",
    "check_settings",
    "define",
    "known_fields",
    "load_file",
    "parse_definition",
    "placeholders",
    "render_prompt",
    "resolve",
    "resolve_if_complete",
]

REQUIRED = ("target_duration_s", "segment_duration_s", "fps", "width", "height")


def known_fields(conn: psycopg.Connection) -> set[str]:
    """Fields a prompt may use: the character's name and slug, and every metadata field the
    studio schema or any project's schema declares."""
    known = {"name", "slug"} | set(DEFAULT_SCHEMA["properties"])
    for schema in repo.project_metadata_schemas(conn):
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
    # preview first, then the final (PRD-59; trulience/generation/resolution.py): the
    # setting ({}: none), what the take is made as, the final's size, the preview's seeds
    preview: dict[str, Any] = field(default_factory=dict)
    stage: str | None = None
    full_width: int | None = None
    full_height: int | None = None
    kept_seeds: dict[str, list[int]] = field(default_factory=dict)

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


def resolve(conn: psycopg.Connection, slug: str, character: str | None = None) -> SceneConfig:
    """The effective configuration of a scene type's newest version, parents included, and
    with `character`'s own overrides on top (PRD-108) when given. Raises InvalidSceneType
    when a required setting is set nowhere in the chain."""
    chain, lineage = _chain(conn, slug)
    merged = _merge(chain)
    if character is not None:
        merged = _overridden(conn, merged, override_for(conn, character, slug))
    _check_merged(slug, merged, lineage)
    workflow = workflow_by_id(conn, merged["workflow_id"]) if merged.get("workflow_id") else None
    own = chain[-1]
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
        preset=merged.get("preset"),
        params=merged["params"],
        preview=_preview_of(conn, slug, merged),
    )


def _preview_of(conn: psycopg.Connection, slug: str, merged: dict[str, Any]) -> dict[str, Any]:
    """The preview setting in force, its upscale workflow's version pinned (a take keeps
    the workflow version it started with); its size checked against the final's."""
    from trulience.generation.resolution import preview_size

    preview = dict(merged.get("preview") or {})
    if not preview:
        return {}
    preview_size(slug, preview, int(merged["width"]), int(merged["height"]))
    if preview.get("final") == "upscale":
        workflow = _upscale_workflow(conn, slug, preview["upscale_workflow"])
        preview |= {"upscale_workflow_version": workflow.version}
    return preview


def _upscale_workflow(conn: psycopg.Connection, slug: str, name: str) -> Any:
    try:
        return get_workflow(conn, name)
    except NotFound as exc:
        raise InvalidSceneType(
            slug,
            "preview.upscale_workflow",
            f"no workflow named {name!r}; add it with `trulience workflows add`",
        ) from exc


def _chain(conn: psycopg.Connection, slug: str) -> tuple[list[Any], tuple[str, ...]]:
    """The newest version of the scene type and of each parent, root first, and their slugs."""
    versions, slugs = [], []
    current: str | None = slug
    while current is not None:
        versions.append(repo.latest_version(conn, current))
        slugs.append(current)
        parent_id = repo.get_scene_type(conn, current).parent_id
        current = repo.scene_type_slug(conn, parent_id) if parent_id else None
    return versions[::-1], tuple(reversed(slugs))


def _merge(chain: list[Any]) -> dict[str, Any]:
    """The settings of a chain of versions (root first), each level overriding the one above;
    presets and params merge key by key."""
    merged: dict[str, Any] = {"presets": {}, "params": {}}
    for version in chain:  # root first, the scene type itself last
        for name in repo.SETTINGS:
            value = getattr(version, name)
            if value is None:
                continue
            if name in ("presets", "params"):
                merged[name] = {**merged[name], **value}
            else:
                merged[name] = value
    return merged


def _overridden(
    conn: psycopg.Connection, merged: dict[str, Any], override: dict[str, Any]
) -> dict[str, Any]:
    """`merged` with a character's overrides (definition names, as stored) on top."""
    result = dict(merged)
    for name, value in override.items():
        if name == "workflow":
            result["workflow_id"] = get_workflow(conn, value).id
        elif name in ("presets", "params"):
            result[name] = {**result[name], **value}
        elif name in ("target_duration_s", "segment_duration_s", "fps"):
            result[name] = Decimal(str(value))
        else:
            result[name] = value
    return result


def _check_merged(slug: str, merged: dict[str, Any], lineage: tuple[str, ...]) -> None:
    """Refuse an effective configuration that lacks a required setting or contradicts itself."""
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


def _to_columns(conn: psycopg.Connection, definition: Definition) -> dict[str, Any]:
    """Settings as stored: the workflow name becomes its newest version's id."""
    columns = dict(definition.settings)
    upscale = (columns.get("preview") or {}).get("upscale_workflow")
    if upscale is not None:
        _upscale_workflow(conn, definition.slug, upscale)
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


def apply_file(conn: psycopg.Connection, path: Path) -> list[tuple[str, str]]:
    """Define every scene type of a file in one transaction: all or nothing."""
    definitions = load_file(path)
    known = known_fields(conn)
    with writing(conn):
        return [(d.slug, define(conn, d, known)) for d in definitions]
