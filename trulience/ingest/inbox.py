"""The inbox (PRD-16): studios drop `<inbox>/<project>/<character-slug>/` folders holding
images and an optional metadata.json; each becomes (or updates) a library character.

A folder is imported whole or not at all: any problem (a bad name, a file that is not a
decodable image, metadata that breaks the schema) moves it to `<inbox>/_rejected/` with a
report.json, and nothing reaches the catalog.
"""

import hashlib
import json
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from trulience.catalog import characters, projects
from trulience.catalog.errors import ConflictingEdit, NotFound
from trulience.ingest.metadata import InvalidMetadata, Problem, read_metadata_file, schema_for
from trulience.library import add_image_file
from trulience.qa.image_decode import DecodedImage, InvalidSourceImage, decode_image
from trulience.slugs import InvalidSlug, check_slug
from trulience.storage import Storage

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp"})
METADATA_FILE = "metadata.json"
REJECTED_DIR = "_rejected"
# A folder whose files changed this recently may still be being copied in.
SETTLE_SECONDS = 3.0


@dataclass(frozen=True)
class DropFolder:
    """One character folder in the inbox, as the scan saw it."""

    project: str
    name: str
    path: Path
    fingerprint: str

    @property
    def key(self) -> str:
        return f"{self.project}/{self.name}"


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
            "problems": [{"field": p.field, "message": p.message} for p in self.problems],
            "warnings": self.warnings,
        }


def _visible_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def fingerprint(folder: Path) -> str:
    """A cheap identity of a folder's contents: names, sizes and modification times."""
    digest = hashlib.sha256()
    for path in _visible_files(folder):
        stat = path.stat()
        digest.update(f"{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _settled(folder: Path, now: float, settle_s: float) -> bool:
    newest = max((p.stat().st_mtime for p in [folder, *folder.iterdir()]), default=0.0)
    return now - newest >= settle_s


def scan_inbox(
    inbox: Path, settle_s: float = SETTLE_SECONDS, now: float | None = None
) -> list[DropFolder]:
    """Character folders ready to import, sorted; folders still being written are left for
    the next scan, and the _rejected folder is never scanned."""
    now = time.time() if now is None else now
    drops = []
    if not inbox.is_dir():
        return drops
    for project_dir in sorted(p for p in inbox.iterdir() if p.is_dir()):
        if project_dir.name == REJECTED_DIR or project_dir.name.startswith("."):
            continue
        for folder in sorted(p for p in project_dir.iterdir() if p.is_dir()):
            if folder.name.startswith(".") or not _settled(folder, now, settle_s):
                continue
            drops.append(DropFolder(project_dir.name, folder.name, folder, fingerprint(folder)))
    return drops


def _check_names(drop: DropFolder) -> list[Problem]:
    problems = []
    for what, value in (("project folder", drop.project), ("character folder", drop.name)):
        try:
            check_slug(value, what)
        except InvalidSlug as exc:
            problems.append(Problem(what, str(exc)))
    return problems


def inspect_drop(
    conn: psycopg.Connection, drop: DropFolder
) -> tuple[list[Problem], dict[str, Any] | None, list[tuple[Path, "DecodedImage"]]]:
    """Validate a folder without writing anything: (problems, metadata, image files)."""
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
    images: list[tuple[Path, DecodedImage]] = []
    for path in _visible_files(drop.path):
        if path.is_dir():
            problems.append(Problem(path.name, "sub-folders are not imported; flatten the folder"))
        elif path.name == METADATA_FILE:
            try:
                metadata = read_metadata_file(path, schema_for(project.settings))
            except InvalidMetadata as exc:
                problems += [Problem(f"{METADATA_FILE} {p.field}", p.message) for p in exc.problems]
        elif path.suffix.lower() in IMAGE_SUFFIXES:
            try:
                images.append((path, decode_image(path)))
            except InvalidSourceImage as exc:
                problems.append(Problem(path.name, str(exc)))
        else:
            problems.append(
                Problem(
                    path.name,
                    "not an image (expected "
                    + ", ".join(sorted(IMAGE_SUFFIXES))
                    + ") nor metadata.json",
                )
            )
    if not images:
        problems.append(Problem("images", "the folder holds no usable image file"))
    return problems, metadata, images


def _last_import(conn: psycopg.Connection, drop: DropFolder) -> tuple[str, dict] | None:
    row = conn.execute(
        """SELECT fingerprint, report FROM inbox_drops
            WHERE project_slug = %s AND folder = %s AND outcome <> 'rejected'
            ORDER BY created_at DESC, id DESC LIMIT 1""",
        (drop.project, drop.name),
    ).fetchone()
    return (row[0], row[1]) if row else None


def _record(conn: psycopg.Connection, drop: DropFolder, report: DropReport) -> None:
    conn.execute(
        """INSERT INTO inbox_drops (project_slug, folder, fingerprint, outcome, character_id,
                                    report)
           VALUES (%s, %s, %s, %s, (SELECT id FROM characters WHERE slug = %s), %s)""",
        (
            drop.project,
            drop.name,
            drop.fingerprint,
            report.outcome,
            report.character,
            Jsonb(report.to_dict()),
        ),
    )


def import_drop(conn: psycopg.Connection, storage: Storage, drop: DropFolder) -> DropReport:
    """Register or update the character a folder describes, in one transaction."""
    report = DropReport(folder=drop.key, outcome="imported", character=drop.name)
    last = _last_import(conn, drop)
    if last and last[0] == drop.fingerprint:
        report.outcome = "unchanged"
        return report
    problems, metadata, images = inspect_drop(conn, drop)
    if problems:
        report.outcome, report.problems, report.character = "rejected", problems, None
        with conn.transaction():
            _record(conn, drop, report)
        return report

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
        for path, decoded in images:
            added = add_image_file(conn, storage, drop.name, path, decoded)
            if added is not None:
                report.images_added.append(f"{added.original_name} v{added.version}")
        if not report.created and not report.images_added and not report.metadata_updated:
            report.outcome = "unchanged"
        report.metadata_version = characters.get_character(conn, drop.name).metadata_version
        _record(conn, drop, report)
    return report


def quarantine(drop: DropFolder, report: DropReport, inbox: Path) -> Path:
    """Move a refused folder to `<inbox>/_rejected/<project>-<name>-<UTC time>/` with its
    report.json, so the studio sees why and the scan does not retry it."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in drop.key)
    target = inbox / REJECTED_DIR / f"{safe}-{stamp}"
    suffix = 1
    while target.exists():
        suffix += 1
        target = inbox / REJECTED_DIR / f"{safe}-{stamp}-{suffix}"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(drop.path), str(target))
    (target / "report.json").write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    return target
