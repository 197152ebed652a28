"""Queued batches launch themselves (PRD-93): a batch queued past its project's budget is
launched as soon as the budget allows (raised, or reserved GPU time released), highest
priority first, the same way `trulience batch release` does by hand."""

from dagster import DefaultSensorStatus, SensorEvaluationContext, SkipReason, sensor

from resources import CatalogResource
from trulience.production.batch import mark_failed, next_release
from trulience_assets.batch import launch_batch_in, retag_queued_runs


@sensor(
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "Each minute, launches every queued batch that now fits its project's budget, "
        "highest priority first; says which batches still wait and why."
    ),
)
def queued_batches_sensor(context: SensorEvaluationContext, catalog: CatalogResource):
    """Launch every queued batch that now fits its project's budget."""
    launched, failed = [], []
    while True:
        with catalog.connect(actor="dagster:queued_batches_sensor") as conn:
            ready, waiting = next_release(conn)
        if ready is None:
            break
        try:
            launch_batch_in(context.repository_def.asset_graph, catalog, context.instance, ready.id)
            launched.append(ready.id)
        except Exception as exc:  # recorded on the batch, so the next one can go
            with catalog.connect(actor="dagster:queued_batches_sensor") as conn:
                mark_failed(conn, ready.id, f"the Dagster backfill could not be created: {exc}")
            failed.append(ready.id)
    parts = [f"launched batch {i}" for i in launched] + [f"batch {i} failed" for i in failed]
    parts += [f"batch {w.batch.id} waits: {w.verdict.reason}" for w in waiting]
    return SkipReason("; ".join(parts) or "no batch is queued")


@sensor(
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "Every 30 s, gives each run still queued in Dagster its batch's priority now, so a "
        "batch reprioritised with `trulience batch priority` moves in the run queue too."
    ),
)
def run_priority_sensor(context: SensorEvaluationContext, catalog: CatalogResource):
    """Keep each queued run's dagster/priority tag at its batch's priority, so a batch
    reprioritised with `trulience batch priority` moves in Dagster's run queue too."""
    with catalog.connect(actor="dagster:run_priority_sensor") as conn:
        retagged = retag_queued_runs(context.instance, conn)
    if retagged:
        return SkipReason(f"retagged {len(retagged)} queued run(s) with their batch's priority")
    return SkipReason("every queued run has its batch's priority")
