"""The inbox's drops: each character folder the scan finds, `<inbox>/<project>/<character>/`,
and the report of importing it (trulience/ingest/inbox.py imports them).

Only real folders and regular files are read: entries are checked with lstat, and nothing
else (a symbolic link, a named pipe, a device) is ever opened or followed.
"""

import hashlib
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trulience.local_files import refusal
from trulience.metadata import Problem
from trulience.quoting import quote_name

REJECTED_DIR = "_rejected"
# A folder whose files changed this recently may still be being copied in.
SETTLE_SECONDS = 3.0


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


def folder_entries(folder: Path) -> list[os.DirEntry]:
    """A folder's entries sorted by name; DirEntry caches their lstat (no link followed)."""
    with os.scandir(folder) as found:
        return sorted(found, key=lambda e: e.name)


def is_hidden(entry: os.DirEntry) -> bool:
    return entry.name.startswith(".")


def fingerprint(folder: Path) -> str:
    """A cheap identity of a folder's contents: names, sizes and modification times (from
    lstat: nothing inside is followed or opened; a link put in a file's place has its own
    time). The same digest as before links were refused, so no folder re-imports."""
    digest = hashlib.sha256()
    for entry in folder_entries(folder):
        if is_hidden(entry):
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
        + [e.stat(follow_symlinks=False).st_mtime for e in folder_entries(folder)]
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
        projects_found = folder_entries(inbox)
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
            if stat.S_ISREG(info.st_mode) and is_hidden(entry):
                return []  # .DS_Store and the like: clutter a file manager leaves
            if now - info.st_mtime < settle_s:
                return []
            reason = f"{quote_name(project)} {refusal(info.st_mode, 'real folders')}"
            return [_refused_entry(project, "", path, info, "project folder", reason)]
        children = folder_entries(path)
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
        if stat.S_ISREG(info.st_mode) and is_hidden(entry):
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
