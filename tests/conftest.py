"""Shared fixtures: one real embedded Postgres per session, a fresh database per test.

The schema is migrated once into a template database; each test gets a clone
(CREATE DATABASE ... TEMPLATE), which takes milliseconds instead of a full migration.
"""

import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from trulience.catalog import migrations
from trulience.catalog.database import connect, embedded_server, with_database
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
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {TEMPLATE}")
    url = with_database(server_url, TEMPLATE)
    with connect(url) as conn:
        migrations.migrate(conn)
    return url


def new_database(server_url: str, template: str = TEMPLATE) -> str:
    name = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    return with_database(server_url, name)


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
