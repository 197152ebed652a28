"""`trulience tag`, `search`, `audit` and `library replace`: tags, full-text search, the audit
log and search/replace in character metadata."""

import sys

import click

from trulience.catalog.audit import audit_trail
from trulience.catalog.search import search as search_catalog
from trulience.catalog.tags import Subject, tag, untag
from trulience.cli.common import LIMIT, Commands, actor, slugs, with_catalog


def _subject(character: str | None, project: str | None) -> Subject:
    return Subject(project=project, character=character)


@click.command("tag")
@click.argument("name")
@click.option("--character")
@click.option("--project")
@click.option("--remove", is_flag=True, help="Remove the tag instead.")
@with_catalog
def tag_command(conn, name: str, character: str | None, project: str | None, remove: bool) -> None:
    """Tag a character or a project (or remove a tag); a character's tag is undoable."""
    if character is not None and project is None:
        from trulience.auth.acting import Operator
        from trulience.edits import add_tag, apply, remove_tag

        edit = (remove_tag if remove else add_tag)(character, name)
        done = apply(conn, Operator(actor()), [edit])
        if remove:
            click.echo("removed" if done else "was not tagged")
        else:
            click.echo(f"tagged {name}")
        return
    if remove:
        found = untag(conn, name, _subject(character, project))
        click.echo("removed" if found else "was not tagged")
    else:
        tag(conn, name, _subject(character, project))
        click.echo(f"tagged {name}")


@click.command("search")
@click.argument("text", nargs=-1, required=True)
@click.option("--limit", type=LIMIT, default=20, show_default=True)
@with_catalog
def search_command(conn, text: tuple[str, ...], limit: int) -> None:
    """Full-text search over characters and notes."""
    hits = search_catalog(conn, " ".join(text), limit)
    for hit in hits:
        click.echo(f"{hit.kind:<10} {hit.key:<24} {hit.title}")
    if not hits:
        click.echo("no matches")


@click.command("audit")
@click.option("--table")
@click.option("--actor")
@click.option("--limit", type=LIMIT, default=20, show_default=True)
@with_catalog
def audit_command(conn, table: str | None, actor: str | None, limit: int) -> None:
    """The newest audit-log entries: who changed what, when."""
    for e in audit_trail(conn, table=table, actor=actor, limit=limit):
        click.echo(
            f"{e.at:%Y-%m-%d %H:%M:%S} {e.actor:<28} {e.action:<6} {e.table_name}[{e.row_key}]"
        )


@click.group("library", cls=Commands)
def library_group() -> None:
    """Bulk maintenance of the character library."""


@library_group.command("replace")
@click.argument("find")
@click.argument("replace")
@click.option("--field", "field_name", help="Only this metadata field (default: every field).")
@click.option("--regex", is_flag=True, help="FIND is a regular expression (REPLACE may use \\1).")
@click.option("--project", help="Only characters of this project.")
@click.option("--tag", help="Only characters carrying this tag.")
@click.option("--character", "characters", multiple=True, help="Only these slugs (repeatable).")
@click.option("--dry-run", is_flag=True, help="Report before → after; write nothing.")
@with_catalog
def replace_command(
    conn,
    find: str,
    replace: str,
    field_name: str | None,
    regex: bool,
    project: str | None,
    tag: str | None,
    characters: tuple[str, ...],
    dry_run: bool,
) -> None:
    """Replace FIND by REPLACE in character metadata (dry run first; one audited transaction)."""
    from trulience.maintenance.replace import replace_in_metadata

    chosen = slugs(characters) or None
    report = replace_in_metadata(
        conn, find, replace, actor(), field_name, regex, project, tag, chosen, dry_run
    )
    for line in report.lines():
        click.echo(line)
    if dry_run:
        click.echo("dry run: nothing written")
    if report.refused:
        sys.exit(1)


COMMANDS = {
    "tag": tag_command,
    "search": search_command,
    "audit": audit_command,
    "library": library_group,
}
