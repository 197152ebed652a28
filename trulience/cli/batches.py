"""`trulience batch`: batch production (estimated, checked against the budget, run as
one Dagster backfill); `trulience budgets`: GPU budgets per project."""

import click

from trulience.cli import pipeline
from trulience.cli.common import ID, Commands, actor, catalog, settings, slugs, with_catalog


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


@click.group(cls=Commands)
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
@click.option(
    "--override-regression",
    metavar="REASON",
    help="Use workflow versions their regression tests have not cleared, for this reason "
    "(recorded with who asked).",
)
@click.option("--dry-run", is_flag=True, help="Show the estimate and the budget's verdict only.")
def batch_create(
    project: str,
    characters: tuple[str, ...],
    scene_types: tuple[str, ...],
    priority: int,
    override_regression: str | None,
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

    chosen = settings()
    request = BatchRequest(
        project, slugs(characters), slugs(scene_types), priority, actor(), override_regression
    )
    with catalog(chosen) as conn:
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
    if not pipeline.launch_backfill(chosen, created.id):
        with catalog(chosen) as conn:
            mark_failed(conn, created.id, "the Dagster backfill could not be created")
        raise click.ClickException(f"batch {created.id} was not launched; see above")
    click.echo(f"follow it with: trulience batch status {created.id}")


@batch.command("status")
@click.argument("batch_id", type=ID, required=False)
def batch_status(batch_id: int | None) -> None:
    """A batch's takes (pending ... delivered), its Dagster backfill and runs (default:
    the newest batch)."""
    from trulience.production.batch import item_states, list_batches, refresh

    chosen = settings()
    with catalog(chosen) as conn:
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
    if b.dagster_backfill_id and not pipeline.show_backfill(chosen, b.id):
        raise click.ClickException(f"could not read batch {b.id}'s Dagster backfill")


@batch.command("list")
@click.option("--project")
@with_catalog
def batch_list(conn, project: str | None) -> None:
    """Batches, newest first."""
    from trulience.production.batch import list_batches

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

    chosen = settings()
    launched, failed = 0, 0
    while True:
        with catalog(chosen) as conn:
            ready, waiting = next_release(conn, project)
        if ready is None:
            break
        click.echo(f"batch {ready.id} ({ready.project}, priority {ready.priority}) fits: launching")
        if pipeline.launch_backfill(chosen, ready.id):
            launched += 1
        else:
            failed += 1
            with catalog(chosen) as conn:
                mark_failed(conn, ready.id, "the Dagster backfill could not be created")
    for w in waiting:
        click.echo(f"batch {w.batch.id} still waits: {w.verdict.reason}")
    click.echo(f"{launched} batch(es) launched, {len(waiting)} still queued")
    if failed:
        raise click.ClickException(f"{failed} batch(es) could not be launched; see above")


@batch.command("cancel")
@click.argument("batch_id", type=ID)
@with_catalog
def batch_cancel(conn, batch_id: int) -> None:
    """Cancel a queued batch (a running one: cancel its backfill in the Dagster UI)."""
    from trulience.production.batch import cancel_batch

    cancel_batch(conn, batch_id)
    click.echo(f"batch {batch_id} cancelled")


@batch.command("priority")
@click.argument("batch_id", type=ID)
@click.argument("priority", type=int)
@with_catalog
def batch_priority(conn, batch_id: int, priority: int) -> None:
    """Reorder a batch (-100..100, higher first): its runs still queued in Dagster and its
    segments waiting for a GPU."""
    from trulience.production.batch import set_priority

    changed = set_priority(conn, batch_id, priority)
    click.echo(f"batch {changed.id}: priority {changed.priority}")


@click.group(cls=Commands)
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
@with_catalog
def budgets_set(
    conn,
    project: str,
    gpu_hours: float,
    policy: str,
    cost_per_gpu_hour: float | None,
    currency: str,
) -> None:
    """Set a project's GPU budget (replacing the one it had)."""
    from trulience.production.budget import set_budget, standing

    set_budget(conn, project, gpu_hours, policy, cost_per_gpu_hour, currency)
    click.echo(standing(conn, project).describe())


@budgets.command("show")
@click.argument("project", required=False)
@with_catalog
def budgets_show(conn, project: str | None) -> None:
    """Where each project's budget stands: limit, used, reserved, remaining."""
    from trulience.production.budget import list_budgets, standing

    projects_shown = [project] if project else [b.project for b in list_budgets(conn)]
    for slug in projects_shown:
        click.echo(standing(conn, slug).describe())
    if not projects_shown:
        click.echo("no budgets set")


COMMANDS = {"batch": batch, "budgets": budgets}
