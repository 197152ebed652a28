"""What the compare app sets side by side (PRD-101, PRD-68): the takes that have segments,
the attempts at one segment, the scene types with assembled takes, the assembled takes of a
scene type (the newest of each character, or all of them: characters and branches), and the
QA verdicts of a take's current segments."""

from dataclasses import dataclass
from typing import Any

import psycopg

from trulience.catalog.fetch import many


@dataclass(frozen=True, slots=True)
class SegmentedTake:
    """A take that has at least one segment row, with the names that label it."""

    scene_id: int
    project: str
    character: str
    scene_type: str
    take: int


@dataclass(frozen=True, slots=True)
class Attempt:
    """One attempt at a segment: its video, its machine status and its QA verdict."""

    attempt: int
    status: str
    current: bool
    uri: str | None
    qa: dict[str, Any]


@dataclass(frozen=True, slots=True)
class NamedSceneType:
    """A scene type by its slug and the name people know it by."""

    slug: str
    name: str


@dataclass(frozen=True, slots=True)
class CharacterTake:
    """An assembled take with a video of one character in a scene type."""

    scene_id: int
    project: str
    character: str
    take: int
    branch: str
    uri: str
    frames: int | None


@dataclass(frozen=True, slots=True)
class SegmentVerdict:
    """The QA verdict of one current segment of a take."""

    scene_id: int
    index: int
    qa: dict[str, Any]


_TAKE_COLUMNS = """s.id AS scene_id, p.slug AS project, c.name AS character, s.take, s.branch,
                   s.uri, s.frames"""
_ASSEMBLED_IN = """FROM scenes s
                     JOIN projects p ON p.id = s.project_id
                     JOIN characters c ON c.id = s.character_id
                     JOIN scene_types st ON st.id = s.scene_type_id
                    WHERE st.slug = %s AND s.status = 'assembled' AND s.uri IS NOT NULL"""


def takes_with_segments(conn: psycopg.Connection) -> list[SegmentedTake]:
    """Every take that has at least one segment row, by project, character, scene type
    and take."""
    return many(
        conn,
        SegmentedTake,
        """SELECT s.id AS scene_id, p.slug AS project, c.name AS character,
                  st.name AS scene_type, s.take
             FROM scenes s
             JOIN projects p ON p.id = s.project_id
             JOIN characters c ON c.id = s.character_id
             JOIN scene_types st ON st.id = s.scene_type_id
            WHERE EXISTS (SELECT 1 FROM segments g WHERE g.scene_id = s.id)
            ORDER BY p.slug, c.name, st.name, s.take""",
    )


def attempts_of(conn: psycopg.Connection, scene_id: int, index: int) -> list[Attempt]:
    """Every attempt at segment `index` of a take, oldest first."""
    return many(
        conn,
        Attempt,
        """SELECT attempt, status, current, uri, qa FROM segments
            WHERE scene_id = %s AND index = %s ORDER BY attempt""",
        (scene_id, index),
    )


def scene_types_with_takes(conn: psycopg.Connection) -> list[NamedSceneType]:
    """Every scene type with at least one assembled take that has a video, by name."""
    return many(
        conn,
        NamedSceneType,
        """SELECT DISTINCT st.slug, st.name FROM scene_types st
             JOIN scenes s ON s.scene_type_id = st.id
            WHERE s.status = 'assembled' AND s.uri IS NOT NULL
            ORDER BY st.name""",
    )


def newest_takes(conn: psycopg.Connection, scene_type: str) -> list[CharacterTake]:
    """The newest assembled take with a video of each character in `scene_type`, by
    character name."""
    takes = many(
        conn,
        CharacterTake,
        f"""SELECT DISTINCT ON (s.character_id) {_TAKE_COLUMNS} {_ASSEMBLED_IN}
            ORDER BY s.character_id, s.created_at DESC, s.id DESC""",
        (scene_type,),
    )
    return sorted(takes, key=lambda t: t.character)


def assembled_takes(conn: psycopg.Connection, scene_type: str) -> list[CharacterTake]:
    """Every assembled take with a video in `scene_type` (each character's takes and
    branches), by project, character and take."""
    return many(
        conn,
        CharacterTake,
        f"SELECT {_TAKE_COLUMNS} {_ASSEMBLED_IN} ORDER BY p.slug, c.name, s.take, s.id",
        (scene_type,),
    )


def current_verdicts(conn: psycopg.Connection, scene_ids: list[int]) -> list[SegmentVerdict]:
    """The QA verdict of every current segment of the takes `scene_ids`, by take and index."""
    return many(
        conn,
        SegmentVerdict,
        """SELECT scene_id, index, qa FROM segments
            WHERE scene_id = ANY(%s) AND current ORDER BY scene_id, index""",
        (scene_ids,),
    )
