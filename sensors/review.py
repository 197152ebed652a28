"""Review decisions drive the pipeline (PRD-35, PRD-97): an approved, assembled take with
no deliverable yet gets a delivery run."""

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
from trulience_assets.jobs import delivery_job, scenes_job


def _for_project(*assets: str, project: str) -> dict:
    """Run config naming the take's project for each asset of the run."""
    return {"ops": {asset: {"config": {"project": project}} for asset in assets}}


@sensor(job=delivery_job, minimum_interval_seconds=30, default_status=DefaultSensorStatus.RUNNING)
def approvals_sensor(context: SensorEvaluationContext, catalog: CatalogResource):
    """Request a delivery run for every approved take that has no deliverable."""
    with catalog.connect(actor="dagster:approvals_sensor") as conn:
        rows = conn.execute(
            """SELECT s.id, c.slug, t.slug, p.slug FROM scenes s
                 JOIN characters c ON c.id = s.character_id
                 JOIN scene_types t ON t.id = s.scene_type_id
                 JOIN projects p ON p.id = s.project_id
                WHERE s.status = 'assembled'
                  AND (SELECT r.decision FROM reviews r WHERE r.scene_id = s.id
                        ORDER BY r.created_at DESC, r.id DESC LIMIT 1) = 'approved'
                  AND NOT EXISTS (SELECT 1 FROM deliverables d WHERE d.scene_id = s.id)
                ORDER BY s.id"""
        ).fetchall()
    if not rows:
        return SkipReason("no approved take waits for delivery")
    return SensorResult(
        run_requests=[
            RunRequest(
                partition_key=MultiPartitionKey({"character": c, "scene_type": t}),
                run_key=f"deliver:{scene_id}",
                tags={"trulience/scene_id": str(scene_id), "trulience/project": project},
                # the take's own project: a character may belong to several
                run_config=_for_project("deliverable", project=project),
            )
            for scene_id, c, t, project in rows
        ]
    )


@sensor(job=scenes_job, minimum_interval_seconds=30, default_status=DefaultSensorStatus.RUNNING)
def regeneration_sensor(context: SensorEvaluationContext, catalog: CatalogResource):
    """Request a scenes run for every take a reviewer sent back with a rejected segment."""
    with catalog.connect(actor="dagster:regeneration_sensor") as conn:
        rows = conn.execute(
            """SELECT s.id, c.slug, t.slug, p.slug, count(g.id) FROM scenes s
                 JOIN characters c ON c.id = s.character_id
                 JOIN scene_types t ON t.id = s.scene_type_id
                 JOIN projects p ON p.id = s.project_id
                 JOIN segments g ON g.scene_id = s.id AND g.status = 'superseded'
                WHERE s.status = 'generating'
                  AND (SELECT r.decision FROM reviews r WHERE r.scene_id = s.id
                        ORDER BY r.created_at DESC, r.id DESC LIMIT 1) = 'rejected'
                GROUP BY 1, 2, 3, 4 ORDER BY 1"""
        ).fetchall()
    if not rows:
        return SkipReason("no take waits for a regenerated segment")
    return SensorResult(
        run_requests=[
            # the count of superseded takes makes each new rejection a new run
            RunRequest(
                partition_key=MultiPartitionKey({"character": c, "scene_type": t}),
                run_key=f"regenerate:{scene_id}:{superseded}",
                tags={"trulience/project": project},
                run_config=_for_project("segments", "scene_video", project=project),
            )
            for scene_id, c, t, project, superseded in rows
        ]
    )
