"""`trulience import`: bulk imports (characters from a CSV, or a legacy layout by a mapping)."""

import sys
from pathlib import Path

import click

from trulience.cli.common import Commands, catalog, settings, storage


@click.group("import", cls=Commands)
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

    chosen = settings()
    # Checking a row decodes its images: a long CSV says how far it is (on stderr).
    progress = Progress(lambda line: click.echo(line, err=True), "row")
    with catalog(chosen) as conn:
        report = import_characters(
            conn, storage(chosen), csv_file, project, dry_run, all_or_nothing, progress
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


@import_group.command("legacy")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
@click.option("--mapping", "mapping_file", required=True, type=click.Path(path_type=Path))
@click.option("--project", required=True, help="Project the characters join.")
@click.option("--dry-run", is_flag=True, help="Report what would be created; write nothing.")
def import_legacy_command(folder: Path, mapping_file: Path, project: str, dry_run: bool) -> None:
    """Onboard a legacy folder/CSV layout through a mapping file (JSON or YAML)."""
    from trulience.ingest.legacy import import_legacy

    chosen = settings()
    with catalog(chosen) as conn:
        report = import_legacy(conn, storage(chosen), folder, mapping_file, project, dry_run)
    for row in report.rows:
        click.echo(row.describe())
    invalid = len(report.invalid)
    if dry_run:
        click.echo(f"dry run: {len(report.rows) - invalid} row(s) valid, {invalid} invalid")
    else:
        click.echo(f"{report.written} character(s) created, {invalid} invalid row(s) skipped")
    if invalid:
        sys.exit(1)


COMMANDS = {"import": import_group}
