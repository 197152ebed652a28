"""`trulience lake`: the Parquet lake of catalog and run facts; `trulience report`: a
DuckDB report over it."""

from datetime import datetime
from pathlib import Path

import click

from trulience.cli import pipeline
from trulience.cli.common import ID, Commands, catalog, settings, storage
from trulience.errors import TrulienceError
from trulience.lake.files import lake_of


@click.group(cls=Commands)
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

    chosen = settings()
    progress = Progress(click.echo, "dataset")  # one line per dataset written
    if catalog_only or full:
        with catalog(chosen) as conn:
            export_catalog(conn, lake_of(chosen), full=full, progress=progress)
    if not catalog_only:
        # Dagster's own log goes to a file; the terminal gets the job's outcome line
        log = chosen.home / "logs" / "lake.log"
        progress.note(f"the Dagster lake job: changed catalog facts and run facts (log: {log})")
        if not pipeline.logged(log, lambda: pipeline.run_job(chosen, "lake")):
            raise click.ClickException(f"the lake job failed; see {log}")
        progress.note("the lake job is done")
    stamp = as_of(lake_of(chosen))[b"as_of"].decode()
    click.echo(f"lake: {lake_of(chosen)}, as of {stamp}")


@lake.command("consistency")
@click.argument("character")
@click.option(
    "--project",
    help="Only this project's takes (the outliers are still judged "
    "against all the character's takes).",
)
def lake_consistency(character: str, project: str | None) -> None:
    """CHARACTER's identity take by take across all its scenes, outliers flagged (PRD-94)."""
    from trulience.lake.consistency import character_consistency
    from trulience.lake.reports import format_table

    try:
        table = character_consistency(lake_of(settings()), character, project)
    except TrulienceError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(format_table(table))


def _scene_ids(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[int]:
    """`--takes 3,4 --takes 7`: the scene ids named, in order."""
    ids = []
    for value in values:
        for part in filter(None, (p.strip() for p in value.split(","))):
            ids.append(ID.convert(part, param, ctx))
    if not ids:
        raise click.BadParameter("name at least one take (its scene id)", ctx, param)
    return ids


@lake.command("dataset")
@click.option(
    "--takes",
    multiple=True,
    required=True,
    callback=_scene_ids,
    help="Scene ids of the takes, comma-separated or repeated.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="A new (or empty) folder to write the dataset into.",
)
@click.option(
    "--every",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Keep every Nth frame.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["png", "jpeg"]),
    default="png",
    show_default=True,
    help="Image format of the frames.",
)
def lake_dataset(takes: list[int], out: Path, every: int, fmt: str) -> None:
    """Frames of chosen takes as image files, with per-frame metadata (take, segment,
    frame, time, identity, QA, provenance) in OUT/frames.parquet."""
    from trulience.lake.datasets import FRAMES_PARQUET, export_dataset

    chosen = settings()
    with catalog(chosen) as conn:
        done = export_dataset(conn, storage(chosen), takes, out, every=every, image_format=fmt)
    click.echo(
        f"dataset: {done.frames} frame(s) of {done.takes} take(s) -> {done.directory} "
        f"(metadata: {done.directory / FRAMES_PARQUET})"
    )


@click.command("report")
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
    chosen = settings()
    try:
        table = run_report(
            lake_of(chosen),
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


COMMANDS = {"lake": lake, "report": report}
