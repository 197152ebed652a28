"""Bulk character onboarding from a CSV file (PRD-67, the back end of the wizard).

Columns: `slug`, `name`, `images` (paths relative to the CSV, absolute paths, or URIs on
our storage, separated by ';'); every other non-empty column becomes a metadata field,
typed by the project's metadata schema. Every row is checked before anything is written.
"""

import csv
import io
import math
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from trulience.catalog import characters, projects
from trulience.catalog.errors import CatalogError, NotFound
from trulience.errors import (
    DatabaseUnavailable,
    InvalidStorageKey,
    StorageError,
    TrulienceError,
)
from trulience.library import add_image_file
from trulience.local_files import NotARegularFile, open_regular
from trulience.media.image_decode import InvalidSourceImage, check_image
from trulience.metadata import (
    MAX_NUMBER_DIGITS,
    Problem,
    metadata_problems,
    schema_for,
    unstorable,
)
from trulience.progress import Progress
from trulience.quoting import excerpt, quote_name
from trulience.slugs import InvalidSlug, check_slug
from trulience.storage import Storage

REQUIRED_COLUMNS = ("slug", "name", "images")
SLUG_MAX = 63
# The catalog itself is down: no row is at fault.
CATALOG_UNREACHABLE = (psycopg.OperationalError, psycopg.InterfaceError, DatabaseUnavailable)


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
    """A CSV cell as the type its schema property declares (strings otherwise, which the
    schema then refuses with the cell quoted as an excerpt)."""
    kind = spec.get("type")
    if kind in ("integer", "number") and len(value) > MAX_NUMBER_DIGITS:
        # int() of thousands of digits is refused by Python itself (and slow): no number.
        return _TooLong(value)
    if kind == "integer":
        return int(value) if _INTEGER.match(value) else value
    if kind == "number":
        try:
            number = float(value)
        except ValueError:
            return value
        # NaN and 1e999 (infinity) are floats to Python but no JSON the catalog stores.
        return number if math.isfinite(number) else value
    if kind == "boolean":
        return {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}.get(
            value.lower(), value
        )
    if kind == "array":
        return [item.strip() for item in value.split(";") if item.strip()]
    return value


class _TooLong(str):
    """A numeric cell too long to be a number: kept as text, reported by its length."""


_INTEGER = re.compile(r"^-?[0-9]+$")


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
    shown = quote_name(str(csv_path))
    reader = None
    try:
        # A regular file only: a named pipe would block the import forever.
        with (
            open_regular(csv_path, shown) as raw,
            io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as handle,
        ):
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
    except NotARegularFile as exc:
        raise InvalidCsv(str(exc)) from exc
    except UnicodeDecodeError as exc:
        raise InvalidCsv(f"{shown}: not UTF-8 text") from exc
    except csv.Error as exc:
        line = f" at line {reader.line_num}" if reader is not None else ""
        raise InvalidCsv(f"{shown}: not readable as CSV{line} ({exc})") from exc
    except OSError as exc:
        raise InvalidCsv(f"{shown}: cannot be read ({exc.strerror or exc})") from exc


def plan_import(
    conn: psycopg.Connection,
    storage: Storage,
    csv_path: Path,
    project: str,
    progress: Progress | None = None,
) -> list[RowPlan]:
    """Check every row (names, metadata, images) without writing anything; a row that
    fails in a way nobody foresaw is reported invalid, and the other rows go on."""
    schema = schema_for(projects.get_project(conn, project).settings)
    _, rows = _rows(csv_path)
    if progress is not None:
        progress.start(len(rows))
    plans: list[RowPlan] = []
    seen: dict[str, int] = {}
    for index, (line, row) in enumerate(rows):
        plan = RowPlan(line=line, slug=(row.get("slug") or "").strip())
        try:
            _plan_row(conn, storage, csv_path, schema, row, plan, seen)
        except CATALOG_UNREACHABLE:
            raise
        except Exception as exc:  # one row must never stop the others
            plan.problems.append(
                Problem(
                    "(row)", f"cannot be checked: {type(exc).__name__}: {quote_name(str(exc), 200)}"
                )
            )
        if plan.problems:
            plan.status = "invalid"
        plans.append(plan)
        if progress is not None:
            progress.step(index, f"line {line} checked")
    return plans


def _plan_row(
    conn: psycopg.Connection,
    storage: Storage,
    csv_path: Path,
    schema: dict[str, Any],
    row: dict[str, str],
    plan: RowPlan,
    seen: dict[str, int],
) -> None:
    if "__extra__" in row:
        plan.problems.append(Problem("(row)", row["__extra__"]))
    _check_slug(plan, seen)
    plan.name = (row.get("name") or "").strip()
    if not plan.name:
        plan.problems.append(Problem("name", "is empty"))
    _plan_metadata(row, schema, plan)
    plan.images = [r.strip() for r in (row.get("images") or "").split(";") if r.strip()]
    if not plan.images:
        plan.problems.append(Problem("images", "no image given"))
    for reference in plan.images:
        _check_image(reference, csv_path, storage, plan)
    if not plan.problems:
        try:
            characters.get_character(conn, plan.slug)
            plan.status = "exists"
        except NotFound:
            pass


def _check_slug(plan: RowPlan, seen: dict[str, int]) -> None:
    """The row's slug is a valid one, and on no earlier line (`seen`: slug -> first line)."""
    if len(plan.slug) > SLUG_MAX:
        plan.problems.append(
            Problem("slug", f"{excerpt(plan.slug)} is longer than {SLUG_MAX} characters")
        )
    else:
        try:
            check_slug(plan.slug, "slug")
        except InvalidSlug as exc:
            plan.problems.append(Problem("slug", str(exc)))
    if plan.slug in seen:
        plan.problems.append(
            Problem("slug", f"{excerpt(plan.slug)} is also on line {seen[plan.slug]}")
        )
    seen.setdefault(plan.slug, plan.line)


def _plan_metadata(row: dict[str, str], schema: dict[str, Any], plan: RowPlan) -> None:
    """The row's other cells as metadata, converted by the project's schema and checked
    against it; what the catalog cannot store is a problem, not metadata."""
    properties = schema.get("properties", {})
    cells = {
        column: value.strip()
        for column, value in row.items()
        if column not in REQUIRED_COLUMNS and column != "__extra__" and value and value.strip()
    }
    for column, value in [("name", plan.name), *cells.items()]:
        if reason := unstorable(column):  # a header cell becomes a metadata key
            plan.problems.append(Problem(column, f"the column name {reason}"))
        elif reason := unstorable(value):
            plan.problems.append(Problem(column, f"{excerpt(value)} {reason}"))
    plan.metadata = {}
    for column, value in cells.items():
        converted = _convert(value, properties.get(column, {}))
        if isinstance(converted, _TooLong):
            plan.problems.append(
                Problem(
                    column,
                    f"{excerpt(value)} is {len(value):,} characters long; a number has at "
                    f"most {MAX_NUMBER_DIGITS}",
                )
            )
        elif not unstorable(value) and not unstorable(column):
            plan.metadata[column] = converted
    plan.problems += [
        Problem(p.field.removeprefix("$."), p.message)
        for p in metadata_problems(plan.metadata, schema)
    ]


def _check_image(reference: str, csv_path: Path, storage: Storage, plan: RowPlan) -> None:
    """One image of the row can be read and decoded (a path beside the CSV, or a URI)."""
    shown = quote_name(reference)
    try:
        with _local_copy(reference, csv_path.parent, storage) as local:
            check_image(local, name=shown)
    except (InvalidSourceImage, InvalidStorageKey, StorageError) as exc:
        plan.problems.append(Problem("images", str(exc)))
    except OSError as exc:
        plan.problems.append(Problem("images", f"{shown}: {exc.strerror or exc}"))
    except ValueError as exc:  # e.g. a NUL in a path: no file can have that name
        plan.problems.append(Problem("images", f"{shown}: {quote_name(str(exc))}"))


def import_characters(
    conn: psycopg.Connection,
    storage: Storage,
    csv_path: Path,
    project: str,
    dry_run: bool = False,
    all_or_nothing: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import the valid rows (each whole or not at all); with `all_or_nothing`, write nothing
    unless every row is valid; with `dry_run`, only report. `progress` is told of each row
    checked, then of each character written."""
    plans = plan_import(conn, storage, csv_path, project, progress)
    invalid = [p for p in plans if p.status == "invalid"]
    if dry_run or (all_or_nothing and invalid):
        return ImportReport(plans, 0, dry_run)
    todo = [p for p in plans if p.status == "ok"]
    if progress is not None:
        progress.start(len(todo))
    written = 0
    with conn.transaction() if all_or_nothing else nullcontext():
        for index, plan in enumerate(todo):
            try:
                with conn.transaction():
                    characters.create_character(
                        conn, plan.slug, plan.name, plan.metadata, [project]
                    )
                    for reference in plan.images:
                        with _local_copy(reference, csv_path.parent, storage) as local:
                            add_image_file(conn, storage, plan.slug, local)
            except CATALOG_UNREACHABLE:
                raise
            except Exception as exc:  # e.g. created meanwhile, or a file changed since
                plan.status = "invalid"
                field = "slug" if isinstance(exc, CatalogError) else "(row)"
                reason = (
                    str(exc)
                    if isinstance(exc, TrulienceError)
                    else (f"cannot be written: {type(exc).__name__}: {quote_name(str(exc), 200)}")
                )
                plan.problems.append(Problem(field, reason))
                if all_or_nothing:
                    raise
                continue
            plan.status = "written"
            written += 1
            if progress is not None:
                progress.step(index, f"{plan.slug} created")
    return ImportReport(plans, written, dry_run)
