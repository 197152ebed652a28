"""The Studio: every page (review, compare, dashboards, and those registered later) behind
one login, one session and one look, at one URL (`make studio`: /studio on 127.0.0.1).

Why one Panel document: a page is an app built in the browser session that opened the
Studio, so every page holds the same session token in memory and a logout ends it for all
of them at once; nothing has to be handed between servers or re-checked per app. Pages are
built the first time they are opened (apps/studio_pages.py, apps/studio_state.py) and then
kept in the document, only one visible: swapping Bokeh models in and out of a layout
re-registers them ("reference already known", see apps/review.py).

The address and a reload: the page open is in the URL (`/studio?page=dashboards`; a page
may take more, as `/studio?page=review&take=ID` opens that take, written back as the review
page opens a take), pushed into the browser's history as the user moves, so the back and
forward buttons move between pages and a page is linkable. The session token lives in an
HttpOnly cookie (`trulience_studio`, SameSite=Strict, path /) that page scripts never read:
the server sets it for a one-time nonce after login and clears it at logout
(apps/cookie_routes.py); a new
document (a reload, a linked URL) reads it and asks the catalog whether the session still
stands (`Login.resume`), so a reload keeps the page and the session, and a revoked or
expired one returns to the login form saying why. The share page stays its own public
page on the same server (`/share?link=...`).

The shell is panel-material-ui's Page (navigation in its sidebar; in its header the command
palette (Ctrl/Cmd+K, apps/palette.py), the job tray (apps/tray.py), the open page's Help
(apps/help.py, docs/help/<page>.md) and the theme toggle), themed from apps/theme.py's
tokens; the user's light/dark choice is stored in the catalog and restored at login.
"""

from collections.abc import Callable
from typing import Any

import panel as pn
import panel_material_ui as pmui
import param
from panel.custom import JSComponent

from apps import theme
from apps.cookie_routes import COOKIE, hand_over
from apps.cookie_routes import PATH as COOKIE_PATH
from apps.edits_state import EditsState
from apps.edits_view import EditsBar
from apps.palette import PaletteView
from apps.palette_state import PaletteState
from apps.plugins import discover
from apps.studio_pages import PAGES, StudioPage
from apps.studio_state import LOGIN, StudioSession
from apps.tray import TrayView
from apps.tray_state import TrayState
from trulience.config import Settings


def _take_query(app: Any) -> tuple[param.Parameterized, str, Callable[[Any], str]]:
    """The review page writes the take in its player into the URL (a reload stays there)."""
    return app.session, "take", lambda take: f"take={take.scene_id}" if take else ""


QUERIES: dict[str, Callable[[Any], tuple[param.Parameterized, str, Callable[[Any], str]]]] = {
    "review": _take_query
}
"""Page name → (state, parameter, its URL arguments): what a page writes into the URL."""


class BrowserAddress(JSComponent):
    """The browser's side of the Studio: the open page (and its own arguments, as a take)
    in the URL and its history (back and forward), and the session cookie, set by the
    server (apps/cookie_routes.py) for the one-time nonce the page is given."""

    page = param.String("", doc="The page in the URL's `?page=` ('' or login: left as is).")
    query = param.String("", doc="The page's own arguments in the URL (`take=12`).")
    nonce = param.String("", doc="The one-time nonce to exchange for the session cookie.")

    _esm = f"""
    const COOKIE_PATH = "{COOKIE_PATH}"

    function url_page() {{
      return new URL(window.location.href).searchParams.get("page") || ""
    }}

    function wanted(model) {{
      const url = new URL(window.location.href)
      url.search = model.query
      url.searchParams.set("page", model.page)
      return url
    }}

    function show(model, push) {{
      if (!model.page || model.page === "{LOGIN}") return
      const url = wanted(model)
      if (url.href === window.location.href) return
      if (push && url_page() !== model.page) window.history.pushState({{}}, "", url)
      else window.history.replaceState({{}}, "", url)
    }}

    function keep(model) {{
      if (!model.nonce) return
      fetch(`${{COOKIE_PATH}}/${{model.nonce}}`, {{method: "POST", credentials: "same-origin"}})
    }}

    export function render({{ model }}) {{
      if (model.query) show(model, false)  // a linked URL's other arguments stay otherwise
      else if (model.page && model.page !== "{LOGIN}" && url_page() !== model.page) {{
        show(model, false)
      }}
      keep(model)
      model.on("page", () => show(model, true))
      model.on("query", () => show(model, false))
      model.on("nonce", () => keep(model))
      window.addEventListener("popstate", () => {{
        const page = url_page()
        if (page && page !== model.page) model.page = page
      }})
      const anchor = document.createElement("span")
      anchor.className = "studio-address"
      return anchor
    }}
    """


class StudioApp:
    """One browser session of the Studio: the shell, the navigation and the pages."""

    def __init__(
        self,
        settings: Settings,
        pages: dict[str, StudioPage] | None = None,
        problems: list[object] | None = None,
    ):
        self.session = session = StudioSession(settings, pages, problems)
        self.handed: str | None = None  # the token last handed to the cookie route
        self.address = BrowserAddress(width=0, height=0, margin=0)
        self.notice = theme.notice()
        self.navigation = pmui.MenuList(items=[], sizing_mode="stretch_width")
        self.navigation.param.watch(lambda e: e.new and session.open(e.new["page"]), "value")
        self.pages = pn.Column(sizing_mode="stretch_width")
        self.views: dict[str, pn.viewable.Viewable] = {}
        login = session.login
        login.who.styles = {"color": "white"}  # on the header's accent, as its title
        self.login_view = pn.Column(
            pn.pane.Markdown(f"### Log in to {theme.STUDIO_NAME}"),
            login.form,
            css_classes=["studio-login"],
        )
        # the header: the command palette (Ctrl/Cmd+K), the job tray, this page's help
        self.palette = PaletteView(PaletteState(session))
        self.tray = TrayView(TrayState(session), session)
        self.help_button = pn.widgets.Button(label="Help", css_classes=["studio-help"])
        self.help_button.on_click(lambda _: self._help())
        # undo / redo of the user's catalog edits, from any page or the CLI (PRD-51)
        self.edits = EditsState(session.url, login)
        self.edits.param.watch(lambda e: self._say(e.new), "notice")
        self.edits_bar = EditsBar(state=self.edits, color="light", with_notice=False)
        self.header = pn.Row(
            self.palette.widget,
            self.tray.widget,
            self.edits_bar,
            self.help_button,
            login.who,
            login.logout_button,
            align="center",
        )
        self.shell = pmui.Page(
            title=theme.STUDIO_NAME,
            sidebar=[self.navigation],
            header=[self.header],
            main=[self.address, self.notice, self.login_view, self.pages],
            theme_config=theme.material_theme(),
            theme_toggle=True,
            sidebar_width=220,
        )
        self.shell.param.watch(lambda e: self._toggled(e.new), "dark_theme")
        session.param.watch(lambda *_: self._show(), ["page", "allowed", "user"])
        session.param.watch(lambda e: self._theme(e.new), "theme")
        session.param.watch(lambda e: self._say(e.new), "message")
        self.address.param.watch(lambda e: self._navigated(e.new), "page")
        self._show()

    def start(self, token: str, page: str, args: dict[str, str] | None = None) -> None:
        """Open the Studio as the request asks: `page` (the URL's `?page=`, with its other
        `args`) once signed in, with the session the cookie's `token` names if it stands."""
        if page:
            self.session.open(page, args)
        if token:
            self.session.resume(token)

    def _show(self) -> None:
        """The login form or the open page; the navigation of the pages the role may open."""
        session = self.session
        signed_in = session.user is not None
        self.login_view.visible = not signed_in
        session.login.who.visible = session.login.logout_button.visible = signed_in
        self.palette.widget.visible = self.tray.widget.visible = signed_in
        self.edits_bar.visible = signed_in
        if signed_in:
            self.edits.refresh()
        else:
            self.edits.clear()
        self.help_button.visible = signed_in and "help" in session.allowed
        self.navigation.items = [
            {"label": page.title, "icon": page.icon, "page": page.name}
            for page in session.registry.values()
            if page.name in session.allowed
        ]
        name = session.page if signed_in else LOGIN
        if name in session.built and name not in self.views:
            self.views[name] = session.built[name].view()
            self.pages.append(self.views[name])
            self._follow_query(name)
        for shown, view in self.views.items():
            view.visible = shown == name
        changes: dict[str, str] = {"page": name, "query": self._query(name)}
        if session.token != self.handed:  # the cookie follows the session, set by the server
            self.handed = session.token
            changes["nonce"] = hand_over(session.token)
        self.address.param.update(changes)

    def _query(self, name: str) -> str:
        """Page `name`'s own arguments in the URL (`take=12`), '' for most pages."""
        if name not in QUERIES or name not in self.session.built:
            return ""
        state, parameter, query = QUERIES[name](self.session.built[name])
        return query(getattr(state, parameter))

    def _follow_query(self, name: str) -> None:
        if name in QUERIES:
            state, parameter, _ = QUERIES[name](self.session.built[name])
            state.param.watch(lambda _: self._requery(name), parameter)

    def _requery(self, name: str) -> None:
        if self.session.page == name:
            self.address.query = self._query(name)

    def _help(self) -> None:
        """The header's Help: the open page's help, in the Studio's help page."""
        here = self.session.page
        self.session.open("help", {"topic": "studio" if here in ("help", LOGIN) else here})

    def _navigated(self, page: str) -> None:
        """The browser moved (back / forward) to `page`: open it."""
        if page and page != LOGIN and page != self.session.page:
            self.session.open(page)

    def _toggled(self, dark: bool) -> None:
        """The header's theme toggle: keep the choice (once signed in)."""
        wanted = "dark" if dark else "light"
        if wanted != self.session.theme:
            self.session.choose_theme(wanted)

    def _theme(self, chosen: str) -> None:
        self.shell.dark_theme = chosen == "dark"

    def _say(self, message: tuple[str, str] | None) -> None:
        if message is None:
            self.notice.visible = False
        else:
            theme.show(self.notice, *message)

    def view(self) -> pmui.Page:
        """The Studio's root, to be made servable."""
        return self.shell


def _request() -> tuple[str, str, dict[str, str]]:
    """The session cookie's token, the `?page=` and the other arguments of this request."""
    args = {}
    for name, values in pn.state.session_args.items():
        raw = (values or [b""])[0]
        args[name] = (
            raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        ).strip()
    return (pn.state.cookies or {}).get(COOKIE, ""), args.pop("page", ""), args


if __name__.startswith("bokeh"):
    theme.setup("tabulator")
    studio = StudioApp(Settings.from_env(), *discover(PAGES))
    studio.start(*_request())
    studio.view().servable(title=theme.STUDIO_NAME)
