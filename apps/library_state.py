"""The library page's session state, apart from its views (issue 17): characters filtered by
tag, readiness, project and text, sorted, one server-side page at a time (10,000 characters
cost one page); a selection of many and a bulk edit of a metadata field or a tag across it,
counted first (`preview_*`), applied on `apply_bulk()` in one transaction.

Every edit the library and character pages make goes through `CharacterEditing._save`:
the permission is checked for the signed-in user, the change is made on a connection acting
as them (the audit log names them), and a refusal is said. A viewer reads; a producer edits.
"""

import json
from collections.abc import Callable
from typing import Any, TypeVar

import param
import psycopg

from apps.actions import ActionRunner
from apps.login import Login, SignedIn
from apps.notices import Says
from trulience import character_edits
from trulience.auth import users as accounts
from trulience.auth.acting import actor_name
from trulience.auth.permissions import Permission, allows, require
from trulience.catalog.database import connect, database_url
from trulience.catalog.library_pages import (
    READINESS,
    SORTS,
    LibraryFilter,
    LibraryRow,
    count_characters,
    library_page,
    matching_slugs,
)
from trulience.catalog.projects import list_projects
from trulience.catalog.records import User
from trulience.catalog.tags import list_tags
from trulience.config import Settings

T = TypeVar("T")
PAGE_SIZE = 50


def typed_value(text: str) -> Any:
    """What a producer types as a value: JSON when it reads as JSON (12, true, ["a"]),
    else the text itself; blank is None (remove the field)."""
    text = text.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


class CharacterEditing(Says):
    """A signed-in session that reads the library and, for a producer, edits it."""

    user = param.ClassSelector(class_=User, default=None, allow_None=True)
    may_edit = param.Boolean(default=False, doc="A producer: edit metadata, tags, overrides.")

    def __init__(self, settings: Settings, page: str, **params):
        super().__init__(**params)
        self.url = database_url(settings)
        self.settings = settings
        self.login = Login(self.url, page, Permission.VIEW, self._signed_in, self._signed_out)
        self.runner = ActionRunner(self.login.expired, self.say)

    def _signed_in(self, signed_in: SignedIn) -> None:
        user = signed_in.user
        self.param.update(user=user, may_edit=allows(user, Permission.MANAGE_CHARACTERS))
        self.read()

    def _signed_out(self) -> None:
        self.param.update(user=None, may_edit=False)

    def read(self) -> None:
        """Re-read what the page shows."""

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

    def _save(self, edit: Callable[[psycopg.Connection, str], T]) -> T | None:
        """THE one way the library's pages change the catalog: `edit(conn, token)` on a
        connection acting as the signed-in producer; its value, or None once refused (said).
        (Undo/redo routes here: every metadata, tag and override edit passes through.)"""
        token = self.login.token
        if token is None:
            return None

        def action() -> T:
            with connect(self.url) as conn:
                who = actor_name(conn, token, Permission.MANAGE_CHARACTERS)
            with connect(self.url, actor=who) as conn:
                return edit(conn, token)

        done = self.runner.run(action)
        return None if done is None else done.value


class LibrarySession(CharacterEditing):
    """One browser session of the library page."""

    tag = param.String(default="", doc="Only characters with this tag ('' for any).")
    readiness = param.Selector(default="any", objects=list(READINESS))
    project = param.String(default="", doc="Only this project's cast ('' for all).")
    text = param.String(default="", doc="In the slug or name.")
    sort = param.Selector(default="slug", objects=list(SORTS))
    page = param.Integer(default=0, bounds=(0, None), doc="Page shown, from 0.")
    rows = param.List(default=[], item_type=LibraryRow)
    total = param.Integer(default=0)
    projects = param.List(default=[], doc="Every project's slug (the filter's choices).")
    tags = param.List(default=[], doc="Every tag's name (the filter's choices).")
    selected = param.List(default=[], item_type=str, doc="Characters a bulk edit covers.")
    pending = param.String(default=None, allow_None=True, doc="The dry run awaiting Apply.")

    def __init__(self, settings: Settings, page_size: int = PAGE_SIZE, **params):
        super().__init__(settings, "library", **params)
        self.page_size = page_size
        self._bulk: Callable[[bool], character_edits.BulkResult | None] | None = None
        self._what = ""
        self.param.watch(self._refilter, ["tag", "readiness", "project", "text", "sort"])
        self.param.watch(lambda _: self.read(), "page")

    @property
    def wanted(self) -> LibraryFilter:
        """The filter as the catalog reads it."""
        return LibraryFilter(
            self.tag or None, self.readiness, self.project or None, self.text, self.sort
        )

    @property
    def pages(self) -> int:
        """How many pages the filtered library fills (at least 1)."""
        return max(1, -(-self.total // self.page_size))

    def _refilter(self, *_events: Any) -> None:
        if self.page:
            self.page = 0  # reads through the page watcher
        else:
            self.read()

    def read(self) -> None:
        """Re-read the page shown, the total and the filter's choices."""
        found = self._viewing(self._read)
        if found is None:
            return
        rows, total, projects, tags = found
        self.param.update(rows=rows, total=total, projects=projects, tags=tags)

    def _read(self, conn: psycopg.Connection):
        wanted = self.wanted
        total = count_characters(conn, wanted)
        rows = library_page(conn, wanted, self.page * self.page_size, self.page_size)
        projects = [p.slug for p in list_projects(conn)]
        return rows, total, projects, [t.name for t in list_tags(conn)]

    def go_to(self, page: int) -> None:
        """Show page `page` (from 0), kept within the pages there are."""
        self.page = max(0, min(page, self.pages - 1))

    # -- selection -----------------------------------------------------------------------

    def toggle(self, slug: str) -> None:
        """Select or unselect one character."""
        chosen = list(self.selected)
        self.selected = [s for s in chosen if s != slug] if slug in chosen else [*chosen, slug]

    def select_page(self) -> None:
        """Select every character on the page shown (beside those selected already)."""
        self.selected = list(dict.fromkeys([*self.selected, *(r.slug for r in self.rows)]))

    def select_matching(self) -> None:
        """Select every character the filter matches, on every page."""
        found = self._viewing(lambda conn: matching_slugs(conn, self.wanted))
        if found is not None:
            self.selected = found

    def clear_selection(self) -> None:
        """Select nothing; any dry run awaiting Apply is dropped."""
        self.param.update(selected=[], pending=None)
        self._bulk = None

    # -- bulk edits ----------------------------------------------------------------------

    def preview_field(self, field: str, value_text: str) -> bool:
        """Count what setting metadata `field` to the typed value would change (blank
        removes the field); Apply then makes the change. False when refused (said)."""
        value = typed_value(value_text)
        what = f"remove {field}" if value is None else f"set {field} = {value!r}"
        slugs = list(self.selected)
        return self._preview(
            what,
            lambda apply: self._save(
                lambda conn, token: character_edits.bulk_set_field(
                    conn, token, slugs, field, value, apply
                )
            ),
        )

    def preview_tag(self, name: str, add: bool = True) -> bool:
        """Count what adding (or removing) tag `name` would change; Apply makes it."""
        slugs = list(self.selected)
        what = f"{'add' if add else 'remove'} tag {name.strip()!r}"
        return self._preview(
            what,
            lambda apply: self._save(
                lambda conn, token: character_edits.bulk_tag(conn, token, slugs, name, add, apply)
            ),
        )

    def _preview(self, what: str, run: Callable[[bool], Any]) -> bool:
        if not self.selected:
            self.say("select the characters to edit first", "warning")
            return False
        result = run(False)
        if result is None:
            self.param.update(pending=None)
            return False
        self._bulk = run
        self.pending = result.summary(what)
        self._what = what
        return True

    def apply_bulk(self) -> bool:
        """Apply the dry run awaiting Apply, in one transaction; re-read."""
        if self._bulk is None:
            self.say("nothing to apply: count the change first", "warning")
            return False
        run, self._bulk = self._bulk, None
        result = run(True)
        self.pending = None
        if result is None:
            return False
        self.say(result.summary(self._what), "success")
        self.read()
        return True

    def cancel_bulk(self) -> None:
        """Drop the dry run awaiting Apply."""
        self.pending, self._bulk = None, None
