"""The character library on storage: source image files and the character record."""

import hashlib
import json
from pathlib import Path
from typing import Any

import psycopg

from trulience.catalog.characters import get_character, projects_of
from trulience.catalog.records import SourceImage
from trulience.catalog.source_images import add_source_image, list_source_images
from trulience.catalog.tags import Subject, tags_of
from trulience.local_files import open_regular
from trulience.media.image_decode import DecodedImage, decode_image
from trulience.storage import Storage, StoredObject, storage_key


def character_record(conn: psycopg.Connection, slug: str) -> dict[str, Any]:
    """Everything the catalog knows about a character, as plain JSON-ready data."""
    character = get_character(conn, slug)
    return {
        "slug": character.slug,
        "name": character.name,
        "metadata": character.metadata,
        "metadata_version": character.metadata_version,
        "projects": [p.slug for p in projects_of(conn, slug)],
        "tags": [t.name for t in tags_of(conn, Subject(character=slug))],
        "source_images": [
            {
                "name": i.original_name,
                "version": i.version,
                "uri": i.uri,
                "sha256": i.sha256,
                "width": i.width,
                "height": i.height,
                "qa_status": i.qa_status,
                "primary": i.is_primary,
            }
            for i in list_source_images(conn, slug)
        ],
    }


def write_character_record(
    conn: psycopg.Connection, storage: Storage, slug: str
) -> tuple[dict[str, Any], StoredObject]:
    """Write the character record to `characters/<slug>/character.json` on storage."""
    record = character_record(conn, slug)
    data = json.dumps(record, indent=2, sort_keys=True).encode()
    return record, storage.put_bytes(storage_key("characters", slug, "character.json"), data)


def add_image_file(
    conn: psycopg.Connection,
    storage: Storage,
    character: str,
    path: Path,
    decoded: DecodedImage | None = None,
) -> SourceImage | None:
    """Store a local image file as a source image of `character`, decoding it safely first
    (unless the caller already did and passes `decoded`).

    The storage key is content-addressed, so a new version never overwrites an old one.
    Returns None when the character already has exactly these bytes.
    """
    info = decoded or decode_image(path)
    digest = file_sha256(path)
    if any(i.sha256 == digest for i in list_source_images(conn, character)):
        return None
    key = storage_key("characters", character, "source", digest[:16], path.name)
    stored = storage.put_file(key, path)
    return add_source_image(
        conn,
        character,
        path.name,
        stored.uri,
        stored.sha256,
        info.width,
        info.height,
        info.format or "unknown",
    )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open_regular(path) as handle:  # never follows a link or waits on a pipe
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
