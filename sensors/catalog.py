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
from trulience.catalog.characters import list_characters
from trulience.catalog.scene_types import list_scene_types
from trulience_assets.jobs import characters_job
from trulience_assets.partitions import (
    character_partitions,
    partition_key,
    scene_type_partitions,
)


@sensor(job=characters_job, minimum_interval_seconds=30,
        default_status=DefaultSensorStatus.RUNNING)
def catalog_partitions_sensor(context: SensorEvaluationContext, catalog: CatalogResource):
    """Add a partition for every character and scene type in the catalog; request a run of
    the character assets for each new character."""
    with catalog.connect(actor="dagster:catalog_partitions_sensor") as conn:
        characters = [partition_key(c.slug, "character") for c in list_characters(conn)]
        types = [partition_key(t.slug, "scene type") for t in list_scene_types(conn)]
    known_characters = set(context.instance.get_dynamic_partitions(character_partitions.name))
    known_types = set(context.instance.get_dynamic_partitions(scene_type_partitions.name))
    new_characters = [c for c in characters if c not in known_characters]
    new_types = [t for t in types if t not in known_types]
    if not new_characters and not new_types:
        return SkipReason("partitions match the catalog")
    return SensorResult(
        run_requests=[RunRequest(partition_key=c, run_key=f"character:{c}") for c in new_characters],
        dynamic_partitions_requests=[
            character_partitions.build_add_request(new_characters),
            scene_type_partitions.build_add_request(new_types),
        ],
    )
