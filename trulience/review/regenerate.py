"""A rejection that names a segment (PRD-35, PRD-25): the take is rejected with the
reviewer's note at that segment's first frame, the segment's current take is superseded,
and the take goes back to the loop, which regenerates only that segment; assembly then
smooths its seams again, and the file it makes is the take's next revision, back in the
review queue (the rejection stays with the revision it judged)."""

import psycopg

from trulience.auth.permissions import Permission, require
from trulience.auth.users import acting_user
from trulience.catalog import reviews
from trulience.catalog.database import acting_as
from trulience.catalog.errors import InvalidValue
from trulience.review.service import Actor, add_note, decide


def reject_segment(
    conn: psycopg.Connection, actor: Actor, scene_id: int, index: int, note: str
) -> None:
    """Reject a take because of one segment and send that segment back for regeneration.
    Needs the review permission; the note is required (it says what to fix)."""
    if not note.strip():
        raise InvalidValue("rejection", "note", note, "say what is wrong with the segment")
    user = acting_user(conn, actor)
    require(user, Permission.REVIEW)
    found = reviews.current_segment_at(conn, scene_id, index)
    if found is None:
        raise InvalidValue(
            "rejection", "segment", index, f"take {scene_id} has no current segment {index}"
        )
    with conn.transaction():
        decide(conn, user, scene_id, "rejected", f"segment {index}: {note}")
        add_note(conn, user, scene_id, f"segment {index}: {note}", frame=found.start_frame)
        with acting_as(conn, f"user:{user.username}"):
            reviews.send_segment_back(conn, scene_id, found.segment_id)
