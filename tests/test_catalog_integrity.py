"""The database itself refuses bad rows; the repository names entity, field and reason."""

import pytest

from trulience.catalog import characters, projects, scene_types, scenes, source_images
from trulience.catalog.errors import (
    AlreadyExists,
    InvalidValue,
    MissingReference,
    NotFound,
    StillReferenced,
)

SHA = "a" * 64


@pytest.fixture
def cast(conn):
    projects.create_project(conn, "moonbase", "Moonbase")
    characters.create_character(conn, "ava", "Ava", {"role": "pilot"}, projects=["moonbase"])
    scene_types.create_scene_type(
        conn,
        "walk",
        "Walk",
        target_duration_s=30,
        segment_duration_s=5,
        fps=24,
        width=512,
        height=512,
    )
    return conn


def count(conn, table):
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_unique_slug_is_refused_with_the_field_and_value(cast):
    with pytest.raises(AlreadyExists) as err:
        characters.create_character(cast, "ava", "Another Ava")
    assert (err.value.entity, err.value.field, err.value.value) == ("character", "slug", "ava")
    assert "character with slug 'ava' already exists" in str(err.value)
    assert count(cast, "characters") == 1


@pytest.mark.parametrize("slug", ["Ava", "ava|walk", "../x", "a b", "", "-ava", "x" * 64])
def test_check_refuses_bad_slugs_naming_the_field(cast, slug):
    with pytest.raises(InvalidValue) as err:
        characters.create_character(cast, slug, "Bad")
    assert err.value.entity == "character"
    assert err.value.field == "slug"
    assert err.value.value == slug
    assert "lowercase" in err.value.reason


def test_check_refuses_non_positive_duration_and_odd_resolution(cast):
    with pytest.raises(InvalidValue) as err:
        scene_types.create_scene_type(cast, "run", "Run", target_duration_s=-5)
    assert err.value.field == "target_duration_s"
    assert err.value.value == -5
    assert "greater than 0" in str(err.value)
    with pytest.raises(InvalidValue) as err:
        scene_types.create_scene_type(cast, "run", "Run", width=255, height=256)
    assert err.value.field == "width"
    with pytest.raises(InvalidValue) as err:
        scene_types.create_scene_type(cast, "run", "Run", fps=0)
    assert err.value.field == "fps"
    # nothing half-written: the identity row went with the refused version
    assert [t.slug for t in scene_types.list_scene_types(cast)] == ["walk"]


def test_lookup_refuses_unknown_status_listing_the_allowed_ones(cast):
    with pytest.raises(InvalidValue) as err:
        projects.set_project_status(cast, "moonbase", "finished")
    assert err.value.field == "status"
    assert err.value.value == "finished"
    assert err.value.reason == "must be one of: active, archived"
    assert projects.get_project(cast, "moonbase").status == "active"


def test_foreign_key_refuses_missing_reference(cast):
    with pytest.raises(MissingReference) as err:
        scenes.add_segment(cast, scene_id=999_999, index=0)
    assert err.value.entity == "segment"
    assert err.value.field == "scene_id"
    assert err.value.target == "scene"


def test_foreign_key_restricts_deleting_a_character_with_images(cast):
    source_images.add_source_image(cast, "ava", "ava.png", "file:///x/ava.png", SHA, 64, 64, "PNG")
    with pytest.raises(StillReferenced) as err:
        characters.delete_character(cast, "ava")
    assert err.value.referenced_by == "source image"
    assert "character 'ava' cannot be deleted: source image rows still refer to it" in str(
        err.value
    )
    assert characters.get_character(cast, "ava")


def test_scene_requires_the_character_to_be_in_the_project(cast):
    projects.create_project(cast, "other", "Other")
    with pytest.raises(InvalidValue) as err:
        scenes.create_take(cast, "other", "ava", "walk")
    assert "not in the project" in str(err.value)
    characters.add_to_project(cast, "other", "ava")  # PRD-60: one character, two projects
    scene = scenes.create_take(cast, "other", "ava", "walk")
    assert scene.take == 1
    assert [p.slug for p in characters.projects_of(cast, "ava")] == ["moonbase", "other"]


def test_generated_segment_must_carry_its_file(cast):
    scene = scenes.create_take(cast, "moonbase", "ava", "walk")
    with pytest.raises(InvalidValue) as err:
        scenes.add_segment(cast, scene.id, 0, status="generated")
    assert err.value.field == "status, uri, sha256, frames"
    assert "segments_media_when_generated" in err.value.reason
    ok = scenes.add_segment(
        cast, scene.id, 0, status="generated", uri="file:///s0.mp4", sha256=SHA, frames=120
    )
    retry = scenes.add_segment(cast, scene.id, 0)
    assert (ok.attempt, retry.attempt) == (1, 2)


def test_not_found_names_the_entity(cast):
    with pytest.raises(NotFound) as err:
        characters.get_character(cast, "nobody")
    assert str(err.value) == "character 'nobody' not found"


def test_scene_type_cycle_is_refused(cast):
    scene_types.create_scene_type(cast, "walk-fast", "Fast walk", parent="walk", fps=30)
    scene_types.create_scene_type(cast, "walk-fast-night", "Night", parent="walk-fast")
    with pytest.raises(InvalidValue) as err:
        scene_types.set_parent(cast, "walk", "walk-fast-night")
    assert err.value.field == "parent_id"
    assert "descendant" in err.value.reason
    assert scene_types.get_scene_type(cast, "walk").parent_id is None


def test_embedding_dimension_must_match_the_model(cast):
    image = source_images.add_source_image(cast, "ava", "a.png", "file:///a.png", SHA, 8, 8, "PNG")
    cast.execute("INSERT INTO face_models (code, dimension) VALUES ('tiny', 3)")
    from trulience.catalog.errors import writing

    with pytest.raises(InvalidValue) as err, writing(cast):
        cast.execute(
            "INSERT INTO face_embeddings (source_image_id, model, embedding) "
            "VALUES (%s, 'tiny', '[1,2]')",
            (image.id,),
        )
    assert err.value.field == "embedding"
    assert "2 dimensions" in err.value.reason


def test_source_image_versions_never_overwrite(cast):
    first = source_images.add_source_image(cast, "ava", "ava.png", "file:///v1", SHA, 8, 8, "PNG")
    second = source_images.add_source_image(
        cast, "ava", "ava.png", "file:///v2", "b" * 64, 8, 8, "PNG"
    )
    assert (first.version, second.version) == (1, 2)
    with pytest.raises(AlreadyExists):
        source_images.add_source_image(cast, "ava", "copy.png", "file:///v3", SHA, 8, 8, "PNG")
    primary = source_images.set_primary(cast, "ava", second.id)
    assert primary.is_primary
    source_images.set_primary(cast, "ava", first.id)
    flags = {i.version: i.is_primary for i in source_images.list_source_images(cast, "ava")}
    assert flags == {1: True, 2: False}


def test_metadata_edit_conflict_is_detected(cast):
    ava = characters.get_character(cast, "ava")
    updated = characters.update_metadata(cast, "ava", {"role": "captain"}, ava.metadata_version)
    assert updated.metadata_version == ava.metadata_version + 1
    from trulience.catalog.errors import ConflictingEdit

    with pytest.raises(ConflictingEdit):
        characters.update_metadata(cast, "ava", {"role": "cook"}, ava.metadata_version)
    assert characters.get_character(cast, "ava").metadata == {"role": "captain"}


def test_deleting_an_unknown_character_says_not_found(cast):
    with pytest.raises(NotFound, match="character 'ghost' not found"):
        characters.delete_character(cast, "ghost")


def test_every_catalog_table_has_a_name_for_error_messages(conn):
    from trulience.catalog.errors import ENTITY_NAMES

    tables = {
        name
        for (name,) in conn.execute(
            """SELECT t.table_name FROM information_schema.tables t
                WHERE t.table_schema = 'public' AND t.table_type = 'BASE TABLE'
                  AND t.table_name <> 'schema_migrations'
                  -- lookup tables (code, label, position) read as their own codes
                  AND NOT EXISTS (SELECT 1 FROM information_schema.columns c
                                   WHERE c.table_name = t.table_name AND c.column_name = 'code')"""
        )
    }
    assert tables - ENTITY_NAMES.keys() == set()
