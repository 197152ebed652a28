"""The character record: one JSON document per character, kept beside its media."""

import json
from typing import Any

import psycopg

from trulience.catalog.characters import get_character, projects_of
from trulience.catalog.source_images import list_source_images
from trulience.catalog.tags import Subject, tags_of
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
            {"name": i.original_name, "version": i.version, "uri": i.uri, "sha256": i.sha256,
             "width": i.width, "height": i.height, "qa_status": i.qa_status,
             "primary": i.is_primary}
            for i in list_source_images(conn, slug)
        ],
    }


def write_character_record(conn: psycopg.Connection, storage: Storage,
                           slug: str) -> tuple[dict[str, Any], StoredObject]:
    """Write the character record to `characters/<slug>/character.json` on storage."""
    record = character_record(conn, slug)
    data = json.dumps(record, indent=2, sort_keys=True).encode()
    return record, storage.put_bytes(storage_key("characters", slug, "character.json"), data)
