"""Dual metadata (PRD-13): catalog jsonb and storage sidecar kept in sync, conflicts reported."""

import json

import pytest

from trulience.catalog import characters
from trulience.metadata import DEFAULT_SCHEMA, InvalidMetadata
from trulience.sidecar import MetadataConflict, sidecar_key, sync_metadata


@pytest.fixture
def eileen(conn):
    characters.create_character(conn, "eileen", "Eileen", {"role": "astronaut"})
    return "eileen"


def edit_sidecar(storage, slug, metadata):
    key = sidecar_key(slug)
    document = json.loads(storage.read_bytes(key))
    document["metadata"] = metadata
    storage.put_bytes(key, json.dumps(document).encode())


def test_first_sync_writes_the_sidecar_then_nothing_to_do(conn, storage, eileen):
    first = sync_metadata(conn, storage, eileen, DEFAULT_SCHEMA)
    assert first.action == "wrote_sidecar"
    document = json.loads(storage.read_bytes(sidecar_key(eileen)))
    assert document == {"slug": "eileen", "version": 1, "metadata": {"role": "astronaut"}}
    assert sync_metadata(conn, storage, eileen, DEFAULT_SCHEMA).action == "in_sync"


def test_each_side_edit_flows_to_the_other(conn, storage, eileen):
    sync_metadata(conn, storage, eileen, DEFAULT_SCHEMA)
    characters.update_metadata(conn, eileen, {"role": "commander"})
    assert sync_metadata(conn, storage, eileen, DEFAULT_SCHEMA).action == "wrote_sidecar"
    assert json.loads(storage.read_bytes(sidecar_key(eileen)))["version"] == 2

    edit_sidecar(storage, eileen, {"role": "pilot", "age": 40})
    result = sync_metadata(conn, storage, eileen, DEFAULT_SCHEMA)
    assert result.action == "imported_sidecar" and result.version == 3
    assert characters.get_character(conn, eileen).metadata == {"role": "pilot", "age": 40}
    assert json.loads(storage.read_bytes(sidecar_key(eileen)))["version"] == 3


def test_edits_on_both_sides_are_a_conflict_never_an_overwrite(conn, storage, eileen):
    sync_metadata(conn, storage, eileen, DEFAULT_SCHEMA)
    characters.update_metadata(conn, eileen, {"role": "commander"})
    edit_sidecar(storage, eileen, {"role": "pilot"})
    with pytest.raises(MetadataConflict, match="fields role") as err:
        sync_metadata(conn, storage, eileen, DEFAULT_SCHEMA)
    assert (err.value.catalog, err.value.sidecar) == ({"role": "commander"}, {"role": "pilot"})
    assert characters.get_character(conn, eileen).metadata == {"role": "commander"}
    assert json.loads(storage.read_bytes(sidecar_key(eileen)))["metadata"] == {"role": "pilot"}

    settled = sync_metadata(conn, storage, eileen, DEFAULT_SCHEMA, prefer="sidecar")
    assert settled.action == "imported_sidecar"
    assert characters.get_character(conn, eileen).metadata == {"role": "pilot"}


def test_invalid_sidecar_edit_is_refused_and_the_catalog_kept(conn, storage, eileen):
    sync_metadata(conn, storage, eileen, DEFAULT_SCHEMA)
    edit_sidecar(storage, eileen, {"age": "forty"})
    with pytest.raises(InvalidMetadata, match=r"\$\.age"):
        sync_metadata(conn, storage, eileen, DEFAULT_SCHEMA)
    assert characters.get_character(conn, eileen).metadata == {"role": "astronaut"}
