"""Shared fixtures: one real embedded Postgres per session, a fresh database per test.

The schema is migrated once into a template database; each test gets a clone
(CREATE DATABASE ... TEMPLATE), which takes milliseconds instead of a full migration.
"""

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from trulience.catalog import migrations
from trulience.catalog.database import connect, create_database, embedded_server
from trulience.storage import Storage

TEMPLATE = "trulience_template"


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory):
    server = embedded_server(tmp_path_factory.mktemp("pg") / "data", cleanup_mode="delete")
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def server_url(pg_server) -> str:
    return pg_server.get_uri()


@pytest.fixture(scope="session")
def template_url(server_url: str) -> str:
    url = create_database(server_url, TEMPLATE)
    with connect(url) as conn:
        migrations.migrate(conn)
    return url


def new_database(server_url: str, template: str = TEMPLATE) -> str:
    name = f"test_{uuid.uuid4().hex[:12]}"
    return create_database(server_url, name, template)


def drop_database(server_url: str, url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def db_url(server_url: str, template_url: str) -> Iterator[str]:
    """A migrated, empty catalog database of this test's own."""
    url = new_database(server_url)
    yield url
    drop_database(server_url, url)


@pytest.fixture
def empty_db_url(server_url: str) -> Iterator[str]:
    """A database with no schema at all (for migration tests)."""
    url = new_database(server_url, template="template0")
    yield url
    drop_database(server_url, url)


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg.Connection]:
    with connect(db_url, actor="tester") as connection:
        yield connection


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    return Storage((tmp_path / "storage").as_uri())


@pytest.fixture(scope="session")
def face_models(tmp_path_factory: pytest.TempPathFactory):
    """The default face model set (YuNet + SFace), converted once per session."""
    from trulience.faces import default_model_set

    return default_model_set(tmp_path_factory.mktemp("models"))


@dataclass(frozen=True)
class DemoProduction:
    """`trulience demo` run once per session, then reviewed: the data analysts see."""

    home: Path
    database_url: str
    env: dict

    @property
    def lake(self) -> Path:
        return self.home / "lake"


REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def demo_production(server_url: str, template_url: str, tmp_path_factory) -> DemoProduction:
    """The demo's takes, then a producer's afternoon: two approved (and delivered through
    the approvals sensor), one rejected; the lake exported afterwards. Read-only for tests."""
    from trulience.auth.users import authenticate
    from trulience.demo import DEMO_REVIEWER
    from trulience.review.service import decide

    home = tmp_path_factory.mktemp("demo-home")
    url = new_database(server_url)
    env = os.environ | {"TRULIENCE_HOME": str(home), "DATABASE_URL": url}

    def run(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    run("-m", "trulience.cli", "demo")
    with connect(url, actor="tests") as conn:
        takes = conn.execute(
            """SELECT s.id FROM scenes s JOIN characters c ON c.id = s.character_id
                JOIN scene_types t ON t.id = s.scene_type_id
               WHERE s.status = 'assembled' ORDER BY c.slug, t.slug"""
        ).fetchall()
        assert len(takes) >= 4
        reviewer = authenticate(conn, *DEMO_REVIEWER).user
        # no undo window: the approvals sensor below hands them to delivery at once
        decide(conn, reviewer, takes[0][0], "approve", undo_window_s=0)
        decide(conn, reviewer, takes[1][0], "approve", undo_window_s=0)
        decide(conn, reviewer, takes[2][0], "reject", "hands look odd")
    env |= {"DAGSTER_HOME": str(home / "dagster")}
    from trulience.config import Settings
    from trulience_assets.launch import run_sensor, shell

    with shell(Settings.from_env(env)) as (defs, instance):
        _tick, deliveries = run_sensor(defs, instance, "approvals_sensor")
    assert all(run.ok for run in deliveries), deliveries
    run("-m", "trulience.cli", "lake", "export")
    return DemoProduction(home, url, env)


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium through Playwright, one per test module."""
    from tests.panel_apps import chromium

    with chromium() as launched:
        yield launched
