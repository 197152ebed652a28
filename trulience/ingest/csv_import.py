"""Bulk character onboarding from a CSV file (PRD-67, the back end of the wizard).

Columns: `slug`, `name`, `images` (paths relative to the CSV, absolute paths, or URIs on
our storage, separated by ';'); every other non-empty column becomes a metadata field,
typed by the project's metadata schema. Every row is checked before anything is written.
"""

import csv
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from trulience.catalog import characters, projects
from trulience.catalog.errors import CatalogError, NotFound
from trulience.errors import InvalidStorageKey, StorageError, TrulienceError
from trulience.ingest.metadata import Problem, metadata_problems, schema_for
from trulience.library import add_image_file
from trulience.qa.image_decode import InvalidSourceImage, decode_image
from trulience.slugs import InvalidSlug, check_slug
from trulience.storage import Storage

REQUIRED_COLUMNS = ("slug", "name", "images")


class InvalidCsv(TrulienceError):
    """The CSV file as a whole cannot be read (missing columns, not CSV, not UTF-8)."""


@dataclass
class RowPlan:
    """One CSV row: what it would create, or why it cannot."""

    line: int
    slug: str
    name: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    images: list[str] = field(default_factory=list)
    status: str = "ok"  # ok | exists | invalid | written
    problems: list[Problem] = field(default_factory=list)

    def describe(self) -> str:
        if self.problems:
            return "; ".join(
                f"line {self.line}, column {p.field}: {p.message}" for p in self.problems
            )
        what = {
            "ok": "would be created",
            "exists": "already in the library, skipped",
            "written": "created",
        }[self.status]
        return f"line {self.line}: {self.slug} {what} ({len(self.images)} image(s))"


@dataclass
class ImportReport:
    rows: list[RowPlan]
    written: int
    dry_run: bool

    @property
    def invalid(self) -> list[RowPlan]:
        return [r for r in self.rows if r.status == "invalid"]


def _convert(value: str, spec: dict[str, Any]) -> Any:
    """A CSV cell as the type its schema property declares (strings otherwise)."""
    kind = spec.get("type")
    if kind == "integer":
        return int(value) if value.lstrip("-").isdigit() else value
    if kind == "number":
        try:
            return float(value)
        except ValueError:
            return value
    if kind == "boolean":
        return {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}.get(
            value.lower(), value
        )
    if kind == "array":
        return [item.strip() for item in value.split(";") if item.strip()]
    return value


@contextmanager
def _local_copy(reference: str, base: Path, storage: Storage) -> Iterator[Path]:
    """A local path for an image reference: a file path, or an object on our storage."""
    if "://" not in reference:
        path = Path(reference)
        yield path if path.is_absolute() else base / path
        return
    key = storage.key_of(reference)
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / Path(key).name
        local.write_bytes(storage.read_bytes(key))
        yield local


def _rows(csv_path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    try:
        with open(csv_path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            missing = [c for c in REQUIRED_COLUMNS if c not in header]
            if missing:
                raise InvalidCsv(
                    f"{csv_path}: missing column(s) {', '.join(missing)}; "
                    f"expected {', '.join(REQUIRED_COLUMNS)} and metadata columns"
                )
            rows = []
            for row in reader:
                if None in row:
                    rows.append((reader.line_num, {"__extra__": "more cells than columns"}))
                else:
                    rows.append((reader.line_num, row))
            return header, rows
    except FileNotFoundError as exc:
        raise InvalidCsv(f"{csv_path}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise InvalidCsv(f"{csv_path}: not UTF-8 text") from exc
    except csv.Error as exc:
        raise InvalidCsv(f"{csv_path}: not readable as CSV ({exc})") from exc


def plan_import(
    conn: psycopg.Connection, storage: Storage, csv_path: Path, project: str
) -> list[RowPlan]:
    """Check every row (names, metadata, images) without writing anything."""
    schema = schema_for(projects.get_project(conn, project).settings)
    properties = schema.get("properties", {})
    _, rows = _rows(csv_path)
    plans, seen = [], {}
    for line, row in rows:
        plan = RowPlan(line=line, slug=(row.get("slug") or "").strip())
        if "__extra__" in row:
            plan.problems.append(Problem("(row)", row["__extra__"]))
        try:
            check_slug(plan.slug, "slug")
        except InvalidSlug as exc:
            plan.problems.append(Problem("slug", str(exc)))
        if plan.slug in seen:
            plan.problems.append(
                Problem("slug", f"{plan.slug!r} is also on line {seen[plan.slug]}")
            )
        seen.setdefault(plan.slug, line)
        plan.name = (row.get("name") or "").strip()
        if not plan.name:
            plan.problems.append(Problem("name", "is empty"))
        plan.metadata = {
            column: _convert(value.strip(), properties.get(column, {}))
            for column, value in row.items()
            if column not in REQUIRED_COLUMNS and column != "__extra__" and value and value.strip()
        }
        plan.problems += [
            Problem(p.field.removeprefix("$."), p.message)
            for p in metadata_problems(plan.metadata, schema)
        ]
        plan.images = [r.strip() for r in (row.get("images") or "").split(";") if r.strip()]
        if not plan.images:
            plan.problems.append(Problem("images", "no image given"))
        for reference in plan.images:
            try:
                with _local_copy(reference, csv_path.parent, storage) as local:
                    decode_image(local, name=reference)
            except (InvalidSourceImage, InvalidStorageKey, StorageError) as exc:
                plan.problems.append(Problem("images", str(exc)))
            except OSError as exc:
                plan.problems.append(Problem("images", f"{reference}: {exc.strerror or exc}"))
        if not plan.problems:
            try:
                characters.get_character(conn, plan.slug)
                plan.status = "exists"
            except NotFound:
                pass
        else:
            plan.status = "invalid"
        plans.append(plan)
    return plans


def import_characters(
    conn: psycopg.Connection,
    storage: Storage,
    csv_path: Path,
    project: str,
    dry_run: bool = False,
    all_or_nothing: bool = False,
) -> ImportReport:
    """Import the valid rows (each whole or not at all); with `all_or_nothing`, write nothing
    unless every row is valid; with `dry_run`, only report."""
    plans = plan_import(conn, storage, csv_path, project)
    invalid = [p for p in plans if p.status == "invalid"]
    if dry_run or (all_or_nothing and invalid):
        return ImportReport(plans, 0, dry_run)
    written = 0
    with conn.transaction() if all_or_nothing else nullcontext():
        for plan in plans:
            if plan.status != "ok":
                continue
            try:
                with conn.transaction():
                    characters.create_character(
                        conn, plan.slug, plan.name, plan.metadata, [project]
                    )
                    for reference in plan.images:
                        with _local_copy(reference, csv_path.parent, storage) as local:
                            add_image_file(conn, storage, plan.slug, local)
            except CatalogError as exc:  # e.g. created meanwhile by someone else
                plan.status = "invalid"
                plan.problems.append(Problem("slug", str(exc)))
                if all_or_nothing:
                    raise
                continue
            plan.status = "written"
            written += 1
    return ImportReport(plans, written, dry_run)
