"""Refusals of the auth layer: each names who, what and why."""

from trulience.errors import TrulienceError


class AuthError(TrulienceError):
    """Someone could not be identified, or may not do what they asked."""


class WeakPassword(AuthError):
    """A password too short (or empty) to be accepted."""


class LoginRefused(AuthError):
    """Wrong username or password, or an account that may not log in."""


class SessionRefused(AuthError):
    """A session token that is unknown, revoked or expired."""


class AccountDisabled(AuthError):
    def __init__(self, username: str):
        self.username = username
        super().__init__(f"user {username!r} is disabled and cannot act")


class PermissionDenied(AuthError):
    def __init__(self, username: str, role: str, permission: str):
        self.username, self.role, self.permission = username, role, permission
        super().__init__(
            f"user {username!r} (role {role}) does not have the permission {permission!r}"
        )
