"""The compare app: attempts of one segment, or two whole takes of a scene type, side by side
(PRD-101), and one scene type across characters in a grid of real videos playing in sync
(PRD-68, PRD-36).

Serve with `panel serve apps/compare.py --plugins apps.media_routes`. Read-only: any role
with the view permission may use it. Two attempts of a segment, or two takes (two
characters', or two takes or branches of one cell), play in the browser player
(`apps/video_player.py`) in its compare mode, side by side or as a wipe, the second following
the first frame for frame, with their QA and its change beside. The grid
(`apps/video_grid.py`) plays each character's newest take from its proxy, every cell kept on
the longest one and naming its frame from the proxy's real frame times. The grid also steps
with the logged-in user's own back / forward keys, the same ones the review app uses
(PRD-52); the compare player leaves those keys to it.

The page is a `CompareSession` (apps/compare_state.py) and the views over it
(apps/compare_views.py); this module puts them on one page with the user's keys.
"""

import panel as pn

from apps import theme
from apps.compare_state import CompareSession
from apps.compare_views import AttemptsView, ComparePlayerView, GridView, TakesView
from apps.notices import NoticeBox
from apps.shortcuts import ShortcutKeys
from trulience.config import Settings


class CompareApp:
    """One browser session of the compare app; holds that session's login token."""

    def __init__(self, settings: Settings):
        self.session = session = CompareSession(settings)
        self.login = session.login
        self.login_view = self.login.form
        self.shortcuts = ShortcutKeys(
            {"back": lambda: session.step(-1), "forward": lambda: session.step(+1)}
        )
        session.param.watch(lambda event: self.shortcuts.use(event.new), "keys")
        self.notice = NoticeBox(session=session)
        self.attempts = AttemptsView(session=session)
        self.takes = TakesView(session=session)
        self.compare = ComparePlayerView(session=session)
        self.grid = GridView(session=session)
        self.compare_view = pn.Column(
            pn.Row(self.login.who, self.login.logout_button),
            self.notice,
            self.attempts,
            self.takes,
            self.compare,
            self.grid,
            self.shortcuts.legend,
            sizing_mode="stretch_width",
        )
        # Both views stay in the page, only one visible (see apps/review.py for why).
        self.body = pn.Column(self.login_view, self.compare_view, sizing_mode="stretch_width")
        session.param.watch(lambda _: self._show_signed_in(), "user")
        self._show_signed_in()
        self.root = theme.page("Compare", self.body, self.shortcuts.keyboard)

    @property
    def token(self) -> str | None:
        """The session token of the logged-in user (None before login)."""
        return self.login.token

    def _show_signed_in(self) -> None:
        """The compare views for a signed-in user, the login form otherwise."""
        signed_in = self.session.user is not None
        self.login_view.visible, self.compare_view.visible = not signed_in, signed_in

    def view(self) -> pn.Column:
        """The app's root layout, to be made servable."""
        return self.root


if __name__.startswith("bokeh"):
    theme.setup()
    CompareApp(Settings.from_env()).view().servable(title="Trulience · Compare")
