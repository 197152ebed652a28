"""What every command shares: its settings and actor, its catalog connection, the take
arguments, option types, and domain errors turned into one clear line (exit status 1)."""

import functools
import getpass
import json
import os
from collections.abc import Callable
from pathlib import Path

import click
import psycopg

from trulience.catalog import migrations
from trulience.catalog.database import connect, database_url
from trulience.catalog.errors import NotFound
from trulience.config import Settings
from trulience.errors import TrulienceError
from trulience.storage import Storage

# Bounds checked by click, so a bad number is a usage error naming the option, not a
# database error: catalog ids are positive bigints, listings show at most this many rows.
ID = click.IntRange(1, 2**63 - 1)
LIMIT = click.IntRange(1, 10_000)


class Commands(click.Group):
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


def settings() -> Settings:
    try:
        return Settings.from_env()
    except TrulienceError as exc:
        raise click.ClickException(str(exc)) from exc


def actor() -> str:
    return os.environ.get("TRULIENCE_ACTOR") or f"cli:{getpass.getuser()}"


def catalog(chosen: Settings | None = None) -> psycopg.Connection:
    """A connection to the catalog as this CLI's actor, refused on a stale schema."""
    conn = connect(database_url(chosen or settings()), actor=actor())
    migrations.require_current(conn)
    return conn


def storage(chosen: Settings) -> Storage:
    return Storage(chosen.storage_url, chosen.storage_options)


def with_catalog(command: Callable) -> Callable:
    """Give the command its catalog connection as the first argument, for its whole run
    (committed when it returns, as `with connect(...)` does)."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        with catalog() as conn:
            return command(conn, *args, **kwargs)

    return run


_TAKE_ARGS = [click.argument("character"), click.argument("scene_type"), click.option("--project")]


def with_take_args(command: Callable) -> Callable:
    """CHARACTER SCENE_TYPE [--project P]: the arguments naming one take's cell."""
    for decorator in reversed(_TAKE_ARGS):
        command = decorator(command)
    return command


def json_object(text: str | None, hint: str, *, at_character: bool = False) -> dict | None:
    """The JSON object an option holds (None when not given), or a usage error naming it."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f" at character {exc.pos}" if at_character else ""
        raise click.BadParameter(f"not valid JSON: {exc.msg}{where}", param_hint=hint) from exc
    if not isinstance(value, dict):
        raise click.BadParameter("must be a JSON object", param_hint=hint)
    return value


def read_json_file(path: Path) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise click.ClickException(f"{path}: no such file") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(value, dict):
        raise click.ClickException(f"{path}: expected a JSON object")
    return value


def slugs(values: tuple[str, ...]) -> tuple[str, ...]:
    """Comma-separated and/or repeated option values, as one list."""
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


# The person a command acts as, where the service checks a role (assigning, writing notes).
as_user = click.option(
    "--as",
    "as_user",
    envvar="TRULIENCE_USER",
    required=True,
    metavar="USERNAME",
    help="Act as this user (checked against their role); default: $TRULIENCE_USER.",
)


def user_named(conn: psycopg.Connection, username: str):
    """The user a command acts as (NotFound: no such user)."""
    from trulience.catalog.users import get_user

    return get_user(conn, username)
