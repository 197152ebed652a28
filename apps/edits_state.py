"""Undo and redo in the apps (PRD-51): the state of the Undo / Redo pair, apart from its view.

`EditsState` is what a page (or the Studio's header) holds: the labels of the signed-in
user's next undo and redo ("Undo: set age of ada"), read from the catalog's stack so they are
the same after a logout, in another tab and after a CLI edit made as that user; `undo()` and
`redo()`; and `apply(edits)`, the one door through which a page makes its catalog edits
(metadata, tags, names, scene type settings), so every edit is undoable. An invalid value is
refused field by field (`field_errors`: field path -> reason) and nothing is written.

Plain Python drives it as a page does (tests/test_edits_state.py): a `login` (apps.login.Login,
or anything with its `token` and `expired`), `refresh()` at sign-in, then `apply`, `undo`,
`redo`; `changed` is called after each edit so the page re-reads what it shows.
"""

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import param

from apps.actions import ActionRunner
from apps.notices import Says
from trulience import edits
from trulience.auth.errors import AuthError
from trulience.catalog.database import connect
from trulience.metadata import InvalidMetadata


class Session(Protocol):
    """What the state needs of a login: the session's token and where a refusal goes."""

    token: str | None

    def expired(self, error: AuthError) -> None: ...


class EditsState(Says):
    """The signed-in user's undo/redo stack and the edits a page makes through it."""

    undo_label = param.String(default=None, allow_None=True, doc="What Undo takes back.")
    redo_label = param.String(default=None, allow_None=True, doc="What Redo makes again.")
    field_errors = param.Dict(default={}, doc="Field path -> why the last edit was refused.")

    def __init__(
        self, url: str, login: Session, changed: Callable[[], None] | None = None, **params: Any
    ):
        super().__init__(**params)
        self.url, self.login = url, login
        self.changed = changed or (lambda: None)
        self.runner = ActionRunner(login.expired, self.say)

    @property
    def undo_text(self) -> str:
        """The Undo button's label."""
        return f"Undo: {self.undo_label}" if self.undo_label else "Undo"

    @property
    def redo_text(self) -> str:
        """The Redo button's label."""
        return f"Redo: {self.redo_label}" if self.redo_label else "Redo"

    def _run(self, work: Callable[[Any, str], Any], answers: dict | None = None) -> Any:
        """`work(conn, token)` for the signed-in user, then the stack re-read; its value, or
        None when refused (the refusal said) or nobody is signed in."""
        token = self.login.token
        if token is None:
            return None

        def action() -> Any:
            with connect(self.url) as conn:
                value = work(conn, token)
                stack = edits.stack_of(conn, token)
            self.param.update(undo_label=stack.undo, redo_label=stack.redo)
            return value

        done = self.runner.run(action, answers=answers)
        return None if done is None else done.value

    def refresh(self) -> None:
        """Re-read the user's stack (at sign-in, or when another tab may have edited)."""
        if self.login.token is None:
            self.clear()
            return
        self._run(lambda conn, token: None)

    def clear(self) -> None:
        """Signed out: nothing to undo or redo here."""
        self.param.update(undo_label=None, redo_label=None, field_errors={})

    def apply(
        self, changes: Sequence[edits.Edit], label: str | None = None
    ) -> edits.Applied | None:
        """Make `changes` as one undoable edit; None when refused (field errors set) or when
        nothing changed."""

        def refused(error: InvalidMetadata) -> None:
            self.field_errors = {p.field: p.message for p in error.problems}
            self.say(str(error), "danger")

        done = self._run(
            lambda conn, token: edits.apply(conn, token, changes, label),
            answers={InvalidMetadata: refused},
        )
        if done is not None:
            self.field_errors = {}
            self.say(f"saved: {done.label}", "success")
            self.changed()
        return done

    def undo(self) -> edits.Applied | None:
        """Undo the user's latest edit (refused, with the reason, when a later edit depends)."""
        done = self._run(lambda conn, token: edits.undo(conn, token))
        if done is not None:
            self.say(f"undone: {done.label}", "info")
            self.changed()
        return done

    def redo(self) -> edits.Applied | None:
        """Make again the edit the user undid last."""
        done = self._run(lambda conn, token: edits.redo(conn, token))
        if done is not None:
            self.say(f"redone: {done.label}", "info")
            self.changed()
        return done
