"""Review decisions drive the pipeline (PRD-35, PRD-97): an approved revision of an
assembled take with no deliverable yet gets a delivery run once its undo window has closed;
a take sent back with a rejected segment gets a scenes run."""

from dagster import (
    DefaultSensorStatus,
    MultiPartitionKey,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from resources import CatalogResource
from sensors.run_config import for_project
from trulience.catalog.reviews import request_deliveries, sent_back_for_regeneration
from trulience_assets.jobs import delivery_job, scenes_job


@sensor(
    job=delivery_job,
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "Every 30 s, requests a delivery run for each approved revision of a take whose undo "
        "window has closed and that has no deliverable yet."
    ),
)
def approvals_sensor(context: SensorEvaluationContext, catalog: CatalogResource):
    """Request a delivery run for every approved revision of a take, once its undo window
    has closed (an approval undone in time is never delivered), that has no deliverable."""
    with catalog.connect(actor="dagster:approvals_sensor") as conn:
        due = request_deliveries(conn)
    if not due:
        return SkipReason("no approved take waits for delivery")
    return SensorResult(
        run_requests=[
            RunRequest(
                partition_key=MultiPartitionKey(
                    {"character": d.character, "scene_type": d.scene_type}
                ),
                # each approved revision is delivered once; a later one gets its own run
                run_key=f"deliver:{d.scene_id}:r{d.revision}",
                tags={
                    "trulience/scene_id": str(d.scene_id),
                    "trulience/revision": str(d.revision),
                    "trulience/project": d.project,
                },
                # the approved take itself (a newer take may stand beside it), in its own
                # project: a character may belong to several
                run_config={
                    "ops": {
                        "deliverable": {"config": {"project": d.project, "scene_id": d.scene_id}}
                    }
                },
            )
            for d in due
        ]
    )


@sensor(
    job=scenes_job,
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "Every 30 s, requests a scenes run for each take a reviewer sent back with a "
        "rejected segment."
    ),
)
def regeneration_sensor(context: SensorEvaluationContext, catalog: CatalogResource):
    """Request a scenes run for every take a reviewer sent back with a rejected segment."""
    with catalog.connect(actor="dagster:regeneration_sensor") as conn:
        rows = sent_back_for_regeneration(conn)
    if not rows:
        return SkipReason("no take waits for a regenerated segment")
    return SensorResult(
        run_requests=[
            # the count of superseded takes makes each new rejection a new run
            RunRequest(
                partition_key=MultiPartitionKey({"character": c, "scene_type": t}),
                run_key=f"regenerate:{scene_id}:{superseded}",
                tags={"trulience/project": project},
                run_config=for_project("segments", "scene_video", project=project),
            )
            for c, t, project, scene_id, superseded in rows
        ]
    )
