"""Undo and redo of catalog edits (PRD-51): each kind round trips, a bulk edit is one group,
a later edit blocks an undo with its name, a new edit drops the redo stack, every step is
audited, and the stack is the catalog's (two sessions, the CLI)."""

import pytest
from click.testing import CliRunner

from trulience import edits
from trulience.auth.acting import Operator
from trulience.auth.users import authenticate, create_user
from trulience.catalog import characters, scene_types
from trulience.catalog.audit import audit_trail
from trulience.catalog.database import connect
from trulience.catalog.tags import Subject, tags_of
from trulience.cli import main
from trulience.metadata import InvalidMetadata

ANA = Operator("cli:ana")
BOB = Operator("cli:bob")


@pytest.fixture
def cast(conn):
    characters.create_character(conn, "ada", "Ada", {"age": 30, "role": "lead"})
    characters.create_character(conn, "bo", "Bo", {"age": 8})
    characters.create_character(conn, "cy", "Cy", {})
    return conn


def metadata(conn, slug: str) -> dict:
    return characters.get_character(conn, slug).metadata


def test_a_field_set_is_saved_undone_and_redone(cast):
    done = edits.apply(cast, ANA, [edits.set_field("ada", "age", 31)])
    assert done.label == "set age of ada"
    assert metadata(cast, "ada")["age"] == 31
    assert edits.stack_of(cast, ANA) == edits.Stack("set age of ada", None)

    assert edits.undo(cast, ANA).label == "set age of ada"
    assert metadata(cast, "ada")["age"] == 30
    assert edits.stack_of(cast, ANA) == edits.Stack(None, "set age of ada")

    edits.redo(cast, ANA)
    assert metadata(cast, "ada")["age"] == 31
    assert edits.stack_of(cast, ANA) == edits.Stack("set age of ada", None)
    edits.undo(cast, ANA)  # the redone edit is undoable again
    assert metadata(cast, "ada")["age"] == 30


def test_an_invalid_value_names_the_field_and_writes_nothing(cast):
    with pytest.raises(InvalidMetadata) as refused:
        edits.apply(cast, ANA, [edits.set_field("ada", "age", "old"), edits.rename("ada", "A")])
    assert [p.field for p in refused.value.problems] == ["$.age"]
    assert "age" in str(refused.value) and "character ada metadata" in str(refused.value)
    ada = characters.get_character(cast, "ada")
    assert (ada.name, ada.metadata["age"]) == ("Ada", 30)
    assert edits.stack_of(cast, ANA) == edits.Stack(None, None)


def test_unset_replace_and_rename_round_trip(cast):
    edits.apply(cast, ANA, [edits.unset_field("ada", "role")])
    assert "role" not in metadata(cast, "ada")
    edits.apply(cast, ANA, [edits.replace_metadata("bo", {"age": 9, "voice": "low"})])
    edits.apply(cast, ANA, [edits.rename("cy", "Cyrus")])
    assert characters.get_character(cast, "cy").name == "Cyrus"

    assert edits.undo(cast, ANA).label == "rename cy to Cyrus"
    assert characters.get_character(cast, "cy").name == "Cy"
    assert edits.undo(cast, ANA).label == "replace metadata of bo"
    assert metadata(cast, "bo") == {"age": 8}
    assert edits.undo(cast, ANA).label == "unset role of ada"
    assert metadata(cast, "ada") == {"age": 30, "role": "lead"}
    for _ in range(3):
        edits.redo(cast, ANA)
    assert metadata(cast, "ada") == {"age": 30}
    assert metadata(cast, "bo") == {"age": 9, "voice": "low"}
    assert characters.get_character(cast, "cy").name == "Cyrus"


def test_tags_added_and_removed_round_trip(cast):
    edits.apply(cast, ANA, [edits.add_tag("ada", "Hero")])
    assert [t.name for t in tags_of(cast, Subject(character="ada"))] == ["hero"]
    edits.apply(cast, ANA, [edits.remove_tag("ada", "hero")])
    assert tags_of(cast, Subject(character="ada")) == []
    assert edits.undo(cast, ANA).label == "untag ada hero"
    assert [t.name for t in tags_of(cast, Subject(character="ada"))] == ["hero"]
    assert edits.undo(cast, ANA).label == "tag ada hero"
    assert tags_of(cast, Subject(character="ada")) == []
    assert edits.apply(cast, ANA, [edits.remove_tag("ada", "hero")]) is None  # no change


def test_scene_type_settings_undo_is_a_new_version_equal_to_the_old(conn):
    scene_types.create_scene_type(conn, "walk", "Walk", fps=24, width=512, height=512)
    done = edits.apply(conn, ANA, [edits.scene_type_settings("walk", fps=30)])
    assert done.label == "change fps of scene type walk"
    assert scene_types.latest_version(conn, "walk").version == 2
    edits.undo(conn, ANA)
    latest = scene_types.latest_version(conn, "walk")
    assert (latest.version, float(latest.fps), latest.width) == (3, 24.0, 512)
    edits.redo(conn, ANA)
    latest = scene_types.latest_version(conn, "walk")
    assert (latest.version, float(latest.fps)) == (4, 30.0)


def test_a_bulk_edit_is_one_group_undone_together(cast):
    done = edits.apply(
        cast, ANA, [edits.set_field(s, "rating", "teen") for s in ("ada", "bo", "cy")]
    )
    assert done.label == "set rating of 3 characters"
    assert {c.group_id for c in done.commands} == {done.group_id} and len(done.commands) == 3
    edits.undo(cast, ANA)
    assert all("rating" not in metadata(cast, s) for s in ("ada", "bo", "cy"))
    edits.redo(cast, ANA)
    assert all(metadata(cast, s)["rating"] == "teen" for s in ("ada", "bo", "cy"))


def test_undo_is_refused_naming_the_later_edit_that_depends_on_it(cast):
    edits.apply(cast, ANA, [edits.set_field("ada", "age", 31)])
    edits.apply(cast, BOB, [edits.set_field("ada", "age", 32)])
    with pytest.raises(edits.EditRefused) as refused:
        edits.undo(cast, ANA)
    message = str(refused.value)
    assert message.startswith("character ada's field 'age' was changed by cli:bob at ")
    assert message.endswith("after this edit; undo that first")
    assert metadata(cast, "ada")["age"] == 32  # nothing written
    edits.undo(cast, BOB)
    edits.undo(cast, ANA)
    assert metadata(cast, "ada")["age"] == 30


def test_a_later_edit_of_another_field_does_not_block(cast):
    edits.apply(cast, ANA, [edits.set_field("ada", "age", 31)])
    edits.apply(cast, BOB, [edits.set_field("ada", "role", "villain")])
    edits.undo(cast, ANA)
    assert metadata(cast, "ada") == {"age": 30, "role": "villain"}


def test_an_edit_outside_the_commands_blocks_too(cast):
    edits.apply(cast, ANA, [edits.set_field("ada", "age", 31)])
    characters.update_metadata(cast, "ada", {"age": 40, "role": "lead"})  # e.g. a sidecar sync
    with pytest.raises(edits.EditRefused, match="changed by tester at"):
        edits.undo(cast, ANA)


def test_a_new_edit_clears_the_redo_stack(cast):
    edits.apply(cast, ANA, [edits.set_field("ada", "age", 31)])
    edits.undo(cast, ANA)
    edits.apply(cast, ANA, [edits.set_field("bo", "age", 9)])
    assert edits.stack_of(cast, ANA).redo is None
    with pytest.raises(edits.EditRefused, match="nothing to redo: cli:ana has no undone edit"):
        edits.redo(cast, ANA)


def test_nothing_to_undo_and_undoing_someone_elses_edit_are_refused(cast):
    with pytest.raises(edits.EditRefused, match="nothing to undo: cli:ana"):
        edits.undo(cast, ANA)
    done = edits.apply(cast, BOB, [edits.set_field("ada", "age", 31)])
    with pytest.raises(edits.EditRefused, match="is cli:bob's; each person undoes their own"):
        edits.undo(cast, ANA, done.commands[0].id)
    edits.undo(cast, BOB, done.commands[0].id)
    with pytest.raises(edits.EditRefused, match="already undone"):
        edits.undo(cast, BOB, done.commands[0].id)


def test_every_step_is_audited_under_its_actor(cast):
    edits.apply(cast, ANA, [edits.set_field("ada", "age", 31)])
    edits.undo(cast, ANA)
    edits.redo(cast, ANA)
    trail = audit_trail(cast, table="characters", actor="cli:ana")
    assert [e.after["metadata"]["age"] for e in reversed(trail)] == [31, 30, 31]
    commands = audit_trail(cast, table="edit_commands", actor="cli:ana")
    assert {e.action for e in commands} == {"INSERT", "UPDATE"}


def test_the_stack_survives_a_new_session_as_the_same_user(db_url, cast):
    create_user(cast, "bob", "Bob", "producer", "correct horse battery")
    first = authenticate(cast, "bob", "correct horse battery")
    edits.apply(cast, first.token, [edits.set_field("ada", "age", 33)])
    with connect(db_url, actor="another") as other:
        again = authenticate(other, "bob", "correct horse battery")
        assert edits.stack_of(other, again.token).undo == "set age of ada"
        edits.undo(other, again.token)
        assert metadata(other, "ada")["age"] == 30
    assert edits.stack_of(cast, first.user).redo == "set age of ada"
    assert audit_trail(cast, table="characters", limit=1)[0].actor == "user:bob"


def test_a_viewer_may_not_edit(cast):
    from trulience.auth.errors import PermissionDenied

    create_user(cast, "vi", "Vi", "viewer", "correct horse battery")
    viewer = authenticate(cast, "vi", "correct horse battery")
    with pytest.raises(PermissionDenied):
        edits.apply(cast, viewer.token, [edits.set_field("ada", "age", 31)])
    assert metadata(cast, "ada")["age"] == 30


def test_the_cli_edits_tags_undoes_and_redoes(db_url, tmp_path, cast):
    env = {"TRULIENCE_HOME": str(tmp_path), "DATABASE_URL": db_url, "TRULIENCE_ACTOR": "cli:ana"}

    def run(*args: str) -> str:
        result = CliRunner().invoke(main, list(args), env=env)
        return result.output

    assert run("characters", "edit", "ada", "age=34", "--unset", "role") == (
        "ada: set age of ada and 1 more\n"
    )
    assert metadata(cast, "ada") == {"age": 34}
    refused = run("characters", "edit", "ada", "age=old")
    assert refused.startswith("Error: character ada metadata: $.age: 'old' is not of type")
    assert metadata(cast, "ada") == {"age": 34}
    assert run("tag", "villain", "--character", "ada") == "tagged villain\n"
    assert run("undo", "--list").splitlines()[0].endswith("applied         tag ada villain")
    assert run("undo") == "undone: tag ada villain\n"
    assert run("undo") == "undone: set age of ada and 1 more\n"
    assert metadata(cast, "ada") == {"age": 30, "role": "lead"}
    assert run("redo") == "redone: set age of ada and 1 more\n"
    assert metadata(cast, "ada") == {"age": 34}
    env["TRULIENCE_ACTOR"] = "cli:bob"  # another person's stack is their own
    assert "nothing to undo: cli:bob has no edit left to undo" in run("undo")
