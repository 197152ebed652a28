"""Stage hooks and the record of each of their runs, as the catalog holds them.
trulience/production/hooks decides which hooks a stage runs and what their outcome means."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from trulience.catalog.errors import NotFound, writing
from trulience.catalog.fetch import id_of, many, one

_HOOK_COLUMNS = """h.id, p.slug AS project, st.slug AS scene_type, h.name, h.stage, h.runtime,
    h.script, h.args, h.timeout_s, h.on_failure"""
_HOOKS = f"""SELECT {_HOOK_COLUMNS} FROM hooks h JOIN projects p ON p.id = h.project_id
    LEFT JOIN scene_types st ON st.id = h.scene_type_id"""
_RUN_COLUMNS = """id, hook_id, hook_name, stage, scene_id, run_id, outcome, reason, exit_code,
    metadata, started_at, finished_at"""


@dataclass(frozen=True, slots=True)
class Hook:
    """One configured hook; `scene_type` None means every scene type of the project."""

    id: int
    project: str
    scene_type: str | None
    name: str
    stage: str
    runtime: str
    script: str
    args: list[str]
    timeout_s: float
    on_failure: str


@dataclass(frozen=True, slots=True)
class HookRun:
    """One finished run of a hook on a take."""

    id: int
    hook_id: int | None
    hook_name: str
    stage: str
    scene_id: int
    run_id: str | None
    outcome: str
    reason: str
    exit_code: int | None
    metadata: dict[str, Any]
    started_at: datetime
    finished_at: datetime


@dataclass(frozen=True, slots=True)
class NewHook:
    """What `insert_hook` writes (checked by trulience/production/hooks first)."""

    project: str
    scene_type: str | None
    name: str
    stage: str
    runtime: str
    script: str
    args: tuple[str, ...]
    timeout_s: float
    on_failure: str


def insert_hook(conn: psycopg.Connection, hook: NewHook) -> Hook:
    """Add a hook to a project (for one scene type, or all of them)."""
    values = {"name": hook.name, "stage": hook.stage, "runtime": hook.runtime}
    with writing(conn, values):
        project_id = id_of(conn, "projects", hook.project, "project")
        scene_type_id = (
            None
            if hook.scene_type is None
            else id_of(conn, "scene_types", hook.scene_type, "scene type")
        )
        (hook_id,) = conn.execute(
            """INSERT INTO hooks (project_id, scene_type_id, name, stage, runtime, script, args,
                                  timeout_s, on_failure)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
            (
                project_id,
                scene_type_id,
                hook.name,
                hook.stage,
                hook.runtime,
                hook.script,
                list(hook.args),
                hook.timeout_s,
                hook.on_failure,
            ),
        ).fetchone()
    return one(conn, Hook, f"{_HOOKS} WHERE h.id = %s", (hook_id,), "hook", hook.name)


def list_hooks(conn: psycopg.Connection, project: str | None = None) -> list[Hook]:
    """Every hook (of one project), by project, stage and name."""
    return many(
        conn,
        Hook,
        f"""{_HOOKS} WHERE %(project)s::text IS NULL OR p.slug = %(project)s
            ORDER BY p.slug, h.stage, h.name""",
        {"project": project},
    )


def hooks_for(
    conn: psycopg.Connection, project_id: int, scene_type_id: int, stage: str
) -> list[Hook]:
    """The hooks a take's stage runs, in order: the project-wide ones, then those of the
    scene type's ancestors (a child inherits them, as it inherits settings) from the root
    down, then the scene type's own; each group by name."""
    return many(
        conn,
        Hook,
        f"""WITH RECURSIVE lineage (id, parent_id, depth) AS (
                SELECT id, parent_id, 0 FROM scene_types WHERE id = %(scene_type)s
                UNION ALL
                SELECT s.id, s.parent_id, l.depth + 1
                  FROM scene_types s JOIN lineage l ON s.id = l.parent_id
            )
            {_HOOKS} LEFT JOIN lineage l ON l.id = h.scene_type_id
             WHERE h.project_id = %(project)s AND h.stage = %(stage)s
               AND (h.scene_type_id IS NULL OR l.id IS NOT NULL)
             ORDER BY h.scene_type_id IS NOT NULL, l.depth DESC, h.name""",
        {"project": project_id, "stage": stage, "scene_type": scene_type_id},
    )


def delete_hook(conn: psycopg.Connection, project: str, name: str) -> None:
    """Remove a project's hook; its past runs stay recorded under its name."""
    with writing(conn, {"name": name}):
        deleted = conn.execute(
            "DELETE FROM hooks WHERE project_id = %s AND name = %s",
            (id_of(conn, "projects", project, "project"), name),
        ).rowcount
    if not deleted:
        raise NotFound("hook", f"{project}/{name}")


@dataclass(frozen=True, slots=True)
class FinishedRun:
    """What `record_hook_run` appends once a hook has finished."""

    hook: Hook
    scene_id: int
    run_id: str | None
    outcome: str
    reason: str
    exit_code: int | None
    metadata: dict[str, Any]
    started_at: datetime


def record_hook_run(conn: psycopg.Connection, run: FinishedRun) -> HookRun:
    """Append the record of a finished hook run, in one statement."""
    with writing(conn, {"outcome": run.outcome}):
        return one(
            conn,
            HookRun,
            f"""INSERT INTO hook_runs (hook_id, hook_name, stage, scene_id, run_id, outcome,
                                       reason, exit_code, metadata, started_at)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING {_RUN_COLUMNS}""",
            (
                run.hook.id,
                run.hook.name,
                run.hook.stage,
                run.scene_id,
                run.run_id,
                run.outcome,
                run.reason,
                run.exit_code,
                Jsonb(run.metadata),
                run.started_at,
            ),
            "hook run",
            run.hook.name,
        )


def runs_of(conn: psycopg.Connection, scene_id: int) -> list[HookRun]:
    """Every hook run on a take, oldest first."""
    return many(
        conn,
        HookRun,
        f"SELECT {_RUN_COLUMNS} FROM hook_runs WHERE scene_id = %s ORDER BY finished_at, id",
        (scene_id,),
    )
