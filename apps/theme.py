"""The studio's one Panel look (PRD-29) and the small widgets every app shares.

Apps call `page(...)` for their frame, `notice(...)` for feedback, `Login` for the login
form and session, and `ShortcutKeys` for the user's single-key actions and their legend,
so that a change of look, of login or of key handling happens here once.
"""

import base64
import html
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import panel as pn
import param
from PIL import Image

from trulience.auth import users as accounts
from trulience.auth.errors import AuthError
from trulience.auth.permissions import Permission, require
from trulience.catalog.database import connect
from trulience.catalog.records import User
from trulience.errors import TrulienceError
from trulience.review.shortcuts import (
    ACTIONS,
    DEFAULT_PRESET,
    HELP_KEY,
    PRESETS,
    InvalidShortcuts,
    Shortcuts,
    key_label,
    shortcuts_of,
)

ACCENT = "#3b5bdb"
STUDIO_NAME = "Trulience Studio"

_CSS = f"""
:root {{ --trulience-accent: {ACCENT}; }}
.studio-header {{ border-bottom: 2px solid {ACCENT}; margin-bottom: 8px; }}
.frame-label {{ font-variant-numeric: tabular-nums; font-weight: 600; }}
.tray-badge {{ background: {ACCENT}; color: white; border-radius: 10px; padding: 1px 8px;
               font-weight: 600; font-variant-numeric: tabular-nums; }}
"""


def setup() -> None:
    """Load the Panel extension with the studio's stylesheet and design (once per app)."""
    pn.extension(raw_css=[_CSS], design="bootstrap", notifications=False)


def page(title: str, *objects: Any) -> pn.Column:
    """An app's frame: the studio header, then the app's content."""
    header = pn.pane.Markdown(f"## {STUDIO_NAME} · {title}", css_classes=["studio-header"])
    return pn.Column(header, *objects, sizing_mode="stretch_width")


def notice() -> pn.pane.Alert:
    """An initially hidden message box for the outcome of an action."""
    return pn.pane.Alert("", alert_type="info", visible=False, css_classes=["studio-notice"])


def show(box: pn.pane.Alert, message: str, kind: str = "info") -> None:
    """Put `message` in a notice box with the Bootstrap alert type `kind`."""
    box.object, box.alert_type, box.visible = message, kind, True


def refusal(error: TrulienceError) -> str:
    """The text a user sees for a refused action: the domain error's own message."""
    return str(error)


def png_bytes(frame: np.ndarray) -> bytes:
    """An RGB uint8 frame as lossless PNG bytes (what the browser shows must be exact)."""
    buffer = io.BytesIO()
    Image.fromarray(frame, mode="RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def png_data_url(frame: np.ndarray) -> str:
    """A frame as a data: URL for an <img> (no file is written, no URL to guess)."""
    return png_file_data_url(png_bytes(frame))


def png_file_data_url(data: bytes) -> str:
    """PNG file bytes (such as a stored storyboard) as a data: URL for an <img>."""
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


class KeyboardShortcuts(pn.custom.JSComponent):
    """Page-wide single-key shortcuts: a key in `keys` is sent to the server, which calls
    the action bound to it. Keys typed into a text field are left alone."""

    keys = param.List(default=[], doc="The keys the browser should report.")

    _esm = """
    export function render({ model }) {
      const editable = (el) =>
        el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));
      const onKey = (event) => {
        if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
        // Panel renders in shadow roots: the real target is the first of the composed path.
        if (editable(event.composedPath()[0])) return;
        if (model.keys.includes(event.key)) {
          event.preventDefault();
          model.send_msg({ key: event.key });
        }
      };
      document.addEventListener("keydown", onKey);
      model.on("remove", () => document.removeEventListener("keydown", onKey));
      const el = document.createElement("span");
      el.className = "keyboard-shortcuts";
      return el;
    }
    """

    def __init__(self, bindings: Mapping[str, Callable[[], None]], **params: Any):
        self._bindings = dict(bindings)
        super().__init__(keys=list(self._bindings), **params)

    def rebind(self, bindings: Mapping[str, Callable[[], None]]) -> None:
        """Replace every binding (the browser is sent the new keys at once)."""
        self._bindings = dict(bindings)
        self.keys = list(self._bindings)

    def _handle_msg(self, msg: Any) -> None:
        action = self._bindings.get(msg.get("key")) if isinstance(msg, dict) else None
        if action is not None:
            action()


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


class ShortcutKeys:
    """An app's single-key actions bound to the logged-in user's keys, with the buttons
    that name those keys and a legend of them (`?` shows or hides it).

    `actions` are the actions this app offers (a subset of `ACTIONS`); `use(table)` rebinds
    them to a user's action → key table, and relabels the buttons and the legend.
    """

    def __init__(self, actions: Mapping[str, Callable[[], None]]):
        self.actions = dict(actions)
        self.table: dict[str, str] = {}
        self._buttons: dict[str, tuple[pn.widgets.Button, str]] = {}
        self.legend = pn.pane.HTML("", css_classes=["shortcut-legend"])
        self.keyboard = KeyboardShortcuts({})
        self.use(PRESETS[DEFAULT_PRESET])

    def use(self, table: Mapping[str, str]) -> None:
        """Bind this app's actions to the keys of `table` (action → key)."""
        self.table = {action: table[action] for action in self.actions}
        bindings: dict[str, Callable[[], None]] = {
            key: self.actions[action] for action, key in self.table.items()
        }
        bindings[HELP_KEY] = self.toggle_legend
        self.keyboard.rebind(bindings)
        for action, (widget, label) in self._buttons.items():
            widget.label = label + self.hint(action)
        entries = [
            f'<span class="shortcut"><kbd data-action="{action}">'
            f"{html.escape(key_label(key))}</kbd> {html.escape(ACTIONS[action])}</span>"
            for action, key in self.table.items()
        ]
        entries.append(f"<span><kbd>{HELP_KEY}</kbd> show / hide these keys</span>")
        self.legend.object = "<b>Keys</b> " + " · ".join(entries)

    def hint(self, action: str) -> str:
        """How a button names its key: ` (a)`, ` (Space)`."""
        key = self.table.get(action)
        return "" if key is None else f" ({key_label(key)})"

    def button(self, label: str, action: str, kind: str = "default") -> pn.widgets.Button:
        """A button for `action`, named with the user's key for it."""
        widget = pn.widgets.Button(label=label + self.hint(action), color=kind)
        widget.on_click(lambda _: self.actions[action]())
        self._buttons[action] = (widget, label)
        return widget

    def relabel(self, action: str, label: str) -> None:
        """Rename `action`'s button (such as Play ↔ Pause), keeping its key hint."""
        widget, _ = self._buttons[action]
        self._buttons[action] = (widget, label)
        widget.label = label + self.hint(action)

    def toggle_legend(self) -> None:
        """Show or hide the legend of keys."""
        self.legend.visible = not self.legend.visible


class UndoOffer:
    """An Undo button for decisions just made, shown for their undo window and withdrawn by
    itself when it closes (the service refuses a late undo anyway, with the reason).

    `undo` is called with the decisions offered (anything with an `undo_until`)."""

    def __init__(self, undo: Callable[[list[Any]], None], css_class: str):
        self._undo = undo
        self._decisions: list[Any] = []
        self._timer: pn.io.PeriodicCallback | None = None
        self.button = pn.widgets.Button(
            label="Undo", color="light", visible=False, css_classes=["undo-offer", css_class]
        )
        self.button.on_click(lambda _: self.take_back())

    def offer(self, decisions: Sequence[Any]) -> None:
        """Show Undo for these decisions until the first of their windows closes."""
        self.withdraw()
        ends = [d.undo_until for d in decisions if d.undo_until is not None]
        left_s = (min(ends) - datetime.now(UTC)).total_seconds() if ends else 0.0
        if left_s <= 0:
            return
        self._decisions = list(decisions)
        self.button.label = f"Undo ({round(left_s)} s)"
        self.button.visible = True
        if pn.state.curdoc is not None:  # in a served page; a plain Python test has none
            self._timer = pn.state.add_periodic_callback(
                self.withdraw, period=max(1, int(left_s * 1000)), count=1
            )

    def withdraw(self) -> None:
        """Hide the offer (the window closed, or the decisions were undone)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._decisions = []
        self.button.visible = False

    def take_back(self) -> None:
        """The Undo button: hand the offered decisions to `undo`."""
        decisions = self._decisions
        self.withdraw()
        if decisions:
            self._undo(decisions)
