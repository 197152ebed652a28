"""Tags on any entity (PRD-47) and full-text search over characters and notes (PRD-20)."""

import pytest

from trulience.catalog import characters, notes, projects, scene_types, scenes, users
from trulience.catalog.errors import InvalidValue
from trulience.catalog.search import search
from trulience.catalog.tags import Subject, list_tags, tag, tags_of, untag


@pytest.fixture
def library(conn):
    projects.create_project(conn, "moonbase", "Moonbase")
    characters.create_character(
        conn,
        "ava-chen",
        "Ava Chen",
        {"role": "pilot", "bio": "red-haired astronaut from Tycho"},
        projects=["moonbase"],
    )
    characters.create_character(
        conn, "bruno", "Bruno Sato", {"role": "mechanic"}, projects=["moonbase"]
    )
    users.create_user(conn, "maria", "Maria", "producer")
    return conn


def test_tags_attach_once_to_any_entity_and_filter_characters(library):
    tag(library, "Hero", Subject(character="ava-chen"), color="#ff8800")
    tag(library, " hero ", Subject(character="ava-chen"))  # same tag, no duplicate
    tag(library, "needs-relight", Subject(character="bruno"))
    tag(library, "hero", Subject(project="moonbase"))
    scene_types.create_scene_type(library, "walk", "Walk", target_duration_s=10)
    scene = scenes.create_take(library, "moonbase", "bruno", "walk")
    segment = scenes.add_segment(library, scene.id, 0)
    tag(library, "jitter", Subject(segment_id=segment.id))

    assert [t.name for t in tags_of(library, Subject(character="ava-chen"))] == ["hero"]
    assert [c.slug for c in characters.list_characters(library, tag="hero")] == ["ava-chen"]
    assert [
        c.slug for c in characters.list_characters(library, project="moonbase", tag="needs-relight")
    ] == ["bruno"]
    assert [t.name for t in list_tags(library)] == ["hero", "jitter", "needs-relight"]
    assert untag(library, "HERO", Subject(character="ava-chen"))
    assert not untag(library, "hero", Subject(character="ava-chen"))
    assert characters.list_characters(library, tag="hero") == []


def test_tag_needs_exactly_one_subject_and_a_valid_name(library):
    with pytest.raises(InvalidValue, match="exactly one"):
        tag(library, "hero", Subject(character="ava-chen", project="moonbase"))
    with pytest.raises(InvalidValue) as err:
        tag(library, "bad|tag", Subject(character="ava-chen"))
    assert err.value.field == "name"
    with pytest.raises(InvalidValue) as err:
        tag(library, "ok", Subject(character="ava-chen"), color="orange")
    assert err.value.field == "color"
    assert list_tags(library) == []


def test_search_finds_characters_by_name_slug_metadata_and_prefix(library):
    assert [h.key for h in search(library, "astronaut")] == ["ava-chen"]
    assert [h.key for h in search(library, "Chen")] == ["ava-chen"]
    assert [h.key for h in search(library, "mechanic")] == ["bruno"]
    assert [h.key for h in search(library, "astro")] == ["ava-chen"]  # prefix while typing
    assert [h.key for h in search(library, "ava-chen")] == ["ava-chen"]
    assert [h.key for h in search(library, "tycho pil")] == ["ava-chen"]
    assert [h.key for h in search(library, "pilot -astronaut")] == []
    assert search(library, "   ") == []
    assert search(library, "&|!:*'") == []


def test_search_reaches_notes_with_stemming(library):
    note = notes.add_note(
        library, "maria", "Lighting flickers on the helmet visor", Subject(character="ava-chen")
    )
    hits = search(library, "flickering helmet")
    assert [(h.kind, h.key) for h in hits] == [("note", str(note.id))]
    assert "<b>" in hits[0].snippet


def test_search_follows_metadata_edits(library):
    characters.update_metadata(library, "bruno", {"role": "astronaut"})
    assert {h.key for h in search(library, "astronaut")} == {"ava-chen", "bruno"}
