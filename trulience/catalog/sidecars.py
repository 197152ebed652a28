"""What the last metadata sync of a character left behind (the catalog version and the
sidecar's sha256), and the lock a sync holds on the character meanwhile. trulience/sidecar.py
decides which side wins."""

from dataclasses import dataclass

import psycopg

from trulience.catalog.fetch import many


@dataclass(frozen=True, slots=True)
class SyncState:
    synced_version: int
    sidecar_sha256: str


def lock_character_for_update(conn: psycopg.Connection, character_id: int) -> None:
    """Hold the character's row (FOR UPDATE) until the transaction ends: one sync at a time."""
    conn.execute("SELECT 1 FROM characters WHERE id = %s FOR UPDATE", (character_id,))


def sync_state_of(conn: psycopg.Connection, character_id: int) -> SyncState | None:
    """What the last sync recorded; None when the character was never synced."""
    rows = many(
        conn,
        SyncState,
        "SELECT synced_version, sidecar_sha256 FROM metadata_sync WHERE character_id = %s",
        (character_id,),
    )
    return rows[0] if rows else None


def record_sync(
    conn: psycopg.Connection, character_id: int, version: int, uri: str, sha256: str
) -> None:
    """Remember the catalog version and the sidecar (where, and its sha256) now in step."""
    conn.execute(
        """INSERT INTO metadata_sync (character_id, synced_version, sidecar_uri, sidecar_sha256)
           VALUES (%s, %s, %s, %s)
           ON CONFLICT (character_id) DO UPDATE
              SET synced_version = EXCLUDED.synced_version,
                  sidecar_uri = EXCLUDED.sidecar_uri,
                  sidecar_sha256 = EXCLUDED.sidecar_sha256, synced_at = now()""",
        (character_id, version, uri, sha256),
    )
