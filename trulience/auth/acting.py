"""Who acts on a take: a signed-in user (checked for the permission the action needs) or
an operator at the command line, who holds the catalog's own credentials."""

from dataclasses import dataclass

import psycopg

from trulience.auth.permissions import Permission, require
from trulience.auth.users import acting_user
from trulience.catalog.records import User


@dataclass(frozen=True, slots=True)
class Operator:
    """An operator at the command line (e.g. 'cli:ana'): trusted like the catalog itself."""

    name: str


Acting = User | str | Operator  # a User, a session token, or an operator


def actor_name(conn: psycopg.Connection, actor: Acting, permission: Permission) -> str:
    """The audit name of `actor` ('user:<name>' or the operator's), once it may `permission`."""
    if isinstance(actor, Operator):
        return actor.name
    user = acting_user(conn, actor)
    require(user, permission)
    return f"user:{user.username}"
