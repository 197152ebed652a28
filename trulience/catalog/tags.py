"""Tags and custom labels on projects, characters, scenes and segments (PRD-47)."""

from dataclasses import dataclass

import psycopg

from trulience.catalog.errors import InvalidValue, writing
from trulience.catalog.fetch import id_of, many
from trulience.catalog.records import Tag


@dataclass(frozen=True)
class Subject:
    """What a tag or note is attached to: exactly one of these is set. Notes attach to all
    of them; tags to a project, character, take (scene) or segment only."""

    project: str | None = None
    character: str | None = None
    scene_id: int | None = None
    segment_id: int | None = None
    scene_type: str | None = None
    deliverable_id: int | None = None

    @property
    def kind(self) -> str:
        """Which kind of thing this is: project, character, scene, segment, scene_type or
        deliverable (the first one set)."""
        for kind in SUBJECT_KINDS:
            if getattr(self, _FIELDS[kind]) is not None:
                return kind
        return "none"

    @property
    def key(self) -> str:
        """The subject's name or id, as text."""
        return str(getattr(self, _FIELDS[self.kind], ""))

    def columns(self, conn: psycopg.Connection) -> dict[str, int | None]:
        """The (project_id, character_id, scene_id, segment_id, scene_type_id,
        deliverable_id) values for this subject."""
        given = [getattr(self, field) for field in _FIELDS.values()]
        if sum(v is not None for v in given) != 1:
            raise InvalidValue(
                "subject",
                "subject",
                None,
                "name exactly one of project, character, scene type, take (scene), "
                "segment or delivery",
            )
        return {
            "project_id": id_of(conn, "projects", self.project, "project")
            if self.project
            else None,
            "character_id": id_of(conn, "characters", self.character, "character")
            if self.character
            else None,
            "scene_id": self.scene_id,
            "segment_id": self.segment_id,
            "scene_type_id": id_of(conn, "scene_types", self.scene_type, "scene type")
            if self.scene_type
            else None,
            "deliverable_id": self.deliverable_id,
        }

    def tag_columns(self, conn: psycopg.Connection) -> dict[str, int | None]:
        """As `columns`, for a tag: refused for a scene type or delivery (not taggable)."""
        if self.scene_type is not None or self.deliverable_id is not None:
            raise InvalidValue(
                "tag", "subject", self.kind, "tags go on a project, character, take or segment"
            )
        return self.columns(conn)


# Subject kinds, in the order they are named, and the Subject field each is given by.
_FIELDS = {
    "project": "project",
    "character": "character",
    "scene_type": "scene_type",
    "scene": "scene_id",
    "segment": "segment_id",
    "deliverable": "deliverable_id",
}
SUBJECT_KINDS = tuple(_FIELDS)


def normalise_tag(name: str) -> str:
    """Tags compare case-insensitively and ignore surrounding spaces."""
    return " ".join(name.strip().lower().split())


def tag(conn: psycopg.Connection, name: str, subject: Subject, color: str | None = None) -> Tag:
    """Attach a tag (created on first use) to a subject; tagging twice is a no-op."""
    name = normalise_tag(name)
    with writing(conn, {"name": name, "color": color}):
        conn.execute(
            "INSERT INTO tags (name, color) VALUES (%s, %s) ON CONFLICT (name) DO NOTHING",
            (name, color),
        )
        tag_row = many(conn, Tag, "SELECT id, name, color FROM tags WHERE name = %s", (name,))[0]
        conn.execute(
            """INSERT INTO entity_tags (tag_id, project_id, character_id, scene_id, segment_id)
               VALUES (%(tag_id)s, %(project_id)s, %(character_id)s, %(scene_id)s,
                       %(segment_id)s)
               ON CONFLICT ON CONSTRAINT entity_tags_once DO NOTHING""",
            subject.tag_columns(conn) | {"tag_id": tag_row.id},
        )
    return tag_row


def untag(conn: psycopg.Connection, name: str, subject: Subject) -> bool:
    """Remove a tag from a subject; True if it was there."""
    with writing(conn):
        cur = conn.execute(
            """DELETE FROM entity_tags et USING tags t
                WHERE t.id = et.tag_id AND t.name = %(name)s
                  AND et.project_id IS NOT DISTINCT FROM %(project_id)s
                  AND et.character_id IS NOT DISTINCT FROM %(character_id)s
                  AND et.scene_id IS NOT DISTINCT FROM %(scene_id)s
                  AND et.segment_id IS NOT DISTINCT FROM %(segment_id)s""",
            subject.tag_columns(conn) | {"name": normalise_tag(name)},
        )
        return cur.rowcount > 0


def tags_of(conn: psycopg.Connection, subject: Subject) -> list[Tag]:
    """The tags on one subject, by name."""
    return many(
        conn,
        Tag,
        """SELECT t.id, t.name, t.color FROM tags t JOIN entity_tags et ON et.tag_id = t.id
            WHERE et.project_id IS NOT DISTINCT FROM %(project_id)s
              AND et.character_id IS NOT DISTINCT FROM %(character_id)s
              AND et.scene_id IS NOT DISTINCT FROM %(scene_id)s
              AND et.segment_id IS NOT DISTINCT FROM %(segment_id)s
            ORDER BY t.name""",
        subject.tag_columns(conn),
    )


def list_tags(conn: psycopg.Connection) -> list[Tag]:
    return many(conn, Tag, "SELECT id, name, color FROM tags ORDER BY name")
