"""`trulience`: the command line for operators and producers."""

import getpass
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import click

from trulience.catalog import characters as character_repo
from trulience.catalog import migrations
from trulience.catalog import projects as project_repo
from trulience.catalog.audit import audit_trail
from trulience.catalog.database import check_server, connect, database_url, stop_embedded
from trulience.catalog.search import search as search_catalog
from trulience.catalog.tags import Subject, tag, untag
from trulience.config import Settings, mask_url
from trulience.errors import TrulienceError
from trulience.storage import Storage

REPO = Path(__file__).resolve().parents[1]


class _Commands(click.Group):
    """Turns domain errors into one clear line and exit status 1, never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except TrulienceError as exc:
            raise click.ClickException(str(exc)) from exc


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
    from trulience.library import add_image_file, read_image_info

    data = _metadata(metadata)
    for image in images:  # refuse bad files before anything is written
        read_image_info(image)
    settings = _settings()
    with _connect(settings) as conn, conn.transaction():
        character_repo.create_character(conn, slug, name, data, project_slugs)
        for image in images:
            add_image_file(conn, _storage(settings), slug, image)
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
    """Everything the catalog knows about one character."""
    from trulience.library import character_record

    with _connect(_settings()) as conn:
        click.echo(json.dumps(character_record(conn, slug), indent=2, default=str))


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
@click.option("--limit", default=20, show_default=True)
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
@click.option("--limit", default=20, show_default=True)
def audit_command(table: str | None, actor: str | None, limit: int) -> None:
    """The newest audit-log entries: who changed what, when."""
    with _connect(_settings()) as conn:
        for e in audit_trail(conn, table=table, actor=actor, limit=limit):
            click.echo(
                f"{e.at:%Y-%m-%d %H:%M:%S} {e.actor:<28} {e.action:<6} {e.table_name}[{e.row_key}]"
            )


# -- running things -------------------------------------------------------------------


def _prepare_dagster_home(settings: Settings) -> Path:
    home = settings.effective_dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(
            "# Local Dagster instance (SQLite under this folder).\ntelemetry:\n  enabled: false\n"
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


@main.command("demo")
def demo() -> None:
    """Set up the embedded catalog, load sample characters and run the pipeline on them."""
    from trulience.demo import load_sample_library

    settings = _settings()
    click.echo(f"TRULIENCE_HOME   {settings.home}")
    url = _ensure_catalog(settings)
    click.echo(f"catalog          {mask_url(url)} (migrated)")
    with connect(url, actor="demo") as conn:
        report = load_sample_library(conn, _storage(settings))
    for line in report:
        click.echo(f"  {line}")
    click.echo("running the Dagster job 'characters' for every character ...")
    result = subprocess.run(
        [sys.executable, "-m", "trulience_assets.launch", "characters"],
        cwd=REPO,
        env=_dagster_env(settings),
        check=False,
    )
    if result.returncode != 0:
        raise click.ClickException("the demo run failed; see the output above")
    click.echo(f"""
Where to look:
  Dagster UI        make dev   (then open http://127.0.0.1:{settings.dagster_port}; runs are in
                    Runs, the character_record asset in Assets)
  character records {settings.storage_url}/characters/<slug>/character.json
  the catalog       .venv/bin/trulience characters list --project demo
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


if __name__ == "__main__":
    main()
