"""The `trulience` command line: settings, database, library commands, the demo."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from trulience.catalog.database import connect, database_url, stop_embedded
from trulience.cli import main
from trulience.config import Settings
from trulience.samples import package_file

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def run(db_url, tmp_path):
    env = {
        "TRULIENCE_HOME": str(tmp_path / "home"),
        "DATABASE_URL": db_url,
        "TRULIENCE_ACTOR": "cli:tester",
    }
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, list(args), env=env, catch_exceptions=False)

    return invoke


def test_config_prints_effective_settings_with_secrets_masked(tmp_path):
    env = {
        "TRULIENCE_HOME": str(tmp_path),
        "DATABASE_URL": "postgresql://studio:hunter2@db.internal:5432/catalog",
        "STORAGE_URL": "s3://media/prod",
        "STORAGE_OPTIONS": json.dumps({"key": "AKIA", "secret": "s3cr3t", "anon": False}),
        "COMFYUI_WORKERS": "http://gpu1:8188, http://gpu2:8188",
    }
    result = CliRunner().invoke(main, ["config"], env=env)
    assert result.exit_code == 0
    assert "postgresql://studio:****@db.internal:5432/catalog" in result.output
    assert "hunter2" not in result.output and "s3cr3t" not in result.output
    assert "http://gpu1:8188,http://gpu2:8188" in result.output
    assert f"TRULIENCE_HOME           {tmp_path}" in result.output


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DATABASE_URL", "mysql://x@y/z", "DATABASE_URL must start with postgresql://"),
        ("STORAGE_URL", "ftp://host/x", "STORAGE_URL must be file://, s3:// or memory://"),
        ("STORAGE_OPTIONS", "{not json", "STORAGE_OPTIONS is not valid JSON"),
        ("STORAGE_OPTIONS", "[1]", "STORAGE_OPTIONS must be a JSON object"),
        ("COMFYUI_WORKERS", "gpu1:8188", "COMFYUI_WORKERS entry 'gpu1:8188'"),
        ("TRULIENCE_DAGSTER_PORT", "http", "TRULIENCE_DAGSTER_PORT must be a port number"),
    ],
)
def test_bad_settings_are_named_with_the_reason(tmp_path, name, value, message):
    result = CliRunner().invoke(
        main, ["config"], env={"TRULIENCE_HOME": str(tmp_path), name: value}
    )
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_unreachable_database_is_named_without_its_password(tmp_path):
    env = {
        "TRULIENCE_HOME": str(tmp_path),
        "DATABASE_URL": "postgresql://studio:hunter2@127.0.0.1:1/catalog",
    }
    result = CliRunner().invoke(main, ["db", "migrate"], env=env)
    assert result.exit_code == 1
    assert "cannot reach Postgres at postgresql://studio:****@127.0.0.1:1/catalog" in result.output
    assert "hunter2" not in result.output


def test_database_without_pgvector_is_refused(server_url, monkeypatch):
    from trulience.catalog import database
    from trulience.errors import DatabaseUnavailable

    real_connect = database.connect

    class NoVector:  # the same server, answering as if pgvector were not installed
        def __init__(self, conn):
            self.conn = conn

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.conn.close()

        def execute(self, query, *args):
            if "pg_available_extensions" in query:
                query = query.replace("'vector'", "'no_such_extension'")
            return self.conn.execute(query, *args)

    monkeypatch.setattr(database, "connect", lambda *a, **k: NoVector(real_connect(*a, **k)))
    with pytest.raises(DatabaseUnavailable, match="has no pgvector extension"):
        database.check_server(server_url)


def test_db_migrate_is_a_no_op_on_a_current_schema_and_status_lists_files(run):
    result = run("db", "migrate")
    assert result.exit_code == 0 and "schema is up to date" in result.output
    status = run("db", "status")
    from trulience.catalog.migrations import discover

    assert status.output.count("applied") == len(discover())
    assert "0001_audit_and_helpers.sql" in status.output


def test_characters_add_list_show_tag_search(run):
    assert run("projects", "add", "moonbase", "Moonbase").exit_code == 0
    astronaut = package_file("skimage", "data/astronaut.png")
    result = run(
        "characters",
        "add",
        "eileen",
        "Eileen",
        "--project",
        "moonbase",
        "--metadata",
        '{"role": "astronaut"}',
        "--image",
        str(astronaut),
    )
    assert result.exit_code == 0, result.output
    assert run("tag", "hero", "--character", "eileen").exit_code == 0
    assert "eileen" in run("characters", "list", "--tag", "hero").output
    record = json.loads(run("characters", "show", "eileen").output)
    assert record["source_images"][0]["width"] == 512
    assert record["tags"] == ["hero"]
    assert "eileen" in run("search", "astro").output
    assert "cli:tester" in run("audit", "--table", "characters").output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["characters", "add", "Bad|Slug", "X"], "character slug 'Bad|Slug'"),
        (
            ["characters", "add", "zed", "Zed", "--project", "nowhere"],
            "project 'nowhere' not found",
        ),
        (["characters", "add", "zed", "Zed", "--metadata", "{oops"], "not valid JSON"),
        (["characters", "add", "zed", "Zed", "--metadata", "[1, 2]"], "must be a JSON object"),
        (
            ["characters", "add", "zed", "Zed", "--image", "/etc/hostname"],
            "/etc/hostname: not an image",
        ),
        (["characters", "add", "zed", "Zed", "--image", "/no/such.png"], "no such file"),
        (["characters", "show", "nobody"], "character 'nobody' not found"),
        (["tag", "hero", "--character", "zed", "--project", "p"], "exactly one"),
    ],
)
def test_bad_input_gives_a_clear_error_and_stores_nothing(run, db_url, args, message):
    run("projects", "add", "moonbase", "Moonbase")
    result = run(*args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    with connect(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM characters").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM source_images").fetchone()[0] == 0


def test_character_with_a_bad_second_image_is_not_half_written(run, db_url, tmp_path):
    run("projects", "add", "moonbase", "Moonbase")
    good = package_file("skimage", "data/astronaut.png")
    bad = tmp_path / "truncated.png"
    bad.write_bytes(good.read_bytes()[:40])
    result = run("characters", "add", "eileen", "Eileen", "--image", str(good), "--image", str(bad))
    assert result.exit_code == 1
    assert "truncated.png" in result.output
    with connect(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM characters").fetchone()[0] == 0
    assert not (tmp_path / "home" / "storage").exists()


@pytest.mark.slow
def test_demo_runs_twice_in_a_row(db_url, tmp_path):
    env = os.environ | {"TRULIENCE_HOME": str(tmp_path / "home"), "DATABASE_URL": db_url}
    outputs = []
    for _ in (1, 2):
        result = subprocess.run(
            [sys.executable, "-m", "trulience.cli", "demo"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        outputs.append(result.stdout)
    first, second = outputs
    # the first run goes through the inbox sensor, the second finds nothing new to import
    assert "inbox/demo/eileen   dropped" in first
    assert "inbox_sensor: 3 run(s) requested" in first
    assert "inbox/demo/eileen   already there" in second
    assert "no new or changed folders" in second or "0 run(s) requested" in second
    for slug in ("eileen", "marco", "theo"):
        assert f"characters [{slug}]: ok" in second
        assert re.search(rf"{slug} +images 1/1 passed.* -> READY", second), second
    assert "make dev" in second
    assert "make review" in second and "demo-reviewer" in second
    assert "user demo-reviewer         created" in first
    assert "every demo take is already generated" in second  # takes are not remade
    assert "scenes [marco|look-around-wide]: ok" in first
    with connect(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM source_images").fetchone()[0] == 3
        # crop and pad at both demo resolutions (512x512, 768x432), per character
        assert conn.execute("SELECT count(*) FROM image_variants").fetchone()[0] == 12
        assert (
            conn.execute("SELECT count(*) FROM scenes WHERE status = 'assembled'").fetchone()[0]
            == 6
        )
    record = tmp_path / "home" / "storage" / "characters" / "eileen" / "character.json"
    assert json.loads(record.read_text())["projects"] == ["demo"]


@pytest.mark.slow
def test_embedded_postgres_starts_once_and_is_reused(tmp_path):
    settings = Settings.from_env({"TRULIENCE_HOME": str(tmp_path / "home")})
    try:
        url = database_url(settings)
        assert f"host={settings.pg_dir}" in url
        with connect(url) as conn:
            pid = conn.execute("SELECT pg_postmaster_start_time()").fetchone()[0]
        # a second process finds the running server instead of starting another
        code = (
            "from trulience.catalog.database import database_url, connect;"
            "from trulience.config import Settings;"
            "c = connect(database_url(Settings.from_env()));"
            "print(c.execute('SELECT pg_postmaster_start_time()').fetchone()[0])"
        )
        out = subprocess.run(
            [sys.executable, "-c", code],
            env=os.environ | {"TRULIENCE_HOME": str(settings.home)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == str(pid)
    finally:
        assert stop_embedded(settings.pg_dir)
