"""Preview first, then the final (PRD-59): an approved preview (its undo window closed) is
made again at full size as its take's next revision. This sensor starts each final in the
catalog (trulience/production/finals.py: once per take) and requests the scenes run that
makes it; the approvals sensor never delivers a preview. Each run's key names the final, so
a final is requested once; a final whose run failed resumes like any take, by running its
cell again."""

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
from trulience.production.finals import finals_to_make, start_due_finals
from trulience_assets.jobs import scenes_job


@sensor(
    job=scenes_job,
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "Every 30 s, starts the full-resolution final of each approved preview whose undo "
        "window has closed and requests the scenes run that makes it (once per take)."
    ),
)
def finals_sensor(context: SensorEvaluationContext, catalog: CatalogResource):
    """Start the final of every approved preview and request a scenes run for every final
    not yet generated (a start whose tick died before requesting is requested next tick)."""
    with catalog.connect(actor="dagster:finals_sensor") as conn:
        started = start_due_finals(conn, "dagster:finals_sensor")
        pending = finals_to_make(conn)
    for final in started:
        context.log.info(
            f"scene {final.scene_id}: final {final.final_id} started ({final.method} at "
            f"{final.width}x{final.height}, from preview revision {final.preview_revision})"
        )
    if not pending:
        return SkipReason("no approved preview waits for its final")
    return SensorResult(
        run_requests=[
            RunRequest(
                partition_key=MultiPartitionKey(
                    {"character": f.character, "scene_type": f.scene_type}
                ),
                run_key=f"final:{f.scene_id}:{f.final_id}",
                tags={
                    "trulience/project": f.project,
                    "trulience/scene_id": str(f.scene_id),
                    "trulience/final": str(f.final_id),
                },
                # the take's project for both steps (a character may belong to several)
                run_config={
                    "ops": {
                        step: {"config": {"project": f.project}}
                        for step in ("segments", "scene_video")
                    }
                },
            )
            for f in pending
        ]
    )
