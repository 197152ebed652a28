"""Takes (table `scenes`: takes of a character in a scene type within a project), what a
take is planned from, and the prompt its running segment was queued as. A take's segments are
in trulience/catalog/segments.py (their functions are also reachable from here, by the names
callers have always used)."""

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.types.json import Jsonb

from trulience.catalog.errors import writing
from trulience.catalog.fetch import id_of, many, one
from trulience.catalog.records import Take
from trulience.catalog.scene_types import latest_version
from trulience.catalog.segments import (
    add_segment,
    commit_segment,
    current_segments,
    list_segments,
    next_attempt,
    qa_failure_counts,
    update_segment,
)

__all__ = [
    "CharacterIdentity",
    "RunningPrompt",
    "StoredVariant",
    "add_segment",
    "cells_without_a_made_take",
    "character_identity",
    "clear_prompt",
    "commit_segment",
    "create_take",
    "crop_variant",
    "current_segments",
    "first_project_of",
    "get_take",
    "latest_take",
    "list_segments",
    "list_takes",
    "next_attempt",
    "qa_failure_counts",
    "record_prompt",
    "running_prompts",
    "set_take_control",
    "set_take_state",
    "take_control",
    "take_overview",
    "update_segment",
]

_SCENE_COLUMNS = (
    "id, project_id, character_id, scene_type_id, scene_type_version_id, take, "
    "status, uri, sha256, frames, control, effective_config, planned_segments, failure, "
    "created_at, updated_at, stage"
)


def create_take(
    conn: psycopg.Connection,
    project: str,
    character: str,
    scene_type: str,
    effective_config: dict | None = None,
    planned_segments: int | None = None,
    stage: str | None = None,
) -> Take:
    """Open the next take of a character in a scene type, on the type's newest version,
    recording the effective (inherited and resolved) configuration it will be made with
    (`stage` 'preview': made at the preview size first, its final later)."""
    with writing(conn):
        project_id = id_of(conn, "projects", project, "project")
        character_id = id_of(conn, "characters", character, "character")
        version = latest_version(conn, scene_type)
        conn.execute("SELECT 1 FROM scene_types WHERE id = %s FOR UPDATE", (version.scene_type_id,))
        return one(
            conn,
            Take,
            f"""INSERT INTO scenes (project_id, character_id, scene_type_id,
                                    scene_type_version_id, take, effective_config,
                                    planned_segments, stage)
                SELECT %(p)s, %(c)s, %(t)s, %(v)s, coalesce(max(take), 0) + 1, %(config)s,
                       %(planned)s, %(stage)s
                  FROM scenes WHERE project_id = %(p)s AND character_id = %(c)s
                   AND scene_type_id = %(t)s
                RETURNING {_SCENE_COLUMNS}""",
            {
                "p": project_id,
                "c": character_id,
                "t": version.scene_type_id,
                "v": version.id,
                "config": Jsonb(effective_config or {}),
                "planned": planned_segments,
                "stage": stage,
            },
            "scene",
            f"{project}/{character}/{scene_type}",
        )


def get_take(conn: psycopg.Connection, scene_id: int) -> Take:
    return one(
        conn,
        Take,
        f"SELECT {_SCENE_COLUMNS} FROM scenes WHERE id = %s",
        (scene_id,),
        "scene",
        scene_id,
    )


def list_takes(
    conn: psycopg.Connection,
    project: str | None = None,
    character: str | None = None,
    scene_type: str | None = None,
) -> list[Take]:
    cols = ", ".join("s." + c.strip() for c in _SCENE_COLUMNS.split(","))
    return many(
        conn,
        Take,
        f"""SELECT {cols} FROM scenes s
              JOIN projects p ON p.id = s.project_id
              JOIN characters c ON c.id = s.character_id
              JOIN scene_types t ON t.id = s.scene_type_id
             WHERE (%(p)s::text IS NULL OR p.slug = %(p)s)
               AND (%(c)s::text IS NULL OR c.slug = %(c)s)
               AND (%(t)s::text IS NULL OR t.slug = %(t)s)
             ORDER BY p.slug, c.slug, t.slug, s.take""",
        {"p": project, "c": character, "t": scene_type},
    )


def latest_take(
    conn: psycopg.Connection, project: str, character: str, scene_type: str
) -> Take | None:
    """The newest take of a character in a scene type within a project, if any."""
    takes = list_takes(conn, project, character, scene_type)  # ordered by take
    return takes[-1] if takes else None


def first_project_of(conn: psycopg.Connection, character: str) -> str | None:
    """The slug of the project the character joined first (None: it belongs to none)."""
    row = conn.execute(
        """SELECT p.slug FROM project_characters pc
             JOIN projects p ON p.id = pc.project_id JOIN characters c ON c.id = pc.character_id
            WHERE c.slug = %s ORDER BY pc.added_at, p.slug LIMIT 1""",
        (character,),
    ).fetchone()
    return None if row is None else row[0]


@dataclass(frozen=True, slots=True)
class CharacterIdentity:
    """A character's calibrated identity under one face model: the centroid of its face
    embeddings and the band of similarities its own faces span around it."""

    centroid: list[float]
    samples: int
    same_min: float
    same_p05: float
    same_median: float
    threshold: float


def character_identity(
    conn: psycopg.Connection, character: str, model: str
) -> CharacterIdentity | None:
    """The character's identity under face model `model`, if it was calibrated."""
    row = conn.execute(
        """SELECT i.centroid::text, i.samples, i.same_min, i.same_p05, i.same_median,
                  i.threshold
             FROM character_identities i JOIN characters c ON c.id = i.character_id
            WHERE c.slug = %s AND i.model = %s""",
        (character, model),
    ).fetchone()
    if row is None:
        return None
    return CharacterIdentity([float(v) for v in row[0].strip("[]").split(",")], *row[1:])


@dataclass(frozen=True, slots=True)
class StoredVariant:
    """Where a stored image variant's file is, and its sha256."""

    uri: str
    sha256: str


def crop_variant(
    conn: psycopg.Connection, source_image_id: int, width: int, height: int
) -> StoredVariant | None:
    """The stored face-centred crop of a source image at exactly `width` x `height`."""
    rows = many(
        conn,
        StoredVariant,
        "SELECT uri, sha256 FROM image_variants WHERE source_image_id = %s AND kind = 'crop' "
        "AND width = %s AND height = %s",
        (source_image_id, width, height),
    )
    return rows[0] if rows else None


def set_take_state(
    conn: psycopg.Connection,
    scene_id: int,
    status: str,
    *,
    frames: int | None = None,
    failure: str | None = None,
) -> Take:
    """Record the machine status of a take (and its frame total or failure reason)."""
    with writing(conn, {"status": status}):
        return one(
            conn,
            Take,
            f"""UPDATE scenes SET status = %s, frames = coalesce(%s, frames), failure = %s
                 WHERE id = %s RETURNING {_SCENE_COLUMNS}""",
            (status, frames, failure, scene_id),
            "scene",
            scene_id,
        )


def set_take_control(conn: psycopg.Connection, scene_id: int, control: str, by: str) -> Take:
    """A producer's instruction to the loop: run, pause or cancel (acted on between segments)."""
    with writing(conn, {"control": control}):
        return one(
            conn,
            Take,
            f"UPDATE scenes SET control = %s, control_by = %s WHERE id = %s "
            f"RETURNING {_SCENE_COLUMNS}",
            (control, by, scene_id),
            "scene",
            scene_id,
        )


def take_control(conn: psycopg.Connection, scene_id: int) -> tuple[str, str | None]:
    """The current instruction for a take and who gave it."""
    row = conn.execute(
        "SELECT control, control_by FROM scenes WHERE id = %s", (scene_id,)
    ).fetchone()
    if row is None:
        from trulience.catalog.errors import NotFound

        raise NotFound("scene", scene_id)
    return row[0], row[1]


@dataclass(frozen=True, slots=True)
class RunningPrompt:
    """The ComfyUI prompt a take's segment runs now: on which worker (URL), since when."""

    scene_id: int
    take: int
    character: str
    scene_type: str
    project: str
    segment: int
    worker: str
    prompt_id: str
    submitted_at: datetime


def record_prompt(
    conn: psycopg.Connection, scene_id: int, segment: int, worker: str, prompt_id: str
) -> None:
    """Note the prompt a take's segment was queued as on a worker (one at a time per take)."""
    with writing(conn, {"prompt_id": prompt_id}):
        conn.execute(
            """UPDATE scenes SET prompt_id = %s, prompt_worker = %s, prompt_segment = %s,
                      prompt_submitted_at = now()
                WHERE id = %s""",
            (prompt_id, worker.rstrip("/"), segment, scene_id),
        )


def clear_prompt(conn: psycopg.Connection, scene_id: int, prompt_id: str | None = None) -> None:
    """Forget a take's running prompt (only `prompt_id`, when given) once its segment ended."""
    with writing(conn):
        conn.execute(
            """UPDATE scenes SET prompt_id = NULL, prompt_worker = NULL, prompt_segment = NULL,
                      prompt_submitted_at = NULL
                WHERE id = %s AND prompt_id IS NOT NULL
                  AND (%s::text IS NULL OR prompt_id = %s)""",
            (scene_id, prompt_id, prompt_id),
        )


def running_prompts(
    conn: psycopg.Connection, *, worker: str | None = None, scene_id: int | None = None
) -> list[RunningPrompt]:
    """The prompts takes have recorded as running, on one worker (URL) or of one take."""
    return many(
        conn,
        RunningPrompt,
        """SELECT s.id AS scene_id, s.take, c.slug AS character, t.slug AS scene_type,
                  p.slug AS project, s.prompt_segment AS segment, s.prompt_worker AS worker,
                  s.prompt_id, s.prompt_submitted_at AS submitted_at
             FROM scenes s
             JOIN projects p ON p.id = s.project_id
             JOIN characters c ON c.id = s.character_id
             JOIN scene_types t ON t.id = s.scene_type_id
            WHERE s.prompt_id IS NOT NULL
              AND (%(worker)s::text IS NULL OR s.prompt_worker = rtrim(%(worker)s, '/'))
              AND (%(scene)s::bigint IS NULL OR s.id = %(scene)s)
            ORDER BY s.prompt_submitted_at, s.id""",
        {"worker": worker, "scene": scene_id},
    )


def cells_without_a_made_take(
    conn: psycopg.Connection, project: str, characters: list[str], scene_types: list[str]
) -> list[tuple[str, str]]:
    """(character, scene type) pairs of `project` whose character has a primary image that
    passed QA and that have no generated or assembled take yet."""
    return conn.execute(
        """SELECT c.slug, t.slug FROM characters c
             JOIN project_characters pc ON pc.character_id = c.id
             JOIN projects p ON p.id = pc.project_id AND p.slug = %s
             JOIN character_readiness r ON r.character_id = c.id AND r.has_primary
                                       AND c.slug = ANY(%s)
             CROSS JOIN scene_types t
            WHERE t.slug = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM scenes s
                               WHERE s.character_id = c.id AND s.scene_type_id = t.id
                                 AND s.status IN ('generated', 'assembled'))
            ORDER BY 1, 2""",
        (project, characters, scene_types),
    ).fetchall()


def take_overview(conn: psycopg.Connection) -> list[tuple]:
    """Every take: character, scene type, take, status, frames, current segments, the
    backends that made them and the workers other than the preview's (NULL for none)."""
    return conn.execute(
        """SELECT c.slug, t.slug, s.take, s.status, s.frames, count(g.id)::int,
                  coalesce(string_agg(DISTINCT g.provenance ->> 'backend', ', '), '-'),
                  string_agg(DISTINCT g.provenance ->> 'worker', ', ')
                    FILTER (WHERE g.provenance ->> 'backend' <> 'preview')
             FROM scenes s JOIN characters c ON c.id = s.character_id
             JOIN scene_types t ON t.id = s.scene_type_id
             LEFT JOIN segments g ON g.scene_id = s.id AND g.current
            GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3"""
    ).fetchall()
