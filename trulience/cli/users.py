"""`trulience users`: people who log in to the apps, their sessions and shortcuts."""

import os

import click

from trulience.cli.common import ID, Commands, actor, with_catalog


@click.group(cls=Commands)
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
@with_catalog
def users_add(conn, username: str, display_name: str | None, role: str, email: str | None) -> None:
    """Create a user (the password is asked, or read from TRULIENCE_PASSWORD)."""
    from trulience.auth.users import create_user

    create_user(conn, username, display_name or username, role, _password("Password"), email)
    click.echo(f"user {username} ({role}) created")


@users.command("list")
@with_catalog
def users_list(conn) -> None:
    from trulience.catalog.users import list_users

    for u in list_users(conn):
        click.echo(
            f"{u.username:<20} {u.role:<9} {'DISABLED' if u.disabled else 'active':<8}"
            f" {u.display_name}"
        )


@users.command("passwd")
@click.argument("username")
@with_catalog
def users_passwd(conn, username: str) -> None:
    """Set a user's password (their open sessions end)."""
    from trulience.auth.users import set_password
    from trulience.catalog.users import get_user

    get_user(conn, username)  # an unknown user is not found before a password is asked
    set_password(conn, username, _password("New password"))
    click.echo(f"password of {username} changed; their sessions were ended")


@users.command("disable")
@click.argument("username")
@with_catalog
def users_disable(conn, username: str) -> None:
    """Stop a user from logging in or acting (their sessions end now)."""
    from trulience.auth.users import disable_user

    disable_user(conn, username)
    click.echo(f"user {username} disabled")


@users.command("sessions")
@click.argument("username")
@click.option("--revoke", "revoke_id", type=ID, help="End this session.")
@with_catalog
def users_sessions(conn, username: str, revoke_id: int | None) -> None:
    """A user's active sessions (PRD-98); --revoke ID ends one."""
    from trulience.auth.users import revoke_session, sessions_of

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
@with_catalog
def users_shortcuts(
    conn, username: str, preset: str | None, assignments: tuple[str, ...], reset: bool
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


@users.command("set-sensitive")
@click.argument("username")
@click.argument("choice", type=click.Choice(["blur", "show"]))
@with_catalog
def users_set_sensitive(conn, username: str, choice: str) -> None:
    """Whether USERNAME sees sensitive takes blurred until revealed (blur) or as they are."""
    from trulience.auth.acting import Operator
    from trulience.review.sensitivity import set_show_sensitive

    set_show_sensitive(conn, Operator(actor()), username, choice)
    click.echo(f"user {username}: sensitive media {'blurred' if choice == 'blur' else 'shown'}")


COMMANDS = {"users": users}
