"""The inbox (PRD-16): studios drop `<inbox>/<project>/<character-slug>/` folders holding
images and an optional metadata.json; each becomes (or updates) a library character.

A folder is imported whole or not at all: any problem (a bad name, a file that is not a
decodable image, metadata that breaks the schema, or an error nobody foresaw) refuses it,
records why in the catalog, and moves it to `<inbox>/_rejected/` beside a report.json;
nothing reaches the catalog. Each folder is judged on its own: one bad folder never stops
the others.

Only real folders and regular files are read: entries are checked with lstat, and nothing
else (a symbolic link, a named pipe, a device) is ever opened or followed.
"""

import hashlib
import json
import os
import shutil
import stat
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from trulience.catalog import characters, projects
from trulience.catalog.errors import ConflictingEdit, NotFound
from trulience.errors import DatabaseUnavailable, TrulienceError
from trulience.library import add_image_file
from trulience.local_files import refusal
from trulience.media.image_decode import ImageInfo, InvalidSourceImage, check_image
from trulience.metadata import InvalidMetadata, Problem, read_metadata_file, schema_for
from trulience.quoting import quote_name
from trulience.slugs import InvalidSlug, check_slug
from trulience.storage import Storage, storage_key

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp"})
METADATA_FILE = "metadata.json"
REJECTED_DIR = "_rejected"
REPORT_FILE = "report.json"
# A folder whose files changed this recently may still be being copied in.
SETTLE_SECONDS = 3.0
# A report lists this many problems at most (the last one counts the rest).
MAX_PROBLEMS = 50
# The catalog itself is down: no folder is at fault, so none is refused (the next tick
# tries again).
CATALOG_UNREACHABLE = (psycopg.OperationalError, psycopg.InterfaceError, DatabaseUnavailable)


class QuarantineFailed(TrulienceError):
    """A refused folder could not be moved to the _rejected folder; says why."""


class _DropFailed(Exception):
    """Raised inside the import transaction to roll it back with the problems found."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class DropFolder:
    """One character folder in the inbox, as the scan saw it. `refusal` is set when the
    scan already knows it cannot be imported (not a real folder, unreadable)."""

    project: str
    name: str
    path: Path
    fingerprint: str
    refusal: Problem | None = None

    @property
    def key(self) -> str:
        return f"{self.project}/{self.name}" if self.name else self.project

    @property
    def shown(self) -> str:
        """The key as it may appear in a log line or a report (escaped, bounded)."""
        return quote_name(self.key)


@dataclass
class DropReport:
    """What importing one folder did, or why it was refused."""

    folder: str
    outcome: str  # imported | unchanged | rejected
    character: str | None = None
    created: bool = False
    images_added: list[str] = field(default_factory=list)
    metadata_updated: bool = False
    metadata_version: int | None = None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "folder": self.folder,
            "outcome": self.outcome,
            "character": self.character,
            "created": self.created,
            "images_added": self.images_added,
            "metadata_updated": self.metadata_updated,
            "metadata_version": self.metadata_version,
            "problems": [p.to_dict() for p in self.problems],
            "warnings": self.warnings,
        }


def _entries(folder: Path) -> list[os.DirEntry]:
    """A folder's entries sorted by name; DirEntry caches their lstat (no link followed)."""
    with os.scandir(folder) as found:
        return sorted(found, key=lambda e: e.name)


def _hidden(entry: os.DirEntry) -> bool:
    return entry.name.startswith(".")


def fingerprint(folder: Path) -> str:
    """A cheap identity of a folder's contents: names, sizes and modification times (from
    lstat: nothing inside is followed or opened; a link put in a file's place has its own
    time). The same digest as before links were refused, so no folder re-imports."""
    digest = hashlib.sha256()
    for entry in _entries(folder):
        if _hidden(entry):
            continue
        info = entry.stat(follow_symlinks=False)
        digest.update(os.fsencode(entry.name))
        digest.update(f"\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _entry_fingerprint(path: Path, info: os.stat_result, note: str = "") -> str:
    digest = hashlib.sha256(os.fsencode(str(path)))
    digest.update(f"\0{info.st_mode}\0{info.st_size}\0{info.st_mtime_ns}\0{note}".encode())
    return digest.hexdigest()


def _settled(folder: Path, now: float, settle_s: float) -> bool:
    newest = max(
        [os.lstat(folder).st_mtime]
        + [e.stat(follow_symlinks=False).st_mtime for e in _entries(folder)]
    )
    return now - newest >= settle_s


def _refused_entry(
    project: str, name: str, path: Path, info: os.stat_result, what: str, reason: str
) -> DropFolder:
    return DropFolder(
        project, name, path, _entry_fingerprint(path, info, reason), Problem(what, reason)
    )


def scan_inbox(
    inbox: Path, settle_s: float = SETTLE_SECONDS, now: float | None = None
) -> list[DropFolder]:
    """Character folders ready to import, sorted; folders still being written are left for
    the next scan, and the _rejected folder is never scanned. Whatever else sits where a
    character folder belongs (a link, a file, a pipe, a folder that cannot be read) comes
    back as a drop the scan already refused, so it is reported instead of staying forever."""
    now = time.time() if now is None else now
    drops: list[DropFolder] = []
    try:
        if not stat.S_ISDIR(os.lstat(inbox).st_mode):
            return drops
        projects_found = _entries(inbox)
    except OSError:
        return drops
    for project_entry in projects_found:
        if project_entry.name == REJECTED_DIR:
            continue
        drops += _scan_project(inbox / project_entry.name, project_entry, now, settle_s)
    return drops


def _scan_project(path: Path, entry: os.DirEntry, now: float, settle_s: float) -> list[DropFolder]:
    project = entry.name
    try:
        info = entry.stat(follow_symlinks=False)
        if not stat.S_ISDIR(info.st_mode):
            if stat.S_ISREG(info.st_mode) and _hidden(entry):
                return []  # .DS_Store and the like: clutter a file manager leaves
            if now - info.st_mtime < settle_s:
                return []
            reason = f"{quote_name(project)} {refusal(info.st_mode, 'real folders')}"
            return [_refused_entry(project, "", path, info, "project folder", reason)]
        children = _entries(path)
    except OSError as exc:
        return [_unreadable(project, "", path, exc)]
    drops = []
    for child in children:
        try:
            drop = _scan_character(project, path / child.name, child, now, settle_s)
        except OSError as exc:  # gone or unreadable meanwhile: that folder only
            drop = _unreadable(project, child.name, path / child.name, exc)
        if drop is not None:
            drops.append(drop)
    return drops


def _scan_character(
    project: str, path: Path, entry: os.DirEntry, now: float, settle_s: float
) -> DropFolder | None:
    info = entry.stat(follow_symlinks=False)
    if not stat.S_ISDIR(info.st_mode):
        if stat.S_ISREG(info.st_mode) and _hidden(entry):
            return None
        if now - info.st_mtime < settle_s:
            return None
        reason = (
            f"{quote_name(entry.name)} {refusal(info.st_mode, 'real folders')} "
            f"(a character is a folder of images: {quote_name(project)}/<character>/)"
        )
        return _refused_entry(project, entry.name, path, info, "character folder", reason)
    if not _settled(path, now, settle_s):
        return None
    return DropFolder(project, entry.name, path, fingerprint(path))


def _unreadable(project: str, name: str, path: Path, exc: OSError) -> DropFolder:
    reason = f"cannot be read ({exc.strerror or type(exc).__name__})"
    digest = hashlib.sha256(os.fsencode(str(path)) + b"\0unreadable").hexdigest()
    return DropFolder(project, name, path, digest, Problem("folder", reason))


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
    for entry in _entries(drop.path):
        if _hidden(entry):
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


def _last_import(conn: psycopg.Connection, drop: DropFolder) -> tuple[str, dict] | None:
    row = conn.execute(
        """SELECT fingerprint, report FROM inbox_drops
            WHERE project_slug = %s AND folder = %s AND outcome <> 'rejected'
            ORDER BY created_at DESC, id DESC LIMIT 1""",
        (drop.project, drop.name),
    ).fetchone()
    return (row[0], row[1]) if row else None


def _label(name: str) -> str:
    # inbox_drops refuses blank names, and a name may hold what text columns cannot store.
    if not name:
        return "(not a project folder)"
    return quote_name(name) if name.strip() else repr(name)


def _record(conn: psycopg.Connection, drop: DropFolder, report: DropReport) -> None:
    conn.execute(
        """INSERT INTO inbox_drops (project_slug, folder, fingerprint, outcome, character_id,
                                    report)
           VALUES (%s, %s, %s, %s, (SELECT id FROM characters WHERE slug = %s), %s)""",
        (
            _label(drop.project),
            _label(drop.name),
            drop.fingerprint,
            report.outcome,
            report.character,
            Jsonb(report.to_dict()),
        ),
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
    last = _last_import(conn, drop)
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


def _rejected_dir(inbox: Path) -> Path:
    """The inbox's _rejected folder, made if missing; refused unless it is a real folder
    (a link there would make quarantine write outside the inbox)."""
    rejected = inbox / REJECTED_DIR
    try:
        os.mkdir(rejected)
    except FileExistsError:
        pass
    except OSError as exc:
        raise QuarantineFailed(f"cannot create {rejected}: {exc.strerror or exc}") from exc
    mode = os.lstat(rejected).st_mode
    if not stat.S_ISDIR(mode):
        raise QuarantineFailed(
            f"{rejected} {refusal(mode, 'real folders')}: refused folders are left in place "
            "(nothing is written outside the inbox)"
        )
    return rejected


def _safe_part(text: str) -> str:
    safe = "".join(ch if (ch.isascii() and ch.isalnum()) or ch in "-_" else "_" for ch in text)
    return safe[:100] or "folder"


def quarantine(drop: DropFolder, report: DropReport, inbox: Path) -> Path:
    """Move a refused folder to `<inbox>/_rejected/<project>_<name>-<UTC time>/`, beside
    its report.json, so the studio sees why and the scan does not retry it. The folder (or
    link, or file) is moved as it is, never followed or written into."""
    rejected = _rejected_dir(inbox)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = f"{_safe_part(drop.key)}-{stamp}"
    for suffix in range(1, 1000):
        target = rejected / (base if suffix == 1 else f"{base}-{suffix}")
        try:
            os.mkdir(target)
            break
        except FileExistsError:
            continue
    else:
        raise QuarantineFailed(f"too many refused copies of {drop.shown} at {stamp}")
    inside = target / (drop.path.name if drop.path.name != REPORT_FILE else "_" + REPORT_FILE)
    try:
        shutil.move(str(drop.path), str(inside))
    except OSError as exc:
        os.rmdir(target)
        raise QuarantineFailed(
            f"cannot move {drop.shown} to {target}: {exc.strerror or exc}"
        ) from exc
    text = json.dumps(report.to_dict(), indent=2) + "\n"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    with os.fdopen(os.open(target / REPORT_FILE, flags, 0o644), "w", encoding="utf-8") as out:
        out.write(text)
    return target
