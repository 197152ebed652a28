"""Per-character ingest assets: source image QA, face identity, image variants."""

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    MaterializeResult,
    MetadataValue,
    asset,
)

from resources import CatalogResource, FacesResource, StorageResource
from trulience.catalog.source_images import list_source_images
from trulience.faces.crops import make_variants
from trulience.ingest.assess import assess_images, current_versions, thresholds_for
from trulience.ingest.identity import embed_character
from trulience.ingest.variants import store_variants, variant_sizes
from trulience.media.image_decode import load_image
from trulience_assets.partitions import character_partitions

GROUP = "characters"


@asset(
    partitions_def=character_partitions,
    group_name=GROUP,
    kinds={"postgres"},
    check_specs=[
        AssetCheckSpec(
            "usable_primary_image",
            asset="source_images",
            blocking=True,
            description="The character has a primary image that passed QA.",
        ),
        AssetCheckSpec(
            "every_image_passes_qa",
            asset="source_images",
            description="Warns about source images that failed QA.",
        ),
    ],
)
def source_images(
    context: AssetExecutionContext,
    catalog: CatalogResource,
    storage: StorageResource,
    faces: FacesResource,
) -> MaterializeResult:
    """QA of every current source image (decode, resolution, blur, exposure, one face of
    usable size and margin), stored per image; the best passing image becomes primary."""
    slug = context.partition_key
    with catalog.connect(actor=f"dagster:{context.run.run_id}") as conn:
        assessments = assess_images(
            conn, storage.get(), faces.model_set(), slug, thresholds_for(conn, slug)
        )
        primary = next((i for i in list_source_images(conn, slug) if i.is_primary), None)
    failed = {
        f"{a.image.original_name} v{a.image.version}": "; ".join(a.failures)
        for a in assessments
        if not a.passed
    }
    usable = primary is not None and primary.qa_status == "passed"
    return MaterializeResult(
        metadata={
            "images": len(assessments),
            "passed": sum(a.passed for a in assessments),
            "primary": primary.original_name if primary else "(none)",
            "failures": MetadataValue.json(failed),
        },
        check_results=[
            AssetCheckResult(
                check_name="usable_primary_image",
                passed=usable,
                description=None
                if usable
                else "no source image passed QA: "
                + "; ".join(f"{k}: {v}" for k, v in failed.items()),
            ),
            AssetCheckResult(
                check_name="every_image_passes_qa",
                passed=not failed,
                severity=AssetCheckSeverity.WARN,
                metadata={"failed": MetadataValue.json(failed)},
            ),
        ],
    )


@asset(
    partitions_def=character_partitions,
    group_name=GROUP,
    deps=[source_images],
    kinds={"pgvector"},
    check_specs=[
        AssetCheckSpec(
            "no_open_duplicates",
            asset="face_identity",
            description="No other library character has this face.",
        )
    ],
)
def face_identity(
    context: AssetExecutionContext,
    catalog: CatalogResource,
    storage: StorageResource,
    faces: FacesResource,
) -> MaterializeResult:
    """Face embeddings of the passing images in pgvector, the character's own identity band,
    and possible duplicates in the library."""
    slug = context.partition_key
    with catalog.connect(actor=f"dagster:{context.run.run_id}") as conn:
        result = embed_character(conn, storage.get(), faces.model_set(), slug)
    band = result.band
    duplicates = {d.character: round(d.score, 3) for d in result.duplicates}
    return MaterializeResult(
        metadata={
            "model": result.model,
            "embedded_images": result.images,
            "same_identity_threshold": band.threshold if band else None,
            "band_p05": band.same_p05 if band else None,
            "band_median": band.same_median if band else None,
            "possible_duplicates": MetadataValue.json(duplicates),
        },
        check_results=[
            AssetCheckResult(
                check_name="no_open_duplicates",
                passed=not duplicates,
                severity=AssetCheckSeverity.WARN,
                description=None
                if not duplicates
                else "possible duplicate of "
                + ", ".join(f"{c} ({s})" for c, s in duplicates.items()),
            )
        ],
    )


@asset(partitions_def=character_partitions, group_name=GROUP, deps=[source_images], kinds={"png"})
def image_variants(
    context: AssetExecutionContext,
    catalog: CatalogResource,
    storage: StorageResource,
    faces: FacesResource,
) -> MaterializeResult:
    """Face-centred crops and padded frames of the primary image, at every resolution the
    scene types ask for."""
    slug = context.partition_key
    store = storage.get()
    with catalog.connect(actor=f"dagster:{context.run.run_id}") as conn:
        primary = next(i for i in current_versions(list_source_images(conn, slug)) if i.is_primary)
        pixels = load_image(store, primary).pixels
        detected = faces.model_set().detector.detect(pixels)
        sizes = variant_sizes(conn)
        uris = store_variants(
            conn, store, slug, primary, make_variants(pixels, detected[0].box, sizes)
        )
    return MaterializeResult(
        metadata={
            "source": f"{primary.original_name} v{primary.version}",
            "sizes": ", ".join(f"{w}x{h}" for w, h in sizes),
            "variants": len(uris),
            "first": MetadataValue.path(uris[0]),
        }
    )
