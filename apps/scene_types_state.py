"""The scene types page's session state, apart from its views (PRD-63): the scene types
(a page of them at a time), the one opened with each setting and where its value comes from
(own / inherited from a parent / default), its versions, a diff between two of them, and
the edits a producer makes: a changed setting or a rollback, each a NEW version.

Plain Python drives it as the page does (tests/test_authoring_state.py): sign in through
`login`, `open(slug)`, `save({"prompt_template": ...})`, `compare(old, new)`, `rollback(v)`.
Every edit goes through `_save` (one function, for the undo commands to wrap). A viewer
sees everything and may change nothing (`may_edit`).
"""

from collections.abc import Callable
from typing import Any, TypeVar

import param
import psycopg

from apps.actions import ActionRunner
from apps.login import Login, SignedIn
from apps.notices import Says
from trulience.auth import users as accounts
from trulience.auth.acting import actor_name
from trulience.auth.permissions import Permission, allows, require
from trulience.catalog.database import connect, database_url
from trulience.catalog.records import User
from trulience.catalog.scene_types import list_scene_types
from trulience.config import Settings
from trulience.generation import scene_history
from trulience.generation.scene_history import SettingSource, VersionDiff, VersionEntry

T = TypeVar("T")
PAGE_SIZE = 50  # scene types listed at once


class SceneTypesSession(Says):
    """One browser session of the scene types page; reads nothing until a login with view."""

    user = param.ClassSelector(class_=User, default=None, allow_None=True)
    may_edit = param.Boolean(default=False, doc="Whether the user may change scene types.")
    slugs = param.List(default=[], doc="The scene types of the page shown, by slug.")
    parents = param.Dict(default={}, doc="Scene type slug -> its parent's slug (or None).")
    offset = param.Integer(default=0, doc="Where the page of scene types starts.")
    total = param.Integer(default=0, doc="How many scene types there are.")
    slug = param.String(default=None, allow_None=True, doc="The scene type opened.")
    settings = param.List(default=[], item_type=SettingSource)
    versions = param.List(default=[], item_type=VersionEntry)
    diff = param.ClassSelector(class_=VersionDiff, default=None, allow_None=True)
    field_error = param.Tuple(
        default=None, allow_None=True, length=2, doc="(field, why) of a refused edit."
    )

    def __init__(self, settings: Settings, **params):
        super().__init__(**params)
        self.url = database_url(settings)
        self.login = Login(
            self.url, "scene-types", Permission.VIEW, self._signed_in, self._signed_out
        )
        self.runner = ActionRunner(self.login.expired, self.say)

    def _signed_in(self, signed_in: SignedIn) -> None:
        user = signed_in.user
        self.param.update(user=user, may_edit=allows(user, Permission.MANAGE_SCENE_TYPES))
        self.read()

    def _signed_out(self) -> None:
        self.param.update(user=None, slug=None, settings=[], versions=[], diff=None, slugs=[])

    def _viewing(self, read: Callable[[psycopg.Connection], T]) -> T | None:
        """`read` while this session may view; None once refused (the refusal is said)."""
        token = self.login.token
        if token is None:
            return None

        def checked() -> T:
            with connect(self.url) as conn:
                require(accounts.user_for_session(conn, token), Permission.VIEW)
                return read(conn)

        done = self.runner.run(checked)
        return None if done is None else done.value

    def read(self) -> None:
        """Re-read the page of scene types and the one opened."""
        found = self._viewing(lambda conn: list_scene_types(conn))
        if found is None:
            return
        by_id = {t.id: t.slug for t in found}
        self.param.update(
            total=len(found),
            parents={t.slug: by_id.get(t.parent_id) for t in found},
            slugs=[t.slug for t in found[self.offset : self.offset + PAGE_SIZE]],
        )
        if self.slug is not None:
            self.open(self.slug)

    def page(self, step: int) -> None:
        """Show the next (+1) or previous (-1) page of scene types."""
        offset = self.offset + step * PAGE_SIZE
        if 0 <= offset < max(self.total, 1):
            self.offset = offset
            self.read()

    def open(self, slug: str) -> None:
        """Open scene type `slug`: its settings with their sources, and its versions."""
        found = self._viewing(
            lambda conn: (scene_history.sources(conn, slug), scene_history.history(conn, slug))
        )
        if found is None:
            return
        sources, versions = found
        keep = self.diff if self.diff is not None and self.diff.slug == slug else None
        self.param.update(slug=slug, settings=sources, versions=versions, diff=keep)

    @property
    def newest(self) -> int | None:
        """The number of the opened scene type's newest version."""
        return self.versions[-1].version if self.versions else None

    def compare(self, old: int, new: int) -> None:
        """Show what changed from version `old` to version `new` of the opened scene type."""
        slug = self.slug
        if slug is None:
            return
        found = self._viewing(lambda conn: scene_history.diff(conn, slug, old, new))
        if found is not None:
            self.diff = found

    def save(self, changes: dict[str, Any]) -> bool:
        """Store the opened scene type's `changes` (setting -> value; "" or None inherits)
        as a new version; a refused value is said at its field and nothing is stored."""
        cleared = {k: (None if v in ("", None) else v) for k, v in changes.items()}
        return self._save(
            lambda conn, slug: _said(slug, scene_history.edit(conn, slug, cleared), None)
        )

    def rollback(self, version: int) -> bool:
        """Store a NEW version of the opened scene type equal to `version`."""
        return self._save(
            lambda conn, slug: _said(slug, scene_history.rollback(conn, slug, version), version)
        )

    def _save(self, work: Callable[[psycopg.Connection, str], str]) -> bool:
        """The one way this page changes a scene type: `work(conn, slug)` as the signed-in
        user once they may manage scene types; says what it returns and re-reads."""
        token, slug = self.login.token, self.slug
        if token is None or slug is None:
            return False
        self.field_error = None

        def action() -> str:
            with connect(self.url) as conn:
                who = actor_name(conn, token, Permission.MANAGE_SCENE_TYPES)
            with connect(self.url, actor=who) as conn:
                return work(conn, slug)

        done = self.runner.run(action, answers={scene_history.InvalidSceneType: self._refused})
        if done is None:
            return False
        self.say(done.value, "success")
        self.open(slug)
        return True

    def _refused(self, error: Exception) -> None:
        assert isinstance(error, scene_history.InvalidSceneType)
        self.field_error = (error.field, error.reason)
        self.say(str(error), "danger")


def _said(slug: str, version: Any, equal_to: int | None) -> str:
    if version is None:
        return f"scene type {slug}: unchanged"
    suffix = f" (equal to v{equal_to})" if equal_to is not None else ""
    return f"scene type {slug}: new version {version.version}{suffix}"
