"""Live events through Postgres LISTEN/NOTIFY: what the catalog announces, read and sent.

The catalog's triggers (migration 0022) announce notes and decisions on `REVIEW`, and
(migration 0028) whatever changes a review queue or a cell's branches on `QUEUE`: a
decision, an assignment, a new take or revision, a take's state or promotion; the review
room's presenter publishes where the room is on `ROOM`. A listener needs its own
autocommit connection (a notification arrives only between transactions).
"""

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from trulience.errors import TrulienceError

REVIEW = "trulience_review"
ROOM = "trulience_room"
QUEUE = "trulience_queue"
POOL = "trulience_pool"  # a queued segment was given a slot (0026); what a pool runs (0036)
CHANNELS = (REVIEW, ROOM, QUEUE, POOL)
# what the review pages follow (a segment's grant is no reviewer's business)
REVIEW_CHANNELS = (REVIEW, ROOM, QUEUE)
# Postgres refuses a NOTIFY payload of 8000 bytes or more.
MAX_PAYLOAD_BYTES = 7999


class EventTooLarge(TrulienceError):
    """A payload NOTIFY cannot carry."""


class UnknownChannel(TrulienceError):
    """A channel the studio does not use."""


@dataclass(frozen=True, slots=True)
class Event:
    """One notification: the channel it came on and its JSON payload (an object)."""

    channel: str
    payload: dict[str, Any]


def _known(channel: str) -> str:
    if channel not in CHANNELS:
        raise UnknownChannel(f"channel {channel!r} is not one of: {', '.join(CHANNELS)}")
    return channel


def listen(conn: psycopg.Connection, channels: Iterable[str] = CHANNELS) -> None:
    """Start listening on `channels` on this (autocommit) connection."""
    for channel in channels:
        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(_known(channel))))


def events(conn: psycopg.Connection, timeout_s: float) -> Iterator[Event]:
    """The events that arrive on a listening connection within `timeout_s` seconds (then the
    generator ends, so the caller can check whether to stop). A payload that is not a JSON
    object is skipped: a stray NOTIFY must not stop a listener."""
    for notify in conn.notifies(timeout=timeout_s):
        try:
            payload = json.loads(notify.payload)
        except ValueError:
            continue
        if isinstance(payload, dict):
            yield Event(notify.channel, payload)


def publish(conn: psycopg.Connection, channel: str, payload: dict[str, Any]) -> None:
    """Send `payload` (a JSON object) on `channel`; refused if NOTIFY cannot carry it."""
    text = json.dumps(payload, separators=(",", ":"))
    size = len(text.encode())
    if size > MAX_PAYLOAD_BYTES:
        raise EventTooLarge(
            f"event payload is {size} bytes; NOTIFY carries at most {MAX_PAYLOAD_BYTES}"
        )
    conn.execute("SELECT pg_notify(%s, %s)", (_known(channel), text))
