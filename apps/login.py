"""The login form and session every app shares: password, the app's permission, the user's
shortcuts; a refused session returns the app to the form."""

from collections.abc import Callable
from dataclasses import dataclass

import panel as pn

from apps.actions import refusal
from apps.theme import notice, show
from trulience.auth import users as accounts
from trulience.auth.errors import AuthError
from trulience.auth.permissions import Permission, require
from trulience.catalog.database import connect
from trulience.catalog.records import User
from trulience.review.shortcuts import (
    DEFAULT_PRESET,
    PRESETS,
    InvalidShortcuts,
    Shortcuts,
    shortcuts_of,
)


def typed(field: pn.widgets.TextInput) -> str:
    """What is in a text field now: `value_input` follows each keystroke, while `value`
    waits for Enter or blur, which may arrive after the button click that reads it."""
    return field.value_input or field.value or ""


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A successful login: the session's token, its user and the user's shortcuts."""

    token: str
    user: User
    shortcuts: Shortcuts


def _default_shortcuts() -> Shortcuts:
    return Shortcuts(DEFAULT_PRESET, {}, dict(PRESETS[DEFAULT_PRESET]))


class Login:
    """The login form and session every app shares.

    A login checks the password and the app's `permission` (a refused user's new session
    is ended at once), reads the user's shortcuts, and hands the app a `SignedIn`. Logging
    out, or a session the service refuses (`expired`), returns the app to the form.
    """

    def __init__(
        self,
        url: str,
        app: str,
        permission: Permission,
        on_login: Callable[[SignedIn], None],
        on_logout: Callable[[], None],
    ):
        self.url, self.app, self.permission = url, app, permission
        self.on_login, self.on_logout = on_login, on_logout
        self.token: str | None = None
        self.user: User | None = None
        self.username = pn.widgets.TextInput(placeholder="Username")
        self.password = pn.widgets.PasswordInput(placeholder="Password")
        button = pn.widgets.Button(label="Log in", color="primary")
        button.on_click(lambda _: self.log_in())
        self.notice = notice()
        self.form = pn.Column(
            self.username, self.password, button, self.notice, css_classes=["login-form"]
        )
        self.who = pn.pane.Markdown("", css_classes=["logged-in-as"])
        self.logout_button = pn.widgets.Button(label="Log out")
        self.logout_button.on_click(lambda _: self.log_out())

    def log_in(self) -> None:
        """Open a session with the typed credentials; tell the app, or show the refusal."""
        try:
            with connect(self.url) as conn:
                login = accounts.authenticate(
                    conn,
                    typed(self.username).strip(),
                    typed(self.password),
                    user_agent=self.app,
                )
                try:
                    require(login.user, self.permission)
                except AuthError:
                    accounts.logout(conn, login.token)
                    raise
                try:
                    shortcuts = shortcuts_of(conn, login.user.id)
                except InvalidShortcuts:
                    # stored before an action was renamed: work with the defaults meanwhile
                    shortcuts = _default_shortcuts()
        except AuthError as error:
            show(self.notice, refusal(error), "danger")
            return
        self.token, self.user = login.token, login.user
        self.password.value = self.password.value_input = ""
        self.notice.visible = False
        self.who.object = f"Logged in as **{login.user.username}** ({login.user.role})"
        self.on_login(SignedIn(login.token, login.user, shortcuts))

    def log_out(self) -> None:
        """End this session's login and return to the form."""
        if self.token is not None:
            with connect(self.url) as conn:
                accounts.logout(conn, self.token)
        self._end()

    def expired(self, error: AuthError) -> None:
        """The service refused this session: say why and return to the form."""
        show(self.notice, refusal(error), "warning")
        self._end()

    def _end(self) -> None:
        self.token, self.user = None, None
        self.on_logout()
