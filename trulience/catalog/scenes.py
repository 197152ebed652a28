"""Scenes (takes of a character in a scene type within a project) and their segments."""

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.types.json import Jsonb

from trulience.catalog.errors import writing
from trulience.catalog.fetch import id_of, many, one
from trulience.catalog.records import Segment, Take
from trulience.catalog.scene_types import latest_version

_SCENE_COLUMNS = (
    "id, project_id, character_id, scene_type_id, scene_type_version_id, take, "
    "status, uri, sha256, frames, control, effective_config, planned_segments, failure, "
    "created_at, updated_at"
)
_SEGMENT_COLUMNS = (
    "id, scene_id, index, attempt, status, uri, sha256, frames, qa, "
    "provenance, current, created_at, updated_at"
)


def create_take(
    conn: psycopg.Connection,
    project: str,
    character: str,
    scene_type: str,
    effective_config: dict | None = None,
    planned_segments: int | None = None,
) -> Take:
    """Open the next take of a character in a scene type, on the type's newest version,
    recording the effective (inherited and resolved) configuration it will be made with."""
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
                                    planned_segments)
                SELECT %(p)s, %(c)s, %(t)s, %(v)s, coalesce(max(take), 0) + 1, %(config)s,
                       %(planned)s
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


def add_segment(
    conn: psycopg.Connection,
    scene_id: int,
    index: int,
    *,
    status: str = "pending",
    uri: str | None = None,
    sha256: str | None = None,
    frames: int | None = None,
    provenance: dict | None = None,
) -> Segment:
    """Record the next attempt at segment `index` of a scene (earlier attempts are kept)."""
    values = {
        "scene_id": scene_id,
        "index": index,
        "status": status,
        "uri": uri,
        "sha256": sha256,
        "frames": frames,
    }
    with writing(conn, values):
        conn.execute("SELECT 1 FROM scenes WHERE id = %s FOR UPDATE", (scene_id,))
        return one(
            conn,
            Segment,
            f"""INSERT INTO segments (scene_id, index, attempt, status, uri, sha256, frames,
                                      provenance)
                SELECT %(scene_id)s, %(index)s, coalesce(max(attempt), 0) + 1, %(status)s,
                       %(uri)s, %(sha256)s, %(frames)s, %(provenance)s
                  FROM segments WHERE scene_id = %(scene_id)s AND index = %(index)s
                RETURNING {_SEGMENT_COLUMNS}""",
            values | {"provenance": Jsonb(provenance or {})},
            "segment",
            (scene_id, index),
        )


def update_segment(
    conn: psycopg.Connection,
    segment_id: int,
    *,
    status: str,
    uri: str | None = None,
    sha256: str | None = None,
    frames: int | None = None,
    qa: dict | None = None,
) -> Segment:
    """Move a segment to `status`, recording its file and QA scores when given."""
    values = {"status": status, "uri": uri, "sha256": sha256, "frames": frames}
    with writing(conn, values):
        return one(
            conn,
            Segment,
            f"""UPDATE segments SET status = %(status)s,
                       uri = coalesce(%(uri)s, uri), sha256 = coalesce(%(sha256)s, sha256),
                       frames = coalesce(%(frames)s, frames),
                       qa = coalesce(%(qa)s, qa)
                 WHERE id = %(id)s RETURNING {_SEGMENT_COLUMNS}""",
            values | {"qa": Jsonb(qa) if qa is not None else None, "id": segment_id},
            "segment",
            segment_id,
        )


def list_segments(conn: psycopg.Connection, scene_id: int) -> list[Segment]:
    """Every attempt of every segment of a scene, in order."""
    return many(
        conn,
        Segment,
        f"SELECT {_SEGMENT_COLUMNS} FROM segments WHERE scene_id = %s ORDER BY index, attempt",
        (scene_id,),
    )


def latest_take(
    conn: psycopg.Connection, project: str, character: str, scene_type: str
) -> Take | None:
    """The newest take of a character in a scene type within a project, if any."""
    cols = ", ".join("s." + c.strip() for c in _SCENE_COLUMNS.split(","))
    rows = many(
        conn,
        Take,
        f"""SELECT {cols} FROM scenes s
              JOIN projects p ON p.id = s.project_id
              JOIN characters c ON c.id = s.character_id
              JOIN scene_types t ON t.id = s.scene_type_id
             WHERE p.slug = %s AND c.slug = %s AND t.slug = %s
             ORDER BY s.take DESC LIMIT 1""",
        (project, character, scene_type),
    )
    return rows[0] if rows else None


def current_segments(conn: psycopg.Connection, scene_id: int) -> dict[int, Segment]:
    """The current take of each committed segment of a scene, by index."""
    rows = many(
        conn,
        Segment,
        f"SELECT {_SEGMENT_COLUMNS} FROM segments WHERE scene_id = %s AND current ORDER BY index",
        (scene_id,),
    )
    return {s.index: s for s in rows}


def next_attempt(conn: psycopg.Connection, scene_id: int, index: int) -> int:
    """The attempt number the next take of segment `index` will get."""
    row = conn.execute(
        "SELECT coalesce(max(attempt), 0) + 1 FROM segments WHERE scene_id = %s AND index = %s",
        (scene_id, index),
    ).fetchone()
    return row[0]


def commit_segment(
    conn: psycopg.Connection,
    scene_id: int,
    index: int,
    attempt: int,
    *,
    uri: str,
    sha256: str,
    frames: int,
    provenance: dict,
    qa: dict | None = None,
    status: str = "generated",
    current: bool = True,
) -> Segment:
    """Record a generated take of segment `index` in one transaction. As the current take
    (the default) this row is the loop's checkpoint; a take that failed QA is kept with
    `status='qa_failed', current=False`."""
    values = {
        "scene_id": scene_id,
        "index": index,
        "attempt": attempt,
        "uri": uri,
        "sha256": sha256,
        "frames": frames,
        "status": status,
        "current": current,
    }
    with writing(conn, values):
        if current:
            conn.execute(
                "UPDATE segments SET current = false "
                "WHERE scene_id = %s AND index = %s AND current",
                (scene_id, index),
            )
        return one(
            conn,
            Segment,
            f"""INSERT INTO segments (scene_id, index, attempt, status, uri, sha256, frames,
                                      provenance, qa, current)
                VALUES (%(scene_id)s, %(index)s, %(attempt)s, %(status)s, %(uri)s,
                        %(sha256)s, %(frames)s, %(provenance)s, %(qa)s, %(current)s)
                RETURNING {_SEGMENT_COLUMNS}""",
            values | {"provenance": Jsonb(provenance), "qa": Jsonb(qa or {})},
            "segment",
            (scene_id, index),
        )


def qa_failure_counts(conn: psycopg.Connection) -> list[tuple[str, str, str, int]]:
    """Takes refused by a QA gate, counted by gate, workflow and worker (PRD-64 data)."""
    return conn.execute(
        """SELECT gate, coalesce(provenance ->> 'workflow', '(none)') AS workflow,
                  coalesce(provenance ->> 'worker', provenance ->> 'backend') AS worker,
                  count(*)::int
             FROM segments, jsonb_array_elements_text(coalesce(qa -> 'failed', '[]')) AS gate
            WHERE status = 'qa_failed'
            GROUP BY 1, 2, 3 ORDER BY 4 DESC, 1, 2, 3"""
    ).fetchall()


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
