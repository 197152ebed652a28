"""Segments waiting for a worker of a pool, and why (PRD-104): a waiter renews its row while
it waits and removes it when it gets a lease or gives up; a row nobody renews lapses."""

from dataclasses import dataclass
from datetime import datetime

import psycopg

from trulience.catalog.errors import writing
from trulience.catalog.fetch import many


@dataclass(frozen=True, slots=True)
class SegmentWait:
    holder: str
    purpose: str
    pool: str
    reason: str
    since: datetime


def record_wait(
    conn: psycopg.Connection, holder: str, purpose: str, pool: str, reason: str, ttl_s: float
) -> None:
    """Begin or renew a segment's wait for a worker (its reason as of now)."""
    with writing(conn):
        conn.execute(
            """INSERT INTO segment_waits (holder, purpose, pool, reason, expires_at)
               VALUES (%s, %s, %s, %s, now() + make_interval(secs => %s))
               ON CONFLICT (holder, purpose) DO UPDATE
                  SET pool = EXCLUDED.pool, reason = EXCLUDED.reason,
                      expires_at = EXCLUDED.expires_at""",
            (holder, purpose, pool, reason, ttl_s),
        )


def end_wait(conn: psycopg.Connection, holder: str, purpose: str) -> None:
    with writing(conn):
        conn.execute(
            "DELETE FROM segment_waits WHERE holder = %s AND purpose = %s", (holder, purpose)
        )


def current_waits(conn: psycopg.Connection, pool: str | None = None) -> list[SegmentWait]:
    """Segments waiting for a worker now (their waiter still renewing), longest first."""
    return many(
        conn,
        SegmentWait,
        """SELECT holder, purpose, pool, reason, since FROM segment_waits
            WHERE expires_at > now() AND (%(pool)s::text IS NULL OR pool = %(pool)s)
            ORDER BY since, purpose""",
        {"pool": pool},
    )
