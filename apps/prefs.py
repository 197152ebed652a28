"""The Studio's layout and filters per user (PRD-04/30/32/89): what the user left where, saved
in the catalog (`user_preferences.studio_layout`, trulience/catalog/layouts.py) and given
back at the next login, in this browser or another.

What is kept, each under one key: the page open (`studio.page`), each page's filters and
choices (`<page>.<parameter>`: the review queue's filters, the dashboards' project, span and
widgets in their order, the queue's pool) and whether each "More" disclosure is open
(`<page>.more`). A page says which of its state objects' parameters are kept in `KEPT`
below; a value the page no longer accepts (a project since deleted) is left at the page's
default, never refused at login. Every change is saved as it is made, through `save` alone.
"""

import logging
from collections.abc import Callable
from typing import Any

import param

from trulience.catalog.database import connect
from trulience.catalog.layouts import layout_of, save_layout
from trulience.errors import TrulienceError

log = logging.getLogger(__name__)

Kept = Callable[[Any], list[tuple[param.Parameterized, list[str]]]]

KEPT: dict[str, Kept] = {
    "review": lambda app: [
        (
            app.session,
            ["project", "character", "review_status", "assignee", "overdue", "sort"],
        ),
        (app.session.player, ["more"]),
    ],
    "dashboards": lambda app: [(app.session, ["project", "window", "widgets", "more"])],
    "queue": lambda app: [(app.session, ["pool", "more"])],
    "library": lambda app: [(app.session, ["tag", "readiness", "project", "text", "sort"])],
}
"""Page name → the (state object, parameter names) of that page kept per user."""


class Layout:
    """One user's saved layout: read at login, each change saved at once (`save`)."""

    def __init__(self, url: str):
        self.url = url
        self.user_id: int | None = None
        self.saved: dict[str, Any] = {}
        self._restoring = False
        self._followed: dict[str, list[tuple[param.Parameterized, list[str]]]] = {}

    def load(self, user_id: int) -> None:
        """Read `user_id`'s saved layout (pages built before get it as they adopt the login:
        `restore`)."""
        with connect(self.url) as conn:
            self.user_id, self.saved = user_id, layout_of(conn, user_id)

    def forget(self) -> None:
        """The user logged out: nothing more is saved until the next login."""
        self.user_id, self.saved = None, {}

    def get(self, key: str, default: Any = None) -> Any:
        """The saved value of `key`, or `default`."""
        return self.saved.get(key, default)

    def save(self, key: str, value: Any) -> None:
        """Keep `value` under `key` for the signed-in user (nothing while restoring)."""
        if self._restoring or self.user_id is None or self.saved.get(key) == value:
            return
        try:
            with connect(self.url) as conn:
                save_layout(conn, self.user_id, {key: value})
        except TrulienceError as error:  # a layout not saved never stops the work
            log.warning("the Studio layout %s was not saved: %s", key, error)
            return
        self.saved[key] = value

    def follow(self, name: str, app: Any) -> None:
        """Give page `name` (just built) its saved filters, and save each change of them."""
        kept = KEPT.get(name)
        if kept is None or name in self._followed:
            return
        self._followed[name] = kept(app)
        self.restore(name)
        for state, names in self._followed[name]:
            for parameter in names:
                key = f"{name}.{parameter}"
                state.param.watch(lambda e, key=key: self.save(key, _plain(e.new)), parameter)

    def restore(self, name: str) -> None:
        """Give page `name` (followed) the signed-in user's saved filters."""
        if name not in self._followed:
            return
        self._restoring = True
        try:
            for state, names in self._followed[name]:
                for parameter in names:
                    key = f"{name}.{parameter}"
                    # a page built for someone else's login: what this user left, or the default
                    value = self.saved.get(key, state.param[parameter].default)
                    if getattr(state, parameter) == value:
                        continue
                    try:
                        state.param.update({parameter: value})
                    except (ValueError, TypeError) as refused:  # no longer a choice
                        log.info("saved %s not restored: %s", key, refused)
        finally:
            self._restoring = False


def _plain(value: Any) -> Any:
    """`value` as JSON keeps it (a tuple as a list)."""
    return list(value) if isinstance(value, tuple) else value
