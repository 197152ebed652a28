"""The login form and session every app shares: password, the app's permission, the user's
shortcuts; a refused session returns the app to the form.

Inside the Studio (apps/studio.py) one form logs in for every page: each page's own form
`adopt`s the Studio's login (no second form), a reload `resume`s the session its cookie
names, and a page's logout or refused session tells the Studio (`ended`), which ends the
session for every page (`release`)."""

from collections.abc import Callable
from dataclasses import dataclass

import panel as pn
from psycopg import Connection

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
        # told when this form ends a login it adopted (None: logged out; else the refusal)
        self.ended: Callable[[AuthError | None], None] | None = None
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
                shortcuts = _shortcuts(conn, login.user.id)
        except AuthError as error:
            show(self.notice, refusal(error), "danger")
            return
        self.password.value = self.password.value_input = ""
        self._signed_in(SignedIn(login.token, login.user, shortcuts))

    def resume(self, token: str) -> SignedIn | None:
        """Carry on a session opened earlier (the Studio's cookie after a reload): the
        catalog checks it and the app's permission; None, with the refusal shown, if not."""
        try:
            with connect(self.url) as conn:
                user = accounts.user_for_session(conn, token)
                require(user, self.permission)
                shortcuts = _shortcuts(conn, user.id)
        except AuthError as error:
            show(self.notice, refusal(error), "warning")
            return None
        signed_in = SignedIn(token, user, shortcuts)
        self._signed_in(signed_in)
        return signed_in

    def adopt(
        self, signed_in: SignedIn, ended: Callable[[AuthError | None], None] | None = None
    ) -> None:
        """Take a login made elsewhere (the Studio's): its session and user, no form;
        `ended` is told when this form ends it (None: logged out, else the refusal). Who is
        logged in, and Log out, are the Studio's header's: the page's own are hidden."""
        self.ended = ended
        self.who.visible = self.logout_button.visible = False
        self._signed_in(signed_in)

    def release(self) -> None:
        """Forget a session ended elsewhere (the Studio logged out): back to the form,
        without telling `ended` again."""
        self.ended = None
        self._end(None)

    def log_out(self) -> None:
        """End this session's login and return to the form."""
        if self.token is not None:
            with connect(self.url) as conn:
                accounts.logout(conn, self.token)
        self._end(None)

    def expired(self, error: AuthError) -> None:
        """The service refused this session: say why and return to the form."""
        show(self.notice, refusal(error), "warning")
        self._end(error)

    def _signed_in(self, signed_in: SignedIn) -> None:
        self.token, self.user = signed_in.token, signed_in.user
        self.notice.visible = False
        self.who.object = f"Logged in as **{signed_in.user.username}** ({signed_in.user.role})"
        self.on_login(signed_in)

    def _end(self, error: AuthError | None) -> None:
        self.token, self.user = None, None
        self.on_logout()
        if self.ended is not None:
            self.ended(error)


def _shortcuts(conn: Connection, user_id: int) -> Shortcuts:
    """The user's shortcuts, or the defaults for a table stored before an action was
    renamed (work with them meanwhile)."""
    try:
        return shortcuts_of(conn, user_id)
    except InvalidShortcuts:
        return _default_shortcuts()
