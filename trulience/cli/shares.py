"""`trulience shares`: links for outside reviewers to watch a take without an account
(PRD-84): made, listed and revoked on behalf of a reviewer or producer (`--as`)."""

import os
import re
from datetime import timedelta

import click

from trulience.cli.common import ID, Commands, settings, with_catalog

_DURATION = re.compile(r"^\s*(\d{1,6})\s*([dhm])\s*$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


class Duration(click.ParamType):
    """A span like 7d, 12h or 30m."""

    name = "duration"

    def convert(self, value, param, ctx) -> timedelta:
        if isinstance(value, timedelta):
            return value
        match = _DURATION.match(str(value))
        if match is None:
            self.fail(f"{value!r} is not a duration such as 7d, 12h or 30m", param, ctx)
        return timedelta(**{_UNITS[match[2]]: int(match[1])})


_AS = click.option(
    "--as",
    "username",
    required=True,
    envvar="TRULIENCE_USER",
    help="The reviewer or producer acting (or TRULIENCE_USER).",
)


@click.group(cls=Commands)
def shares() -> None:
    """Share links: signed, expiring, revocable links to one take for outside reviewers."""


def _user(conn, username: str):
    from trulience.catalog.users import get_user

    return get_user(conn, username)


@shares.command("create")
@click.argument("take_id", type=ID)
@click.option("--expires", type=Duration(), default="7d", show_default=True)
@click.option("--password", is_flag=True, help="Ask for a password (or TRULIENCE_SHARE_PASSWORD).")
@click.option("--comments", is_flag=True, help="Let the outside reviewer write notes.")
@click.option("--label", default="", help="Who the link is for, as the list shows it.")
@_AS
@with_catalog
def shares_create(
    conn, take_id: int, expires: timedelta, password: bool, comments: bool, label: str, username
) -> None:
    """Share take TAKE_ID (its scene id); prints the link once: it is not kept anywhere."""
    from trulience.review.share import create_share

    secret = None
    if password:
        secret = os.environ.get("TRULIENCE_SHARE_PASSWORD") or click.prompt(
            "Link password", hide_input=True, confirmation_prompt=True
        )
    link, token = create_share(
        conn,
        _user(conn, username),
        take_id,
        expires_in=expires,
        password=secret,
        allow_comments=comments,
        label=label,
    )
    click.echo(f"share link {link.id} to take {take_id} (revision {link.revision}), ", nl=False)
    click.echo(f"expires {link.expires_at:%Y-%m-%d %H:%M %Z}; shown this once:")
    click.echo(f"{settings().public_url}/share?link={token}")


@shares.command("list")
@click.option("--take", "take_id", type=ID, help="Only the links to this take (scene id).")
@_AS
@with_catalog
def shares_list(conn, take_id: int | None, username: str) -> None:
    """Share links, newest first: state, terms and how often each was used."""
    from trulience.review.share import list_shares

    for link in list_shares(conn, _user(conn, username), take_id):
        state = "revoked" if link.revoked_at else "expired" if link.expired else "active"
        terms = ",".join(
            t
            for t, on in (("password", link.has_password), ("comments", link.allow_comments))
            if on
        )
        click.echo(
            f"{link.id:>5} take {link.scene_id:<6} rev {link.revision:<3} {state:<8}"
            f" until {link.expires_at:%Y-%m-%d %H:%M}  uses {link.uses:<4}"
            f" {terms or '-':<17} {link.created_by:<12} {link.label}"
        )


@shares.command("revoke")
@click.argument("link_id", type=ID)
@_AS
@with_catalog
def shares_revoke(conn, link_id: int, username: str) -> None:
    """Revoke a link now: its page and its media URLs are refused from then on."""
    from trulience.review.share import revoke_share

    link = revoke_share(conn, _user(conn, username), link_id)
    click.echo(f"share link {link.id} revoked at {link.revoked_at:%Y-%m-%d %H:%M:%S %Z}")


COMMANDS = {"shares": shares}
