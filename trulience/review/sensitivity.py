"""Sensitivity (PRD-82): content ratings on characters and scene types, a per-user choice
to blur sensitive media or show it, and the blurred copies shown until a user reveals them.

A take is sensitive when its character or its scene type is rated sensitive or restricted
(the catalog view `take_sensitivity` holds that rule). Storyboards and thumbnails of a
sensitive take reach a user who blurs as `storyboard.blur.png`, made on the server."""

import psycopg

from trulience.auth.acting import Acting, actor_name
from trulience.auth.permissions import Permission
from trulience.auth.users import acting_user
from trulience.catalog import ratings as repo
from trulience.catalog.database import acting_as
from trulience.catalog.errors import InvalidValue
from trulience.catalog.records import User
from trulience.catalog.users import get_user
from trulience.media.blur import blurred_png
from trulience.storage import Storage

RATINGS = ("general", "sensitive", "restricted")
CHOICES = ("blur", "show")


def is_sensitive(conn: psycopg.Connection, scene_id: int) -> bool:
    """Whether a take's character or scene type is rated other than general."""
    return repo.take_is_sensitive(conn, scene_id)


def rate(conn: psycopg.Connection, actor: Acting, kind: str, slug: str, rating: str) -> None:
    """Rate a character (`kind` 'character') or a scene type ('scene_type')."""
    table, permission = {
        "character": ("characters", Permission.MANAGE_CHARACTERS),
        "scene_type": ("scene_types", Permission.MANAGE_SCENE_TYPES),
    }[kind]
    who = actor_name(conn, actor, permission)
    if rating not in RATINGS:
        raise InvalidValue(kind.replace("_", " "), "rating", rating, f"must be one of {RATINGS}")
    with acting_as(conn, who):
        repo.set_rating(conn, table, slug, rating)


def set_show_sensitive(conn: psycopg.Connection, actor: Acting, username: str, choice: str) -> None:
    """A user's choice for sensitive media: 'blur' (until revealed) or 'show'. Users set
    their own; setting someone else's needs the user-management permission."""
    if choice not in CHOICES:
        raise InvalidValue("user preferences", "show_sensitive", choice, "must be blur or show")
    user = get_user(conn, username)
    own = isinstance(actor, User | str) and _is(conn, actor, user)
    who = actor_name(conn, actor, Permission.VIEW if own else Permission.MANAGE_USERS)
    with acting_as(conn, who):
        repo.set_show_sensitive(conn, user.id, choice)


def show_sensitive(conn: psycopg.Connection, user: User) -> str:
    """The user's choice for sensitive media ('blur' unless they chose 'show')."""
    return repo.show_sensitive(conn, user.id)


def blurred_for(conn: psycopg.Connection, user: User, scene_id: int) -> bool:
    """Whether `user` sees take `scene_id` blurred until they reveal it."""
    return is_sensitive(conn, scene_id) and show_sensitive(conn, user) == "blur"


def storyboard_for(
    conn: psycopg.Connection, storage: Storage, user: User, scene_id: int, key: str
) -> str:
    """The key of the storyboard (or thumbnail) `user` is shown for take `scene_id`: the
    stored `key` itself, or its blurred copy beside it (made now for an older take)."""
    if not blurred_for(conn, user, scene_id):
        return key
    return blurred_copy(storage, key)


def blurred_copy(storage: Storage, key: str) -> str:
    """The key of the blurred copy of the PNG stored at `key`, made once."""
    folder, _, name = key.rpartition("/")
    stem = name.removesuffix(".png")
    blurred = f"{folder}/{stem}.blur.png"  # storyboard.png -> storyboard.blur.png
    if not storage.exists(blurred):
        storage.put_bytes(blurred, blurred_png(storage.read_bytes(key)))
    return blurred


def _is(conn: psycopg.Connection, actor: User | str, user: User) -> bool:
    return acting_user(conn, actor).id == user.id
