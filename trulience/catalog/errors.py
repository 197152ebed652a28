"""Catalog errors, and the translation of database refusals into them.

The database enforces integrity (FK, CHECK, UNIQUE, lookups); this module turns its
refusals into errors that name the entity, the field, the value and the reason.
"""

import contextlib
import re
from collections.abc import Iterator, Mapping
from typing import Any

import psycopg
from psycopg import errors as pg
from psycopg import sql

from trulience.errors import TrulienceError

ENTITY_NAMES = {
    "projects": "project",
    "characters": "character",
    "project_characters": "project membership",
    "source_images": "source image",
    "image_variants": "image variant",
    "face_models": "face model",
    "face_embeddings": "face embedding",
    "workflows": "workflow",
    "scene_types": "scene type",
    "scene_type_versions": "scene type version",
    "scenes": "scene",
    "segments": "segment",
    "deliverables": "deliverable",
    "users": "user",
    "reviews": "review",
    "scene_revisions": "take revision",
    "notes": "note",
    "note_drawings": "note drawing",
    "tags": "tag",
    "entity_tags": "tag assignment",
    "workers": "worker",
    "worker_leases": "worker lease",
    "segment_requests": "segment request",
    "workflow_models": "workflow model",
    "hardware_samples": "hardware sample",
    "character_identities": "character identity",
    "duplicate_candidates": "duplicate candidate",
    "metadata_sync": "metadata sync",
    "inbox_drops": "inbox drop",
    "sessions": "session",
    "notifications": "notification",
    "webhooks": "webhook",
    "webhook_deliveries": "webhook delivery",
    "user_preferences": "user preferences",
    "project_budgets": "project budget",
    "batches": "batch",
    "batch_items": "batch item",
    "audit_log": "audit log entry",
    "audit_policy": "audit policy rule",
    "segment_trims": "segment trim",
    "share_links": "share link",
    "share_link_uses": "share link use",
    "take_assignments": "take assignment",
    "model_kinds": "model kind",
    "models": "model",
    "hooks": "hook",
    "hook_runs": "hook run",
    "chain_rules": "chain rule",
    "regression_goldens": "golden take",
    "regression_thresholds": "regression thresholds",
    "regression_verdicts": "regression verdict",
    "regression_runs": "regression run",
    "regression_results": "regression result",
    "regression_overrides": "regression override",
    "take_finals": "take final",
    "edit_commands": "edit",
    "character_scene_overrides": "character scene-type override",
}

# Reasons by constraint-name suffix; a COMMENT ON CONSTRAINT overrides them.
_SUFFIX_REASONS = {
    "_slug_format": "must be lowercase letters, digits, '-' or '_' (at most 63, no '|', '/' "
    "or '.'), starting with a letter or digit",
    "_name_format": "must be lowercase letters, digits, '-' or '_' (at most 63)",
    "_sha256_format": "must be 64 lowercase hex digits",
    "_not_blank": "must not be blank",
    "_positive": "must be greater than 0",
    "_not_negative": "must not be negative",
    "_sane": "is out of range (16 to 8192 pixels, even numbers for video)",
    "_range": "is out of range",
    "_object": "must be a JSON object",
    "_format": "has the wrong format",
}


class CatalogError(TrulienceError):
    """Something the catalog refused or could not find."""


class NotFound(CatalogError):
    def __init__(self, entity: str, key: Any):
        self.entity, self.key = entity, key
        super().__init__(f"{entity} {key!r} not found")


class AlreadyExists(CatalogError):
    def __init__(self, entity: str, field: str, value: Any):
        self.entity, self.field, self.value = entity, field, value
        super().__init__(f"{entity} with {field} {value!r} already exists")


class MissingReference(CatalogError):
    def __init__(self, entity: str, field: str, value: Any, target: str):
        self.entity, self.field, self.value, self.target = entity, field, value, target
        super().__init__(f"{entity}: {field} {value!r} refers to no existing {target}")


class StillReferenced(CatalogError):
    def __init__(self, entity: str, key: Any, referenced_by: str):
        self.entity, self.key, self.referenced_by = entity, key, referenced_by
        super().__init__(
            f"{entity} {key!r} cannot be deleted: {referenced_by} rows still refer to it"
        )


class InvalidValue(CatalogError):
    def __init__(self, entity: str, field: str, value: Any, reason: str):
        self.entity, self.field, self.value, self.reason = entity, field, value, reason
        shown = "" if value is None else f" {value!r}"
        super().__init__(f"{entity} {field}{shown}: {reason}")


class ReadOnly(CatalogError):
    """The database refused to change a record that is append-only."""


class ConflictingEdit(CatalogError):
    """Someone else changed the record since it was read (optimistic concurrency)."""


def entity_of(table: str | None) -> str:
    return ENTITY_NAMES.get(table or "", (table or "record").replace("_", " "))


_KEY_DETAIL = re.compile(r"Key \((?P<fields>.+?)\)=\((?P<values>.*)\)")
_TARGET_TABLE = re.compile(r'table "(?P<table>[^"]+)"')


def _constraint_info(conn: psycopg.Connection, name: str) -> tuple[list[str], str | None]:
    """Columns a named constraint covers and its comment, read from pg_catalog."""
    row = conn.execute(
        """SELECT coalesce(array_agg(a.attname ORDER BY a.attnum)
                           FILTER (WHERE a.attname IS NOT NULL), '{}'),
                  obj_description(c.oid, 'pg_constraint')
             FROM pg_constraint c
             LEFT JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
            WHERE c.conname = %s
            GROUP BY c.oid""",
        (name,),
    ).fetchone()
    return (list(row[0]), row[1]) if row else ([], None)


def _lookup_codes(conn: psycopg.Connection, table: str) -> list[str] | None:
    """Allowed codes if `table` is a lookup table (code, label, position), else None."""
    columns = conn.execute(
        "SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute "
        "WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped",
        (table,),
    ).fetchone()[0]
    if columns != ["code", "label", "position"]:
        return None
    rows = conn.execute(
        sql.SQL("SELECT code FROM {} ORDER BY position").format(sql.Identifier(table))
    ).fetchall()
    return [r[0] for r in rows]


def translate(
    exc: psycopg.Error, conn: psycopg.Connection, values: Mapping[str, Any] | None = None
) -> CatalogError:
    """The domain error for a database refusal. `conn` must be usable (not in a failed
    transaction); `values` maps column names to what the caller tried to write."""
    values = values or {}
    diag = exc.diag
    entity = entity_of(diag.table_name)
    detail = diag.message_detail or ""
    key = _KEY_DETAIL.search(detail)

    if isinstance(exc, pg.UniqueViolation):
        if key:
            return AlreadyExists(entity, key["fields"], key["values"])
        return AlreadyExists(entity, diag.constraint_name or "key", None)

    if isinstance(exc, pg.ForeignKeyViolation):
        target = _TARGET_TABLE.search(detail)
        target_table = target["table"] if target else None
        fields = key["fields"] if key else diag.constraint_name or "reference"
        value = key["values"] if key else None
        if "still referenced" in detail:
            # diag names the referencing table; the row being deleted is in the other one
            referenced = conn.execute(
                "SELECT confrelid::regclass::text FROM pg_constraint "
                "WHERE conname = %s AND conrelid = to_regclass(%s)",
                (diag.constraint_name, diag.table_name),
            ).fetchone()
            return StillReferenced(
                entity_of(referenced[0] if referenced else None),
                values.get("slug", value),
                entity,
            )
        codes = _lookup_codes(conn, target_table) if target_table else None
        if codes is not None:
            return InvalidValue(entity, fields, value, "must be one of: " + ", ".join(codes))
        if diag.constraint_name == "scenes_character_in_project":
            return InvalidValue(entity, "character", value, "the character is not in the project")
        return MissingReference(entity, fields, value, entity_of(target_table))

    if isinstance(exc, pg.CheckViolation):
        name = diag.constraint_name or ""
        columns, comment = _constraint_info(conn, name) if name else ([], None)
        if not columns and diag.column_name:
            columns = [diag.column_name]
        field = ", ".join(columns) or name or "value"
        value = values.get(columns[0]) if len(columns) == 1 else None
        if comment:
            reason = comment
        elif not columns or diag.column_name:  # raised by a trigger: its message says why
            reason = diag.message_primary or name
        else:
            reason = next(
                (text for suffix, text in _SUFFIX_REASONS.items() if name.endswith(suffix)),
                f"violates {name}",
            )
        return InvalidValue(entity, field, value, reason)

    if isinstance(exc, pg.NotNullViolation):
        return InvalidValue(entity, diag.column_name or "value", None, "is required")

    if isinstance(exc, pg.InsufficientPrivilege):
        return ReadOnly(diag.message_primary or str(exc))

    if isinstance(exc, pg.DataError):
        return InvalidValue(entity, diag.column_name or "value", None, diag.message_primary or "")

    raise exc


@contextlib.contextmanager
def writing(
    conn: psycopg.Connection, values: Mapping[str, Any] | None = None
) -> Iterator[psycopg.Connection]:
    """A transaction (a savepoint inside another) whose refusals become domain errors.

    The transaction is rolled back before translating, so nothing half-written remains and
    the connection stays usable for the caller.
    """
    try:
        with conn.transaction():
            yield conn
    except (pg.IntegrityError, pg.InsufficientPrivilege, pg.DataError) as exc:
        raise translate(exc, conn, values) from exc
