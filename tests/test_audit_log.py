"""Every change to the catalog is recorded by the database: who, what, when, before/after."""

import pytest

from trulience.catalog import characters, projects
from trulience.catalog.audit import audit_trail
from trulience.catalog.database import acting_as, connect
from trulience.catalog.errors import ReadOnly, writing


def test_audit_log_records_who_changed_what(db_url):
    with connect(db_url, actor="maria") as conn:
        projects.create_project(conn, "moonbase", "Moonbase")
        characters.create_character(conn, "ava", "Ava", {"hair": "red"}, projects=["moonbase"])
        characters.update_metadata(conn, "ava", {"hair": "black"})
    with connect(db_url) as conn:  # a transaction naming its own actor (SET LOCAL)
        with acting_as(conn, "pipeline:run-42"):
            characters.rename_character(conn, "ava", "Ava Chen")
        characters.delete_character(conn, "ava")

        trail = audit_trail(conn, table="characters")
        actions = [(e.actor, e.action) for e in reversed(trail)]
        assert actions == [
            ("maria", "INSERT"),
            ("maria", "UPDATE"),
            ("pipeline:run-42", "UPDATE"),
            ("db:postgres", "DELETE"),
        ]
        metadata_change = trail[2]
        assert metadata_change.before["metadata"] == {"hair": "red"}
        assert metadata_change.after["metadata"] == {"hair": "black"}
        assert metadata_change.after["metadata_version"] == 2
        deleted = trail[0]
        assert deleted.before["name"] == "Ava Chen" and deleted.after is None
        membership = audit_trail(conn, table="project_characters")
        assert {e.action for e in membership} == {"INSERT", "DELETE"}  # cascade is recorded
        assert membership[0].row_key.startswith("project_id=")


def test_audit_log_refuses_update_delete_and_truncate(db_url):
    with connect(db_url, actor="maria") as conn:
        projects.create_project(conn, "moonbase", "Moonbase")
        for statement in (
            "UPDATE audit_log SET actor = 'nobody'",
            "DELETE FROM audit_log",
            "TRUNCATE audit_log",
        ):
            with pytest.raises(ReadOnly, match="append-only"), writing(conn):
                conn.execute(statement)
        assert [e.actor for e in audit_trail(conn, table="projects")] == ["maria"]


def test_unchanged_update_writes_no_audit_row(db_url):
    with connect(db_url, actor="maria") as conn:
        projects.create_project(conn, "moonbase", "Moonbase")
        conn.execute("UPDATE projects SET name = name")
        assert len(audit_trail(conn, table="projects")) == 1


def test_password_hashes_never_reach_the_audit_log(db_url):
    with connect(db_url, actor="admin") as conn:
        conn.execute(
            "INSERT INTO users (username, display_name, password_hash) "
            "VALUES ('bob', 'Bob', 'scrypt$secret')"
        )
        (entry,) = audit_trail(conn, table="users")
        assert "password_hash" not in entry.after
        assert "secret" not in str(entry.after)
