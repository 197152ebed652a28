"""Per character x scene type: the recursive generation loop."""

import tempfile
import warnings
from pathlib import Path

from dagster import (
    AssetDep,
    AssetExecutionContext,
    Backoff,
    BetaWarning,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    MultiToSingleDimensionPartitionMapping,
    RetryPolicy,
    asset,
)

from resources import CatalogResource, GenerationResource, StorageResource
from trulience.errors import TrulienceError
from trulience.generation.backend import TransientBackendError
from trulience.generation.loop import run_loop
from trulience_assets.assets.ingest import image_variants
from trulience_assets.partitions import character_scene_partitions

with warnings.catch_warnings():
    # the mapping is beta in Dagster 1.13, and exactly what character x scene type needs
    warnings.simplefilter("ignore", BetaWarning)
    CHARACTER_OF_PARTITION = MultiToSingleDimensionPartitionMapping(
        partition_dimension_name="character"
    )


class SegmentsConfig(Config):
    """Which project the take belongs to (default: the character's first project)."""

    project: str | None = None
    max_pause_s: float = 3600.0


@asset(
    partitions_def=character_scene_partitions,
    group_name="scenes",
    deps=[AssetDep(image_variants, partition_mapping=CHARACTER_OF_PARTITION)],
    # transient backend trouble (a worker went away) is retried; the loop resumes after the
    # last committed segment, so a retry never redoes finished work
    retry_policy=RetryPolicy(max_retries=3, delay=2, backoff=Backoff.EXPONENTIAL),
    kinds={"video"},
    pool="generation",
)
def segments(
    context: AssetExecutionContext,
    config: SegmentsConfig,
    catalog: CatalogResource,
    storage: StorageResource,
    generation: GenerationResource,
) -> MaterializeResult:
    """The recursive loop: segment n seeded from segment n-1's last frame until the target
    duration, each segment committed to the catalog as it finishes (the checkpoint)."""
    keys = context.partition_key.keys_by_dimension
    character, scene_type = keys["character"], keys["scene_type"]

    def report(kind: str, data: dict) -> None:
        context.log.info(f"{kind}: {data}")

    with (
        catalog.connect(actor=f"dagster:{context.run.run_id}") as conn,
        tempfile.TemporaryDirectory(prefix="trulience-loop-") as work,
    ):
        try:
            result = run_loop(
                conn,
                storage.get(),
                generation.backend(holder=f"dagster:{context.run.run_id}"),
                character,
                scene_type,
                Path(work),
                project=config.project,
                run_id=context.run.run_id,
                max_pause_s=config.max_pause_s,
                events=report,
            )
        except TransientBackendError:
            raise
        except TrulienceError as exc:  # permanent: say why, do not retry
            raise Failure(description=str(exc), allow_retries=False) from exc
    scene = result.scene
    return MaterializeResult(
        metadata={
            "scene_id": scene.id,
            "take": scene.take,
            "segments": len(result.plan),
            "generated_now": len(result.generated),
            "resumed": result.resumed,
            "frames": result.frames,
            "effective_config": MetadataValue.json(scene.effective_config),
        }
    )
