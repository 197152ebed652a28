"""Library commands of the CLI: readiness, duplicates, primary choice, metadata sync."""

import json

import pytest
from click.testing import CliRunner

from tests.ingest_files import ASTRONAUT, astronaut_variant
from trulience.catalog import characters
from trulience.cli import main
from trulience.config import Settings
from trulience.ingest.assess import assess_images, thresholds_for
from trulience.ingest.identity import embed_character
from trulience.storage import Storage


@pytest.fixture
def cli(db_url, tmp_path):
    env = {
        "TRULIENCE_HOME": str(tmp_path / "home"),
        "DATABASE_URL": db_url,
        "TRULIENCE_ACTOR": "cli:maria",
    }

    def invoke(*args: str):
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    invoke.settings = Settings.from_env(env)
    return invoke


def test_readiness_duplicates_and_resolution(cli, conn, face_models, tmp_path):
    cli("projects", "add", "moonbase", "Moonbase")
    twin = tmp_path / "twin.png"
    twin.write_bytes(astronaut_variant(0.85))
    for slug, image in (("eileen", ASTRONAUT), ("twin", twin)):
        assert (
            cli(
                "characters",
                "add",
                slug,
                slug.title(),
                "--project",
                "moonbase",
                "--image",
                str(image),
            ).exit_code
            == 0
        )
        storage = Storage(cli.settings.storage_url)
        assess_images(conn, storage, face_models, slug, thresholds_for(conn, slug))
        embed_character(conn, storage, face_models, slug)

    table = cli("characters", "readiness", "--project", "moonbase").output
    assert "eileen" in table and "sface-2021dec" in table
    listing = cli("characters", "duplicates").output
    assert "twin" in listing and "looks like eileen" in listing
    candidate = listing.split()[0].lstrip("#")
    assert cli("characters", "resolve-duplicate", candidate, "keep-both").exit_code == 0
    assert "no open duplicate candidates" in cli("characters", "duplicates").output
    again = cli("characters", "resolve-duplicate", candidate, "merge")
    assert again.exit_code == 1 and "already resolved" in again.output
    shown = json.loads(cli("characters", "show", "eileen").output)
    assert shown["readiness"]["has_primary"] and shown["readiness"]["identity_models"] == [
        "sface-2021dec"
    ]


def test_set_primary_and_sync_metadata(cli, conn):
    cli("projects", "add", "moonbase", "Moonbase")
    cli(
        "characters",
        "add",
        "eileen",
        "Eileen",
        "--metadata",
        '{"role": "pilot"}',
        "--image",
        str(ASTRONAUT),
    )
    result = cli("characters", "set-primary", "eileen", "astronaut.png")
    assert result.exit_code == 0 and "primary image is astronaut.png v1" in result.output
    missing = cli("characters", "set-primary", "eileen", "nope.png")
    assert missing.exit_code == 1 and "not found" in missing.output

    assert "wrote_sidecar" in cli("characters", "sync-metadata").output
    assert "in_sync" in cli("characters", "sync-metadata", "eileen").output
    characters.update_metadata(conn, "eileen", {"role": "commander"})
    storage = Storage(cli.settings.storage_url)
    key = "characters/eileen/metadata.json"
    document = json.loads(storage.read_bytes(key))
    document["metadata"] = {"role": "cook"}
    storage.put_bytes(key, json.dumps(document).encode())
    conflict = cli("characters", "sync-metadata", "eileen")
    assert conflict.exit_code == 1 and "CONFLICT" in conflict.output
    settled = cli("characters", "sync-metadata", "eileen", "--prefer", "catalog")
    assert settled.exit_code == 0 and "wrote_sidecar" in settled.output
    assert json.loads(storage.read_bytes(key))["metadata"] == {"role": "commander"}
