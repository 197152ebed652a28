"""Dual metadata (PRD-13): a character's metadata lives in the catalog (jsonb) and as a
`metadata.json` sidecar beside its media on storage, kept in sync with a version number.

Each sync remembers the catalog version and the sidecar's sha256 it left behind. Next
time, whichever side changed since then is copied to the other; if both changed (and
differ), that is a conflict: reported with both versions, never silently overwritten.
"""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import psycopg

from trulience.catalog.characters import get_character, projects_of, update_metadata
from trulience.catalog.errors import writing
from trulience.catalog.sidecars import lock_character_for_update, record_sync, sync_state_of
from trulience.errors import TrulienceError
from trulience.metadata import InvalidMetadata, Problem, schema_for, validate_metadata
from trulience.storage import Storage, storage_key


class MetadataConflict(TrulienceError):
    """Both the catalog and the sidecar were edited since the last sync."""

    def __init__(self, slug: str, catalog: dict, sidecar: dict, uri: str):
        self.slug, self.catalog, self.sidecar, self.uri = slug, catalog, sidecar, uri
        changed = sorted(k for k in set(catalog) | set(sidecar) if catalog.get(k) != sidecar.get(k))
        super().__init__(
            f"character {slug!r}: metadata was edited both in the catalog and in {uri} since "
            f"the last sync (fields {', '.join(changed)}); resolve by choosing one side with "
            "`trulience characters sync-metadata --prefer catalog|sidecar`"
        )


@dataclass(frozen=True)
class SyncResult:
    action: str  # in_sync | wrote_sidecar | imported_sidecar
    version: int
    uri: str


def sidecar_key(slug: str) -> str:
    return storage_key("characters", slug, "metadata.json")


def _sidecar_bytes(slug: str, version: int, metadata: dict) -> bytes:
    document = {"slug": slug, "version": version, "metadata": metadata}
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _read_sidecar(storage: Storage, key: str, schema: dict) -> tuple[dict[str, Any], str] | None:
    if not storage.exists(key):
        return None
    data = storage.read_bytes(key)
    where = storage.uri(key)
    try:
        document = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidMetadata(where, [Problem("$", f"not valid JSON ({exc})")]) from exc
    if not isinstance(document, dict) or not isinstance(document.get("metadata"), dict):
        raise InvalidMetadata(where, [Problem("$.metadata", "missing or not an object")])
    metadata = validate_metadata(document["metadata"], schema, where)
    return metadata, hashlib.sha256(data).hexdigest()


def sync_metadata(
    conn: psycopg.Connection, storage: Storage, slug: str, schema: dict, prefer: str | None = None
) -> SyncResult:
    """Bring catalog and sidecar into agreement; `prefer` ('catalog' or 'sidecar') settles
    a conflict on purpose. Raises MetadataConflict when both sides changed."""
    key = sidecar_key(slug)
    uri = storage.uri(key)
    with writing(conn):
        character = get_character(conn, slug)
        lock_character_for_update(conn, character.id)
        state = sync_state_of(conn, character.id)
        sidecar = _read_sidecar(storage, key, schema)
        catalog_changed = state is None or state.synced_version != character.metadata_version
        sidecar_changed = sidecar is not None and (
            state is None or state.sidecar_sha256 != sidecar[1]
        )

        if sidecar is not None and sidecar[0] == character.metadata:
            action, version, sha = "in_sync", character.metadata_version, sidecar[1]
            if state is not None and not catalog_changed and not sidecar_changed:
                return SyncResult(action, version, uri)
            if sidecar_changed or catalog_changed:  # same content: rewrite the version stamp
                sha = storage.put_bytes(
                    key, _sidecar_bytes(slug, version, character.metadata)
                ).sha256
        elif sidecar_changed and (not catalog_changed or prefer == "sidecar"):
            updated = update_metadata(conn, slug, sidecar[0])
            version = updated.metadata_version
            sha = storage.put_bytes(key, _sidecar_bytes(slug, version, updated.metadata)).sha256
            action = "imported_sidecar"
        elif sidecar_changed and prefer != "catalog":
            raise MetadataConflict(slug, character.metadata, sidecar[0], uri)
        else:  # only the catalog changed, the sidecar is missing, or the catalog is preferred
            version = character.metadata_version
            sha = storage.put_bytes(key, _sidecar_bytes(slug, version, character.metadata)).sha256
            action = "wrote_sidecar"
        record_sync(conn, character.id, version, uri, sha)
    return SyncResult(action, version, uri)


def character_schema(conn: psycopg.Connection, slug: str) -> dict:
    """The metadata schema that applies to a character: its first project's, or the default."""
    for project in projects_of(conn, slug):
        return schema_for(project.settings)
    return schema_for({})
