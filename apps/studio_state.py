"""The Studio's session state, apart from its views: one login for every page, the page
open, the pages built so far, the user's theme, and what was said on the way.

Plain Python drives it as the browser does (tests/test_studio_state.py): sign in through
`login` (or `resume(token)` after a reload), `open(name)`, `choose_theme(...)`,
`login.log_out()`. A page is built the first time it is opened, from the registry
(apps/studio_pages.py), and kept; every page shares the one session token. Opening a page
asks the catalog whether the session still stands: a revoked or expired one returns to the
login form with the reason, as does a refusal heard by any page.

What the user left where is theirs to find again (apps/prefs.py): the page open and each
page's filters are saved as they change and restored at the next login; with no page asked
for, the Studio opens the page left open, or the first-run guide on an install with no
character yet (apps/guide.py). The guide leaves the navigation once its steps are done.
"""

from collections.abc import Mapping

import param

from apps.guide_state import guide_needed, install_is_new
from apps.login import Login, SignedIn
from apps.prefs import Layout
from apps.studio_pages import PAGES, PageApp, StudioPage, UnknownPage, pages_for
from trulience.auth import users as accounts
from trulience.auth.errors import AuthError, PermissionDenied
from trulience.auth.permissions import Permission, require
from trulience.catalog.database import connect, database_url
from trulience.catalog.records import User
from trulience.catalog.themes import DEFAULT_THEME, THEMES, set_theme, theme_of
from trulience.config import Settings
from trulience.errors import TrulienceError

LOGIN = "login"
GUIDE = "guide"


class StudioSession(param.Parameterized):
    """One browser session of the Studio (see the module docstring)."""

    user = param.ClassSelector(class_=User, default=None, allow_None=True)
    page = param.String(LOGIN, doc="The page on screen: `login` or a registered page's name.")
    allowed = param.List([], doc="The names of the pages the user's role may open.")
    theme = param.Selector(objects=list(THEMES), default=DEFAULT_THEME)
    message = param.Parameter(None, doc="(message, kind) said over the pages, or None.")

    def __init__(
        self,
        settings: Settings,
        pages: dict[str, StudioPage] | None = None,
        problems: list[object] | None = None,
    ):
        super().__init__()
        self.settings, self.url = settings, database_url(settings)
        self.registry = PAGES if pages is None else pages
        self.login = Login(self.url, "studio", Permission.VIEW, self._signed_in, self._signed_out)
        self.signed_in: SignedIn | None = None
        self.built: dict[str, PageApp] = {}
        # the page asked for before login (a linked URL), with the URL's other arguments
        self.wanted: tuple[str, Mapping[str, str]] | None = None
        self.layout = Layout(self.url)
        self.problems = list(problems or [])  # plugins skipped at start, said at each login

    @property
    def token(self) -> str | None:
        """The session token every page uses (None before login)."""
        return self.login.token

    def resume(self, token: str) -> bool:
        """Carry on the session `token` names (the browser's cookie): whether it stands."""
        return bool(token) and self.login.resume(token) is not None

    def _signed_in(self, signed_in: SignedIn) -> None:
        self.signed_in = signed_in
        with connect(self.url) as conn:
            theme = theme_of(conn, signed_in.user.id)
        self.layout.load(signed_in.user.id)
        names = [page.name for page in pages_for(signed_in.user, self.registry)]
        if GUIDE in names and not guide_needed(self.url):
            names.remove(GUIDE)
        self.param.update(user=signed_in.user, allowed=names, theme=theme, message=None)
        (wanted, args), self.wanted = self.wanted or ("", {}), None
        left = self.layout.get("studio.page")
        if wanted in names:
            self.open(wanted, args)
        elif GUIDE in names and install_is_new(self.url):
            self.open(GUIDE)
        elif left in names:
            self.open(left)
        elif names:
            self.open(names[0])
        else:
            self.say("your role may open no page of the Studio", "warning")
        if self.problems:
            self.say("; ".join(str(problem) for problem in self.problems), "warning")

    def open(self, name: str, args: Mapping[str, str] | None = None) -> PageApp | None:
        """Show the page `name`, built on first opening, given the URL's other `args`; None
        if it may not be opened (said)."""
        if self.signed_in is None:
            self.wanted = (name, args or {})
            return None
        try:
            page = self._page(name)
            with connect(self.url) as conn:
                require(accounts.user_for_session(conn, self.signed_in.token), page.permission)
        except PermissionDenied as denied:
            self.say(f"not allowed: {denied}", "danger")
            return None
        except AuthError as refused:
            self.login.expired(refused)
            return None
        except UnknownPage as unknown:
            self.say(str(unknown), "danger")
            return None
        app = self.built.get(name)
        if app is None:
            self.built[name] = page.build(self.signed_in, self.settings, self._page_ended)
            self.layout.follow(name, self.built[name])
        elif app.login.token is None:  # built for an earlier login: it adopts this one
            app.login.adopt(self.signed_in, self._page_ended)
            self.layout.restore(name)
        self.param.update(page=name, message=None)
        self.layout.save("studio.page", name)
        if args and page.link is not None:
            page.link(self.built[name], args)
        return self.built[name]

    def _page(self, name: str) -> StudioPage:
        if name not in self.registry:
            raise UnknownPage(name, list(self.registry))
        return self.registry[name]

    def choose_theme(self, theme: str) -> None:
        """Switch to `theme` (light or dark) and keep it as the user's choice."""
        if self.signed_in is not None:
            try:
                with connect(self.url) as conn:
                    set_theme(conn, self.signed_in.user.id, theme)
            except TrulienceError as error:
                self.say(str(error), "danger")
                return
        self.theme = theme

    def say(self, message: str, kind: str = "info") -> None:
        """Say `message` over the pages (kind: a Bootstrap alert type)."""
        self.message = (message, kind)

    def _page_ended(self, error: AuthError | None) -> None:
        """A page logged out, or heard its session refused: end it for every page."""
        if self.login.token is None:
            return
        if error is None:
            self.login.log_out()
        else:
            self.login.expired(error)

    def _signed_out(self) -> None:
        """The session ended (logout or refusal): every page forgets it, back to the form."""
        self.signed_in = None
        self.layout.forget()
        # the pages are hidden first, then signed out: their own forms never show
        self.param.update(user=None, allowed=[], page=LOGIN, theme=DEFAULT_THEME)
        for app in self.built.values():
            if app.login.token is not None:
                app.login.release()
