"""The Undo / Redo component's state (apps/edits_state.py), driven as a page drives it:
a field error writes nothing; a valid edit is saved, undone and redone with its label on the
buttons; the stack follows the user into a new session; a refusal is said with its reason."""

import pytest

from apps.edits_state import EditsState
from apps.edits_view import EditsBar
from apps.login import Login
from trulience import edits
from trulience.auth import users as accounts
from trulience.auth.acting import Operator
from trulience.auth.permissions import Permission
from trulience.catalog import characters
from trulience.catalog.audit import audit_trail

PASSWORD = "correct horse battery"


@pytest.fixture
def library(conn):
    characters.create_character(conn, "ada", "Ada", {"age": 30})
    accounts.create_user(conn, "bob", "Bob", "producer", PASSWORD)
    accounts.create_user(conn, "vi", "Vi", "viewer", PASSWORD)
    return conn


def signed_in(db_url: str, username: str, changed=None) -> EditsState:
    """An EditsState behind a real login, as a page builds it."""
    login = Login(db_url, "studio", Permission.VIEW, lambda _: None, lambda: None)
    login.username.value, login.password.value = username, PASSWORD
    login.log_in()
    assert login.token is not None, login.notice.object
    state = EditsState(db_url, login, changed=changed)
    state.refresh()
    return state


def age(conn) -> int:
    return characters.get_character(conn, "ada").metadata["age"]


def test_invalid_value_is_a_field_error_and_nothing_is_written(db_url, library):
    state = signed_in(db_url, "bob")
    assert state.apply([edits.set_field("ada", "age", -3)]) is None
    assert list(state.field_errors) == ["$.age"]
    assert "minimum" in state.field_errors["$.age"]
    assert state.notice[1] == "danger" and "character ada metadata" in state.notice[0]
    assert age(library) == 30 and state.undo_label is None


def test_valid_edit_is_saved_audited_undone_and_redone(db_url, library):
    reread = []
    state = signed_in(db_url, "bob", changed=lambda: reread.append(True))
    bar = EditsBar(state=state)
    assert (bar.undo_button.disabled, bar.redo_button.disabled) == (True, True)

    state.apply([edits.set_field("ada", "age", 31)])
    assert age(library) == 31 and state.field_errors == {}
    assert state.notice == ("saved: set age of ada", "success")
    assert bar.undo_button.label == "Undo: set age of ada" and not bar.undo_button.disabled
    assert audit_trail(library, table="characters", limit=1)[0].actor == "user:bob"

    state.undo()
    assert age(library) == 30
    assert state.notice == ("undone: set age of ada", "info")
    assert (bar.undo_button.label, bar.undo_button.disabled) == ("Undo", True)
    assert bar.redo_button.label == "Redo: set age of ada"

    state.redo()
    assert age(library) == 31 and state.redo_label is None
    assert len(reread) == 3  # the page re-read after each edit


def test_the_stack_follows_the_user_into_a_new_session_and_the_cli(db_url, library):
    signed_in(db_url, "bob").apply([edits.set_field("ada", "age", 31)])
    edits.apply(library, Operator("user:bob"), [edits.add_tag("ada", "hero")])  # CLI as bob
    later = signed_in(db_url, "bob")
    assert later.undo_text == "Undo: tag ada hero"
    later.undo()
    assert later.undo_text == "Undo: set age of ada"


def test_a_refused_undo_says_why(db_url, library):
    state = signed_in(db_url, "bob")
    state.apply([edits.set_field("ada", "age", 31)])
    edits.apply(library, Operator("cli:ana"), [edits.set_field("ada", "age", 40)])
    assert state.undo() is None
    message, kind = state.notice
    assert kind == "danger"
    assert message.startswith("character ada's field 'age' was changed by cli:ana at ")
    assert age(library) == 40


def test_a_viewer_is_told_not_allowed(db_url, library):
    state = signed_in(db_url, "vi")
    assert state.apply([edits.set_field("ada", "age", 31)]) is None
    assert state.notice[0].startswith("not allowed")
    assert age(library) == 30
