"""The Dagster code location (workspace.yaml loads this module)."""

from dagster import Definitions, in_process_executor

from resources import build_resources
from sensors.catalog import catalog_partitions_sensor
from sensors.failures import run_failure_notifications
from sensors.inbox import inbox_sensor
from sensors.review import approvals_sensor, regeneration_sensor
from sensors.workers import worker_health_sensor
from trulience.config import Settings
from trulience_assets.assets.characters import character_record, metadata_sidecar
from trulience_assets.assets.delivery import deliverable
from trulience_assets.assets.ingest import face_identity, image_variants, source_images
from trulience_assets.assets.scenes import scene_video, segments
from trulience_assets.jobs import characters_job, delivery_job, scenes_job


def build_definitions(settings: Settings) -> Definitions:
    """Definitions wired to the resources the settings choose."""
    return Definitions(
        assets=[
            source_images,
            face_identity,
            image_variants,
            metadata_sidecar,
            character_record,
            segments,
            scene_video,
            deliverable,
        ],
        jobs=[characters_job, scenes_job, delivery_job],
        sensors=[
            catalog_partitions_sensor,
            inbox_sensor,
            worker_health_sensor,
            approvals_sensor,
            regeneration_sensor,
            run_failure_notifications,
        ],
        resources=build_resources(settings),
        # Cheap steps stay in one process: a fresh process per step costs ~3.5 s here.
        executor=in_process_executor,
    )


defs = build_definitions(Settings.from_env())
