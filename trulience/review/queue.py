"""The review queue (PRD-92): every assembled take with its review status, revision, age,
assignee and due date, filtered and sorted; takes assigned to reviewers with a due date.

Who may see the queue and who may assign is decided here, as in `trulience.review.service`;
what the queue holds is the catalog's view `review_queue` (sql/migrations/0020).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import psycopg

from trulience.auth.permissions import ROLE_PERMISSIONS, Permission, allows, require
from trulience.auth.users import acting_user
from trulience.catalog import assignments
from trulience.catalog.assignments import QUEUE_ORDERS, REVIEW_STATUSES, Assignment
from trulience.catalog.database import acting_as
from trulience.catalog.errors import InvalidValue
from trulience.catalog.users import enabled_usernames_in_roles, get_user
from trulience.notify.notifications import notify
from trulience.review.service import Actor, Take

MINE = "mine"
UNASSIGNED = "unassigned"
SORTS = tuple(QUEUE_ORDERS)

__all__ = [
    "MINE",
    "REVIEW_STATUSES",
    "SORTS",
    "UNASSIGNED",
    "Assignment",
    "QueueFilters",
    "assign",
    "due_day",
    "due_moment",
    "queue",
    "reviewers",
    "unassign",
]


@dataclass(frozen=True, slots=True)
class QueueFilters:
    """What the queue shows (None: anything). `review_status`: awaiting, flagged, rejected
    or approved; `assignee`: a username, "mine" (the acting user) or "unassigned";
    `overdue`: only takes past their due date and still awaiting review."""

    project: str | None = None
    character: str | None = None
    review_status: str | None = None
    assignee: str | None = None
    overdue: bool = False


def queue(
    conn: psycopg.Connection,
    actor: Actor,
    filters: QueueFilters | None = None,
    sort: str = "age",
) -> list[Take]:
    """The assembled takes that pass `filters`, sorted by `sort`: age (waiting longest
    first), due (soonest due first, undated last), character, or status (awaiting first)."""
    user = acting_user(conn, actor)
    require(user, Permission.VIEW)
    chosen = filters or QueueFilters()
    if sort not in QUEUE_ORDERS:
        raise InvalidValue("queue", "sort", sort, f"must be one of {', '.join(SORTS)}")
    if chosen.review_status is not None and chosen.review_status not in REVIEW_STATUSES:
        raise InvalidValue(
            "queue", "status", chosen.review_status, f"must be one of {', '.join(REVIEW_STATUSES)}"
        )
    assignee = user.username if chosen.assignee == MINE else chosen.assignee
    where = assignments.QueueFilter(
        project=chosen.project,
        character=chosen.character,
        review_status=chosen.review_status,
        assignee=None if assignee == UNASSIGNED else assignee,
        unassigned=assignee == UNASSIGNED,
        overdue=chosen.overdue,
    )
    return assignments.queued_takes(conn, where, sort)


def due_moment(due: date | datetime | None) -> datetime | None:
    """When a due date falls due: a date is due at the end of that day (UTC); a datetime
    without a zone is taken as UTC."""
    if due is None:
        return None
    if isinstance(due, datetime):
        return due if due.tzinfo is not None else due.replace(tzinfo=UTC)
    return datetime.combine(due + timedelta(days=1), time(), tzinfo=UTC)


def due_day(due_at: datetime) -> date:
    """The last day a take is due on (UTC): a take due at midnight is due on the day before."""
    return (due_at.astimezone(UTC) - timedelta(microseconds=1)).date()


def assign(
    conn: psycopg.Connection,
    actor: Actor,
    scene_id: int,
    username: str,
    due: date | datetime | None = None,
) -> Assignment:
    """Give a take to a reviewer (a user whose role may review), optionally due by `due`,
    replacing any earlier assignment; the assignee is told (notification 'assigned').
    Only a producer or an admin may assign."""
    user = acting_user(conn, actor)
    require(user, Permission.ASSIGN_REVIEWS)
    due_at = due_moment(due)
    if due_at is not None and due_at <= datetime.now(UTC):
        raise InvalidValue(
            "assignment", "due", due_at.isoformat(), "is already past; give a later date"
        )
    assignee = get_user(conn, username)
    if not allows(assignee, Permission.REVIEW):
        why = "is disabled" if assignee.disabled else f"has the role {assignee.role}"
        raise InvalidValue(
            "assignment",
            "assignee",
            username,
            f"{why} and may not review takes; assign a reviewer, producer or admin",
        )
    with acting_as(conn, f"user:{user.username}"):
        made = assignments.set_assignment(conn, scene_id, assignee.id, due_at, user.id)
        if assignee.id != user.id:
            take = assignments.queued_take(conn, scene_id)
            what = (
                f"take {scene_id}"
                if take is None
                else f"{take.character} · {take.scene_type} take {take.take} "
                f"(project {take.project}, revision {take.revision})"
            )
            when = "" if due_at is None else f", due {due_day(due_at)}"
            notify(
                conn,
                "assigned",
                {"scene_id": scene_id, "due_at": None if due_at is None else due_at.isoformat()},
                f"{user.username} asked you to review {what}{when}",
                users=[assignee.username],
            )
        return made


def unassign(conn: psycopg.Connection, actor: Actor, scene_id: int) -> bool:
    """Take a take's assignment away (producer or admin); True if it had one."""
    user = acting_user(conn, actor)
    require(user, Permission.ASSIGN_REVIEWS)
    with acting_as(conn, f"user:{user.username}"):
        return assignments.clear_assignment(conn, scene_id)


def reviewers(conn: psycopg.Connection, actor: Actor) -> list[str]:
    """Usernames a take can be assigned to: the enabled users whose role may review."""
    require(acting_user(conn, actor), Permission.VIEW)
    roles = [role for role, allowed in ROLE_PERMISSIONS.items() if Permission.REVIEW in allowed]
    return enabled_usernames_in_roles(conn, roles)
