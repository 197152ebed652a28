"""The inbox (PRD-16): studios drop `<inbox>/<project>/<character-slug>/` folders holding
images and an optional metadata.json; each becomes (or updates) a library character.

A folder is imported whole or not at all: any problem (a bad name, a file that is not a
decodable image, metadata that breaks the schema, or an error nobody foresaw) refuses it,
records why in the catalog, and moves it to `<inbox>/_rejected/` beside a report.json;
nothing reaches the catalog. Each folder is judged on its own: one bad folder never stops
the others.

The scan and the drops it finds are trulience/ingest/drops.py, the move of a refused
folder trulience/ingest/quarantine.py; their names are importable from here too. Only real
folders and regular files are read: entries are checked with lstat, and nothing else (a
symbolic link, a named pipe, a device) is ever opened or followed.
"""

import os
import stat
from pathlib import Path
from typing import Any

import psycopg

from trulience.catalog import characters, projects
from trulience.catalog import inbox as drop_log
from trulience.catalog.errors import ConflictingEdit, NotFound
from trulience.errors import DatabaseUnavailable, TrulienceError
from trulience.ingest.drops import (  # noqa: F401 (the inbox's names, importable from here)
    REJECTED_DIR,
    SETTLE_SECONDS,
    DropFolder,
    DropReport,
    fingerprint,
    folder_entries,
    is_hidden,
    scan_inbox,
)
from trulience.ingest.quarantine import REPORT_FILE, QuarantineFailed, quarantine  # noqa: F401
from trulience.library import add_image_file
from trulience.local_files import refusal
from trulience.media.image_decode import ImageInfo, InvalidSourceImage, check_image
from trulience.metadata import InvalidMetadata, Problem, read_metadata_file, schema_for
from trulience.quoting import quote_name
from trulience.slugs import InvalidSlug, check_slug
from trulience.storage import Storage, storage_key

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp"})
METADATA_FILE = "metadata.json"
# A report lists this many problems at most (the last one counts the rest).
MAX_PROBLEMS = 50
# The catalog itself is down: no folder is at fault, so none is refused (the next tick
# tries again).
CATALOG_UNREACHABLE = (psycopg.OperationalError, psycopg.InterfaceError, DatabaseUnavailable)


class _DropFailed(Exception):
    """Raised inside the import transaction to roll it back with the problems found."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def _check_names(drop: DropFolder) -> list[Problem]:
    problems = []
    for what, value in (("project folder", drop.project), ("character folder", drop.name)):
        if value.startswith("."):
            problems.append(
                Problem(
                    what,
                    f"{quote_name(value)} starts with '.', so it is hidden; a {what} is a "
                    "slug (lowercase letters, digits, '-' or '_', starting with a letter or "
                    "digit)",
                )
            )
            continue
        try:
            check_slug(value, what)
        except InvalidSlug as exc:
            problems.append(Problem(what, str(exc)))
    return problems


def _not_an_image_or_metadata() -> str:
    return "not an image (expected " + ", ".join(sorted(IMAGE_SUFFIXES)) + ") nor metadata.json"


def inspect_drop(
    conn: psycopg.Connection, drop: DropFolder
) -> tuple[list[Problem], dict[str, Any] | None, list[tuple[Path, ImageInfo]]]:
    """Validate a folder without writing anything: (problems, metadata, image files). Each
    image is decoded on its own and only its description is kept, so memory does not grow
    with the folder."""
    if drop.refusal is not None:
        return [drop.refusal], None, []
    problems = _check_names(drop)
    if problems:
        return problems, None, []
    try:
        project = projects.get_project(conn, drop.project)
    except NotFound:
        return (
            [
                Problem(
                    "project folder",
                    f"project {drop.project!r} does not exist; create it "
                    f"with `trulience projects add {drop.project} NAME`",
                )
            ],
            None,
            [],
        )
    metadata: dict[str, Any] | None = None
    images: list[tuple[Path, ImageInfo]] = []
    for entry in folder_entries(drop.path):
        if is_hidden(entry):
            continue  # never read; it moves with the folder if the folder is refused
        name = quote_name(entry.name)
        path = drop.path / entry.name
        try:
            found, value = _inspect_file(drop, entry, path, name, project.settings)
        except CATALOG_UNREACHABLE:
            raise
        except Exception as exc:  # one file nobody foresaw: refuse the folder, say which
            found, value = [_unexpected(name, "could not be checked", exc)], None
        problems += found
        if isinstance(value, ImageInfo):
            images.append((path, value))
        elif value is not None:
            metadata = value
    if not images:
        problems.append(Problem("images", "the folder holds no usable image file"))
    return problems, metadata, images


def _inspect_file(
    drop: DropFolder, entry: os.DirEntry, path: Path, name: str, settings: dict[str, Any]
) -> tuple[list[Problem], ImageInfo | dict[str, Any] | None]:
    mode = entry.stat(follow_symlinks=False).st_mode
    if stat.S_ISDIR(mode):
        reason = "is a sub-folder; sub-folders are not imported, flatten it"
        return [Problem(name, reason, name)], None
    if not stat.S_ISREG(mode):
        return [Problem(name, refusal(mode), name)], None
    if entry.name == METADATA_FILE:
        try:
            return [], read_metadata_file(path, schema_for(settings), label=METADATA_FILE)
        except InvalidMetadata as exc:
            return list(exc.problems), None
    if Path(entry.name).suffix.lower() not in IMAGE_SUFFIXES:
        return [Problem(name, _not_an_image_or_metadata(), name)], None
    try:
        # The key the image will be stored under must be valid, or the import would fail
        # half-way; the digest part is a placeholder of the same length.
        storage_key("characters", drop.name, "source", "0" * 16, entry.name)
    except TrulienceError as exc:
        return [Problem(name, f"cannot be stored under this name ({exc})", name)], None
    try:
        return [], check_image(path, name=name)
    except InvalidSourceImage as exc:
        return [Problem(name, exc.reason, name)], None


def _unexpected(where: str, doing: str, exc: BaseException) -> Problem:
    return Problem(where, f"{doing}: {type(exc).__name__}: {quote_name(str(exc), 200)}", where)


def _label(name: str) -> str:
    # inbox_drops refuses blank names, and a name may hold what text columns cannot store.
    if not name:
        return "(not a project folder)"
    return quote_name(name) if name.strip() else repr(name)


def _record(conn: psycopg.Connection, drop: DropFolder, report: DropReport) -> None:
    drop_log.record_drop(
        conn,
        _label(drop.project),
        _label(drop.name),
        drop.fingerprint,
        report.outcome,
        report.character,
        report.to_dict(),
    )


def import_drop(conn: psycopg.Connection, storage: Storage, drop: DropFolder) -> DropReport:
    """Register or update the character a folder describes, in one transaction. Whatever
    goes wrong with the folder (a refusal, or an error nobody foresaw) comes back as a
    rejected report, recorded in inbox_drops; only an unreachable catalog raises."""
    try:
        return _import(conn, storage, drop)
    except CATALOG_UNREACHABLE:
        raise
    except _DropFailed as exc:
        problems = exc.problems
    except TrulienceError as exc:  # refused by the catalog or storage: say why
        problems = [Problem("folder", str(exc))]
    except Exception as exc:  # one folder must never stop the inbox
        problems = [_unexpected("folder", "unexpected error while importing", exc)]
    return _reject(conn, drop, problems)


def _reject(conn: psycopg.Connection, drop: DropFolder, problems: list[Problem]) -> DropReport:
    if len(problems) > MAX_PROBLEMS:  # a folder of 100 000 stray files: say so, briefly
        more = len(problems) - MAX_PROBLEMS + 1
        problems = [*problems[: MAX_PROBLEMS - 1], Problem("folder", f"and {more:,} more")]
    report = DropReport(folder=drop.shown, outcome="rejected", problems=problems)
    try:
        with conn.transaction():
            _record(conn, drop, report)
    except CATALOG_UNREACHABLE:
        raise
    except Exception as exc:  # the folder is still quarantined with its report
        report.warnings.append(f"not recorded in the catalog: {quote_name(str(exc), 200)}")
    return report


def _import(conn: psycopg.Connection, storage: Storage, drop: DropFolder) -> DropReport:
    report = DropReport(folder=drop.shown, outcome="imported", character=drop.name)
    if drop.refusal is not None:
        raise _DropFailed([drop.refusal])
    problems = _check_names(drop)
    if problems:
        raise _DropFailed(problems)
    last = drop_log.last_import(conn, drop.project, drop.name)
    if last and last[0] == drop.fingerprint:
        report.outcome = "unchanged"
        return report
    problems, metadata, images = inspect_drop(conn, drop)
    if problems:
        raise _DropFailed(problems)

    metadata = metadata or {}
    name = str(metadata.get("name") or drop.name.replace("-", " ").replace("_", " ").title())
    with conn.transaction():
        try:
            current = characters.get_character(conn, drop.name)
        except NotFound:
            current = characters.create_character(conn, drop.name, name, metadata)
            report.created = True
        characters.add_to_project(conn, drop.project, drop.name)
        if not report.created and metadata and metadata != current.metadata:
            imported_version = last[1].get("metadata_version") if last else None
            try:
                characters.update_metadata(
                    conn, drop.name, metadata, expected_version=imported_version
                )
                report.metadata_updated = True
            except ConflictingEdit as exc:
                # the catalog was edited since the last drop: keep that edit, say so
                report.warnings.append(f"metadata.json not applied: {exc}")
        for path, info in images:
            added = _add_image(conn, storage, drop, path, info)
            if added is not None:
                report.images_added.append(f"{quote_name(added.original_name)} v{added.version}")
        if not report.created and not report.images_added and not report.metadata_updated:
            report.outcome = "unchanged"
        report.metadata_version = characters.get_character(conn, drop.name).metadata_version
        _record(conn, drop, report)
    return report


def _add_image(
    conn: psycopg.Connection, storage: Storage, drop: DropFolder, path: Path, info: ImageInfo
):
    """Store one checked image; a failure names the file and rolls the whole folder back."""
    try:
        return add_image_file(conn, storage, drop.name, path, info)
    except CATALOG_UNREACHABLE:
        raise
    except Exception as exc:  # turned into the folder's refusal
        name = quote_name(path.name)
        reason = str(exc) if isinstance(exc, TrulienceError) else None
        problem = (
            Problem(name, f"could not be stored: {quote_name(reason, 300)}", name)
            if reason
            else _unexpected(name, "could not be stored", exc)
        )
        raise _DropFailed([problem]) from exc
