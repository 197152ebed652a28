"""Workflow regression runs as a Dagster job (PRD-65): the `regression` job re-runs every
golden of a workflow on one version, on the configured generation backend, and records the
verdict and report in the catalog. The regression sensor (sensors/regression.py) launches it
for each version whose regression is due; `trulience workflows regress` runs the same here."""

import tempfile
from pathlib import Path

from dagster import Config, Failure, MetadataValue, OpExecutionContext, Output, job, op

from resources import CatalogResource, FacesResource, GenerationResource, StorageResource
from trulience.production.regression import run_regression
from trulience.workers.configured import closing_backend


class RegressionConfig(Config):
    """Which workflow version to test, and why it is due."""

    workflow: str
    version: int | None = None
    reason: str = ""


@op(
    description="Re-run every golden of the workflow on the version and judge it; fails "
    "unless every golden passed.",
    pool="generation",  # it holds GPU workers like the scenes' segments step
)
def run_workflow_regression(
    context: OpExecutionContext,
    config: RegressionConfig,
    catalog: CatalogResource,
    storage: StorageResource,
    generation: GenerationResource,
    faces: FacesResource,
) -> Output[str]:
    """The run's verdict, with its report as metadata."""
    by = f"dagster:{context.run.run_id}"
    with (
        catalog.connect(actor=by) as conn,
        tempfile.TemporaryDirectory(prefix="trulience-regression-") as work,
        closing_backend(generation.backend(holder=by)) as backend,
    ):
        outcome = run_regression(
            conn,
            storage.get(),
            backend,
            config.workflow,
            Path(work),
            version=config.version,
            requested_by=by,
            reason=config.reason,
            faces=faces.model_set(),
        )
    run = outcome.run
    if run.status != "passed":
        raise Failure(
            description=f"regression run {run.id} of {run.workflow} v{run.version}: {run.status}",
            metadata={"report": MetadataValue.md(outcome.report)},
            allow_retries=False,
        )
    return Output(
        run.status,
        metadata={
            "regression run": run.id,
            "report": MetadataValue.md(outcome.report),
            "report uri": run.report_uri or "",
        },
    )


@job(description="Re-run a workflow's golden takes on one version and judge it (PRD-65).")
def regression() -> None:
    run_workflow_regression()
