"""The library and character pages' state in plain Python against the real catalog (issue 17):
filters and server-side pages over 10,000 characters, a bulk edit counted then applied in one
transaction (and refused naming the character and field), the metadata form's field errors
with nothing written, a viewer reading only, and a character's scene-type override honoured
by the effective configuration of its takes and not of others'."""

from decimal import Decimal

import psycopg
import pytest

from apps.character_state import CharacterSession
from apps.library_state import LibrarySession
from trulience import character_edits
from trulience.auth import users as accounts
from trulience.auth.acting import Operator
from trulience.auth.errors import PermissionDenied
from trulience.catalog.characters import create_character, get_character
from trulience.catalog.database import connect
from trulience.catalog.library_pages import LibraryFilter, count_characters, library_page
from trulience.catalog.projects import create_project
from trulience.catalog.scene_types import create_scene_type
from trulience.catalog.source_images import add_source_image, record_qa, set_primary
from trulience.catalog.tags import Subject, tag, tags_of
from trulience.config import Settings
from trulience.generation.scene_config import InvalidSceneType, resolve
from trulience.generation.takes import open_take

PASSWORD = "s3cret-pass"
SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "age": {"type": "integer", "minimum": 0, "maximum": 200},
        "rating": {"enum": ["general", "teen", "mature"]},
    },
    "required": ["name"],
}


def cast(conn: psycopg.Connection) -> None:
    """paul (producer), vic (viewer); project demo (its own schema) casting ada, bob and
    cy; ada tagged hero with a passing primary image and an identity (ready)."""
    for name, role in [("paul", "producer"), ("vic", "viewer")]:
        accounts.create_user(conn, name, name.title(), role, PASSWORD)
    create_project(conn, "demo", "Demo", settings={"metadata_schema": SCHEMA})
    for slug, name in [("ada", "Ada Lovelace"), ("bob", "Bob"), ("cy", "Cy Twombly")]:
        create_character(conn, slug, name, {"name": name, "age": 30}, projects=["demo"])
    tag(conn, "hero", Subject(character="ada"))
    image = add_source_image(conn, "ada", "a.png", "file:///a.png", "a" * 64, 64, 64, "png")
    record_qa(conn, image.id, True, {"score": 0.9, "failures": []})
    set_primary(conn, "ada", image.id)
    conn.execute("INSERT INTO face_models (code, dimension) VALUES ('arcface', 3)")
    conn.execute(
        """INSERT INTO character_identities (character_id, model, centroid, samples, same_min,
                                             same_p05, same_median, threshold)
           SELECT id, 'arcface', '[0.1,0.2,0.3]'::vector, 3, 0.6, 0.65, 0.8, 0.5
             FROM characters WHERE slug = 'ada'"""
    )
    conn.execute(
        """INSERT INTO image_variants (source_image_id, kind, uri, sha256, width, height)
           VALUES (%s, 'crop', 'file:///v.png', %s, 32, 32)""",
        (image.id, "b" * 64),
    )


@pytest.fixture
def settings(conn, db_url, tmp_path) -> Settings:
    cast(conn)
    return Settings.from_env({"DATABASE_URL": db_url, "TRULIENCE_HOME": str(tmp_path)})


def signed_in(session, username: str):
    session.login.username.value = username
    session.login.password.value = PASSWORD
    session.login.log_in()
    assert session.user is not None, session.login.notice.object
    return session


def test_the_library_filters_by_tag_readiness_project_and_text(settings, conn):
    library = signed_in(LibrarySession(settings), "vic")
    assert [r.slug for r in library.rows] == ["ada", "bob", "cy"]
    library.tag = "hero"
    assert [r.slug for r in library.rows] == ["ada"]
    assert library.rows[0].tags == ["hero"] and library.rows[0].projects == ["demo"]
    library.tag = ""
    library.readiness = "not ready"
    assert [r.slug for r in library.rows] == ["bob", "cy"]
    library.readiness = "ready"
    assert [r.slug for r in library.rows] == ["ada"], library.rows
    library.readiness = "any"
    library.text = "twom"  # in the name
    assert [r.slug for r in library.rows] == ["cy"]
    library.text = "%"  # a wildcard is a character like another
    assert library.rows == [] and library.total == 0
    library.text = ""
    create_project(conn, "other", "Other")
    library.project = "other"
    assert library.rows == [] and library.total == 0
    library.param.update(project="", sort="name")
    assert [r.name for r in library.rows] == ["Ada Lovelace", "Bob", "Cy Twombly"]


def test_ten_thousand_characters_are_read_one_page_at_a_time(settings, conn):
    conn.execute(
        """INSERT INTO characters (slug, name, metadata)
           SELECT 'extra-' || lpad(n::text, 5, '0'), 'Extra ' || n, '{}'::jsonb
             FROM generate_series(1, 10000) n"""
    )
    library = signed_in(LibrarySession(settings, page_size=50), "vic")
    assert library.total == 10003 and library.pages == 201
    assert len(library.rows) == 50 and library.rows[0].slug == "ada"
    library.go_to(200)
    assert [r.slug for r in library.rows] == ["extra-09998", "extra-09999", "extra-10000"]
    library.go_to(999)  # past the end: the last page
    assert library.page == 200
    library.text = "extra-0999"
    assert library.page == 0 and library.total == 10  # a new filter starts at page 1
    wanted = LibraryFilter(text="extra", sort="updated")
    assert count_characters(conn, wanted) == 10000
    assert len(library_page(conn, wanted, 9990, 50)) == 10


def test_a_bulk_field_edit_is_counted_then_applied_in_one_audited_transaction(settings, db_url):
    library = signed_in(LibrarySession(settings), "paul")
    library.select_page()
    library.toggle("cy")  # unselected again
    assert library.selected == ["ada", "bob"]
    assert library.preview_field("rating", "teen")
    assert library.pending == "would set rating = 'teen' on 2 of 2 characters"
    with connect(db_url) as conn:
        assert "rating" not in get_character(conn, "ada").metadata  # a dry run writes nothing
    assert library.apply_bulk()
    assert library.notice == ("set rating = 'teen' on 2 of 2 characters", "success")
    with connect(db_url) as conn:
        assert [get_character(conn, s).metadata.get("rating") for s in ("ada", "bob", "cy")] == [
            "teen",
            "teen",
            None,
        ]
        actors = conn.execute(
            "SELECT DISTINCT actor, txid FROM audit_log WHERE table_name = 'characters' "
            "AND action = 'UPDATE' AND after->'metadata'->>'rating' = 'teen'"
        ).fetchall()
    assert len(actors) == 1 and actors[0][0] == "user:paul"  # one transaction, by paul
    assert library.preview_field("rating", "teen")  # already so: nothing to change
    assert library.pending == "would set rating = 'teen' on 0 of 2 characters"


def test_a_bulk_edit_one_character_refuses_changes_nothing_and_names_it(settings, db_url):
    with connect(db_url) as conn:  # bob holds a value the new rating cannot sit beside
        conn.execute("UPDATE characters SET metadata = '{\"age\": 30}' WHERE slug = 'bob'")
    library = signed_in(LibrarySession(settings), "paul")
    library.select_matching()
    assert library.selected == ["ada", "bob", "cy"]
    assert not library.preview_field("age", "old")
    message, kind = library.notice
    assert kind == "danger" and "nothing changed" in message
    for slug in ("ada", "bob", "cy"):
        assert f"character '{slug}' $.age: 'old' is not of type 'integer'" in message
    assert "character 'bob' $: 'name' is a required property" in message
    assert library.pending is None and not library.apply_bulk()
    with connect(db_url) as conn:
        assert get_character(conn, "ada").metadata["age"] == 30


def test_a_bulk_tag_is_added_and_removed_across_the_selection(settings, db_url):
    library = signed_in(LibrarySession(settings), "paul")
    library.select_matching()
    assert library.preview_tag("Hero ")
    assert library.pending == "would add tag 'Hero' on 2 of 3 characters"
    assert library.apply_bulk()
    library.tag = "hero"
    assert library.total == 3
    library.clear_selection()
    library.toggle("bob")
    assert library.preview_tag("hero", add=False) and library.apply_bulk()
    with connect(db_url) as conn:
        assert tags_of(conn, Subject(character="bob")) == []


def test_a_viewer_reads_and_every_edit_is_refused(settings, db_url):
    library = signed_in(LibrarySession(settings), "vic")
    assert not library.may_edit
    library.select_page()
    assert not library.preview_tag("villain")
    assert library.notice[1] == "danger" and library.notice[0].startswith("not allowed")
    character = signed_in(CharacterSession(settings), "vic")
    character.open("ada")
    assert not character.may_edit and character.title == "Ada Lovelace"
    assert not character.save_metadata({"age": "31"})
    assert character.notice[0].startswith("not allowed")
    assert not character.save_override("walk", '{"seed": 7}')
    with connect(db_url) as conn, pytest.raises(PermissionDenied):
        character_edits.bulk_tag(conn, character.login.token, ["ada"], "villain", apply=True)
    with connect(db_url) as conn:
        assert get_character(conn, "ada").metadata_version == 1


def test_the_character_page_shows_images_band_takes_and_a_form_from_the_schema(settings):
    character = signed_in(CharacterSession(settings), "vic")
    character.open("ada")
    (image,) = character.images
    assert (image.name, image.qa_status, image.qa_score, image.primary) == (
        "a.png",
        "passed",
        0.9,
        True,
    )
    (band,) = character.bands
    assert (band.model, band.samples, band.threshold) == ("arcface", 3, 0.5)
    assert character.tags == ["hero"] and character.projects == ["demo"]
    fields = {f.name: f for f in character.fields}
    assert list(fields) == ["name", "age", "rating"]
    assert fields["name"].required and fields["age"].kind == "integer"
    assert fields["age"].text == "30" and fields["rating"].choices == ("general", "teen", "mature")


def test_an_invalid_value_is_an_error_at_its_field_and_nothing_is_written(settings, db_url):
    character = signed_in(CharacterSession(settings), "paul")
    character.open("ada")
    assert not character.save_metadata({"age": "two hundred and one", "name": ""})
    assert character.field_errors == {
        "age": "'two hundred and one' is not of type 'integer'",
        "$": "'name' is a required property",
    }
    assert not character.save_metadata({"age": "201"})
    assert character.field_errors == {"age": "201 is greater than the maximum of 200"}
    with connect(db_url) as conn:
        assert get_character(conn, "ada").metadata == {"name": "Ada Lovelace", "age": 30}
    assert character.save_metadata({"age": "31", "rating": "teen"})
    assert character.field_errors == {}
    with connect(db_url) as conn:
        saved = get_character(conn, "ada")
        actor = conn.execute(
            "SELECT actor FROM audit_log WHERE table_name = 'characters' AND action = 'UPDATE' "
            "ORDER BY id DESC LIMIT 1"
        ).fetchone()[0]
    assert saved.metadata == {"name": "Ada Lovelace", "age": 31, "rating": "teen"}
    assert saved.metadata_version == 2 and actor == "user:paul"
    assert {f.name: f.text for f in character.fields}["age"] == "31"

    # the save is paul's command: undone, then redone (PRD-51), from any session of his
    from trulience import edits

    with connect(db_url) as conn:
        undone = edits.undo(conn, character.login.token)
        assert get_character(conn, "ada").metadata == {"name": "Ada Lovelace", "age": 30}
        redone = edits.redo(conn, character.login.token)
        assert get_character(conn, "ada").metadata == saved.metadata
    assert undone.label == redone.label


def test_a_character_override_is_honoured_by_its_takes_and_no_one_elses(settings, db_url):
    with connect(db_url) as conn:
        create_scene_type(
            conn,
            "walk",
            "Walk",
            target_duration_s=Decimal(4),
            segment_duration_s=Decimal(2),
            fps=Decimal(24),
            width=640,
            height=360,
            seed=1,
            params={"cfg": 5, "steps": 20},
        )
    character = signed_in(CharacterSession(settings), "paul")
    character.open("ada")
    assert character.save_override("walk", '{"target_duration_s": 6, "params": {"steps": 30}}')
    assert character.overrides == {"walk": {"target_duration_s": "6", "params": {"steps": 30}}}
    # refused: a segment longer than the take, naming the setting; nothing is stored
    assert not character.save_override("walk", '{"segment_duration_s": 8}')
    assert "segment_duration_s" in character.override_error
    assert not character.save_override("walk", '{"width": 641}')
    assert "width" in character.override_error and "even" in character.override_error
    with connect(db_url) as conn:
        ada_take, ada_config, _ = open_take(conn, "demo", "ada", "walk")
        bob_take, bob_config, _ = open_take(conn, "demo", "bob", "walk")
        assert Decimal(bob_take.effective_config["target_duration_s"]) == 4
        assert resolve(conn, "walk", "ada").target_duration_s == Decimal(6)
    assert ada_config.target_duration_s == Decimal(6) and ada_config.frame_plan() == [48] * 3
    assert ada_config.segment_params() == {"cfg": 5, "steps": 30}
    assert Decimal(ada_take.effective_config["target_duration_s"]) == 6
    assert bob_config.target_duration_s == Decimal(4) and bob_config.segment_params() == {
        "cfg": 5,
        "steps": 20,
    }
    assert character.save_override("walk", "{}")  # removed: ada's next take is as others'
    with connect(db_url) as conn:
        assert resolve(conn, "walk", "ada") == resolve(conn, "walk")


def test_an_override_of_an_unknown_setting_is_refused_naming_it(settings, db_url):
    with connect(db_url) as conn:
        create_scene_type(conn, "idle", "Idle")
        with pytest.raises(InvalidSceneType, match="colour: unknown setting"):
            character_edits.set_scene_override(
                conn, Operator("cli:test"), "ada", "idle", {"colour": 1}
            )
