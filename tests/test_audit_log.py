"""Every change to the catalog is recorded by the database: who, what, when, before/after."""

import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.ingest_files import ASTRONAUT, make_folder
from trulience.auth import users as accounts
from trulience.catalog import characters, migrations, projects
from trulience.catalog.audit import audit_trail
from trulience.catalog.database import acting_as, connect
from trulience.catalog.errors import ReadOnly, writing
from trulience.ingest.assess import assess_images, thresholds_for
from trulience.ingest.identity import embed_character
from trulience.ingest.inbox import import_drop, scan_inbox
from trulience.notify import add_webhook
from trulience.workers import pool


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
        assert entry.after["password_hash"] == "[redacted]"
        assert "secret" not in str(entry.after)


def audit_rows(conn, table: str) -> int:
    return conn.execute(
        "SELECT count(*) FROM audit_log WHERE table_name = %s", (table,)
    ).fetchone()[0]


def test_a_heartbeat_or_a_health_check_writes_no_audit_row(conn):
    pool.add_worker(conn, "http://127.0.0.1:8188", "studio", 1, "gpu-a")
    pool.record_health(conn, "gpu-a", ok=True)  # comes online: a change worth a row
    lease = pool.acquire(conn, "studio", "run-1")
    workers, leases = audit_rows(conn, "workers"), audit_rows(conn, "worker_leases")
    for _ in range(3):
        assert pool.heartbeat(conn, lease.id, ttl_s=30)
        pool.record_health(conn, "gpu-a", ok=True)  # only last_seen_at moves
        pool.record_success(conn, "gpu-a")
    assert (audit_rows(conn, "workers"), audit_rows(conn, "worker_leases")) == (workers, leases)
    pool.release(conn, lease.id, "done")  # the lease's end is recorded
    (released,) = [e for e in audit_trail(conn, table="worker_leases") if e.action == "UPDATE"]
    assert released.after["outcome"] == "done" and released.after["heartbeat_at"]


def test_face_vectors_never_reach_the_audit_log(conn, storage, tmp_path, face_models):
    projects.create_project(conn, "moonbase", "Moonbase")
    make_folder(tmp_path / "inbox", "moonbase", "eileen", {"a.png": ASTRONAUT})
    import_drop(conn, storage, scan_inbox(tmp_path / "inbox")[0])
    assess_images(conn, storage, face_models, "eileen", thresholds_for(conn, "eileen"))
    assert embed_character(conn, storage, face_models, "eileen").images == 1
    (embedded,) = audit_trail(conn, table="face_embeddings")
    (identity,) = audit_trail(conn, table="character_identities")
    assert "embedding" not in embedded.after and embedded.after["model"] == face_models.code
    assert "centroid" not in identity.after and identity.after["samples"] >= 1
    stored = conn.execute("SELECT embedding::text FROM face_embeddings").fetchone()[0]
    first_value = stored.strip("[]").split(",")[0]
    logged = conn.execute("SELECT string_agg(after::text, ' ') FROM audit_log").fetchone()[0]
    assert first_value not in logged
    assert "search" not in audit_trail(conn, table="characters")[0].after  # 0001's rule holds


def test_a_webhook_secret_never_appears_and_its_rotation_is_recorded(conn):
    admin = accounts.create_user(conn, "root", "Root", "admin", "s3cret-pass")
    hook = add_webhook(conn, admin, "https://example.test/hook", ["approved"], secret="x" * 20)
    with acting_as(conn, "user:root"):
        conn.execute("UPDATE webhooks SET secret = %s WHERE id = %s", ("y" * 20, hook.id))
    rotated, added = audit_trail(conn, table="webhooks")
    assert added.after["secret"] == "[redacted]"
    assert (rotated.before["secret"], rotated.after["secret"]) == (
        "[redacted]",
        "[redacted: changed]",
    )
    logged = conn.execute("SELECT string_agg(concat(before, after), ' ') FROM audit_log")
    text = logged.fetchone()[0]
    assert "x" * 20 not in text and "y" * 20 not in text and rotated.actor == "user:root"


def test_acting_as_inside_a_longer_transaction_gives_the_actor_back(db_url):
    with connect(db_url, actor="maria") as conn, conn.transaction():
        with acting_as(conn, "user:ann"):
            projects.create_project(conn, "moonbase", "Moonbase")
        projects.create_project(conn, "marsbase", "Marsbase")
        with pytest.raises(ReadOnly), acting_as(conn, "user:bob"), writing(conn):
            conn.execute("DELETE FROM audit_log")
        projects.create_project(conn, "venusbase", "Venusbase")
    with connect(db_url) as conn:
        actors = [(e.row_key, e.actor) for e in reversed(audit_trail(conn, table="projects"))]
        assert actors == [("1", "user:ann"), ("2", "maria"), ("3", "maria")]


LATER_MIGRATION = """
CREATE TABLE api_keys (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    label        text NOT NULL,
    key_sha256   text NOT NULL,
    last_used_at timestamptz,
    search       text
);
SELECT track_table('api_keys');
INSERT INTO audit_policy (table_name, column_name, treatment, reason) VALUES
    ('api_keys', 'key_sha256', 'redacted', 'identifies a bearer key'),
    ('api_keys', 'last_used_at', 'stamp', 'moves on every request'),
    ('api_keys', 'search', 'recorded', 'typed by people here, not a derived vector');
"""


def test_a_later_migration_adds_policy_rows_and_audit_row_is_not_restated(empty_db_url, tmp_path):
    copy = tmp_path / "migrations"
    shutil.copytree(migrations.MIGRATIONS_DIR, copy)
    (copy / "9999_api_keys.sql").write_text(LATER_MIGRATION)
    definition = "SELECT pg_get_functiondef('audit_row'::regproc)"
    with connect(empty_db_url, actor="admin") as conn:
        migrations.migrate(conn)
        before = conn.execute(definition).fetchone()[0]
        migrations.migrate(conn, migrations.discover(copy))
        assert conn.execute(definition).fetchone()[0] == before
        conn.execute(
            "INSERT INTO api_keys (label, key_sha256, search) VALUES ('ci', 'k1', 'nightly')"
        )
        conn.execute("UPDATE api_keys SET last_used_at = now()")  # a stamp: no row
        conn.execute("UPDATE api_keys SET key_sha256 = 'k2'")  # a redacted change: a row
        changed, added = audit_trail(conn, table="api_keys")
        assert added.after["key_sha256"] == "[redacted]" and added.after["search"] == "nightly"
        assert changed.after["key_sha256"] == "[redacted: changed]"
        assert changed.after["last_used_at"] is not None  # stamps stay visible in a real row
        (rule,) = [e for e in audit_trail(conn, table="audit_policy") if "search" in e.row_key]
        assert rule.actor == "admin" and rule.after["treatment"] == "recorded"


TREATMENTS = st.sampled_from([None, "hidden", "stamp", "redacted", "recorded"])
VALUES = st.one_of(st.none(), st.sampled_from(["a", "b"]))
COLUMNS = ("col_a", "col_b", "col_c")


def expected_image(policy: dict, values: tuple, before: tuple | None = None) -> dict:
    """What the log should show of a probe row; `before` given: an UPDATE's after image."""
    shown: dict = {"id": 1}
    for column, value, earlier in zip(COLUMNS, values, before or values, strict=True):
        if policy[column] == "hidden":
            continue
        if policy[column] == "redacted" and value is not None:
            value = "[redacted: changed]" if value != earlier else "[redacted]"
        shown[column] = value
    return shown


@pytest.fixture
def probe(conn):
    """An audited table whose columns only the generated policies name."""
    conn.execute("CREATE TABLE probe (id int PRIMARY KEY, col_a text, col_b text, col_c text)")
    conn.execute("SELECT track_table('probe')")
    return conn


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    wildcard=st.tuples(*[TREATMENTS] * 3),
    per_table=st.tuples(*[TREATMENTS] * 3),
    old=st.tuples(*[VALUES] * 3),
    new=st.tuples(*[VALUES] * 3),
)
def test_any_policy_is_applied_as_written(probe, wildcard, per_table, old, new):
    conn = probe
    # what each column gets: a rule naming the table wins over an any-table rule
    policy = {c: t or w for c, w, t in zip(COLUMNS, wildcard, per_table, strict=True)}
    with conn.transaction(force_rollback=True):
        for scope, treatments in (("*", wildcard), ("probe", per_table)):
            for column, treatment in zip(COLUMNS, treatments, strict=True):
                if treatment:
                    conn.execute(
                        "INSERT INTO audit_policy VALUES (%s, %s, %s, 'generated')",
                        (scope, column, treatment),
                    )
        conn.execute("INSERT INTO probe VALUES (1, %s, %s, %s)", old)
        conn.execute("UPDATE probe SET col_a = %s, col_b = %s, col_c = %s", new)
        entries = list(reversed(audit_trail(conn, table="probe")))

        counted = [c for c in COLUMNS if policy[c] not in ("hidden", "stamp")]
        changed = any(o != n for c, o, n in zip(COLUMNS, old, new, strict=True) if c in counted)
        assert [e.action for e in entries] == ["INSERT"] + (["UPDATE"] if changed else [])
        assert entries[0].after == expected_image(policy, old)
        if changed:
            assert entries[1].before == expected_image(policy, old)
            assert entries[1].after == expected_image(policy, new, old)
