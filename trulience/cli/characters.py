"""`trulience characters`: the studio library's characters, their images and readiness."""

import json
import sys
from pathlib import Path

import click

from trulience.catalog import characters as character_repo
from trulience.cli.common import (
    ID,
    Commands,
    actor,
    catalog,
    json_object,
    settings,
    storage,
    with_catalog,
)


@click.group(cls=Commands)
def characters() -> None:
    """Characters in the studio library (shared across projects)."""


@characters.command("add")
@click.argument("slug")
@click.argument("name")
@click.option("--project", "project_slugs", multiple=True, help="Project to join (repeatable).")
@click.option("--metadata", help="JSON object of character metadata.")
@click.option(
    "--image",
    "images",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Source image file (repeatable).",
)
def characters_add(
    slug: str,
    name: str,
    project_slugs: tuple[str, ...],
    metadata: str | None,
    images: tuple[Path, ...],
) -> None:
    """Add a character to the library, with its projects and source images, all or nothing."""
    from trulience.library import add_image_file
    from trulience.media.image_decode import decode_image

    data = json_object(metadata or None, "--metadata", at_character=True) or {}
    decoded = [decode_image(image, name=str(image)) for image in images]  # refuse before writing
    chosen = settings()
    with catalog(chosen) as conn, conn.transaction():
        character_repo.create_character(conn, slug, name, data, project_slugs)
        for image, pixels in zip(images, decoded, strict=True):
            add_image_file(conn, storage(chosen), slug, image, pixels)
    click.echo(f"character {slug} added with {len(images)} image(s)")


@characters.command("join")
@click.argument("slug")
@click.argument("project")
@with_catalog
def characters_join(conn, slug: str, project: str) -> None:
    """Add a library character to another project."""
    character_repo.add_to_project(conn, project, slug)
    click.echo(f"{slug} is in project {project}")


@characters.command("edit")
@click.argument("slug")
@click.argument("fields", nargs=-1, metavar="[KEY=VALUE]...")
@click.option("--unset", "unset", multiple=True, metavar="KEY", help="Remove a field.")
@click.option("--name", help="A new display name.")
@with_catalog
def characters_edit(
    conn, slug: str, fields: tuple[str, ...], unset: tuple[str, ...], name: str | None
) -> None:
    """Set (KEY=VALUE, VALUE read as JSON when it is) or remove metadata fields, or rename:
    validated against the project's schema, all or nothing, undone with `trulience undo`."""
    from trulience import edits
    from trulience.auth.acting import Operator

    changes = [edits.set_field(slug, *_field(text)) for text in fields]
    changes += [edits.unset_field(slug, key) for key in unset]
    if name is not None:
        changes.append(edits.rename(slug, name))
    if not changes:
        raise click.UsageError("name a KEY=VALUE, an --unset KEY or a --name")
    done = edits.apply(conn, Operator(actor()), changes)
    click.echo(f"{slug}: {done.label}" if done else f"{slug}: unchanged")


def _field(text: str) -> tuple[str, object]:
    """KEY=VALUE as (key, value): the value as JSON when it parses, else as text."""
    key, equals, value = text.partition("=")
    if not equals or not key:
        raise click.BadParameter(f"{text!r} is not KEY=VALUE", param_hint="KEY=VALUE")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


@characters.command("list")
@click.option("--project")
@click.option("--tag", "tag_name")
@with_catalog
def characters_list(conn, project: str | None, tag_name: str | None) -> None:
    """List library characters, optionally by project and/or tag."""
    for c in character_repo.list_characters(conn, project=project, tag=tag_name):
        click.echo(f"{c.slug:<24} {c.name}")


@characters.command("show")
@click.argument("slug")
@with_catalog
def characters_show(conn, slug: str) -> None:
    """Everything the catalog knows about one character, with its readiness."""
    from dataclasses import asdict

    from trulience.catalog.readiness import readiness
    from trulience.library import character_record

    record = character_record(conn, slug)
    state = readiness(conn, slug)
    record["readiness"] = asdict(state)
    click.echo(json.dumps(record, indent=2, default=str))


@characters.command("readiness")
@click.option("--project")
@with_catalog
def characters_readiness(conn, project: str | None) -> None:
    """One line per character: images passed, primary, identity, variants, duplicates."""
    from trulience.catalog.readiness import all_readiness

    rows = all_readiness(conn, project)
    click.echo(
        f"{'character':<20} {'images':>9} {'primary':>7} {'identity':<15} "
        f"{'variants':>8} {'dups':>4}  ready"
    )
    for r in rows:
        click.echo(
            f"{r.slug:<20} {r.images_passed:>4}/{r.images:<4} "
            f"{'yes' if r.has_primary else 'no':>7} "
            f"{','.join(r.identity_models) or '-':<15} {r.variants:>8} "
            f"{r.open_duplicates:>4}  {'yes' if r.ready else 'no'}"
        )


@characters.command("duplicates")
@click.option("--all", "include_resolved", is_flag=True, help="Include resolved ones.")
@with_catalog
def characters_duplicates(conn, include_resolved: bool) -> None:
    """Characters whose faces match another library character's."""
    from trulience.catalog.readiness import duplicate_candidates

    candidates = duplicate_candidates(conn, include_resolved)
    for d in candidates:
        click.echo(
            f"#{d.id:<5} {d.character:<20} looks like {d.other:<20} "
            f"score {d.score:.3f} ({d.model})  {d.resolution}"
        )
    if not candidates:
        click.echo("no open duplicate candidates")


@characters.command("resolve-duplicate")
@click.argument("candidate_id", type=ID)
@click.argument("resolution", type=click.Choice(["keep-both", "merge"]))
def characters_resolve_duplicate(candidate_id: int, resolution: str) -> None:
    """Settle a duplicate: keep both characters, or merge the newer into the older."""
    from trulience.catalog.readiness import resolve_duplicate

    code = {"keep-both": "keep_both", "merge": "merged"}[resolution]
    with catalog() as conn:
        resolve_duplicate(conn, candidate_id, code, actor())
    click.echo(f"duplicate #{candidate_id}: {code}")


@characters.command("set-primary")
@click.argument("slug")
@click.argument("image_name")
@click.option("--version", type=ID, help="Image version (default: the newest).")
@with_catalog
def characters_set_primary(conn, slug: str, image_name: str, version: int | None) -> None:
    """Choose a character's primary image yourself (QA will not override it)."""
    from trulience.catalog import source_images as images
    from trulience.catalog.errors import NotFound

    matching = [
        i
        for i in images.list_source_images(conn, slug)
        if i.original_name == image_name and (version is None or i.version == version)
    ]
    if not matching:
        raise NotFound("source image", f"{slug}/{image_name}")
    chosen = max(matching, key=lambda i: i.version)
    images.set_primary(conn, slug, chosen.id, by="producer")
    click.echo(f"{slug}: primary image is {chosen.original_name} v{chosen.version}")


@characters.command("contact-sheet")
@click.argument("slug")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="PNG to write."
)
def characters_contact_sheet(slug: str, out: Path) -> None:
    """A grid of the character's face sampled across all its takes."""
    import tempfile

    from trulience.faces import default_model_set
    from trulience.qa.contact_sheet import contact_sheet

    chosen = settings()
    faces = default_model_set(chosen.models_dir)
    with catalog(chosen) as conn, tempfile.TemporaryDirectory() as work:
        png, count = contact_sheet(conn, storage(chosen), faces, slug, Path(work))
    out.write_bytes(png)
    click.echo(f"{out}: {count} faces of {slug}")


@characters.command("sync-metadata")
@click.argument("slugs", nargs=-1)
@click.option(
    "--prefer",
    type=click.Choice(["catalog", "sidecar"]),
    help="Settle a conflict by taking this side.",
)
def characters_sync_metadata(slugs: tuple[str, ...], prefer: str | None) -> None:
    """Sync catalog metadata with the metadata.json sidecars on storage (all by default)."""
    from trulience.sidecar import MetadataConflict, character_schema, sync_metadata

    chosen = settings()
    conflicts = 0
    with catalog(chosen) as conn:
        names = slugs or [c.slug for c in character_repo.list_characters(conn)]
        for slug in names:
            try:
                schema = character_schema(conn, slug)
                result = sync_metadata(conn, storage(chosen), slug, schema, prefer)
                click.echo(f"{slug:<20} {result.action} (version {result.version})")
            except MetadataConflict as exc:
                conflicts += 1
                click.echo(f"{slug:<20} CONFLICT: {exc}")
    if conflicts:
        sys.exit(1)


@characters.command("rate")
@click.argument("name")
@click.argument("rating", type=click.Choice(["general", "sensitive", "restricted"]))
@with_catalog
def characters_rate(conn, name: str, rating: str) -> None:
    """Rate a character's content: general, sensitive or restricted (PRD-82). Takes of a
    character rated other than general are blurred for users who blur sensitive media."""
    from trulience.auth.acting import Operator
    from trulience.review.sensitivity import rate

    rate(conn, Operator(actor()), "character", name, rating)
    click.echo(f"character {name}: {rating}")


COMMANDS = {"characters": characters}
