"""`trulience demo` (the sample production, end to end), `trulience dev` (the Dagster UI and
daemon) and `trulience config` (the effective settings)."""

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from trulience.catalog.database import connect
from trulience.cli import pipeline, processes
from trulience.cli.common import settings
from trulience.cli.db import ensure_catalog
from trulience.config import Settings, mask_url
from trulience.errors import TrulienceError
from trulience.lake.files import lake_of

if TYPE_CHECKING:
    from trulience.progress import Progress

WHERE_TO_LOOK = """
Where to look:
  Dagster UI        make dev   (then open http://127.0.0.1:{port}: runs in Runs,
                    assets and their checks in Assets > characters)
  inbox             {inbox}/<project>/<character>/  (drop more folders here;
                    the inbox sensor picks them up while `make dev` runs)
  media             {storage}/characters/<slug>/
  the Studio        make studio   (or make review; then open http://127.0.0.1:5006/studio
                    and log in as {reviewer} / {password}: review, compare and dashboards
                    behind one login; the assembled takes are in the review queue)
  reports           .venv/bin/trulience report production|throughput|failures [--format csv]
                    (DuckDB over the Parquet lake in {lake})
  dashboards        http://127.0.0.1:5006/studio?page=dashboards   (in the Studio)
  batches           .venv/bin/trulience batch create --project demo --characters eileen,marco
                    --scene-types look-around --dry-run   (the GPU estimate; drop --dry-run
                    with `make dev` running and the daemon makes the takes)
  notebooks         make notebooks   (then open the URL it prints, with its token: JupyterLab,
                    where notebooks/*.py open as notebooks on this lake)
  the catalog       .venv/bin/trulience characters readiness --project demo
                    .venv/bin/trulience characters show eileen
                    .venv/bin/trulience search astronaut
                    .venv/bin/trulience audit
                    .venv/bin/trulience db psql"""


@click.command("config")
def show_config() -> None:
    """Print the effective settings (secrets masked)."""
    for name, value in settings().describe().items():
        click.echo(f"{name:<24} {value}")


@click.command("demo")
def demo() -> None:
    """Set up the embedded catalog, drop sample characters into the inbox and run the
    pipeline on them through the inbox sensor, as a studio's drop would. The takes are made
    by the configured backend (the ComfyUI pool when COMFYUI_WORKERS is set)."""
    chosen = settings()
    url = _prepare(chosen)
    ok, rows, takes = _run_stages(chosen, url)
    _echo_summary(chosen, rows, takes)
    ok = _echo_report(chosen) and ok
    if not ok:
        raise click.ClickException("part of the demo failed; see the output above")
    from trulience.demo import DEMO_REVIEWER

    click.echo(
        WHERE_TO_LOOK.format(
            port=chosen.dagster_port,
            inbox=chosen.inbox_dir,
            storage=mask_url(chosen.storage_url),
            reviewer=DEMO_REVIEWER[0],
            password=DEMO_REVIEWER[1],
            lake=lake_of(chosen),
        )
    )


def _prepare(chosen: Settings) -> str:
    """The migrated catalog, the demo project and the samples dropped in the inbox."""
    from trulience.demo import prepare_demo

    click.echo(f"TRULIENCE_HOME   {chosen.home}")
    url, _version, _applied = ensure_catalog(chosen)
    click.echo(f"catalog          {mask_url(url)} (migrated)")
    with connect(url, actor="demo") as conn:
        for line in prepare_demo(conn, chosen.inbox_dir, chosen.comfyui_workers):
            click.echo(f"  {line}")
    return url


def _run_stages(chosen: Settings, url: str) -> tuple[bool, list, list]:
    """The four stages, each in this process with its stderr in logs/demo.log; then the
    readiness and the takes as the lake stage will export them."""
    from trulience.catalog.readiness import all_readiness
    from trulience.demo import DEMO_PROJECT, demo_takes
    from trulience.progress import Progress
    from trulience.samples import sample_characters

    log = chosen.home / "logs" / "demo.log"
    stages = Progress(click.echo, "stage", 4)
    stages.note("stage 1 of 4: inbox sensor, importing new or changed folders and their assets")
    ok = pipeline.logged(log, lambda: pipeline.run_sensor(chosen, "inbox_sensor"))
    stages.note("stage 2 of 4: characters job, the sample characters' assets, fresh")
    samples = [sample.slug for sample in sample_characters()]
    ok = pipeline.logged(log, lambda: pipeline.run_job(chosen, "characters", samples)) and ok
    ok = _make_takes(chosen, url, log, stages) and ok
    with connect(url) as conn:
        rows = all_readiness(conn, DEMO_PROJECT)
        takes = demo_takes(conn)
    stages.note("stage 4 of 4: lake job, the catalog and run facts as Parquet for reports")
    ok = pipeline.logged(log, lambda: pipeline.run_job(chosen, "lake")) and ok
    return ok, rows, takes


def _make_takes(chosen: Settings, url: str, log: Path, stages: "Progress") -> bool:
    """Stage 3: the scenes job for the demo's takes not made yet, a progress line per take."""
    from trulience.demo import takes_to_make
    from trulience.progress import Progress
    from trulience.workers.configured import describe_configuration

    with connect(url) as conn:
        missing = takes_to_make(conn)
    if not missing:
        stages.note("stage 3 of 4: scenes job, every demo take is already generated")
        return True
    backend = describe_configuration(chosen.comfyui_workers)
    stages.note(
        f"stage 3 of 4: scenes job, the recursive loop for {len(missing)} take(s) on {backend}"
    )
    takes_done = Progress(click.echo, "take", len(missing))

    def take_done(outcome) -> None:  # one line per finished partition
        takes_done.step(takes_done.done, pipeline.run_line(outcome).strip())

    return pipeline.logged(log, lambda: pipeline.run_job(chosen, "scenes", missing, take_done))


def _echo_summary(chosen: Settings, rows: list, takes: list) -> None:
    from trulience.demo import DEMO_PROJECT

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
            f"{mask_url(chosen.storage_url)}/scenes/{DEMO_PROJECT}/"
            f"{t.character}/{t.scene_type}/take-{t.take}/"
            + ("scene.mp4 (proxy.mp4, storyboard.png beside it)" if t.status == "assembled" else "")
        )


def _echo_report(chosen: Settings) -> bool:
    """The production report over the lake the demo just exported; False when unavailable."""
    try:
        from trulience.lake.reports import format_table, run_report

        click.echo("\nProduction report (trulience report production):")
        click.echo(format_table(run_report(lake_of(chosen), "production")))
    except TrulienceError as exc:
        click.echo(f"\nProduction report unavailable: {exc}")
        return False
    return True


@click.command("dev")
def dev() -> None:
    """Start the Dagster webserver and daemon on 127.0.0.1 (Ctrl+C stops them)."""
    chosen = settings()
    ensure_catalog(chosen)
    click.echo(f"Dagster UI: http://127.0.0.1:{chosen.dagster_port}  (Ctrl+C to stop)")
    sys.exit(processes.dagster_dev(chosen))


COMMANDS = {"config": show_config, "demo": demo, "dev": dev}
