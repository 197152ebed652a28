"""Preview resolution first, then the final (PRD-59): the preview's size from a scene type's
`preview` setting, and the configuration a take is made with as a preview and as a final.

A preview is the take at the preview size; its final is the same take at the scene type's
full size, re-rendered with the preview's seeds (or through an upscale workflow given each
preview segment). Sizes are always even: libx264 refuses odd ones.
"""

import dataclasses
from typing import Any

from trulience.generation.scene_config import SceneConfig
from trulience.generation.scene_definition import InvalidSceneType

MIN_SIZE = 16


def _even(value: float) -> int:
    """The nearest even number of pixels, at least MIN_SIZE."""
    return max(MIN_SIZE, 2 * round(value / 2))


def preview_size(slug: str, preview: dict[str, Any], width: int, height: int) -> tuple[int, int]:
    """The preview's width and height for a final of `width` x `height`; InvalidSceneType
    when an explicit size is larger than the final."""
    if "scale" in preview:
        scale = float(preview["scale"])
        return _even(width * scale), _even(height * scale)
    size = int(preview["width"]), int(preview["height"])
    for name, wanted, full in (("width", size[0], width), ("height", size[1], height)):
        if wanted > full:
            raise InvalidSceneType(
                slug,
                f"preview.{name}",
                f"{wanted} is larger than the final's {name} {full} (a preview is smaller)",
            )
    return size


def as_preview(config: SceneConfig) -> SceneConfig:
    """The configuration a new take of a previewing scene type starts with: the preview
    size, the final's size kept beside it."""
    width, height = preview_size(config.scene_type, config.preview, config.width, config.height)
    return dataclasses.replace(
        config,
        width=width,
        height=height,
        stage="preview",
        full_width=config.width,
        full_height=config.height,
    )


def as_started(config: SceneConfig) -> SceneConfig:
    """The configuration a new take (or branch) starts with: its preview when the scene type
    makes one, else the configuration as resolved."""
    return as_preview(config) if config.preview else config


def as_final(
    config: SceneConfig, seeds: dict[int, tuple[int, int]], inputs: list[str]
) -> SceneConfig:
    """The preview's configuration made final: the full size, each segment's preview seed
    kept for the final's first attempt at it (`seeds`: index -> (seed, attempt number)), so
    a re-render makes the same motion; for an upscale its workflow, given the preview
    segments' files (`inputs`, by index) in the params."""
    if config.stage != "preview" or config.full_width is None or config.full_height is None:
        raise ValueError(f"take configuration of {config.scene_type!r} is not a preview")
    final = dataclasses.replace(
        config,
        width=config.full_width,
        height=config.full_height,
        stage="final",
        kept_seeds={str(i): [seed, number] for i, (seed, number) in sorted(seeds.items())},
    )
    if config.preview.get("final") != "upscale":
        return final
    return dataclasses.replace(
        final,
        workflow=config.preview["upscale_workflow"],
        workflow_version=config.preview.get("upscale_workflow_version"),
        workflow_sha256=None,
        params={**config.params, "upscale_inputs": inputs},
    )


def kept_seed(config: SceneConfig, index: int, number: int) -> int | None:
    """The seed the preview made segment `index` with, for the final's first attempt at it
    (attempt `number`); None otherwise: a retake, or a segment a reviewer sent back later,
    gets another seed as any take's does."""
    kept = config.kept_seeds.get(str(index))
    return int(kept[0]) if kept is not None and int(kept[1]) == number else None
