"""Image variants at onboarding (PRD-21): face-centred crops and padded frames of a
character's primary image (trulience.faces.crops), at the resolutions its scene types ask
for, stored beside its media and recorded in the catalog."""

import psycopg

from trulience.catalog.records import SourceImage
from trulience.catalog.variants import record_variant, scene_type_sizes
from trulience.faces.crops import Variant
from trulience.storage import Storage, storage_key

DEFAULT_SIZES = ((512, 512),)


def variant_sizes(conn: psycopg.Connection) -> list[tuple[int, int]]:
    """The default size plus every width x height a scene type's newest version asks for."""
    return sorted(set(DEFAULT_SIZES) | set(scene_type_sizes(conn)))


def store_variants(
    conn: psycopg.Connection,
    storage: Storage,
    character: str,
    source: SourceImage,
    variants: list[Variant],
) -> list[str]:
    """Write variant PNGs beside the character's media and record them; returns URIs."""
    uris = []
    for variant in variants:
        key = storage_key(
            "characters",
            character,
            "variants",
            source.sha256[:16],
            f"{variant.kind}-{variant.width}x{variant.height}.png",
        )
        stored = storage.put_bytes(key, variant.png())
        record_variant(
            conn,
            source.id,
            variant.kind,
            variant.width,
            variant.height,
            variant.params,
            stored.uri,
            stored.sha256,
        )
        uris.append(stored.uri)
    return uris
