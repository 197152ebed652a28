"""Re-pathing storage URIs in bulk (PRD-18): when a studio moves its storage, every catalog
URI starting with OLD is rewritten to start with NEW, after checking that NEW holds each file."""

import hashlib
from dataclasses import dataclass, field

import fsspec
import psycopg

from trulience.catalog import repath as catalog_repath
from trulience.catalog.database import acting_as
from trulience.errors import TrulienceError
from trulience.quoting import excerpt

# A file this small is hashed to prove it is the same file; a larger one (a video, a
# model) is only checked to exist.
HASH_LIMIT_BYTES = 16 * 1024 * 1024
_CHUNK = 1024 * 1024


class RepathRefused(TrulienceError):
    """A repath that cannot be applied (bad prefixes, or files missing at the new place)."""


@dataclass(frozen=True)
class Missing:
    """A file the new location does not hold (or holds with other content)."""

    table: str
    column: str
    uri: str
    reason: str

    def describe(self) -> str:
        return f"{self.table}.{self.column}: {self.uri}: {self.reason}"


@dataclass
class RepathReport:
    """What a repath rewrites (rows per table and column) and which files are missing."""

    old: str
    new: str
    counts: dict[tuple[str, str], int]
    checked: int = 0
    hashed: int = 0
    missing: list[Missing] = field(default_factory=list)
    applied: bool = False

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def lines(self) -> list[str]:
        """The report as the CLI and the maintenance page print it."""
        out = [f"{t}.{c}: {n} row(s)" for (t, c), n in self.counts.items() if n]
        out.append(
            f"{self.total} row(s) under {self.old}; {self.checked} file(s) checked at "
            f"{self.new} ({self.hashed} by sha256), {len(self.missing)} missing"
        )
        out += [f"missing: {m.describe()}" for m in self.missing]
        return out


def _check_prefixes(old: str, new: str) -> None:
    if not old.strip() or not new.strip():
        raise RepathRefused("OLD and NEW must both be non-empty URI prefixes")
    if old == new:
        raise RepathRefused(f"OLD and NEW are the same prefix ({excerpt(old)}): nothing to do")
    if "://" not in new:
        raise RepathRefused(f"NEW {excerpt(new)} is not a URI (expected e.g. file:///… or s3://…)")


def _check_file(
    fs: fsspec.AbstractFileSystem, path: str, expected: str | None
) -> tuple[str | None, bool]:
    """Why the file at `path` will not do (None if it will), and whether it was hashed."""
    try:
        if not fs.isfile(path):
            return "no such file", False
        size = fs.size(path)
    except OSError as exc:
        return f"cannot be read ({exc})", False
    if expected is None or size is None or size > HASH_LIMIT_BYTES:
        return None, False
    digest = hashlib.sha256()
    with fs.open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    if digest.hexdigest() != expected:
        return f"its sha256 differs from the catalog's ({expected[:12]}…)", True
    return None, True


def plan_repath(
    conn: psycopg.Connection, old: str, new: str, storage_options: dict | None = None
) -> RepathReport:
    """Count the rows under `old` per uri column and check each file at its new URI; writes
    nothing."""
    _check_prefixes(old, new)
    report = RepathReport(old, new, catalog_repath.count_under(conn, old))
    fs, root = fsspec.core.url_to_fs(new, **(storage_options or {}))
    seen: set[str] = set()
    for stored in catalog_repath.uris_under(conn, old):
        moved = new + stored.uri[len(old) :]
        if moved in seen:
            continue
        seen.add(moved)
        reason, hashed = _check_file(fs, root + stored.uri[len(old) :], stored.sha256)
        report.checked += 1
        report.hashed += hashed
        if reason:
            report.missing.append(Missing(stored.table, stored.column, moved, reason))
    return report


def repath(
    conn: psycopg.Connection,
    old: str,
    new: str,
    actor: str,
    dry_run: bool = False,
    allow_missing: bool = False,
    storage_options: dict | None = None,
) -> RepathReport:
    """Rewrite every URI starting with `old` to start with `new`, in one transaction audited
    as `actor`; refused while files are missing at the new place unless `allow_missing`."""
    report = plan_repath(conn, old, new, storage_options)
    if dry_run:
        return report
    if report.missing and not allow_missing:
        raise RepathRefused(
            f"{len(report.missing)} file(s) missing under {excerpt(new)} (first: "
            f"{report.missing[0].describe()}); nothing rewritten (--allow-missing to go on)"
        )
    with acting_as(conn, actor):
        report.counts = catalog_repath.rewrite_prefix(conn, old, new)
    report.applied = True
    return report
