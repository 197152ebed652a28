"""`trulience storage`: the catalog's storage URIs (repath after a move)."""

import sys

import click

from trulience.cli.common import Commands, actor, catalog, settings


@click.group("storage", cls=Commands)
def storage_group() -> None:
    """Storage maintenance."""


@storage_group.command("repath")
@click.argument("old")
@click.argument("new")
@click.option("--dry-run", is_flag=True, help="Count rows and check files; write nothing.")
@click.option("--allow-missing", is_flag=True, help="Rewrite even if files are missing at NEW.")
def repath_command(old: str, new: str, dry_run: bool, allow_missing: bool) -> None:
    """Rewrite every catalog URI starting with OLD to start with NEW (files checked first)."""
    from trulience.maintenance.repath import repath

    chosen = settings()
    with catalog(chosen) as conn:
        report = repath(conn, old, new, actor(), dry_run, allow_missing, chosen.storage_options)
    for line in report.lines():
        click.echo(line)
    click.echo("dry run: nothing written" if dry_run else f"{report.total} row(s) rewritten")
    if dry_run and report.missing:
        sys.exit(1)


COMMANDS = {"storage": storage_group}
