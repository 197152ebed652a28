"""Triggered chains (PRD-97): a take approved (or delivered) in a scene type that a
project's chain rule names starts a scenes run of the rule's then-run scene type for the same
character. The rules are declared in the catalog (`trulience chains add`); this sensor is all
that runs them. Its cursor is the last review id and the last deliverable id read, and each
run's key names the rule, the event and the take's revision, so one approval or delivery
never requests the same chained run twice."""

from dagster import (
    DefaultSensorStatus,
    MultiPartitionKey,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    sensor,
)

from resources import CatalogResource
from sensors.run_config import for_project
from trulience.production.chains import ChainCursor, due_chains
from trulience_assets.jobs import scenes_job
from trulience_assets.partitions import add_requests, missing_partitions


@sensor(
    job=scenes_job,
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "Every 30 s, requests a scenes run of scene type Y for a character when a take of "
        "scene type X of theirs is approved (after its undo window) or delivered and a chain "
        "rule of its project says so (`trulience chains`); each event once."
    ),
)
def chains_sensor(context: SensorEvaluationContext, catalog: CatalogResource):
    """Request the chained scenes runs of every approval since the cursor that a rule
    matches, adding the partitions they need first."""
    since = ChainCursor.parse(context.cursor)
    with catalog.connect(actor="dagster:chains_sensor") as conn:
        due = due_chains(conn, since)
        missing = missing_partitions(context.instance, conn) if due.chains else {}
    runs = [
        RunRequest(
            partition_key=MultiPartitionKey(
                {"character": c.character, "scene_type": c.then_scene_type}
            ),
            # an approval keeps the key it had before deliveries set chains off
            run_key=f"chain:{c.rule_id}:{c.because_of}:r{c.revision}"
            + ("" if c.event == "approved" else f":{c.event}"),
            tags={
                "trulience/project": c.project,
                "trulience/chain_rule": str(c.rule_id),
                "trulience/because_of_take": str(c.because_of),
                "trulience/because_of_revision": str(c.revision),
                "trulience/because_of_event": c.event,
            },
            run_config=for_project("segments", "scene_video", project=c.project),
        )
        for c in due.chains
    ]
    return SensorResult(
        run_requests=runs,
        cursor=due.cursor.text(),
        dynamic_partitions_requests=add_requests(missing),
        skip_reason=None
        if runs
        else "no approval or delivery since the last look sets off a chain rule",
    )
