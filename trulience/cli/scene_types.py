"""`trulience scene-types`: workflow, prompt template, durations, fps, resolution, presets."""

import json
from pathlib import Path

import click

from trulience.cli.common import Commands, actor, catalog, json_object, with_catalog


@click.group("scene-types", cls=Commands)
def scene_types_group() -> None:
    """Scene types: workflow, prompt template, durations, fps, resolution, presets."""


@scene_types_group.command("add")
@click.argument("slug")
@click.option("--name")
@click.option("--parent", help="Scene type to inherit unset settings from.")
@click.option("--workflow", help="Registered workflow name (newest version).")
@click.option(
    "--prompt", "prompt_template", help="Prompt template, e.g. '{name}, {role}, walking'."
)
@click.option("--negative", "negative_prompt")
@click.option("--duration", "target_duration_s", type=float, help="Target duration in seconds.")
@click.option("--segment", "segment_duration_s", type=float, help="Segment duration in seconds.")
@click.option("--fps", type=float)
@click.option("--width", type=int)
@click.option("--height", type=int)
@click.option("--seed-policy", type=click.Choice(["fixed", "increment", "random"]))
@click.option("--seed", type=int)
@click.option("--preset")
@click.option("--presets", help="JSON object of named parameter presets.")
@click.option("--params", help="JSON object of parameters.")
@click.option("--qa-rules", help="JSON object of QA rules.")
@click.option(
    "--preview",
    help="Make takes at a preview resolution first: a scale (0.5) or WxH (640x360), even "
    "sizes; 'off' for none. The final is made once the preview is approved.",
)
@click.option(
    "--final",
    type=click.Choice(["rerender", "upscale"]),
    help="How the final is made: re-rendered with the preview's seeds (default) or upscaled.",
)
@click.option("--upscale-workflow", help="Registered workflow that upscales each segment.")
def scene_types_add(
    slug: str,
    name: str | None,
    parent: str | None,
    presets: str | None,
    params: str | None,
    qa_rules: str | None,
    preview: str | None,
    final: str | None,
    upscale_workflow: str | None,
    **settings,
) -> None:
    """Define a scene type, or store a new version of it (only what is given is set;
    unset settings are inherited from the parent)."""
    from trulience.generation.scene_config import parse_definition

    entry = {
        "slug": slug,
        "name": name,
        "parent": parent,
        **{k: v for k, v in settings.items() if v is not None},
    }
    for key, text in (("presets", presets), ("params", params), ("qa_rules", qa_rules)):
        value = json_object(text, f"--{key.replace('_', '-')}")
        if value is not None:
            entry[key] = value
    wanted = _preview_option(preview, final, upscale_workflow)
    if wanted is not None:
        entry["preview"] = wanted
    from trulience.generation.scene_config import define
    from trulience.generation.workflow_registry import scene_type_warnings

    with catalog() as conn:
        outcome = define(conn, parse_definition(entry, slug))
        warnings = scene_type_warnings(conn, slug)
    click.echo(f"scene type {slug}: {outcome}")
    for warning in warnings:
        click.echo(f"  warning: {warning}")


def _preview_option(text: str | None, final: str | None, workflow: str | None) -> dict | None:
    """The `preview` setting from --preview (scale, WxH or off), --final, --upscale-workflow;
    the values themselves are checked with the scene type's other settings."""
    if text is None:
        if final is not None or workflow is not None:
            raise click.BadParameter("--final and --upscale-workflow need --preview", "--final")
        return None
    if text.strip().lower() == "off":
        return {}
    if "x" in text.lower():
        width, _, height = text.lower().partition("x")
        try:
            size: dict = {"width": int(width), "height": int(height)}
        except ValueError as exc:
            raise click.BadParameter(
                f"{text!r} is not WxH in whole pixels (e.g. 640x360)", param_hint="--preview"
            ) from exc
    else:
        try:
            size = {"scale": float(text)}
        except ValueError as exc:
            raise click.BadParameter(
                f"{text!r} is not a scale (e.g. 0.5), WxH (e.g. 640x360) or off",
                param_hint="--preview",
            ) from exc
    extra = {"final": final} if final else {}
    return size | extra | ({"upscale_workflow": workflow} if workflow else {})


@scene_types_group.command("apply")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_catalog
def scene_types_apply(conn, file: Path) -> None:
    """Define every scene type in a YAML or JSON file, all or nothing."""
    from trulience.generation.scene_config import apply_file
    from trulience.generation.workflow_registry import scene_type_warnings

    for slug, outcome in apply_file(conn, file):
        click.echo(f"scene type {slug}: {outcome}")
        for warning in scene_type_warnings(conn, slug):
            click.echo(f"  warning: {warning}")


@scene_types_group.command("show")
@click.argument("slug")
@with_catalog
def scene_types_show(conn, slug: str) -> None:
    """The effective configuration (inheritance resolved) and the version history."""
    from trulience.catalog.scene_type_versions import version_history
    from trulience.catalog.scene_types import get_scene_type
    from trulience.generation.scene_config import resolve

    scene_type = get_scene_type(conn, slug)
    config = resolve(conn, slug)
    versions = version_history(conn, scene_type.id)
    shown = config.to_json() | {
        "frame_plan": config.frame_plan(),
        "versions": [{"version": v.version, "created_at": str(v.created_at)} for v in versions],
    }
    click.echo(json.dumps(shown, indent=2, default=str))


@scene_types_group.command("list")
@with_catalog
def scene_types_list(conn) -> None:
    from trulience.catalog.scene_types import list_scene_types

    types = {t.id: t for t in list_scene_types(conn)}
    for t in types.values():
        parent = types[t.parent_id].slug if t.parent_id in types else "-"
        click.echo(f"{t.slug:<24} parent {parent:<20} {t.name}")


@scene_types_group.command("rate")
@click.argument("name")
@click.argument("rating", type=click.Choice(["general", "sensitive", "restricted"]))
@with_catalog
def scene_types_rate(conn, name: str, rating: str) -> None:
    """Rate a scene type's content: general, sensitive or restricted (PRD-82). Its takes
    are blurred for users who blur sensitive media unless it is general."""
    from trulience.auth.acting import Operator
    from trulience.review.sensitivity import rate

    rate(conn, Operator(actor()), "scene_type", name, rating)
    click.echo(f"scene type {name}: {rating}")


@scene_types_group.command("history")
@click.argument("slug")
@with_catalog
def scene_types_history(conn, slug: str) -> None:
    """Every version of a scene type, oldest first, with its prompt template."""
    from trulience.generation.scene_history import history

    for entry in history(conn, slug):
        click.echo(
            f"v{entry.version:<4} {entry.created_at:%Y-%m-%d %H:%M}  {entry.prompt_template}"
        )


@scene_types_group.command("diff")
@click.argument("slug")
@click.argument("old", type=int)
@click.argument("new", type=int)
@with_catalog
def scene_types_diff(conn, slug: str, old: int, new: int) -> None:
    """What changed in a scene type's own settings from version OLD to version NEW."""
    from trulience.generation.scene_history import diff

    found = diff(conn, slug, old, new)
    click.echo(found.unified() or f"{slug}: v{old} and v{new} store the same settings")


@scene_types_group.command("rollback")
@click.argument("slug")
@click.argument("version", type=int)
@with_catalog
def scene_types_rollback(conn, slug: str, version: int) -> None:
    """Store a NEW version of a scene type equal to VERSION (history is kept)."""
    from trulience.generation.scene_history import rollback

    stored = rollback(conn, slug, version)
    click.echo(f"scene type {slug}: new version {stored.version} (equal to v{version})")


COMMANDS = {"scene-types": scene_types_group}
