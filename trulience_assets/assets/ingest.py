"""Per-character ingest assets: source image QA, face identity, image variants."""

from dagster import (
    AssetCheckSeverity,
    AssetExecutionContext,
    MaterializeResult,
    MetadataValue,
    asset,
)

from resources import CatalogResource, FacesResource, MediaResource, StorageResource
from trulience.catalog.source_images import list_source_images
from trulience.faces.crops import make_variants
from trulience.ingest.assess import assess_images, current_versions, thresholds_for
from trulience.ingest.identity import embed_character
from trulience.ingest.variants import store_variants, variant_sizes
from trulience.media.image_decode import load_image
from trulience_assets.assets.operator import check_result
from trulience_assets.partitions import character_partitions, partitioned_check

GROUP = "characters"


@asset(
    partitions_def=character_partitions,
    group_name=GROUP,
    kinds={"postgres"},
    check_specs=[
        partitioned_check(
            "usable_primary_image",
            asset="source_images",
            partitions_def=character_partitions,
            blocking=True,
            description="The character has a primary image that passed QA.",
        ),
        partitioned_check(
            "every_image_passes_qa",
            asset="source_images",
            partitions_def=character_partitions,
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
    passed = sum(a.passed for a in assessments)
    listed = "; ".join(f"{k}: {v}" for k, v in failed.items())
    return MaterializeResult(
        metadata={
            "images": len(assessments),
            "passed": passed,
            "primary": primary.original_name if primary else "(none)",
            "failures": MetadataValue.json(failed),
        },
        check_results=[
            check_result(
                "usable_primary_image",
                slug,
                passed=usable,
                value=passed,
                threshold=1,
                description=f"primary image {primary.original_name} passed QA ({passed} of "
                f"{len(assessments)} image(s) passed; at least 1 needed)."
                if usable
                else f"no source image passed QA (at least 1 needed): {listed}",
                images=len(assessments),
            ),
            check_result(
                "every_image_passes_qa",
                slug,
                passed=not failed,
                value=len(failed),
                threshold=0,
                description=f"{passed} of {len(assessments)} source image(s) passed QA"
                + (f"; {len(failed)} failed (none allowed): {listed}" if failed else "."),
                severity=AssetCheckSeverity.WARN,
                images=len(assessments),
            ),
        ],
    )


@asset(
    partitions_def=character_partitions,
    group_name=GROUP,
    deps=[source_images],
    kinds={"pgvector"},
    check_specs=[
        partitioned_check(
            "no_open_duplicates",
            asset="face_identity",
            partitions_def=character_partitions,
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
    threshold = faces.model_set().same_identity_threshold
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
            check_result(
                "no_open_duplicates",
                slug,
                passed=not duplicates,
                value=len(duplicates),
                threshold=0,
                description=f"no other library character's face reaches similarity "
                f"{threshold:.3g} with {slug}'s."
                if not duplicates
                else "possible duplicate of "
                + ", ".join(f"{c} ({s})" for c, s in duplicates.items())
                + f": similarity at or above {threshold:.3g} (no duplicate allowed)",
                severity=AssetCheckSeverity.WARN,
                same_identity_threshold=float(threshold),
                **({"closest_duplicate": max(duplicates.values())} if duplicates else {}),
            )
        ],
    )


@asset(partitions_def=character_partitions, group_name=GROUP, deps=[source_images], kinds={"png"})
def image_variants(
    context: AssetExecutionContext,
    catalog: CatalogResource,
    storage: StorageResource,
    faces: FacesResource,
    media: MediaResource,
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
            "first": MetadataValue.md(f"![first variant]({media.link(store.key_of(uris[0]))})"),
        }
    )
