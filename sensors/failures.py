"""Run failures become notifications for producers (PRD-10)."""

from dagster import DefaultSensorStatus, RunFailureSensorContext, run_failure_sensor

from resources import CatalogResource
from trulience.notify import notify


@run_failure_sensor(
    default_status=DefaultSensorStatus.RUNNING,
    description="Tells producers and admins, as a notification, which run failed and why.",
)
def run_failure_notifications(context: RunFailureSensorContext, catalog: CatalogResource):
    """Tell producers and admins which run failed and why."""
    run = context.dagster_run
    reason = context.failure_event.message or "the run failed"
    with catalog.connect(actor="dagster:run_failure_notifications") as conn:
        notify(
            conn,
            "run_failed",
            {
                "run_id": run.run_id,
                "job": run.job_name,
                "partition": run.tags.get("dagster/partition"),
            },
            f"run {run.run_id[:8]} of {run.job_name} failed: {reason}",
        )
