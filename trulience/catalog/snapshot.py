"""The schema snapshot: `sql/schema.sql` is what the migrations, applied in order, produce.

The snapshot is pg_dump's `--schema-only` output of a freshly migrated database, normalised
so that only the schema itself is left (no version headers, session SETs or owners), so a
review sees every change a migration makes to tables, views, functions and triggers.

Regenerate after adding a migration:

    .venv/bin/python -m trulience.catalog.snapshot --write
"""

import argparse
import difflib
import importlib.util
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import psycopg

from trulience.catalog import migrations
from trulience.catalog.database import connect, create_database, embedded_server
from trulience.config import mask_url
from trulience.errors import TrulienceError

SNAPSHOT_PATH = migrations.MIGRATIONS_DIR.parent / "schema.sql"
WRITE_COMMAND = ".venv/bin/python -m trulience.catalog.snapshot --write"
HEADER = (
    "-- The catalog schema that sql/migrations produce, applied in order (pg_dump --schema-only,\n"
    f"-- normalised). Generated: do not edit by hand; regenerate with\n--   {WRITE_COMMAND}\n"
)

# pg_dump's own annotations: the dump banner, version lines and the per-object headers
# ("-- Name: x; Type: TABLE; Schema: public; Owner: -" between two bare "--" lines). Comments
# inside function bodies are the migrations' own text and stay.
_DUMP_ANNOTATION = re.compile(
    r"^(--|-- PostgreSQL database dump( complete)?|-- Dumped (from|by) .*|"
    r"-- Name: .*; Type: .*; Schema: .*; Owner: ?.*)$"
)
# Session settings pg_dump emits at top level; they describe the dump, not the schema.
_SESSION_SETTING = re.compile(
    r"^(SET [a-z_]+ = .*;|SELECT pg_catalog\.set_config\('search_path', '', false\);)$"
)
# The extension's comment is the extension's text (it changes with the pgvector version).
_EXTENSION_COMMENT = re.compile(r"^COMMENT ON EXTENSION .*;$")


class SnapshotError(TrulienceError):
    """The schema could not be dumped (no pg_dump, or pg_dump failed)."""


def pg_dump_path() -> str:
    """The pg_dump to use: the one shipped in the pgserver wheel, else one on PATH."""
    spec = importlib.util.find_spec("pgserver")
    if spec is not None and spec.origin is not None:
        shipped = Path(spec.origin).parent / "pginstall" / "bin" / "pg_dump"
        if shipped.exists():
            return str(shipped)
    found = shutil.which("pg_dump")
    if found is None:
        raise SnapshotError("no pg_dump: install pgserver (make install) or put pg_dump on PATH")
    return found


def normalise(dump: str) -> str:
    """Strip what varies between dumps of the same schema and collapse blank lines."""
    kept: list[str] = []
    for line in dump.splitlines():
        line = line.rstrip()
        if (
            _DUMP_ANNOTATION.match(line)
            or _SESSION_SETTING.match(line)
            or _EXTENSION_COMMENT.match(line)
        ):
            continue
        if line == "" and (not kept or kept[-1] == ""):
            continue
        kept.append(line)
    while kept and kept[-1] == "":
        kept.pop()
    return HEADER + "\n" + "\n".join(kept) + "\n"


def dump_schema(url: str) -> str:
    """The normalised schema of the database at `url`."""
    try:
        result = subprocess.run(
            [pg_dump_path(), "--schema-only", "--no-owner", "--dbname", url],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as exc:
        raise SnapshotError(f"could not run pg_dump: {exc}") from exc
    if result.returncode != 0:
        raise SnapshotError(
            f"pg_dump of {mask_url(url)} failed: {result.stderr.strip() or result.returncode}"
        )
    return normalise(result.stdout)


def migrated_schema(server_url: str) -> str:
    """Migrate a scratch database on the server at `server_url`, dump its schema, drop it."""
    name = f"snapshot_{uuid.uuid4().hex[:12]}"
    # template0: nothing a local template1 may carry leaks into the snapshot
    url = create_database(server_url, name, "template0")
    try:
        with connect(url) as conn:
            migrations.migrate(conn)
        return dump_schema(url)
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def fresh_schema() -> str:
    """The migrations' schema, built on a throwaway embedded Postgres (deleted afterwards)."""
    with tempfile.TemporaryDirectory(prefix="trulience-snapshot-") as scratch:
        server = embedded_server(Path(scratch) / "pg", cleanup_mode="delete")
        try:
            return migrated_schema(server.get_uri())
        finally:
            server.cleanup()


def snapshot_diff(expected: str, actual: str) -> str:
    """A unified diff from the snapshot file to the migrated schema ('' when they agree)."""
    return "".join(
        difflib.unified_diff(
            expected.splitlines(keepends=True),
            actual.splitlines(keepends=True),
            fromfile="sql/schema.sql (snapshot)",
            tofile="sql/migrations applied in order",
        )
    )


def main(argv: list[str] | None = None) -> int:
    """Check sql/schema.sql against the migrations, or rewrite it with --write."""
    parser = argparse.ArgumentParser(
        prog="python -m trulience.catalog.snapshot", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--write", action="store_true", help="regenerate sql/schema.sql")
    parser.add_argument(
        "--server-url",
        help="migrate a scratch database on this Postgres instead of a throwaway embedded one",
    )
    args = parser.parse_args(argv)
    try:
        actual = migrated_schema(args.server_url) if args.server_url else fresh_schema()
    except (TrulienceError, psycopg.Error) as exc:
        print(f"error: {exc}".rstrip(), file=sys.stderr)
        return 2
    if args.write:
        SNAPSHOT_PATH.write_text(actual)
        print(f"wrote {SNAPSHOT_PATH} ({len(actual.splitlines())} lines)")
        return 0
    expected = SNAPSHOT_PATH.read_text() if SNAPSHOT_PATH.exists() else ""
    difference = snapshot_diff(expected, actual)
    if difference:
        print(difference, end="")
        print(f"sql/schema.sql is out of date; regenerate it with: {WRITE_COMMAND}")
        return 1
    print("sql/schema.sql matches the migrations")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
