"""`trulience queue`: the segments running on each worker of a pool and those waiting for
one, in order, with estimates; `trulience queue priority`: reorder by a take's priority."""

import click

from trulience.cli.common import Commands, with_catalog
from trulience.progress import duration


@click.group(cls=Commands, invoke_without_command=True)
@click.option("--pool", "pool_name", default="default", show_default=True)
@click.pass_context
def queue(context: click.Context, pool_name: str) -> None:
    """The segment queue of a worker pool (running, then waiting in order)."""
    if context.invoked_subcommand is None:
        _show(pool_name)


@with_catalog
def _show(conn, pool_name: str) -> None:
    from trulience.workers import segment_queue

    status = segment_queue.queue_status(conn, pool_name)
    click.echo(f"pool {status.pool}: {len(status.running)} running, {len(status.waiting)} waiting")
    for r in status.running:
        click.echo(f"  running  {r.worker:<16} {r.purpose or r.holder}  for {duration(r.seconds)}")
    for q in status.waiting:
        w = q.request
        when = "unknown" if q.estimate_s is None else f"~{duration(q.estimate_s)}"
        click.echo(
            f"  #{w.position:<3} priority {w.priority:>4}  {w.purpose or w.holder}  "
            f"(starts in {when})"
        )


@queue.command("priority")
@click.argument("take_id", type=int)
@click.argument("priority", type=int)
@with_catalog
def queue_priority(conn, take_id: int, priority: int) -> None:
    """Set a take's priority (-100..100, higher first): its waiting segments move at once."""
    from trulience.workers import segment_queue

    segment_queue.set_take_priority(conn, take_id, priority)
    click.echo(f"take {take_id}: priority {priority}")


COMMANDS = {"queue": queue}
