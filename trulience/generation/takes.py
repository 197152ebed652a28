"""Which take a run works on: the project it belongs to, the unfinished take to resume or a
new one, and the newest take for the control commands."""

import psycopg

from trulience.catalog import finals, scenes
from trulience.catalog.errors import NotFound
from trulience.catalog.fetch import id_of
from trulience.catalog.records import Take
from trulience.generation.resolution import as_started
from trulience.generation.scene_config import SceneConfig, resolve
from trulience.generation.stops import NotReady, TakeComplete

# A take in one of these states is finished; running the partition again starts a new take.
FINISHED = ("generated", "assembled", "cancelled")


def choose_project(conn: psycopg.Connection, character: str, project: str | None) -> str:
    """The project a take belongs to: the one given, else the character's first project.
    An unknown character or project is NotFound (not "belongs to no project")."""
    id_of(conn, "characters", character, "character")
    if project is not None:
        id_of(conn, "projects", project, "project")
        return project
    first = scenes.first_project_of(conn, character)
    if first is None:
        raise NotReady(f"character {character!r} belongs to no project; add it to one first")
    return first


def open_take(
    conn: psycopg.Connection,
    project: str,
    character: str,
    scene_type: str,
    new_take: bool = True,
) -> tuple[Take, SceneConfig, bool]:
    """The take to work on: an unfinished one (resumed with the settings it started with),
    else a new take on the scene type's current effective configuration, with the
    character's overrides (PRD-108) on top (TakeComplete
    when the newest take is finished and `new_take` is False)."""
    take = cell_take(conn, project, character, scene_type)
    if take is not None and take.status not in FINISHED:
        return take, SceneConfig.from_json(take.effective_config), True
    if take is not None and not new_take:
        raise TakeComplete(take, character, scene_type)
    # the character's overrides on top (PRD-108); a preview first, when asked (PRD-59)
    config = as_started(resolve(conn, scene_type, character))
    take = scenes.create_take(
        conn,
        project,
        character,
        scene_type,
        effective_config=config.to_json(),
        planned_segments=len(config.frame_plan()),
        stage=config.stage,
    )
    return take, config, False


def cell_take(
    conn: psycopg.Connection, project: str, character: str, scene_type: str
) -> Take | None:
    """The take a run of the cell works on: the one whose final is being made (PRD-59),
    else the newest."""
    return finals.final_in_progress(conn, project, character, scene_type) or scenes.latest_take(
        conn, project, character, scene_type
    )


def find_take(
    conn: psycopg.Connection, character: str, scene_type: str, project: str | None = None
) -> Take:
    """The take a character's runs in a scene type work on (for control commands)."""
    project = choose_project(conn, character, project)
    id_of(conn, "scene_types", scene_type, "scene type")
    take = cell_take(conn, project, character, scene_type)
    if take is None:
        raise NotFound("take", f"{project}/{character}/{scene_type}")
    return take
