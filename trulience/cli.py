"""`trulience`: the command line for operators and producers."""

import getpass
import json
import os
import shutil
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import click
import psycopg

from trulience.catalog import characters as character_repo
from trulience.catalog import migrations
from trulience.catalog import projects as project_repo
from trulience.catalog.audit import audit_trail
from trulience.catalog.database import check_server, connect, database_url, stop_embedded
from trulience.catalog.errors import NotFound
from trulience.catalog.search import search as search_catalog
from trulience.catalog.tags import Subject, tag, untag
from trulience.config import Settings, mask_url
from trulience.errors import TrulienceError
from trulience.lake.files import lake_of
from trulience.storage import Storage

REPO = Path(__file__).resolve().parents[1]
# Bounds checked by click, so a bad number is a usage error naming the option, not a
# database error: catalog ids are positive bigints, listings show at most this many rows.
_ID = click.IntRange(1, 2**63 - 1)
_LIMIT = click.IntRange(1, 10_000)


class _Commands(click.Group):
    """Turns domain errors into one clear line and exit status 1, never a traceback."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # A NUL can be neither a name in the catalog (Postgres text refuses it) nor a path.
        for arg in args:
            if "\x00" in arg:
                raise click.UsageError(f"{arg!r}: a NUL character is not allowed here", ctx)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except NotFound as exc:
            raise click.ClickException(_not_found(exc)) from exc
        except TrulienceError as exc:
            raise click.ClickException(str(exc)) from exc
        except psycopg.DataError as exc:  # a value the catalog's types cannot hold
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise click.ClickException(f"the catalog refused a value: {detail}") from exc
        except OSError as exc:  # a file named on the command line cannot be read or written
            if exc.filename is None:
                raise
            raise click.ClickException(f"{exc.filename}: {exc.strerror or exc}") from exc


def _not_found(exc: NotFound) -> str:
    """The not-found message with the names the catalog does know (when it can be asked)."""
    from trulience.catalog.names import known_names, not_found_message

    try:
        with connect(database_url(Settings.from_env())) as conn:
            known = known_names(conn, exc.entity)
    except (TrulienceError, psycopg.Error):  # the catalog is what failed: say what we can
        known = None
    return not_found_message(exc.entity, exc.key, known)


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except TrulienceError as exc:
        raise click.ClickException(str(exc)) from exc


def _actor() -> str:
    return os.environ.get("TRULIENCE_ACTOR") or f"cli:{getpass.getuser()}"


def _connect(settings: Settings):
    conn = connect(database_url(settings), actor=_actor())
    migrations.require_current(conn)
    return conn


def _storage(settings: Settings) -> Storage:
    return Storage(settings.storage_url, settings.storage_options)


@click.group(cls=_Commands)
def main() -> None:
    """Trulience Studio: character library, scene generation, review and delivery."""


@main.command("config")
def show_config() -> None:
    """Print the effective settings (secrets masked)."""
    for name, value in _settings().describe().items():
        click.echo(f"{name:<24} {value}")


# -- database -------------------------------------------------------------------------


@main.group(cls=_Commands)
def db() -> None:
    """The catalog database (embedded Postgres unless DATABASE_URL is set)."""


@db.command("url")
@click.option("--reveal", is_flag=True, help="Show the password instead of ****.")
def db_url(reveal: bool) -> None:
    """Print the catalog's connection URL (starting the embedded server if needed)."""
    url = database_url(_settings())
    click.echo(url if reveal else mask_url(url))


@db.command("migrate")
def db_migrate() -> None:
    """Apply pending migrations from sql/migrations (a no-op when up to date)."""
    url = database_url(_settings())
    version = check_server(url)
    with connect(url, actor=_actor()) as conn:
        applied = migrations.migrate(conn)
    click.echo(f"Postgres {version} at {mask_url(url)}")
    click.echo("applied: " + ", ".join(applied) if applied else "schema is up to date")


@db.command("stop")
def db_stop() -> None:
    """Stop the embedded Postgres (it otherwise keeps running for the daemon and apps)."""
    settings = _settings()
    if not settings.embedded_database:
        raise click.ClickException("DATABASE_URL is set: that server is not ours to stop")
    stopped = stop_embedded(settings.pg_dir)
    click.echo("stopped" if stopped else "was not running")


@db.command("status")
def db_status() -> None:
    """Show each migration's state: applied, pending, changed or unknown."""
    url = database_url(_settings())
    with connect(url) as conn:
        for state in migrations.status(conn):
            when = state.applied_at.isoformat(timespec="seconds") if state.applied_at else ""
            click.echo(f"{state.state:<8} {state.name:<40} {when}")


@db.command("psql", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def db_psql(args: tuple[str, ...]) -> None:
    """Open psql on the catalog (extra arguments go to psql)."""
    settings = _settings()
    url = database_url(settings)
    psql = shutil.which("psql")
    if settings.embedded_database or psql is None:
        import pgserver

        psql = str(Path(pgserver.__file__).parent / "pginstall" / "bin" / "psql")
    os.execv(psql, [psql, url, *args])


# -- library --------------------------------------------------------------------------


@main.group(cls=_Commands)
def projects() -> None:
    """Projects (productions)."""


@projects.command("add")
@click.argument("slug")
@click.argument("name")
@click.option("--description", default="")
def projects_add(slug: str, name: str, description: str) -> None:
    """Register a project."""
    with _connect(_settings()) as conn:
        project = project_repo.create_project(conn, slug, name, description)
    click.echo(f"project {project.slug} created")


@projects.command("list")
def projects_list() -> None:
    with _connect(_settings()) as conn:
        for p in project_repo.list_projects(conn):
            click.echo(f"{p.slug:<24} {p.status:<9} {p.name}")


@main.group(cls=_Commands)
def characters() -> None:
    """Characters in the studio library (shared across projects)."""


def _metadata(text: str | None) -> dict:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(
            f"not valid JSON: {exc.msg} at character {exc.pos}", param_hint="--metadata"
        ) from exc
    if not isinstance(value, dict):
        raise click.BadParameter("must be a JSON object", param_hint="--metadata")
    return value


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

    data = _metadata(metadata)
    decoded = [decode_image(image, name=str(image)) for image in images]  # refuse before writing
    settings = _settings()
    with _connect(settings) as conn, conn.transaction():
        character_repo.create_character(conn, slug, name, data, project_slugs)
        for image, pixels in zip(images, decoded, strict=True):
            add_image_file(conn, _storage(settings), slug, image, pixels)
    click.echo(f"character {slug} added with {len(images)} image(s)")


@characters.command("join")
@click.argument("slug")
@click.argument("project")
def characters_join(slug: str, project: str) -> None:
    """Add a library character to another project."""
    with _connect(_settings()) as conn:
        character_repo.add_to_project(conn, project, slug)
    click.echo(f"{slug} is in project {project}")


@characters.command("list")
@click.option("--project")
@click.option("--tag", "tag_name")
def characters_list(project: str | None, tag_name: str | None) -> None:
    """List library characters, optionally by project and/or tag."""
    with _connect(_settings()) as conn:
        for c in character_repo.list_characters(conn, project=project, tag=tag_name):
            click.echo(f"{c.slug:<24} {c.name}")


@characters.command("show")
@click.argument("slug")
def characters_show(slug: str) -> None:
    """Everything the catalog knows about one character, with its readiness."""
    from dataclasses import asdict

    from trulience.catalog.readiness import readiness
    from trulience.library import character_record

    with _connect(_settings()) as conn:
        record = character_record(conn, slug)
        state = readiness(conn, slug)
    record["readiness"] = asdict(state)
    click.echo(json.dumps(record, indent=2, default=str))


@characters.command("readiness")
@click.option("--project")
def characters_readiness(project: str | None) -> None:
    """One line per character: images passed, primary, identity, variants, duplicates."""
    from trulience.catalog.readiness import all_readiness

    with _connect(_settings()) as conn:
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
def characters_duplicates(include_resolved: bool) -> None:
    """Characters whose faces match another library character's."""
    from trulience.catalog.readiness import duplicate_candidates

    with _connect(_settings()) as conn:
        candidates = duplicate_candidates(conn, include_resolved)
    for d in candidates:
        click.echo(
            f"#{d.id:<5} {d.character:<20} looks like {d.other:<20} "
            f"score {d.score:.3f} ({d.model})  {d.resolution}"
        )
    if not candidates:
        click.echo("no open duplicate candidates")


@characters.command("resolve-duplicate")
@click.argument("candidate_id", type=_ID)
@click.argument("resolution", type=click.Choice(["keep-both", "merge"]))
def characters_resolve_duplicate(candidate_id: int, resolution: str) -> None:
    """Settle a duplicate: keep both characters, or merge the newer into the older."""
    from trulience.catalog.readiness import resolve_duplicate

    code = {"keep-both": "keep_both", "merge": "merged"}[resolution]
    with _connect(_settings()) as conn:
        resolve_duplicate(conn, candidate_id, code, _actor())
    click.echo(f"duplicate #{candidate_id}: {code}")


@characters.command("set-primary")
@click.argument("slug")
@click.argument("image_name")
@click.option("--version", type=_ID, help="Image version (default: the newest).")
def characters_set_primary(slug: str, image_name: str, version: int | None) -> None:
    """Choose a character's primary image yourself (QA will not override it)."""
    from trulience.catalog import source_images as images
    from trulience.catalog.errors import NotFound

    with _connect(_settings()) as conn:
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

    settings = _settings()
    faces = default_model_set(settings.models_dir)
    with _connect(settings) as conn, tempfile.TemporaryDirectory() as work:
        png, count = contact_sheet(conn, _storage(settings), faces, slug, Path(work))
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

    settings = _settings()
    conflicts = 0
    with _connect(settings) as conn:
        names = slugs or [c.slug for c in character_repo.list_characters(conn)]
        for slug in names:
            try:
                schema = character_schema(conn, slug)
                result = sync_metadata(conn, _storage(settings), slug, schema, prefer)
                click.echo(f"{slug:<20} {result.action} (version {result.version})")
            except MetadataConflict as exc:
                conflicts += 1
                click.echo(f"{slug:<20} CONFLICT: {exc}")
    if conflicts:
        sys.exit(1)


@main.group("scene-types", cls=_Commands)
def scene_types_group() -> None:
    """Scene types: workflow, prompt template, durations, fps, resolution, presets."""


def _json_option(text: str | None, name: str) -> dict | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not valid JSON: {exc.msg}", param_hint=name) from exc
    if not isinstance(value, dict):
        raise click.BadParameter("must be a JSON object", param_hint=name)
    return value


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
def scene_types_add(
    slug: str,
    name: str | None,
    parent: str | None,
    presets: str | None,
    params: str | None,
    qa_rules: str | None,
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
        value = _json_option(text, f"--{key.replace('_', '-')}")
        if value is not None:
            entry[key] = value
    from trulience.generation.scene_config import define
    from trulience.generation.workflow_registry import scene_type_warnings

    with _connect(_settings()) as conn:
        outcome = define(conn, parse_definition(entry, slug))
        warnings = scene_type_warnings(conn, slug)
    click.echo(f"scene type {slug}: {outcome}")
    for warning in warnings:
        click.echo(f"  warning: {warning}")


@scene_types_group.command("apply")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def scene_types_apply(file: Path) -> None:
    """Define every scene type in a YAML or JSON file, all or nothing."""
    from trulience.generation.scene_config import apply_file
    from trulience.generation.workflow_registry import scene_type_warnings

    with _connect(_settings()) as conn:
        for slug, outcome in apply_file(conn, file):
            click.echo(f"scene type {slug}: {outcome}")
            for warning in scene_type_warnings(conn, slug):
                click.echo(f"  warning: {warning}")


@scene_types_group.command("show")
@click.argument("slug")
def scene_types_show(slug: str) -> None:
    """The effective configuration (inheritance resolved) and the version history."""
    from trulience.catalog.scene_types import get_scene_type
    from trulience.generation.scene_config import resolve

    with _connect(_settings()) as conn:
        scene_type = get_scene_type(conn, slug)
        config = resolve(conn, slug)
        versions = conn.execute(
            "SELECT version, created_at FROM scene_type_versions WHERE scene_type_id = %s "
            "ORDER BY version",
            (scene_type.id,),
        ).fetchall()
    shown = config.to_json() | {
        "frame_plan": config.frame_plan(),
        "versions": [{"version": v, "created_at": str(at)} for v, at in versions],
    }
    click.echo(json.dumps(shown, indent=2, default=str))


@scene_types_group.command("list")
def scene_types_list() -> None:
    from trulience.catalog.scene_types import list_scene_types

    with _connect(_settings()) as conn:
        types = {t.id: t for t in list_scene_types(conn)}
    for t in types.values():
        parent = types[t.parent_id].slug if t.parent_id in types else "-"
        click.echo(f"{t.slug:<24} parent {parent:<20} {t.name}")


@main.group(cls=_Commands)
def workflows() -> None:
    """ComfyUI workflows (API format), versioned by content."""


def _read_json_file(path: Path) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise click.ClickException(f"{path}: no such file") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(value, dict):
        raise click.ClickException(f"{path}: expected a JSON object")
    return value


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

    graph = _read_json_file(file)
    slots = _json_option(slots_text, "--slots")
    with _connect(_settings()) as conn:
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
def workflows_show(name: str) -> None:
    """A workflow's newest version: slots, models, and the scene types that use it."""
    from trulience.catalog.workflows import (
        get_workflow,
        scene_types_using,
        workflow_models,
        workflow_warnings,
    )

    with _connect(_settings()) as conn:
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
def workflows_list() -> None:
    from trulience.catalog.workflows import list_workflows

    with _connect(_settings()) as conn:
        for w in list_workflows(conn):
            click.echo(f"{w.name:<24} v{w.version:<4} {w.sha256[:12]}  {w.description}")


@main.group(cls=_Commands)
def workers() -> None:
    """ComfyUI workers: register, check, drain, remove."""


@workers.command("add")
@click.argument("url")
@click.option("--pool", "pool_name", default="default", show_default=True)
@click.option("--slots", default=1, show_default=True, help="Prompts it may run at once.")
@click.option("--name", help="Default: made from the URL.")
def workers_add(url: str, pool_name: str, slots: int, name: str | None) -> None:
    """Register a worker and check it at once."""
    from trulience.workers import health, pool

    with _connect(_settings()) as conn:
        worker = pool.add_worker(conn, url, pool_name, slots, name)
        worker = health.check_worker(conn, worker.name)
    click.echo(
        f"worker {worker.name} ({mask_url(worker.url)}) in pool {worker.pool}: {worker.state}"
        + (f" - {worker.last_error}" if worker.last_error else "")
    )


@workers.command("list")
@click.option("--pool", "pool_name")
def workers_list(pool_name: str | None) -> None:
    from trulience.workers import pool

    with _connect(_settings()) as conn:
        for w in pool.list_workers(conn, pool_name):
            nodes = len(w.capabilities.get("node_classes", []))
            click.echo(
                f"{w.name:<24} {w.state:<9} pool {w.pool:<10} slots {w.active_leases}/"
                f"{w.slots}  "
                # checked before its first lease; until then it can run nothing we know of
                + ("not checked yet" if w.unchecked else f"{nodes} node classes")
                + ("  CATALOGUE CHANGED" if w.catalogue_drifted else "")
                + (f"  {w.failures} fault(s) in a row" if w.failures else "")
                + (f"  last error: {w.last_error}" if w.last_error else "")
            )


@workers.command("check")
@click.option("--pool", "pool_name")
def workers_check(pool_name: str | None) -> None:
    """Health-check every worker now (the worker_health sensor does this every minute)."""
    from trulience.workers import health

    with _connect(_settings()) as conn:
        for w in health.check_pool(conn, pool_name):
            click.echo(f"{w.name:<24} {w.state}" + (f" - {w.last_error}" if w.last_error else ""))


def _set_worker_state(name: str, state: str) -> None:
    from trulience.workers import pool

    with _connect(_settings()) as conn:
        worker = pool.set_state(conn, name, state)
    click.echo(f"worker {worker.name}: {worker.state} ({worker.active_leases} running)")


@workers.command("drain")
@click.argument("name")
def workers_drain(name: str) -> None:
    """Finish running segments, take no new ones."""
    _set_worker_state(name, "draining")


@workers.command("undrain")
@click.argument("name")
def workers_undrain(name: str) -> None:
    _set_worker_state(name, "online")


@workers.command("interrupt")
@click.argument("name")
def workers_interrupt(name: str) -> None:
    """Stop our takes' prompts on the worker (by prompt id; queued ones are removed) and
    cancel those takes; other clients' prompts are left alone."""
    from trulience.generation.interrupt import interrupt_worker

    with _connect(_settings()) as conn:
        stopped = interrupt_worker(conn, name, _actor())
    if not stopped:
        click.echo(f"worker {name}: no take of ours is running or queued there; nothing sent")
    for outcome in stopped:
        click.echo(outcome.describe())


@workers.command("free")
@click.argument("name")
def workers_free(name: str) -> None:
    """Ask the worker to unload models and free memory after its current prompt."""
    from trulience.generation.comfyui.client import ComfyUIClient
    from trulience.workers import pool

    with _connect(_settings()) as conn, ComfyUIClient(pool.get_worker(conn, name).url) as client:
        client.free(unload_models=True, free_memory=True)
    click.echo(f"worker {name}: models unloaded and memory freed after its current prompt")


@workers.command("remove")
@click.argument("name")
@click.option("--force", is_flag=True, help="Even while it runs segments.")
def workers_remove(name: str, force: bool) -> None:
    from trulience.workers import pool

    with _connect(_settings()) as conn:
        pool.remove_worker(conn, name, force)
    click.echo(f"worker {name} removed")


@main.command("hardware")
@click.option("--record", is_flag=True, help="Store the samples in the catalog.")
def hardware(record: bool) -> None:
    """This host's NVIDIA GPUs through NVML (or why there are none)."""
    from trulience.workers.hardware import record_samples, sample_local_gpus

    local = sample_local_gpus()
    if local.unavailable:
        click.echo(local.unavailable)
    for s in local.samples:
        click.echo(
            f"{s.device}: {s.utilization}% busy, {s.memory_used}/{s.memory_total} bytes, "
            f"{s.temperature_c} C, {s.power_w} W"
        )
    if record and local.samples:
        with _connect(_settings()) as conn:
            record_samples(conn, "local", local.samples)


@main.group(cls=_Commands)
def users() -> None:
    """People who log in to the apps, with a role: admin, producer, reviewer or viewer."""


def _password(prompt: str) -> str:
    # from the environment for scripts (TRULIENCE_PASSWORD), otherwise asked twice, hidden
    return os.environ.get("TRULIENCE_PASSWORD") or click.prompt(
        prompt, hide_input=True, confirmation_prompt=True
    )


@users.command("add")
@click.argument("username")
@click.option("--name", "display_name", help="Display name (default: the username).")
@click.option(
    "--role",
    type=click.Choice(["admin", "producer", "reviewer", "viewer"]),
    default="viewer",
    show_default=True,
)
@click.option("--email")
def users_add(username: str, display_name: str | None, role: str, email: str | None) -> None:
    """Create a user (the password is asked, or read from TRULIENCE_PASSWORD)."""
    from trulience.auth.users import create_user

    with _connect(_settings()) as conn:
        create_user(conn, username, display_name or username, role, _password("Password"), email)
    click.echo(f"user {username} ({role}) created")


@users.command("list")
def users_list() -> None:
    from trulience.catalog.users import list_users

    with _connect(_settings()) as conn:
        for u in list_users(conn):
            click.echo(
                f"{u.username:<20} {u.role:<9} {'DISABLED' if u.disabled else 'active':<8}"
                f" {u.display_name}"
            )


@users.command("passwd")
@click.argument("username")
def users_passwd(username: str) -> None:
    """Set a user's password (their open sessions end)."""
    from trulience.auth.users import set_password
    from trulience.catalog.users import get_user

    with _connect(_settings()) as conn:
        get_user(conn, username)  # an unknown user is not found before a password is asked
        set_password(conn, username, _password("New password"))
    click.echo(f"password of {username} changed; their sessions were ended")


@users.command("disable")
@click.argument("username")
def users_disable(username: str) -> None:
    """Stop a user from logging in or acting (their sessions end now)."""
    from trulience.auth.users import disable_user

    with _connect(_settings()) as conn:
        disable_user(conn, username)
    click.echo(f"user {username} disabled")


@users.command("sessions")
@click.argument("username")
@click.option("--revoke", "revoke_id", type=_ID, help="End this session.")
def users_sessions(username: str, revoke_id: int | None) -> None:
    """A user's active sessions (PRD-98); --revoke ID ends one."""
    from trulience.auth.users import revoke_session, sessions_of

    with _connect(_settings()) as conn:
        if revoke_id is not None:
            if revoke_id not in {s.id for s in sessions_of(conn, username)}:
                raise click.ClickException(f"user {username} has no session {revoke_id}")
            revoke_session(conn, revoke_id)
            click.echo(f"session {revoke_id} revoked")
            return
        for s in sessions_of(conn, username, active_only=True):
            click.echo(
                f"#{s.id:<6} since {s.created_at:%Y-%m-%d %H:%M} last seen "
                f"{s.last_seen_at:%Y-%m-%d %H:%M} expires {s.expires_at:%Y-%m-%d %H:%M}"
                f"  {s.user_agent}"
            )


@users.command("shortcuts")
@click.argument("username")
@click.option("--preset", help="Preset to work with: default, left_hand or numpad.")
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="ACTION=KEY",
    help="Rebind one action (repeatable), e.g. --set approve=k or --set play=space.",
)
@click.option("--reset", is_flag=True, help="Back to the default preset, no rebound keys.")
def users_shortcuts(
    username: str, preset: str | None, assignments: tuple[str, ...], reset: bool
) -> None:
    """A user's keyboard shortcuts in the apps (PRD-52); with options, change them first.
    Prints the effective table: each action, its key, and where the key comes from."""
    from trulience.catalog.users import get_user
    from trulience.review.shortcuts import (
        ACTIONS,
        PRESETS,
        key_label,
        parse_assignment,
        set_shortcuts,
        shortcuts_of,
    )

    with _connect(_settings()) as conn:
        if preset is not None or assignments or reset:
            rebound = dict(parse_assignment(text) for text in assignments)
            found = set_shortcuts(conn, username, preset, rebound, reset)
        else:
            found = shortcuts_of(conn, get_user(conn, username).id)
    count = len(found.overrides)
    click.echo(
        f"shortcuts of {username}: preset {found.preset}, "
        f"{count} rebound key{'' if count == 1 else 's'}"
    )
    for action, key in found.table.items():
        origin = (
            f"rebound (preset: {key_label(PRESETS[found.preset][action])})"
            if action in found.overrides
            else "preset"
        )
        click.echo(f"  {action:<8} {key_label(key):<6} {ACTIONS[action]:<18} {origin}")


@main.command("generate")
@click.argument("character")
@click.argument("scene_type")
@click.option("--project", help="Project of the take (default: the character's first).")
@click.option("--new-take", is_flag=True, help="Start another take when the newest is complete.")
def generate(character: str, scene_type: str, project: str | None, new_take: bool) -> None:
    """Generate (or resume) a take here, on the configured backend (the ComfyUI pool when
    COMFYUI_WORKERS is set, else the local preview); prints progress. Pipelines run the same
    loop as the Dagster asset `segments`."""
    import tempfile

    from trulience.generation.loop import TakeComplete, run_loop
    from trulience.progress import Progress, loop_events
    from trulience.workers.configured import configured_backend, describe_backend

    settings = _settings()
    progress = Progress(click.echo, "segment")
    with _connect(settings) as conn, tempfile.TemporaryDirectory() as work:
        backend = configured_backend(
            database_url(settings),
            settings.comfyui_workers,
            holder=_actor(),
            report=progress.note,
        )
        click.echo(f"{character}/{scene_type} on the {describe_backend(backend)}")
        try:
            result = run_loop(
                conn,
                _storage(settings),
                backend,
                character,
                scene_type,
                Path(work),
                project=project,
                events=loop_events(progress),
                new_take=new_take,
            )
        except TakeComplete as exc:  # nothing to do is not a failure
            click.echo(str(exc))
            return
    click.echo(
        f"take {result.scene.take}: {len(result.plan)} segments, {result.frames} frames"
        f" ({len(result.generated)} generated now)"
    )


@main.group(cls=_Commands)
def runs() -> None:
    """Control a take between segments: pause, resume, cancel; see its state."""


def _control(character: str, scene_type: str, project: str | None, control: str) -> None:
    from trulience.catalog.scenes import set_take_control
    from trulience.generation.loop import find_take

    with _connect(_settings()) as conn:
        take = find_take(conn, character, scene_type, project)
        set_take_control(conn, take.id, control, _actor())
    click.echo(
        f"{character}/{scene_type} take {take.take}: {control} "
        f"(the loop acts on it between segments)"
    )


_take_args = [click.argument("character"), click.argument("scene_type"), click.option("--project")]


def _with_take_args(function):
    for decorator in reversed(_take_args):
        function = decorator(function)
    return function


@runs.command("pause")
@_with_take_args
def runs_pause(character: str, scene_type: str, project: str | None) -> None:
    """Pause the take after its current segment."""
    _control(character, scene_type, project, "pause")


@runs.command("resume")
@_with_take_args
def runs_resume(character: str, scene_type: str, project: str | None) -> None:
    """Let a paused take continue."""
    _control(character, scene_type, project, "run")


@runs.command("cancel")
@_with_take_args
def runs_cancel(character: str, scene_type: str, project: str | None) -> None:
    """Stop the take after its current segment; finished segments are kept."""
    _control(character, scene_type, project, "cancel")


@runs.command("interrupt")
@_with_take_args
def runs_interrupt(character: str, scene_type: str, project: str | None) -> None:
    """Stop the take now: interrupt its running prompt (or remove it from the worker's
    queue) and cancel the take; finished segments are kept, nothing is retried."""
    from trulience.generation.interrupt import interrupt_take
    from trulience.generation.loop import find_take

    with _connect(_settings()) as conn:
        take = find_take(conn, character, scene_type, project)
        stopped = interrupt_take(conn, take.id, _actor())
    if not stopped:
        click.echo(
            f"{character}/{scene_type} take {take.take}: cancelled; no prompt of it is on a "
            "worker now, so it stops before its next segment"
        )
    for outcome in stopped:
        click.echo(outcome.describe())


@runs.command("status")
@_with_take_args
def runs_status(character: str, scene_type: str, project: str | None) -> None:
    """The take's status, control and committed segments."""
    from trulience.catalog.scenes import current_segments
    from trulience.generation.loop import find_take

    with _connect(_settings()) as conn:
        take = find_take(conn, character, scene_type, project)
        done = current_segments(conn, take.id)
    click.echo(
        f"take {take.take}: status {take.status}, control {take.control}, "
        f"segments {len(done)}/{take.planned_segments or '?'}"
        + (f", failure: {take.failure}" if take.failure else "")
    )
    for index, segment in done.items():
        click.echo(
            f"  segment {index:>3} attempt {segment.attempt} {segment.frames} frames "
            f"seed {segment.provenance.get('seed')} {segment.sha256[:12]}"
        )


@main.group("import", cls=_Commands)
def import_group() -> None:
    """Bulk imports."""


@import_group.command("characters")
@click.argument("csv_file", type=click.Path(path_type=Path))
@click.option("--project", required=True, help="Project the characters join.")
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
@click.option("--all-or-nothing", is_flag=True, help="Write nothing unless every row is valid.")
def import_characters_command(
    csv_file: Path, project: str, dry_run: bool, all_or_nothing: bool
) -> None:
    """Onboard characters from a CSV (slug, name, images; other columns are metadata)."""
    from trulience.ingest.csv_import import import_characters
    from trulience.progress import Progress

    settings = _settings()
    # Checking a row decodes its images: a long CSV says how far it is (on stderr).
    progress = Progress(lambda line: click.echo(line, err=True), "row")
    with _connect(settings) as conn:
        report = import_characters(
            conn, _storage(settings), csv_file, project, dry_run, all_or_nothing, progress
        )
    for row in report.rows:
        click.echo(row.describe())
    invalid = len(report.invalid)
    if dry_run:
        click.echo(
            f"dry run: {len(report.rows) - invalid} row(s) valid, {invalid} invalid; "
            "nothing written"
        )
    elif all_or_nothing and invalid:
        click.echo(f"{invalid} invalid row(s): nothing written (--all-or-nothing)")
    else:
        click.echo(f"{report.written} character(s) created, {invalid} invalid row(s) skipped")
    if invalid:
        sys.exit(1)


def _subject(character: str | None, project: str | None) -> Subject:
    return Subject(project=project, character=character)


@main.command("tag")
@click.argument("name")
@click.option("--character")
@click.option("--project")
@click.option("--remove", is_flag=True, help="Remove the tag instead.")
def tag_command(name: str, character: str | None, project: str | None, remove: bool) -> None:
    """Tag a character or a project (or remove a tag)."""
    with _connect(_settings()) as conn:
        if remove:
            found = untag(conn, name, _subject(character, project))
            click.echo("removed" if found else "was not tagged")
        else:
            tag(conn, name, _subject(character, project))
            click.echo(f"tagged {name}")


@main.command("search")
@click.argument("text", nargs=-1, required=True)
@click.option("--limit", type=_LIMIT, default=20, show_default=True)
def search_command(text: tuple[str, ...], limit: int) -> None:
    """Full-text search over characters and notes."""
    with _connect(_settings()) as conn:
        hits = search_catalog(conn, " ".join(text), limit)
    for hit in hits:
        click.echo(f"{hit.kind:<10} {hit.key:<24} {hit.title}")
    if not hits:
        click.echo("no matches")


@main.command("audit")
@click.option("--table")
@click.option("--actor")
@click.option("--limit", type=_LIMIT, default=20, show_default=True)
def audit_command(table: str | None, actor: str | None, limit: int) -> None:
    """The newest audit-log entries: who changed what, when."""
    with _connect(_settings()) as conn:
        for e in audit_trail(conn, table=table, actor=actor, limit=limit):
            click.echo(
                f"{e.at:%Y-%m-%d %H:%M:%S} {e.actor:<28} {e.action:<6} {e.table_name}[{e.row_key}]"
            )


# -- the reporting lake (PRD-73) ---------------------------------------------------------


@main.group(cls=_Commands)
def lake() -> None:
    """The Parquet lake of catalog and run facts that reports, notebooks and dashboards read."""


@lake.command("export")
@click.option("--catalog-only", is_flag=True, help="Only the catalog (no Dagster run facts).")
@click.option("--full", is_flag=True, help="Rewrite every fact partition, not just changed days.")
def lake_export(catalog_only: bool, full: bool) -> None:
    """Export the catalog (and, through Dagster, the run facts) to $TRULIENCE_HOME/lake."""
    from trulience.lake.catalog_export import export_catalog
    from trulience.lake.reports import as_of
    from trulience.progress import Progress

    settings = _settings()
    progress = Progress(click.echo, "dataset")  # one line per dataset written
    if catalog_only or full:
        with _connect(settings) as conn:
            export_catalog(conn, lake_of(settings), full=full, progress=progress)
    if not catalog_only:
        # Dagster's own log goes to a file; the terminal gets the job's outcome line
        log = settings.home / "logs" / "lake.log"
        progress.note(f"the Dagster lake job: changed catalog facts and run facts (log: {log})")
        if not _launch_lines(settings, log, click.echo, "job", "lake"):
            raise click.ClickException(f"the lake job failed; see {log}")
        progress.note("the lake job is done")
    stamp = as_of(lake_of(settings))[b"as_of"].decode()
    click.echo(f"lake: {lake_of(settings)}, as of {stamp}")


@main.command("report")
@click.argument("name", type=click.Choice(["production", "throughput", "failures"]))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "parquet"]),
    default="table",
    show_default=True,
)
@click.option("--project", help="Only this project.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Facts from this day (UTC).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Facts up to this day (UTC).")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (required for parquet).",
)
def report(
    name: str,
    fmt: str,
    project: str | None,
    since: datetime | None,
    until: datetime | None,
    output: Path | None,
) -> None:
    """A DuckDB report over the lake (sql/reports/NAME.sql), optionally for one project and
    a span of days."""
    from trulience.lake.reports import format_table, run_report, to_csv, write_parquet

    if fmt == "parquet" and output is None:
        raise click.UsageError("--format parquet needs --output FILE (Parquet is binary)")
    settings = _settings()
    try:
        table = run_report(
            lake_of(settings),
            name,
            project=project,
            since=since.date() if since else None,
            until=until.date() if until else None,
        )
    except TrulienceError as exc:
        raise click.ClickException(str(exc)) from exc
    if fmt == "parquet":
        write_parquet(table, output)
        click.echo(f"{table.num_rows} row(s) -> {output}")
        return
    text = format_table(table) if fmt == "table" else to_csv(table)
    if output is None:
        click.echo(text, nl=fmt == "table")
    else:
        output.write_text(text if text.endswith("\n") else text + "\n")
        click.echo(f"{table.num_rows} row(s) -> {output}")


# -- running things -------------------------------------------------------------------


def _prepare_dagster_home(settings: Settings) -> Path:
    home = settings.effective_dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(
            "# Local Dagster instance (SQLite under this folder).\n"
            "telemetry:\n  enabled: false\n"
            "# queued runs (a batch's backfill) are launched side by side, not one by one\n"
            "run_coordinator:\n"
            "  module: dagster.core.run_coordinator\n"
            "  class: QueuedRunCoordinator\n"
            "  config:\n"
            "    dequeue_use_threads: true\n"
            "    dequeue_num_workers: 4\n"
        )
    return home


def _dagster_env(settings: Settings) -> dict[str, str]:
    return os.environ | {
        "DAGSTER_HOME": str(_prepare_dagster_home(settings)),
        "TRULIENCE_HOME": str(settings.home),
    }


def _ensure_catalog(settings: Settings) -> str:
    url = database_url(settings)
    check_server(url)
    with connect(url, actor=_actor()) as conn:
        migrations.migrate(conn)
    return url


def _launch(settings: Settings, *args: str) -> bool:
    """Run Dagster work in a child process (the core imports no Dagster)."""
    command = [sys.executable, "-m", "trulience_assets.launch", *args]
    return (
        subprocess.run(command, cwd=REPO, env=_dagster_env(settings), check=False).returncode == 0
    )


def _launch_lines(settings: Settings, log: Path, on_line, *args: str) -> bool:
    """Run Dagster work in a child process, handing each line it prints to `on_line`; its
    own log (Dagster's, OpenCV's) goes to `log`, whose tail is shown only if the work fails."""
    command = [sys.executable, "-m", "trulience_assets.launch", *args]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as errors:
        start = errors.tell()
        process = subprocess.Popen(
            command,
            cwd=REPO,
            # line by line as the child prints them, not when its pipe buffer fills
            env=_dagster_env(settings) | {"PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        for line in process.stdout:
            on_line(line.rstrip())
        ok = process.wait() == 0
    if not ok:
        with log.open() as errors:
            errors.seek(start)
            tail = errors.read().splitlines()[-15:]
        click.echo("\n".join(f"    | {line}" for line in tail) + f"\n    (all of it: {log})")
    return ok


@main.command("demo")
def demo() -> None:
    """Set up the embedded catalog, drop sample characters into the inbox and run the
    pipeline on them through the inbox sensor, as a studio's drop would. The takes are made
    by the configured backend (the ComfyUI pool when COMFYUI_WORKERS is set)."""
    from trulience.catalog.readiness import all_readiness
    from trulience.demo import (
        DEMO_PROJECT,
        DEMO_REVIEWER,
        demo_takes,
        prepare_demo,
        takes_to_make,
    )
    from trulience.progress import Progress
    from trulience.samples import sample_characters
    from trulience.workers.configured import describe_configuration

    settings = _settings()
    click.echo(f"TRULIENCE_HOME   {settings.home}")
    url = _ensure_catalog(settings)
    click.echo(f"catalog          {mask_url(url)} (migrated)")
    with connect(url, actor="demo") as conn:
        for line in prepare_demo(conn, settings.inbox_dir, settings.comfyui_workers):
            click.echo(f"  {line}")
    log = settings.home / "logs" / "demo.log"
    stages = Progress(click.echo, "stage", 4)
    stages.note("stage 1 of 4: inbox sensor, importing new or changed folders and their assets")
    ok = _launch_lines(settings, log, click.echo, "sensor", "inbox_sensor")
    stages.note("stage 2 of 4: characters job, the sample characters' assets, fresh")
    samples = [a for sample in sample_characters() for a in ("--partition", sample.slug)]
    ok = _launch_lines(settings, log, click.echo, "job", "characters", *samples) and ok
    with connect(url) as conn:
        missing = takes_to_make(conn)
    if missing:
        backend = describe_configuration(settings.comfyui_workers)
        stages.note(
            f"stage 3 of 4: scenes job, the recursive loop for {len(missing)} take(s) on {backend}"
        )
        takes_done = Progress(click.echo, "take", len(missing))

        def take_done(line: str) -> None:
            if line.lstrip().startswith("scenes ["):  # one line per finished partition
                takes_done.step(takes_done.done, line.strip())
            else:
                click.echo(line)

        args = [a for key in missing for a in ("--partition", key)]
        ok = _launch_lines(settings, log, take_done, "job", "scenes", *args) and ok
    else:
        stages.note("stage 3 of 4: scenes job, every demo take is already generated")
    with connect(url) as conn:
        rows = all_readiness(conn, DEMO_PROJECT)
        takes = demo_takes(conn)
    stages.note("stage 4 of 4: lake job, the catalog and run facts as Parquet for reports")
    ok = _launch_lines(settings, log, click.echo, "job", "lake") and ok
    click.echo("\nReadiness:")
    for r in rows:
        click.echo(
            f"  {r.slug:<10} images {r.images_passed}/{r.images} passed, primary "
            f"{'yes' if r.has_primary else 'no'}, identity {','.join(r.identity_models)}"
            f", {r.variants} variants, {r.open_duplicates} open duplicates -> "
            f"{'READY' if r.ready else 'not ready'}"
        )
    click.echo("\nTakes:")
    for t in takes:
        click.echo(
            f"  {t.character:<8} {t.scene_type:<17} take {t.take}: {t.status}, {t.segments} "
            f"segments, {t.frames or 0} frames, made by {t.made_by}  -> "
            f"{mask_url(settings.storage_url)}/scenes/{DEMO_PROJECT}/"
            f"{t.character}/{t.scene_type}/take-{t.take}/"
            + ("scene.mp4 (proxy.mp4, storyboard.png beside it)" if t.status == "assembled" else "")
        )
    try:
        from trulience.lake.reports import format_table, run_report

        click.echo("\nProduction report (trulience report production):")
        click.echo(format_table(run_report(lake_of(settings), "production")))
    except TrulienceError as exc:
        click.echo(f"\nProduction report unavailable: {exc}")
        ok = False
    if not ok:
        raise click.ClickException("part of the demo failed; see the output above")
    click.echo(f"""
Where to look:
  Dagster UI        make dev   (then open http://127.0.0.1:{settings.dagster_port}: runs in Runs,
                    assets and their checks in Assets > characters)
  inbox             {settings.inbox_dir}/<project>/<character>/  (drop more folders here;
                    the inbox sensor picks them up while `make dev` runs)
  media             {mask_url(settings.storage_url)}/characters/<slug>/
  review app        make review   (then open http://127.0.0.1:5006/review and log in as
                    {DEMO_REVIEWER[0]} / {DEMO_REVIEWER[1]}: the assembled takes are in the queue)
  reports           .venv/bin/trulience report production|throughput|failures [--format csv]
                    (DuckDB over the Parquet lake in {lake_of(settings)})
  dashboards        make dashboards   (then open http://127.0.0.1:5007/dashboards)
  batches           .venv/bin/trulience batch create --project demo --characters eileen,marco
                    --scene-types look-around --dry-run   (the GPU estimate; drop --dry-run
                    with `make dev` running and the daemon makes the takes)
  notebooks         notebooks/*.py (jupytext percent format; open with Jupyter + jupytext)
  the catalog       .venv/bin/trulience characters readiness --project demo
                    .venv/bin/trulience characters show eileen
                    .venv/bin/trulience search astronaut
                    .venv/bin/trulience audit
                    .venv/bin/trulience db psql""")


@main.command("dev")
def dev() -> None:
    """Start the Dagster webserver and daemon on 127.0.0.1 (Ctrl+C stops them)."""
    settings = _settings()
    _ensure_catalog(settings)
    command = [
        sys.executable,
        "-m",
        "dagster",
        "dev",
        "-w",
        str(REPO / "workspace.yaml"),
        "-h",
        "127.0.0.1",
        "-p",
        str(settings.dagster_port),
    ]
    click.echo(f"Dagster UI: http://127.0.0.1:{settings.dagster_port}  (Ctrl+C to stop)")
    # dagster dev ignores signals when started from a shell with '&'; as our child, with
    # SIGINT reset to default, it stops cleanly on SIGINT or SIGTERM.
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env=_dagster_env(settings),
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )

    def forward(signum, _frame):
        process.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    sys.exit(process.wait())


# -- batch production -----------------------------------------------------------------


def _slugs(values: tuple[str, ...]) -> tuple[str, ...]:
    """Comma-separated and/or repeated option values, as one list."""
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


def _echo_plan(checked) -> None:
    for line in checked.estimate.describe():
        click.echo(line)
    standing = checked.verdict.standing
    click.echo(standing.describe())
    budget, estimate = standing.budget, checked.estimate
    if budget is not None and budget.cost_per_gpu_hour is not None and estimate.available:
        click.echo(
            f"estimated cost: {budget.money(estimate.gpu_seconds)} "
            f"({budget.money(estimate.low)} to {budget.money(estimate.high)})"
        )


_VERDICTS = {"launch": "launch now", "queue": "be queued", "refuse": "be refused"}


@main.group(cls=_Commands)
def batch() -> None:
    """Batch production: one take of each character x scene type of a project, estimated,
    checked against the project's GPU budget, run as one Dagster backfill (the daemon
    executes it) and followed through review to delivery."""


@batch.command("create")
@click.option("--project", required=True)
@click.option(
    "--characters", multiple=True, required=True, help="Character slugs, comma-separated."
)
@click.option(
    "--scene-types", multiple=True, required=True, help="Scene type slugs, comma-separated."
)
@click.option(
    "--priority", type=int, default=0, show_default=True, help="-100 to 100; higher runs first."
)
@click.option("--dry-run", is_flag=True, help="Show the estimate and the budget's verdict only.")
def batch_create(
    project: str,
    characters: tuple[str, ...],
    scene_types: tuple[str, ...],
    priority: int,
    dry_run: bool,
) -> None:
    """Estimate a batch, check it against the budget, then launch it as a Dagster backfill
    (or queue it, as the project's budget policy says)."""
    from trulience.production.batch import (
        BatchRefused,
        BatchRequest,
        create_batch,
        mark_failed,
        plan,
    )

    settings = _settings()
    request = BatchRequest(project, _slugs(characters), _slugs(scene_types), priority, _actor())
    with _connect(settings) as conn:
        checked = plan(conn, request)
        _echo_plan(checked)  # the estimate, before anything starts
        if dry_run:
            click.echo(
                f"dry run: the batch would {_VERDICTS[checked.verdict.decision]}; nothing stored"
            )
            return
        if checked.verdict.decision == "refuse":
            raise BatchRefused(checked.verdict.reason)
        created, final = create_batch(conn, request, checked.estimate)
    if final.verdict.decision == "queue":
        click.echo(f"batch {created.id}: {final.verdict.reason}")
        click.echo(
            "  the queued_batches_sensor (running with `make dev`) launches it once it fits;"
            " `trulience batch release` does it now"
        )
        return
    click.echo(
        f"batch {created.id}: launching a Dagster backfill of {created.items} partition(s), "
        f"priority {created.priority} ..."
    )
    if not _launch(settings, "backfill", str(created.id)):
        with _connect(settings) as conn:
            mark_failed(conn, created.id, "the Dagster backfill could not be created")
        raise click.ClickException(f"batch {created.id} was not launched; see above")
    click.echo(f"follow it with: trulience batch status {created.id}")


@batch.command("status")
@click.argument("batch_id", type=_ID, required=False)
def batch_status(batch_id: int | None) -> None:
    """A batch's takes (pending ... delivered), its Dagster backfill and runs (default:
    the newest batch)."""
    from trulience.production.batch import item_states, list_batches, refresh

    settings = _settings()
    with _connect(settings) as conn:
        if batch_id is None:
            newest = list_batches(conn)
            if not newest:
                raise click.ClickException("no batches yet")
            batch_id = newest[0].id
        b = refresh(conn, batch_id)
        items = item_states(conn, batch_id)
    click.echo(
        f"batch {b.id} of project {b.project}: {b.status}, priority {b.priority}, "
        f"{b.items} take(s), requested by {b.requested_by} at {b.created_at:%Y-%m-%d %H:%M}"
        + (f" - {b.failure}" if b.failure else "")
    )
    used = sum(float(i.gpu_seconds) for i in items)
    if b.estimate_gpu_s is not None:
        click.echo(
            f"estimate {b.estimate_gpu_s} GPU s (range {b.estimate_low_s} to "
            f"{b.estimate_high_s}); used so far {used:,.1f} GPU s"
        )
    else:
        click.echo(f"no estimate; used so far {used:,.1f} GPU s")
    counts: dict[str, int] = {}
    for item in items:
        counts[item.state] = counts.get(item.state, 0) + 1
    click.echo(
        "takes: " + ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in sorted(counts.items()))
    )
    for i in items:
        click.echo(
            f"  {i.character:<16} {i.scene_type:<20} take {i.take or '-':<3} "
            f"{i.state.replace('_', ' '):<11} {float(i.gpu_seconds):8.1f} GPU s"
            + (f"  {i.scene_failure}" if i.state == "failed" and i.scene_failure else "")
        )
    if b.dagster_backfill_id and not _launch(settings, "backfill-status", str(b.id)):
        raise click.ClickException(f"could not read batch {b.id}'s Dagster backfill")


@batch.command("list")
@click.option("--project")
def batch_list(project: str | None) -> None:
    """Batches, newest first."""
    from trulience.production.batch import list_batches

    with _connect(_settings()) as conn:
        found = list_batches(conn, project)
    for b in found:
        estimate = f"{b.estimate_gpu_s} GPU s" if b.estimate_gpu_s is not None else "-"
        click.echo(
            f"{b.id:>5} {b.project:<16} {b.status:<10} priority {b.priority:>4} "
            f"{b.items:>4} take(s)  estimate {estimate:<14} {b.created_at:%Y-%m-%d %H:%M}"
            f"  {b.dagster_backfill_id or ''}"
        )
    if not found:
        click.echo("no batches")


@batch.command("release")
@click.option("--project")
def batch_release(project: str | None) -> None:
    """Launch queued batches that now fit their project's budget, in priority order."""
    from trulience.production.batch import mark_failed, next_release

    settings = _settings()
    launched, failed = 0, 0
    while True:
        with _connect(settings) as conn:
            ready, waiting = next_release(conn, project)
        if ready is None:
            break
        click.echo(f"batch {ready.id} ({ready.project}, priority {ready.priority}) fits: launching")
        if _launch(settings, "backfill", str(ready.id)):
            launched += 1
        else:
            failed += 1
            with _connect(settings) as conn:
                mark_failed(conn, ready.id, "the Dagster backfill could not be created")
    for w in waiting:
        click.echo(f"batch {w.batch.id} still waits: {w.verdict.reason}")
    click.echo(f"{launched} batch(es) launched, {len(waiting)} still queued")
    if failed:
        raise click.ClickException(f"{failed} batch(es) could not be launched; see above")


@batch.command("cancel")
@click.argument("batch_id", type=_ID)
def batch_cancel(batch_id: int) -> None:
    """Cancel a queued batch (a running one: cancel its backfill in the Dagster UI)."""
    from trulience.production.batch import cancel_batch

    with _connect(_settings()) as conn:
        cancel_batch(conn, batch_id)
    click.echo(f"batch {batch_id} cancelled")


@main.group(cls=_Commands)
def budgets() -> None:
    """GPU budgets per project, and what happens to a batch beyond one."""


@budgets.command("set")
@click.argument("project")
@click.option("--gpu-hours", type=float, required=True, help="The project's GPU time in all.")
@click.option(
    "--policy",
    type=click.Choice(["refuse", "queue"]),
    default="refuse",
    show_default=True,
    help="A batch beyond the remaining budget is refused, or queued until it fits.",
)
@click.option("--cost-per-gpu-hour", type=float, help="For money figures next to GPU time.")
@click.option("--currency", default="USD", show_default=True)
def budgets_set(
    project: str, gpu_hours: float, policy: str, cost_per_gpu_hour: float | None, currency: str
) -> None:
    """Set a project's GPU budget (replacing the one it had)."""
    from trulience.production.budget import set_budget, standing

    with _connect(_settings()) as conn:
        set_budget(conn, project, gpu_hours, policy, cost_per_gpu_hour, currency)
        click.echo(standing(conn, project).describe())


@budgets.command("show")
@click.argument("project", required=False)
def budgets_show(project: str | None) -> None:
    """Where each project's budget stands: limit, used, reserved, remaining."""
    from trulience.production.budget import list_budgets, standing

    with _connect(_settings()) as conn:
        projects_shown = [project] if project else [b.project for b in list_budgets(conn)]
        for slug in projects_shown:
            click.echo(standing(conn, slug).describe())
    if not projects_shown:
        click.echo("no budgets set")


if __name__ == "__main__":
    main()
