"""A scene type as a producer writes it (CLI options, or an entry of a YAML/JSON file):
each field's type and range checked, prompt templates parsed, a file's parents put first.
Nothing here reads the catalog; scene_config.py stores what passes."""

import json
import string
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from trulience.catalog import scene_types as repo
from trulience.errors import TrulienceError
from trulience.slugs import InvalidSlug, check_slug

# What a scene type definition (CLI or file) may say, besides slug, name and parent: the
# catalog's settings, except that a definition names its workflow (the catalog stores the id
# of the workflow's version).
FIELDS = tuple("workflow" if name == "workflow_id" else name for name in repo.SETTINGS)
_NUMBERS = ("target_duration_s", "segment_duration_s", "fps")
_INTEGERS = ("width", "height", "seed")
_OBJECTS = ("qa_rules", "presets", "params", "preview")
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
    if "preview" in checked:
        checked["preview"] = check_preview(slug, checked["preview"])
    target, segment = checked.get("target_duration_s"), checked.get("segment_duration_s")
    if target is not None and segment is not None and segment > target:
        raise InvalidSceneType(
            slug, "segment_duration_s", f"{segment} s is longer than the target duration {target} s"
        )
    return checked


FINAL_METHODS = ("rerender", "upscale")
_PREVIEW_KEYS = ("scale", "width", "height", "final", "upscale_workflow")


def check_preview(slug: str, preview: dict[str, Any]) -> dict[str, Any]:
    """The preview setting checked and spelled out: {} (no preview), or {scale} or
    {width, height}, and the final's method (`rerender`, or `upscale` naming its workflow)."""
    if not preview:
        return {}
    unknown = sorted(set(preview) - set(_PREVIEW_KEYS))
    if unknown:
        raise InvalidSceneType(
            slug,
            "preview",
            f"unknown key(s) {', '.join(unknown)}; known: {', '.join(_PREVIEW_KEYS)}",
        )
    if "scale" in preview:
        if "width" in preview or "height" in preview:
            raise InvalidSceneType(
                slug, "preview", "give either scale or width and height, not both"
            )
        checked: dict[str, Any] = {"scale": _preview_scale(slug, preview["scale"])}
    elif "width" in preview and "height" in preview:
        checked = {name: _preview_pixels(slug, name, preview[name]) for name in ("width", "height")}
    else:
        raise InvalidSceneType(slug, "preview", "needs a scale (e.g. 0.5) or both width and height")
    return checked | _final_method(slug, preview)


def _preview_scale(slug: str, scale: Any) -> float:
    """A preview scale: a number greater than 0 and at most 1."""
    if isinstance(scale, bool) or not isinstance(scale, int | float | str | Decimal):
        raise InvalidSceneType(slug, "preview.scale", f"must be a number, got {scale!r}")
    try:
        value = Decimal(str(scale))
    except ArithmeticError as exc:
        raise InvalidSceneType(slug, "preview.scale", f"must be a number, got {scale!r}") from exc
    if not value.is_finite() or not 0 < value <= 1:
        raise InvalidSceneType(
            slug, "preview.scale", f"must be greater than 0 and at most 1, got {scale}"
        )
    return float(value)


def _preview_pixels(slug: str, name: str, size: Any) -> int:
    """An explicit preview width or height: even pixels, as every size of the studio."""
    if isinstance(size, bool) or not isinstance(size, int):
        raise InvalidSceneType(slug, f"preview.{name}", f"must be a whole number, got {size!r}")
    if size % 2 or not 16 <= size <= 8192:
        raise InvalidSceneType(
            slug,
            f"preview.{name}",
            f"must be an even number of pixels from 16 to 8192 (H.264 refuses odd sizes), "
            f"got {size}",
        )
    return size


def _final_method(slug: str, preview: dict[str, Any]) -> dict[str, Any]:
    """How the final is made: `rerender` (default), or `upscale` with its workflow's name."""
    final = preview.get("final", "rerender")
    if final not in FINAL_METHODS:
        raise InvalidSceneType(
            slug, "preview.final", f"must be one of {', '.join(FINAL_METHODS)}, got {final!r}"
        )
    workflow = preview.get("upscale_workflow")
    if final == "upscale":
        if not isinstance(workflow, str) or not workflow.strip():
            raise InvalidSceneType(
                slug, "preview.upscale_workflow", "an upscaled final needs the workflow's name"
            )
        return {"final": final, "upscale_workflow": workflow}
    if workflow is not None:
        raise InvalidSceneType(
            slug, "preview.upscale_workflow", "only an upscaled final (final: upscale) names one"
        )
    return {"final": final}


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
