"""`trulience workflows`: ComfyUI workflows (API format), versioned by content."""

import json
from pathlib import Path

import click

from trulience.cli.common import Commands, catalog, json_object, read_json_file, with_catalog


@click.group(cls=Commands)
def workflows() -> None:
    """ComfyUI workflows (API format), versioned by content."""


@workflows.command("add")
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--slots",
    "slots_text",
    required=True,
    help='JSON: {"seed_image": ["1", "image"], "frames": ["3", "length"], '
    '"video": "9", "last_frame": "11", ...}',
)
@click.option("--description", default="")
@click.option(
    "--validate-on",
    "worker",
    help="Worker name or URL whose /object_info and "
    "model lists the workflow is checked against (default: the first online worker).",
)
def workflows_add(
    name: str, file: Path, slots_text: str, description: str, worker: str | None
) -> None:
    """Register an API-format workflow with its slots, checked against a worker."""
    from trulience.generation.workflow_registry import register_workflow
    from trulience.workers import pool

    graph = read_json_file(file)
    slots = json_object(slots_text, "--slots")
    with catalog() as conn:
        url = None
        if worker and "://" in worker:
            url = worker
        elif worker:
            url = pool.get_worker(conn, worker).url
        else:
            online = [w for w in pool.list_workers(conn) if w.state == "online"]
            url = online[0].url if online else None
        registered = register_workflow(conn, name, graph, slots, description, url)
    w = registered.workflow
    checked = (
        f"validated on {registered.validated_on}"
        if registered.validated_on
        else "NOT validated (no worker online; use --validate-on)"
    )
    click.echo(f"workflow {w.name} v{w.version} ({w.sha256[:12]}), {checked}")
    for folder, filename in registered.models:
        click.echo(f"  model {folder}/{filename}")
    for warning in registered.warnings:
        click.echo(f"  warning: {warning}")


@workflows.command("show")
@click.argument("name")
@with_catalog
def workflows_show(conn, name: str) -> None:
    """A workflow's newest version: slots, models, and the scene types that use it."""
    from trulience.catalog.workflows import (
        get_workflow,
        scene_types_using,
        workflow_models,
        workflow_warnings,
    )

    w = get_workflow(conn, name)
    shown = {
        "name": w.name,
        "version": w.version,
        "sha256": w.sha256,
        "slots": w.slots,
        "nodes": len(w.graph),
        "models": [f"{f}/{n}" for f, n in workflow_models(conn, w.id)],
        "scene_types": [f"{t} v{v}" for t, v in scene_types_using(conn, name)],
        "warnings": workflow_warnings(conn, w.id),
    }
    click.echo(json.dumps(shown, indent=2))


@workflows.command("list")
@with_catalog
def workflows_list(conn) -> None:
    from trulience.catalog.workflows import list_workflows

    for w in list_workflows(conn):
        click.echo(f"{w.name:<24} v{w.version:<4} {w.sha256[:12]}  {w.description}")


COMMANDS = {"workflows": workflows}
