"""Plain SQL migrations: applied in order, recorded, idempotent, tamper-evident."""

import shutil

import pytest

from trulience.catalog import migrations, snapshot
from trulience.catalog.database import connect
from trulience.catalog.migrations import MigrationError


def test_first_run_applies_every_file_in_order_and_second_run_is_a_no_op(empty_db_url):
    files = migrations.discover()
    assert [m.name for m in files] == sorted(m.name for m in files)
    with connect(empty_db_url) as conn:
        assert migrations.migrate(conn) == [m.name for m in files]
        recorded = conn.execute(
            "SELECT name, sha256 FROM schema_migrations ORDER BY name"
        ).fetchall()
        assert recorded == [(m.name, m.sha256) for m in files]
        assert migrations.migrate(conn) == []
        assert {s.state for s in migrations.status(conn)} == {"applied"}


def test_tampered_applied_file_stops_everything(empty_db_url, tmp_path):
    copy = tmp_path / "migrations"
    shutil.copytree(migrations.MIGRATIONS_DIR, copy)
    with connect(empty_db_url) as conn:
        migrations.migrate(conn, migrations.discover(copy))
        first = sorted(copy.glob("*.sql"))[0]
        first.write_text(first.read_text() + "\n-- edited after the fact\n")
        (copy / "9999_later.sql").write_text("CREATE TABLE later (id int);")
        with pytest.raises(MigrationError, match=first.name):
            migrations.migrate(conn, migrations.discover(copy))
        states = {s.name: s.state for s in migrations.status(conn, migrations.discover(copy))}
        assert states[first.name] == "changed"
        # nothing else was applied while the tampering stood
        assert states["9999_later.sql"] == "pending"
        assert conn.execute("SELECT to_regclass('later')").fetchone()[0] is None


def test_failing_migration_is_rolled_back_whole(empty_db_url, tmp_path):
    copy = tmp_path / "migrations"
    shutil.copytree(migrations.MIGRATIONS_DIR, copy)
    (copy / "9998_broken.sql").write_text(
        "CREATE TABLE half (id int);\nSELECT no_such_function();\n"
    )
    with connect(empty_db_url) as conn:
        with pytest.raises(MigrationError, match=r"9998_broken\.sql failed and was rolled back"):
            migrations.migrate(conn, migrations.discover(copy))
        assert conn.execute("SELECT to_regclass('half')").fetchone()[0] is None
        names = [
            s.name
            for s in migrations.status(conn, migrations.discover(copy))
            if s.state == "applied"
        ]
        assert "9998_broken.sql" not in names and len(names) == len(migrations.discover())


def test_misnamed_or_renumbered_files_are_refused(tmp_path):
    (tmp_path / "0001_a.sql").write_text("")
    (tmp_path / "0001_b.sql").write_text("")
    with pytest.raises(MigrationError, match="reuses number 0001"):
        migrations.discover(tmp_path)
    (tmp_path / "0001_b.sql").unlink()
    (tmp_path / "2-bad name.sql").write_text("")
    with pytest.raises(MigrationError, match=r"NNNN_lowercase_words\.sql"):
        migrations.discover(tmp_path)


def test_database_migrated_by_newer_code_is_refused(empty_db_url, tmp_path):
    with connect(empty_db_url) as conn:
        migrations.migrate(conn)
        conn.execute("INSERT INTO schema_migrations (name, sha256) VALUES ('9999_future.sql', 'x')")
        with pytest.raises(MigrationError, match=r"9999_future\.sql"):
            migrations.migrate(conn)


def test_migrated_schema_has_every_catalog_table(db_url):
    expected = {
        "projects",
        "characters",
        "project_characters",
        "source_images",
        "image_variants",
        "face_models",
        "face_embeddings",
        "workflows",
        "scene_types",
        "scene_type_versions",
        "scenes",
        "segments",
        "deliverables",
        "reviews",
        "notes",
        "tags",
        "entity_tags",
        "users",
        "roles",
        "workers",
        "audit_log",
        "schema_migrations",
    }
    with connect(db_url) as conn:
        tables = {
            r[0]
            for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
        assert expected <= tables
        # every table is audited except the log itself, the migration record, hardware
        # telemetry, and logs derived from audited events (notifications, webhook deliveries)
        untracked = {
            r[0]
            for r in conn.execute(
                """SELECT t.tablename FROM pg_tables t WHERE t.schemaname = 'public'
                 AND NOT EXISTS (SELECT 1 FROM pg_trigger g
                                  WHERE g.tgrelid = format('%I', t.tablename)::regclass
                                    AND g.tgname = 'audit')"""
            )
        }
        assert untracked == {
            "audit_log",
            "schema_migrations",
            "hardware_samples",
            "notifications",
            "webhook_deliveries",
        }


def test_migrations_produce_exactly_the_schema_snapshot(empty_db_url):
    with connect(empty_db_url) as conn:
        migrations.migrate(conn)
    actual = snapshot.dump_schema(empty_db_url)
    expected = snapshot.SNAPSHOT_PATH.read_text() if snapshot.SNAPSHOT_PATH.exists() else ""
    difference = snapshot.snapshot_diff(expected, actual)
    if difference:
        pytest.fail(
            f"sql/schema.sql differs from what sql/migrations produce:\n{difference}\n"
            f"If the migrations are right, regenerate the snapshot: {snapshot.WRITE_COMMAND}",
            pytrace=False,
        )


def test_snapshot_shows_a_schema_change_and_nothing_that_varies(empty_db_url, tmp_path):
    copy = tmp_path / "migrations"
    shutil.copytree(migrations.MIGRATIONS_DIR, copy)
    (copy / "9999_later.sql").write_text("CREATE TABLE later (id int PRIMARY KEY);")
    with connect(empty_db_url) as conn:
        migrations.migrate(conn, migrations.discover(copy))
    actual = snapshot.dump_schema(empty_db_url)
    difference = snapshot.snapshot_diff(snapshot.SNAPSHOT_PATH.read_text(), actual)
    added = [line for line in difference.splitlines() if line.startswith("+") and line != "+"]
    assert "+CREATE TABLE public.later (" in added
    assert "+    ADD CONSTRAINT later_pkey PRIMARY KEY (id);" in added
    # no dump banner, server version, session setting or owner reaches the snapshot
    assert not any(
        marker in actual for marker in ("Dumped from", "Owner:", "OWNER TO", "SET statement_")
    )
