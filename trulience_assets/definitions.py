"""The Dagster code location (workspace.yaml loads this module).

Importing it reads no environment: Dagster's loaders (workspace.yaml, `dagster dev`, the
daemon) call `defs`, which reads the settings then; explicit callers (the CLI's pipeline,
tests) pass their own settings to `build_definitions`."""

from dagster import Definitions, definitions, in_process_executor

from resources import build_resources
from sensors.batches import queued_batches_sensor, run_priority_sensor
from sensors.catalog import catalog_partitions_sensor
from sensors.chains import chains_sensor
from sensors.failures import run_failure_notifications
from sensors.finals import finals_sensor
from sensors.inbox import inbox_sensor
from sensors.regression import regression_sensor
from sensors.review import approvals_sensor, regeneration_sensor
from sensors.workers import worker_health_sensor
from trulience.config import Settings
from trulience_assets.assets.characters import character_record, metadata_sidecar
from trulience_assets.assets.delivery import deliverable
from trulience_assets.assets.ingest import face_identity, image_variants, source_images
from trulience_assets.assets.lake import lake_catalog, lake_runs
from trulience_assets.assets.notebooks import notebook_assets
from trulience_assets.assets.scenes import scene_video, segments
from trulience_assets.hook_steps import hook_steps
from trulience_assets.jobs import (
    characters_job,
    delivery_job,
    lake_job,
    notebooks_job,
    scenes_job,
)
from trulience_assets.regression import regression
from trulience_assets.schedules import lake_schedule, notebooks_after_lake


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
            lake_catalog,
            lake_runs,
            *notebook_assets(),
        ],
        jobs=[
            characters_job,
            scenes_job,
            delivery_job,
            lake_job,
            notebooks_job,
            hook_steps,
            regression,
        ],
        schedules=[lake_schedule],
        sensors=[
            catalog_partitions_sensor,
            inbox_sensor,
            worker_health_sensor,
            approvals_sensor,
            regeneration_sensor,
            finals_sensor,
            chains_sensor,
            run_failure_notifications,
            queued_batches_sensor,
            run_priority_sensor,
            notebooks_after_lake,
            regression_sensor,
        ],
        resources=build_resources(settings),
        # Cheap steps stay in one process: a fresh process per step costs ~3.5 s here.
        executor=in_process_executor,
    )


@definitions
def defs() -> Definitions:
    """The code location as Dagster's loaders see it: wired to the environment's settings."""
    return build_definitions(Settings.from_env())
