"""The review app: log in, pick a take from the queue, step it frame by frame, decide, note.

The queue filters by project and character and approves several takes at once; the player
shows the take's storyboard, rejects the segment under the current frame, lays the
neighbouring frames over the current one (onion skin) and enlarges a region of it (zoom);
notes are threaded, with replies, and resolved or reopened; a tray lists the user's unread
notifications. The segment on screen is trimmed at its head or tail (PRD-78), and the
take's branches are listed, compared with the current take in the player and promoted
(PRD-50). Keys are the logged-in user's own shortcut table (`trulience users
shortcuts`), beside the player's own (arrows, J/K/L, I/O, Shift+F); the layout stacks on a
tablet or phone (PRD-55), where a swipe on the picture steps frames, a tap plays or pauses
and the decisions are buttons big enough for a finger.

Serve with `panel serve apps/review.py --plugins apps.media_routes` (the proxies' media
URLs). Every action calls `trulience.review` with the session's token, so permissions and
the audit log hold exactly as in the pipeline; the app only turns refusals into messages.
The browser plays the take's proxy natively, and names the frame on screen from the proxy's
real frame times (`apps/video_player.py`), so "frame N" is the frame the reviewer sees.

This module assembles the app: the session's state is `apps/review_state.py` (and its
player, `apps/review_player.py`), the parts that show it are `apps/review_views.py`,
`apps/review_player_view.py` and `apps/review_branches_view.py`.
"""

import panel as pn

from apps import theme
from apps.live import Hub, hub
from apps.login import Login, SignedIn
from apps.review_branches_view import BranchesView, TrimView
from apps.review_player_view import PlayerView
from apps.review_queue_view import QueueView, TrayView
from apps.review_room import FOLLOWER, ReviewRoom
from apps.review_room_views import RoomView
from apps.review_state import ReviewSession
from apps.review_views import DecisionsView, NotesView, touch_sized, wrapping
from apps.shortcuts import ShortcutKeys
from trulience.auth.permissions import Permission
from trulience.catalog.database import database_url
from trulience.config import Settings
from trulience.review import Take
from trulience.review.shortcuts import HELP_KEY
from trulience.storage import Storage


class ReviewApp:
    """One browser session of the review app: the login, the session's state, its views."""

    def __init__(self, settings: Settings):
        self.url = database_url(settings)
        # Anyone who may view may open the review app; deciding is checked per action.
        self.login = Login(self.url, "review", Permission.VIEW, self._signed_in, self._signed_out)
        # the process's listener (others' notes, decisions, rooms) for a served page; a
        # page built in plain Python has no document to run events on
        live = hub(self.url) if pn.state.curdoc is not None else None
        self.session = session = ReviewSession(
            self.url,
            Storage(settings.storage_url, settings.storage_options),
            self.login.expired,
            live,
        )
        player = session.player
        self.room = self._room(live)
        self.shortcuts = ShortcutKeys(
            {
                "back": lambda: player.step(-1),
                "forward": lambda: player.step(+1),
                "approve": lambda: session.decide("approve"),
                "reject": lambda: session.decide("reject"),
                "flag": lambda: session.decide("flag"),
                "play": player.toggle_play,
            }
        )
        self.tray, self.queue = TrayView(session), QueueView(session)
        self.picture = PlayerView(player, self.shortcuts)
        self.decisions = DecisionsView(session, self.shortcuts)
        self.notes = NotesView(session)
        self.trim, self.branches = TrimView(session), BranchesView(session)
        self.login_view = self.login.form
        self.queue_view = self._queue_page()
        self.player_view = self._player_page()
        # All three views stay in the page and only one is visible: swapping the objects of
        # a layout in and out makes Bokeh re-register their models ("reference already known").
        self.views = {
            "login": self.login_view,
            "queue": self.queue_view,
            "player": self.player_view,
        }
        session.param.watch(lambda _: self._show(), "screen")
        self._show()
        self.body = pn.Column(*self.views.values(), sizing_mode="stretch_width")
        self.root = theme.page("Review", self.body, self.shortcuts.keyboard)

    @property
    def token(self) -> str | None:
        """The session token of the logged-in user (None before login)."""
        return self.login.token

    def _queue_page(self) -> pn.Column:
        refresh_queue = pn.widgets.Button(label="Refresh queue")
        refresh_queue.on_click(lambda _: self.session.show_queue())
        return pn.Column(
            wrapping(self.login.who, refresh_queue, self.login.logout_button),
            self.tray,
            self.queue,
            sizing_mode="stretch_width",
        )

    def _player_page(self) -> pn.Column:
        back = pn.widgets.Button(label="Back to queue")
        back.on_click(lambda _: self.session.show_queue())
        touch_sized(back)
        title = pn.pane.Markdown("")

        def entitle(take: Take | None) -> None:
            if take is not None:
                title.object = f"### {take.character} · {take.scene_type} · take {take.take}"

        self.session.param.watch(lambda e: entitle(e.new), "take")
        viewer = self.picture.__panel__()
        side = pn.Column(
            RoomView(
                self.room, lambda: None if self.session.take is None else self.session.take.scene_id
            ),
            self.decisions,
            self.trim,
            self.branches,
            self.notes,
            self.shortcuts.legend,
            sizing_mode="stretch_width",
            styles={"flex": "1 1 300px", "min-width": "0"},
            css_classes=["review-side"],
        )
        # Side by side on a wide screen; the side panel wraps below the player on a narrow
        # one, so a tablet or phone never scrolls sideways (PRD-55).
        return pn.Column(
            wrapping(back, title),
            pn.FlexBox(viewer, side, flex_wrap="wrap", gap="16px", sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )

    def _room(self, live: Hub | None) -> ReviewRoom:
        """The session's review room: left when the take closes or the user signs out."""
        session, player = self.session, self.session.player
        room = ReviewRoom(
            player,
            live,
            session.actions,
            lambda: None if session.user is None else session.user.username,
        )
        session.param.watch(lambda _: room.leave(), "take")
        # a follower's controls are inert in the browser while the presenter leads
        room.param.watch(lambda e: setattr(player, "following", e.new == FOLLOWER), "role")
        return room

    def _show(self) -> None:
        for name, view in self.views.items():
            view.visible = name == self.session.screen

    def view(self) -> pn.Column:
        """The app's root layout, to be made servable."""
        return self.root

    def _signed_in(self, signed_in: SignedIn) -> None:
        """After login: the user's own keys, then the session (what the role may do, the
        queue)."""
        self.shortcuts.use(signed_in.shortcuts.table)
        self.picture.use_keys([*self.shortcuts.table.values(), HELP_KEY])
        self.session.sign_in(signed_in)

    def _signed_out(self) -> None:
        """After logout or a refused session: back to the login form."""
        self.session.sign_out()


if __name__.startswith("bokeh"):
    theme.setup()
    ReviewApp(Settings.from_env()).view().servable(title="Trulience · Review")
