"""The Studio: every page (review, compare, dashboards, and those registered later) behind
one login, one session and one look, at one URL (`make studio`: /studio on 127.0.0.1).

Why one Panel document: a page is an app built in the browser session that opened the
Studio, so every page holds the same session token in memory and a logout ends it for all
of them at once; nothing has to be handed between servers or re-checked per app. Pages are
built the first time they are opened (apps/studio_pages.py, apps/studio_state.py) and then
kept in the document, only one visible: swapping Bokeh models in and out of a layout
re-registers them ("reference already known", see apps/review.py).

The address and a reload: the page open is in the URL (`/studio?page=dashboards`; a page
may take more, as `/studio?page=review&take=ID` opens that take), pushed
into the browser's history as the user moves, so the back and forward buttons move between
pages and a page is linkable. The session token lives in a cookie (`trulience_studio`,
SameSite=Strict, path /) written by the browser after login and cleared at logout; a new
document (a reload, a linked URL) reads it and asks the catalog whether the session still
stands (`Login.resume`), so a reload keeps the page and the session, and a revoked or
expired one returns to the login form saying why. The share page stays its own public
page on the same server (`/share?link=...`).

The shell is panel-material-ui's Page (navigation in its sidebar; in its header the command
palette (Ctrl/Cmd+K, apps/palette.py), the job tray (apps/tray.py), the open page's Help
(apps/help.py, docs/help/<page>.md) and the theme toggle), themed from apps/theme.py's
tokens; the user's light/dark choice is stored in the catalog and restored at login.
"""

import panel as pn
import panel_material_ui as pmui
import param
from panel.custom import JSComponent

from apps import theme
from apps.palette import PaletteView
from apps.palette_state import PaletteState
from apps.studio_pages import PAGES, StudioPage
from apps.studio_state import LOGIN, StudioSession
from apps.tray import TrayView
from apps.tray_state import TrayState
from trulience.config import Settings

COOKIE = "trulience_studio"


class BrowserAddress(JSComponent):
    """The browser's side of the Studio: the open page in the URL and its history (back and
    forward), and the session token in the Studio's cookie."""

    page = param.String("", doc="The page in the URL's `?page=` ('' or login: left as is).")
    token = param.String("", doc="The session token the cookie keeps ('' clears it).")

    _esm = f"""
    const COOKIE = "{COOKIE}"

    function url_page() {{
      return new URL(window.location.href).searchParams.get("page") || ""
    }}

    function show(model, push) {{
      if (!model.page || model.page === "{LOGIN}" || url_page() === model.page) return
      const url = new URL(window.location.href)
      if (push) url.search = ""  // a page's own arguments (a take) stay with that page
      url.searchParams.set("page", model.page)
      if (push) window.history.pushState({{page: model.page}}, "", url)
      else window.history.replaceState({{page: model.page}}, "", url)
    }}

    function keep(model) {{
      const end = model.token ? "" : "; max-age=0"
      document.cookie = `${{COOKIE}}=${{model.token}}; path=/; SameSite=Strict${{end}}`
    }}

    export function render({{ model }}) {{
      show(model, false)
      if (model.token) keep(model)
      model.on("page", () => show(model, true))
      model.on("token", () => keep(model))
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

    def __init__(self, settings: Settings, pages: dict[str, StudioPage] | None = None):
        self.session = session = StudioSession(settings, pages)
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
        self.header = pn.Row(
            self.palette.widget,
            self.tray.widget,
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
        for shown, view in self.views.items():
            view.visible = shown == name
        self.address.param.update(page=name, token=session.token or "")

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
    studio = StudioApp(Settings.from_env(), PAGES)
    studio.start(*_request())
    studio.view().servable(title=theme.STUDIO_NAME)
