"""Per-user keyboard shortcuts (PRD-52): presets, overrides, validation and storage."""

import pytest

from trulience.auth import users as accounts
from trulience.catalog.errors import NotFound
from trulience.review.shortcuts import (
    ACTIONS,
    PRESETS,
    InvalidShortcuts,
    effective_table,
    parse_assignment,
    set_shortcuts,
    shortcuts_of,
)


def test_every_preset_binds_every_action_to_its_own_valid_key():
    for name, table in PRESETS.items():
        assert set(table) == set(ACTIONS), name
        assert effective_table(name, {}) == table


def test_presets_in_code_are_the_presets_the_catalog_accepts(conn):
    codes = [r[0] for r in conn.execute("SELECT code FROM shortcut_presets ORDER BY position")]
    assert codes == list(PRESETS)


def test_override_rebinds_one_action_and_keeps_the_others():
    table = effective_table("default", {"approve": "k"})
    assert table["approve"] == "k" and table["reject"] == "r" and table["play"] == " "


@pytest.mark.parametrize(
    ("preset", "overrides", "reason"),
    [
        ("default", {"dance": "x"}, "unknown action 'dance': the actions are back, forward"),
        ("default", {"approve": "ab"}, "approve: key 'ab' is not a single printable key"),
        ("default", {"approve": ""}, "approve: key '' is not a single printable key"),
        ("default", {"approve": "\t"}, "approve: key '\\t' is not a single printable key"),
        ("default", {"approve": "r"}, "key 'r' is bound to approve and reject"),
        (
            "default",
            {"flag": "?"},
            "flag: key '?' is reserved: it shows and hides the shortcut legend",
        ),
        ("default", {"back": "/"}, "back: key '/' is reserved"),
        ("vim", {}, "unknown preset 'vim': choose one of default, left_hand, numpad"),
    ],
)
def test_bad_tables_are_refused_naming_the_action_or_key_and_why(preset, overrides, reason):
    with pytest.raises(InvalidShortcuts) as refused:
        effective_table(preset, overrides)
    assert reason in str(refused.value)


def test_every_problem_is_named_at_once():
    with pytest.raises(InvalidShortcuts) as refused:
        effective_table("default", {"dance": "x", "approve": "ab"})
    assert len(refused.value.problems) == 2


def test_assignments_read_from_the_command_line():
    assert parse_assignment("approve=k") == ("approve", "k")
    assert parse_assignment("play=space") == ("play", " ")
    assert parse_assignment("back==") == ("back", "=")
    with pytest.raises(InvalidShortcuts, match="'approve' is not action=key"):
        parse_assignment("approve")


def test_stored_shortcuts_change_atomically_and_are_audited(conn):
    rita = accounts.create_user(conn, "rita", "Rita", "reviewer", "s3cret-pass")
    assert shortcuts_of(conn, rita.id).table == PRESETS["default"]

    chosen = set_shortcuts(conn, "rita", preset="numpad", assignments={"approve": "k"})
    assert chosen.overrides == {"approve": "k"}
    assert shortcuts_of(conn, rita.id) == chosen
    assert chosen.table["back"] == "4" and chosen.table["approve"] == "k"

    with pytest.raises(InvalidShortcuts, match="key '4' is bound to back and reject"):
        set_shortcuts(conn, "rita", preset="default", assignments={"reject": "4", "back": "4"})
    assert shortcuts_of(conn, rita.id) == chosen  # nothing half-written

    # an override equal to the preset's own key is dropped, not stored
    assert set_shortcuts(conn, "rita", assignments={"approve": "+"}).overrides == {}
    reset = set_shortcuts(conn, "rita", reset=True, assignments={"flag": "g"})
    assert (reset.preset, reset.overrides) == ("default", {"flag": "g"})
    actions = conn.execute(
        "SELECT action, row_key FROM audit_log WHERE table_name = 'user_preferences' ORDER BY id"
    ).fetchall()
    assert actions[0] == ("INSERT", f"user_id={rita.id}")
    assert {a for a, _ in actions[1:]} == {"UPDATE"}

    with pytest.raises(NotFound, match="user 'nobody' not found"):
        set_shortcuts(conn, "nobody", preset="numpad")
