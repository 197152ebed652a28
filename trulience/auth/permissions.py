"""What each role may do, and the one check every service calls before acting."""

from enum import StrEnum

from trulience.auth.errors import AccountDisabled, PermissionDenied
from trulience.catalog.records import User


class Permission(StrEnum):
    VIEW = "view"
    REVIEW = "review"  # approve, reject or flag a take
    WRITE_NOTES = "write_notes"
    MANAGE_CHARACTERS = "manage_characters"
    MANAGE_SCENE_TYPES = "manage_scene_types"
    REQUEST_REGENERATION = "request_regeneration"
    MANAGE_USERS = "manage_users"
    MANAGE_WEBHOOKS = "manage_webhooks"
    ASSIGN_REVIEWS = "assign_reviews"  # give a take to a reviewer, with a due date
    OPERATE_WORKERS = "operate_workers"  # drain, interrupt or free a worker (admin)


_VIEWER = frozenset({Permission.VIEW})
_REVIEWER = _VIEWER | {Permission.REVIEW, Permission.WRITE_NOTES}
_PRODUCER = _REVIEWER | {
    Permission.MANAGE_CHARACTERS,
    Permission.MANAGE_SCENE_TYPES,
    Permission.REQUEST_REGENERATION,
    Permission.ASSIGN_REVIEWS,
}

# Keys are the codes of the `roles` lookup table; a role missing here may do nothing.
ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "viewer": _VIEWER,
    "reviewer": _REVIEWER,
    "producer": _PRODUCER,
    "admin": frozenset(Permission),
}


def allows(user: User, permission: Permission) -> bool:
    """Whether `user` (enabled, by role) has `permission`."""
    return not user.disabled and permission in ROLE_PERMISSIONS.get(user.role, frozenset())


def require(user: User, permission: Permission) -> None:
    """Raise AccountDisabled or PermissionDenied unless `user` may do `permission`."""
    if user.disabled:
        raise AccountDisabled(user.username)
    if not allows(user, permission):
        raise PermissionDenied(user.username, user.role, str(permission))
