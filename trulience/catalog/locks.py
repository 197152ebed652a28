"""Session advisory locks the studio takes, each under its own named class of lock."""

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

# The first key of a take's advisory lock (the second is the take's id): "SCENE" in hex-speak,
# so the lock is told apart from every other advisory lock in pg_locks.
TAKE_LOCK = 0x5CE7E


@contextmanager
def take_lock(conn: psycopg.Connection, take_id: int) -> Iterator[bool]:
    """Hold the take's lock for the block if no other session holds it; yields whether it
    got it (a session that did not get it must not work on the take). Released on leaving."""
    locked = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (TAKE_LOCK, take_id)).fetchone()[0]
    try:
        yield locked
    finally:
        if locked:
            conn.execute("SELECT pg_advisory_unlock(%s, %s)", (TAKE_LOCK, take_id))
