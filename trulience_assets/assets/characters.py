"""The character record and the metadata sidecar."""

import json

from dagster import (
    AssetCheckSeverity,
    AssetExecutionContext,
    MaterializeResult,
    MetadataValue,
    asset,
)

from resources import CatalogResource, StorageResource
from trulience.library import write_character_record
from trulience.sidecar import MetadataConflict, character_schema, sync_metadata
from trulience_assets.assets.ingest import face_identity, image_variants, source_images
from trulience_assets.assets.operator import check_result
from trulience_assets.partitions import character_partitions, partitioned_check


@asset(
    partitions_def=character_partitions,
    group_name="characters",
    kinds={"json"},
    check_specs=[
        partitioned_check(
            "metadata_in_sync",
            asset="metadata_sidecar",
            partitions_def=character_partitions,
            description="Catalog metadata and the storage sidecar agree.",
        )
    ],
)
def metadata_sidecar(
    context: AssetExecutionContext, catalog: CatalogResource, storage: StorageResource
) -> MaterializeResult:
    """The character's metadata.json on storage, synced both ways with the catalog (PRD-13);
    an edit on both sides since the last sync is a conflict, never an overwrite."""
    slug = context.partition_key
    with catalog.connect(actor=f"dagster:{context.run.run_id}") as conn:
        try:
            sync = sync_metadata(conn, storage.get(), slug, character_schema(conn, slug))
            conflict = None
        except MetadataConflict as exc:
            sync, conflict = None, str(exc)
    return MaterializeResult(
        metadata={
            "action": sync.action if sync else "conflict",
            "version": sync.version if sync else None,
            "uri": MetadataValue.path(sync.uri) if sync else None,
        },
        check_results=[
            check_result(
                "metadata_in_sync",
                slug,
                passed=conflict is None,
                value=0 if conflict is None else 1,
                threshold=0,
                description=f"catalog and sidecar agree ({sync.action.replace('_', ' ')}, "
                f"metadata version {sync.version})."
                if sync
                else f"1 conflict (none allowed): {conflict}",
                severity=AssetCheckSeverity.WARN,
                action=sync.action if sync else "conflict",
            )
        ],
    )


@asset(
    partitions_def=character_partitions,
    group_name="characters",
    deps=[source_images, face_identity, image_variants, metadata_sidecar],
    kinds={"json"},
)
def character_record(
    context: AssetExecutionContext, catalog: CatalogResource, storage: StorageResource
) -> MaterializeResult:
    """The character's catalog record (metadata, projects, tags, images with QA) as JSON on
    storage, written once its ingest assets are done."""
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
