"""What a review page says when another reviewer's note or decision on the open take
arrives live (PRD-11): "Rita added a note at frame 12"."""

from typing import Any


def news(event: dict[str, Any], me: str | None) -> str | None:
    """The sentence for a catalog event (`apps.live`), or None for one's own (`me`: the
    display name signed in) or one that changes nothing worth a word."""
    by = event.get("by")
    if not isinstance(by, str) or by == me:
        return None
    kind, action = event.get("kind"), event.get("action")
    if kind == "note" and action == "insert":
        if event.get("reply"):
            return f"{by} replied to a note"
        frame = event.get("frame")
        return f"{by} added a note" + ("" if frame is None else f" at frame {frame}")
    if kind == "decision" and action == "insert":
        return f"{by} {event.get('decision')} this take"
    if kind == "decision" and action == "delete":
        return f"{by} took back a decision ({event.get('decision')})"
    return None


def already_shown(event: dict[str, Any], note_ids: set[int]) -> bool:
    """Whether the event is a new note the page already shows (one's own, just written,
    re-read when it was added), so it needs no second read."""
    kind, action = event.get("kind"), event.get("action")
    return kind == "note" and action == "insert" and event.get("id") in note_ids
