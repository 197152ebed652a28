"""The catalog database as a Dagster resource (usable outside Dagster too)."""

import contextlib
from collections.abc import Iterator

import psycopg
from dagster import ConfigurableResource

from resources.environment import resolved
from trulience.catalog import migrations
from trulience.catalog.database import connect, embedded_server


class CatalogResource(ConfigurableResource):
    """Postgres catalog: `database_url`, or the embedded server under `home`/pg."""

    home: str
    database_url: str | None = None

    def url(self) -> str:
        if self.database_url:
            return resolved(self.database_url)
        from pathlib import Path

        return embedded_server(Path(self.home) / "pg").get_uri()

    @contextlib.contextmanager
    def connect(self, actor: str) -> Iterator[psycopg.Connection]:
        """A connection whose changes the audit log attributes to `actor`; the schema
        must be current (else a MigrationError says to run `trulience db migrate`)."""
        with connect(self.url(), actor=actor) as conn:
            migrations.require_current(conn)
            yield conn
