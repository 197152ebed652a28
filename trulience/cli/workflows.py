"""`trulience workflows`: ComfyUI workflows (API format), versioned by content; their golden
takes, regression thresholds and regression runs (PRD-65), and which versions are cleared
for production batches."""

import json
from pathlib import Path

import click

from trulience.cli.common import (
    ID,
    Commands,
    actor,
    catalog,
    json_object,
    read_json_file,
    settings,
    storage,
    with_catalog,
)


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


@workflows.group("golden", cls=Commands)
def golden() -> None:
    """Golden takes: the references a workflow's new versions are compared with."""


@golden.command("add")
@click.argument("name")
@click.argument("take_id", type=ID)
@click.option("--note", default="", help="Why this take is a good reference.")
@with_catalog
def golden_add(conn, name: str, take_id: int, note: str) -> None:
    """Make a complete take (by its id) made with workflow NAME one of its goldens."""
    from trulience.production.regression import add_golden

    g = add_golden(conn, name, take_id, actor(), note)
    approved = "approved" if g.approved else "chosen, not approved"
    click.echo(
        f"golden {g.id} of {g.workflow}: {g.character}/{g.scene_type} take {g.take} "
        f"(made with v{g.workflow_version}, {len(g.seeds)} segments, {approved})"
    )


@golden.command("list")
@click.argument("name", required=False)
@with_catalog
def golden_list(conn, name: str | None) -> None:
    """The goldens of workflow NAME (or of every workflow)."""
    from trulience.production.regression import list_goldens

    found = list_goldens(conn, name)
    for g in found:
        click.echo(
            f"{g.id:<5} {g.workflow:<24} {g.character}/{g.scene_type} take {g.take} "
            f"(scene {g.scene_id}, v{g.workflow_version}, seeds {g.seeds}) by {g.chosen_by}"
        )
    if not found:
        click.echo("no goldens")


@golden.command("remove")
@click.argument("golden_id", type=ID)
@with_catalog
def golden_remove(conn, golden_id: int) -> None:
    """Stop comparing new versions with this golden."""
    from trulience.production.regression import remove_golden

    g = remove_golden(conn, golden_id)
    click.echo(f"golden {g.id} of {g.workflow} removed")


@workflows.command("thresholds")
@click.argument("name")
@click.option("--ssim", type=float, help="Minimum mean SSIM per segment (0 < x <= 1).")
@click.option("--psnr", type=float, help="Minimum mean PSNR per segment in dB (0 < x <= 100).")
@click.option("--identity-drop", type=float, help="Maximum identity drop (0 to 1).")
@click.option("--qa-must-match/--qa-may-differ", default=None, help="Compare QA gate verdicts.")
@with_catalog
def workflows_thresholds(
    conn,
    name: str,
    ssim: float | None,
    psnr: float | None,
    identity_drop: float | None,
    qa_must_match: bool | None,
) -> None:
    """Show workflow NAME's regression thresholds, or change those given."""
    from trulience.production.regression import set_thresholds, thresholds

    if ssim is None and psnr is None and identity_drop is None and qa_must_match is None:
        t = thresholds(conn, name)
    else:
        t = set_thresholds(
            conn,
            name,
            actor(),
            min_ssim=ssim,
            min_psnr_db=psnr,
            max_identity_drop=identity_drop,
            qa_must_match=qa_must_match,
        )
    click.echo(
        f"{name}: mean SSIM >= {t.min_ssim}, mean PSNR >= {t.min_psnr_db} dB, identity drop "
        f"<= {t.max_identity_drop}, QA verdicts {'must match' if t.qa_must_match else 'ignored'}"
    )


@workflows.command("regress")
@click.argument("name")
@click.option("--version", type=click.IntRange(1), help="Version to test (default: the newest).")
def workflows_regress(name: str, version: int | None) -> None:
    """Re-run every golden of workflow NAME on a version, on the configured backend, and
    judge it; prints the report. Exit status 1 unless it passed."""
    import tempfile

    from trulience.catalog.database import database_url
    from trulience.faces import default_model_set, pack_model_set
    from trulience.production.regression import run_regression
    from trulience.workers.configured import (
        backend_for,
        closing_backend,
        register_configured_workers,
    )

    chosen = settings()

    def load_faces():
        if chosen.face_pack_dir:
            return pack_model_set(chosen.face_pack_dir, models_dir=chosen.models_dir)
        return default_model_set(chosen.models_dir)

    with catalog(chosen) as conn, tempfile.TemporaryDirectory() as work:
        register_configured_workers(conn, chosen.comfyui_workers)
        backend = backend_for(database_url(chosen), chosen.comfyui_workers, holder=actor())
        with closing_backend(backend):
            outcome = run_regression(
                conn,
                storage(chosen),
                backend,
                name,
                Path(work),
                version=version,
                requested_by=actor(),
                reason="asked on the command line",
                load_faces=load_faces,
            )
    click.echo(outcome.report, nl=False)
    click.echo(f"report: {outcome.run.report_uri}")
    if outcome.run.status != "passed":
        raise click.ClickException(
            f"regression run {outcome.run.id} of {name} v{outcome.run.version}: "
            f"{outcome.run.status}"
        )


@workflows.command("clearance")
@click.argument("name", required=False)
@with_catalog
def workflows_clearance(conn, name: str | None) -> None:
    """Which workflow versions are cleared for production batches, and why (or why not)."""
    from trulience.production.regression import clearances

    for c in clearances(conn, name):
        mark = "cleared" if c.cleared else "NOT cleared"
        click.echo(f"{c.workflow:<24} v{c.version:<4} {mark:<12} {c.note}")


COMMANDS = {"workflows": workflows}
