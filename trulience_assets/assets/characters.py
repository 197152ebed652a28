"""Per-character assets."""

import json

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from resources import CatalogResource, StorageResource
from trulience.library import write_character_record
from trulience_assets.partitions import character_partitions


@asset(partitions_def=character_partitions, group_name="characters", kinds={"postgres", "json"})
def character_record(
    context: AssetExecutionContext, catalog: CatalogResource, storage: StorageResource
) -> MaterializeResult:
    """The character's catalog record (metadata, projects, tags, images) as JSON on storage."""
    with catalog.connect(actor=f"dagster:{context.run.run_id}") as conn:
        record, stored = write_character_record(conn, storage.get(), context.partition_key)
    return MaterializeResult(
        metadata={
            "uri": MetadataValue.path(stored.uri),
            "sha256": stored.sha256,
            "source_images": len(record["source_images"]),
            "projects": ", ".join(record["projects"]),
            "metadata_version": record["metadata_version"],
            "record": MetadataValue.json(json.loads(json.dumps(record))),
        }
    )
