"""Who is acting and what they may do: passwords, sessions, roles and permissions."""

from trulience.auth.errors import (
    AccountDisabled,
    AuthError,
    LoginRefused,
    PermissionDenied,
    SessionRefused,
    WeakPassword,
)
from trulience.auth.permissions import ROLE_PERMISSIONS, Permission, allows, require

__all__ = [
    "ROLE_PERMISSIONS",
    "AccountDisabled",
    "AuthError",
    "LoginRefused",
    "Permission",
    "PermissionDenied",
    "SessionRefused",
    "WeakPassword",
    "allows",
    "require",
]
