"""@mentions in a note's text (PRD-95): who is named, and telling each of them once.

A mention is `@` then a username (lowercase letters, digits, '.', '_', '-'; compared without
case), not preceded by a letter, digit or '@' (so `ada@example.com` names nobody). A
trailing '.', '_' or '-' ends the sentence, not the name: "thanks @rita." names rita.
"""

import re
from dataclasses import dataclass
from typing import Any

import psycopg

from trulience.catalog.records import Note, User
from trulience.catalog.tags import Subject
from trulience.catalog.users import users_named
from trulience.notify.notifications import notify

_MENTION = re.compile(r"(?<![\w@])@([a-z0-9][a-z0-9._-]*)", re.IGNORECASE | re.ASCII)
USERNAME_MAX = 63  # users_username_format in sql/migrations/0003


@dataclass(frozen=True, slots=True)
class Mentions:
    """What a note's mentions came to: the users told, and what could not be (each a
    sentence such as "no user @bob")."""

    notified: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()


def mentioned_names(body: str) -> list[str]:
    """The usernames `body` mentions, lowercased, each once, in order of first mention."""
    found = (m.group(1).rstrip("._-").lower() for m in _MENTION.finditer(body))
    return list(dict.fromkeys(name for name in found if name))


def resolve_mentions(conn: psycopg.Connection, author: User, body: str) -> Mentions:
    """Who a note by `author` with this text would tell (the existing, enabled users it
    mentions, never the author), and what cannot be told ("no user @bob")."""
    names = mentioned_names(body)
    if not names:
        return Mentions()
    known = {u.username: u for u in users_named(conn, [n for n in names if len(n) <= USERNAME_MAX])}
    unknown = []
    for name in names:
        if name not in known:
            unknown.append(f"no user @{name}")
        elif known[name].disabled:
            unknown.append(f"@{name} is disabled")
    told = [n for n in names if n in known and not known[n].disabled and n != author.username]
    return Mentions(tuple(told), tuple(unknown))


def notify_mentions(
    conn: psycopg.Connection, author: User, note: Note, subject: Subject
) -> Mentions:
    """Tell each user the note mentions (as `resolve_mentions`) once, with a reference to
    the note and its subject; what was and was not told."""
    found = resolve_mentions(conn, author, note.body)
    if found.notified:
        notify(
            conn,
            "mention",
            reference(note, subject),
            f"{author.username} mentioned you in a note on {describe(subject)}: "
            + (note.body if len(note.body) <= 80 else note.body[:79] + "…"),
            users=list(found.notified),
        )
    return found


def reference(note: Note, subject: Subject) -> dict[str, Any]:
    """What a notification about a note points at: the note, its subject's kind and key
    (and the take, for a note on one, so the review app can open it)."""
    found: dict[str, Any] = {
        "note_id": note.id,
        "subject_kind": subject.kind,
        "subject_key": subject.key,
    }
    if subject.scene_id is not None:
        found["scene_id"] = subject.scene_id
        if note.frame is not None:
            found["frame"] = note.frame
    return found


def describe(subject: Subject) -> str:
    """A subject as people say it: "character eileen", "take 12", "delivery 3"."""
    words = {"scene": "take", "scene_type": "scene type", "deliverable": "delivery"}
    return f"{words.get(subject.kind, subject.kind)} {subject.key}"
