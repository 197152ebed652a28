"""Notes on any entity (PRD-95): a project, character, scene type, take, segment or delivery;
threaded, searchable by text, and telling each @mentioned user once.

A note on a take goes through `trulience.review.service.add_note` (frame notes, the take's
"note added" notifications); the others are written here. Permissions are checked here.
"""

from dataclasses import dataclass

import psycopg

from trulience.auth.permissions import Permission, require
from trulience.auth.users import acting_user
from trulience.catalog import notes as catalog_notes
from trulience.catalog.database import acting_as
from trulience.catalog.errors import InvalidValue
from trulience.catalog.notes import NoteHit, ThreadedNote
from trulience.catalog.records import Note
from trulience.catalog.tags import Subject
from trulience.review.mentions import Mentions, describe, notify_mentions, resolve_mentions
from trulience.review.service import Actor, add_note

__all__ = ["NoteHit", "WrittenNote", "notes_on", "search_notes", "write_note"]


@dataclass(frozen=True, slots=True)
class WrittenNote:
    """A note just written, and what its @mentions came to."""

    note: Note
    mentions: Mentions


def write_note(
    conn: psycopg.Connection,
    actor: Actor,
    subject: Subject,
    body: str,
    frame: int | None = None,
    reply_to: int | None = None,
) -> WrittenNote:
    """Write a note on `subject` (a frame only on a take; a reply only to a note on the same
    subject); each existing user it @mentions is told once, unknown names are reported."""
    user = acting_user(conn, actor)
    require(user, Permission.WRITE_NOTES)
    if subject.scene_id is not None and subject.kind == "scene":
        note = add_note(conn, user, subject.scene_id, body, frame, reply_to)
        return WrittenNote(note, resolve_mentions(conn, user, body))
    if frame is not None:
        raise InvalidValue("note", "frame", frame, "only a note on a take has a frame")
    with acting_as(conn, f"user:{user.username}"):
        if reply_to is not None and not catalog_notes.note_is_on(conn, reply_to, subject):
            why = f"is not a note on {describe(subject)}"
            raise InvalidValue("note", "reply_to", reply_to, why)
        note = catalog_notes.add_note(conn, user.username, body, subject, None, reply_to)
        return WrittenNote(note, notify_mentions(conn, user, note, subject))


def notes_on(conn: psycopg.Connection, actor: Actor, subject: Subject) -> list[ThreadedNote]:
    """A subject's notes in reading order: each thread oldest first, replies under it."""
    require(acting_user(conn, actor), Permission.VIEW)
    return catalog_notes.threads_on(conn, subject)


def search_notes(
    conn: psycopg.Connection,
    actor: Actor,
    text: str,
    subject_kind: str | None = None,
    limit: int = 50,
) -> list[NoteHit]:
    """Notes whose text matches `text` (web-search syntax), best match first, across
    everything the user may view (every subject, for a role that may view), optionally on
    one kind of subject: project, character, scene_type, scene, segment or deliverable."""
    require(acting_user(conn, actor), Permission.VIEW)
    if not text.strip():
        raise InvalidValue("note search", "text", text, "give the words to look for")
    return catalog_notes.search_notes(conn, text, subject_kind, limit)
