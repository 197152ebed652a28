"""`trulience models`: model files and LoRAs (register, list, remove) and their install on a
worker host (`models sync`)."""

from pathlib import Path

import click

from trulience.cli.common import Commands, catalog, settings, storage, with_catalog


@click.group(cls=Commands)
def models() -> None:
    """Checkpoints, LoRAs and other model files, and their install on worker hosts."""


@models.command("add")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--kind", required=True, help="ComfyUI model folder: checkpoints, loras, vae ...")
@click.option("--source", default="", help="Where the file came from (a URL, a vendor).")
@click.option("--name", help="File name in the folder (default: FILE's name; may hold a /).")
def models_add(file: Path, kind: str, source: str, name: str | None) -> None:
    """Store a model file and register it with its sha256 and size."""
    from trulience.workers.models import add_model

    chosen = settings()
    with catalog(chosen) as conn:
        model = add_model(conn, storage(chosen), file, kind, source=source, name=name)
    click.echo(f"model {model.ref} added: {model.size} bytes, sha256 {model.sha256}")


@models.command("list")
@click.option("--kind", help="Only this kind.")
@with_catalog
def models_list(conn, kind: str | None) -> None:
    """Registered models, the workers that have each one and the workflows that load it."""
    from trulience.workers.models import list_models, loaded_by, where_models_are

    where = where_models_are(conn)
    for m in list_models(conn, kind):
        workers = where.get((m.kind, m.name), [])
        users = loaded_by(conn, m)
        click.echo(
            f"{m.ref:<48} {m.size:>14} bytes  sha256 {m.sha256[:12]}  "
            f"on: {', '.join(workers) or 'no worker'}"
            + (f"  loaded by: {', '.join(users)}" if users else "")
            + (f"  from {m.source}" if m.source else "")
        )


@models.command("needed")
@click.argument("scene_type")
@with_catalog
def models_needed(conn, scene_type: str) -> None:
    """The model files a scene type's workflow loads: registered or not, and on which
    workers."""
    from trulience.workers.models import needed_by_scene_type

    workflow, needs = needed_by_scene_type(conn, scene_type)
    click.echo(f"scene type {scene_type} generates with {workflow}")
    for need in needs:
        click.echo(f"  {need.describe()}")
    if not needs:
        click.echo("  no model files")


@models.command("remove")
@click.argument("ref", metavar="KIND/NAME")
def models_remove(ref: str) -> None:
    """Forget a model and delete its stored file (refused while a workflow loads it)."""
    from trulience.workers.models import remove_model

    chosen = settings()
    with catalog(chosen) as conn:
        model = remove_model(conn, storage(chosen), ref)
    click.echo(f"model {model.ref} removed")


@models.command("sync")
@click.option(
    "--comfyui-root",
    required=True,
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="The folder ComfyUI runs from (models/ is under it).",
)
@click.option("--kind", "kinds", multiple=True, help="Only this kind (repeatable).")
def models_sync(comfyui_root: Path, kinds: tuple[str, ...]) -> None:
    """Install the registered models on this host, each verified by its sha256; exits 1
    when one was refused."""
    from trulience.workers.models import sync_models

    chosen = settings()
    with catalog(chosen) as conn:
        synced = sync_models(conn, storage(chosen), comfyui_root, kinds)
    for outcome in synced:
        click.echo(outcome.describe())
    refused = [s.model.ref for s in synced if s.outcome == "refused"]
    if refused:
        raise click.ClickException(f"{len(refused)} model(s) not installed: {', '.join(refused)}")
    click.echo(
        f"{len(synced)} model(s) in place under {comfyui_root / 'models'}; the pool sees them "
        "at the worker's next health check (`trulience workers check`)"
    )


COMMANDS = {"models": models}
