"""Keep Dagster's dynamic partitions in step with the catalog, and run new characters."""

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from resources import CatalogResource
from trulience_assets.jobs import characters_job
from trulience_assets.partitions import add_requests, character_partitions, missing_partitions


@sensor(
    job=characters_job,
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "Every 30 s, adds a partition for each new character and scene type in the catalog "
        "and requests the character assets of each new character."
    ),
)
def catalog_partitions_sensor(context: SensorEvaluationContext, catalog: CatalogResource):
    """Add a partition for every character and scene type in the catalog; request a run of
    the character assets for each new character."""
    with catalog.connect(actor="dagster:catalog_partitions_sensor") as conn:
        missing = missing_partitions(context.instance, conn)
    if not any(missing.values()):
        return SkipReason("partitions match the catalog")
    return SensorResult(
        run_requests=[
            RunRequest(partition_key=c, run_key=f"character:{c}")
            for c in missing[character_partitions]
        ],
        dynamic_partitions_requests=add_requests(missing),
    )
