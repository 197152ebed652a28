"""Workflow regressions come due (PRD-65): a workflow with golden takes that gets a new
version, or whose version in use loads a model file registered anew (its checksum changed),
has no regression run on its current model set; this sensor requests the `regression` job
for it. Each run's key names the version and the model set, so one change asks once."""

from dagster import DefaultSensorStatus, RunRequest, SensorEvaluationContext, SensorResult, sensor

from resources import CatalogResource
from trulience.production.regression import due
from trulience_assets.regression import regression


@sensor(
    job=regression,
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "Each minute, requests a regression run of every workflow version with golden takes "
        "that has none on its current model files (a new version, or a model changed), so "
        "it can be cleared for production batches."
    ),
)
def regression_sensor(context: SensorEvaluationContext, catalog: CatalogResource):
    """Request the regression run of each due workflow version, once per model set."""
    with catalog.connect(actor="dagster:regression_sensor") as conn:
        found = due(conn)
    runs = [
        RunRequest(
            run_key=f"regression:{d.workflow_id}:{d.models_fingerprint}",
            run_config={
                "ops": {
                    "run_workflow_regression": {
                        "config": {"workflow": d.workflow, "version": d.version, "reason": d.note}
                    }
                }
            },
            tags={"trulience/workflow": d.workflow, "trulience/workflow_version": str(d.version)},
        )
        for d in found
    ]
    return SensorResult(
        run_requests=runs,
        skip_reason=None if runs else "no workflow version is due a regression run",
    )
