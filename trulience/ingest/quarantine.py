"""Refused inbox folders are moved, as they are, to `<inbox>/_rejected/` beside a
report.json saying why; nothing is ever written outside the inbox."""

import json
import os
import shutil
import stat
from datetime import UTC, datetime
from pathlib import Path

from trulience.errors import TrulienceError
from trulience.ingest.drops import REJECTED_DIR, DropFolder, DropReport
from trulience.local_files import refusal

REPORT_FILE = "report.json"


class QuarantineFailed(TrulienceError):
    """A refused folder could not be moved to the _rejected folder; says why."""


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
