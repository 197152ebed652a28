"""The review room (PRD-11): one reviewer presents the open take, the others follow; play,
pause and the frame on screen move with the presenter.

A room is a take (its id is the room's) and lives on the channel `trulience_room` only, as
events through the process's `apps.live` hub, so rooms span server processes and need no
table. What is published:

- the presenter's state, on every pause, play or step (while playing, at most once a second,
  as a resync): `{"room": take, "frame": n, "playing": bool, "presenter": username}`;
- a follower joining or leaving: `{"room": take, "joined" | "left": username}` (the
  presenter answers a join with its state, so a late joiner lands on the same frame);
- the presenter leaving: `{"room": take, "ended": username}`.

Only the `Player`'s `index` and `playing` are read and set. While following, a follower's
own step, seek or play is undone at once; a player that stops (at the take's end, or paused
by the follower) stays stopped until the presenter's next event. "Leave room" frees them.
"""

import time
from collections.abc import Callable
from typing import Any

import param

from apps.actions import ActionRunner
from apps.live import Hub
from apps.review_player import Player
from trulience.catalog.events import ROOM

ALONE, PRESENTER, FOLLOWER = "alone", "presenter", "follower"
# While the presenter plays, where it is is sent this often (followers play on their own).
RESYNC_S = 1.0


class ReviewRoom(param.Parameterized):
    """This session's place in a review room: alone, presenting or following (see module)."""

    role = param.Selector(objects=[ALONE, PRESENTER, FOLLOWER], default=ALONE)
    room = param.Integer(None, allow_None=True, doc="The room's take id, or None when alone.")
    presenter = param.String(None, allow_None=True, doc="Who presents (None: nobody yet).")
    followers = param.List([], doc="Who follows (as the presenter heard them join).")

    def __init__(
        self,
        player: Player,
        live: Hub | None,
        actions: ActionRunner,
        who: Callable[[], str | None],
        redraw: Callable[[], None] | None = None,
    ):
        super().__init__()
        self.player, self.live, self.actions, self.who = player, live, actions, who
        # `redraw`: what makes the player show its `index` after the room set it, for a
        # player whose picture does not follow `index` by itself.
        self.redraw = redraw
        self._unsubscribe: Callable[[], None] | None = None
        self._applying = False
        self._sent_at = 0.0
        self._state: tuple[int, bool] | None = None  # the presenter's (frame, playing)
        player.param.watch(self._moved, ["index", "playing"])

    @property
    def following(self) -> bool:
        """Whether this session's player follows a presenter (its own stepping undone)."""
        return self.role == FOLLOWER

    # -- actions -------------------------------------------------------------------------

    def start(self, take_id: int | None) -> None:
        """Start a room on the open take, presenting it from where the player is."""
        if not self._enter(take_id):
            return
        self.param.update(role=PRESENTER, presenter=self.who(), followers=[])
        self._send_state()
        self.actions.say("presenting: the room follows your play, pause and frame", "info")

    def join(self, take_id: int | None) -> None:
        """Join the room on the open take: the player follows its presenter from now on."""
        if not self._enter(take_id):
            return
        self.param.update(role=FOLLOWER, presenter=None, followers=[])
        self._publish({"joined": self.who()})
        self.actions.say("joined the room: waiting for the presenter", "info")

    def leave(self) -> None:
        """Leave the room (a presenter's leaving ends it for everyone)."""
        if self.room is None:
            return
        if self.role == PRESENTER:
            self._publish({"ended": self.who()})
        elif self.role == FOLLOWER:
            self._publish({"left": self.who()})
        self._quit()

    def _enter(self, take_id: int | None) -> bool:
        if take_id is None or self.live is None or self.who() is None:
            self.actions.say("open a take to start or join its room", "warning")
            return False
        self.leave()
        self.room, self._state = take_id, None
        self._unsubscribe = self.live.subscribe(take_id, self.heard, channel=ROOM)
        return True

    def _quit(self) -> None:
        unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()
        self._state = None
        self.param.update(role=ALONE, room=None, presenter=None, followers=[])

    # -- what the room hears -------------------------------------------------------------

    def heard(self, event: dict[str, Any]) -> None:
        """An event of the room (on this session's document)."""
        if event.get("room") != self.room or self.room is None:
            return
        if self.role == PRESENTER:
            self._heard_as_presenter(event)
        elif self.role == FOLLOWER:
            self._heard_as_follower(event)

    def _heard_as_presenter(self, event: dict[str, Any]) -> None:
        joined, left = event.get("joined"), event.get("left")
        if isinstance(joined, str):
            self.followers = [*(f for f in self.followers if f != joined), joined]
            self._send_state()  # a late joiner lands where the room is
        elif isinstance(left, str):
            self.followers = [f for f in self.followers if f != left]

    def _heard_as_follower(self, event: dict[str, Any]) -> None:
        if isinstance(event.get("ended"), str):
            self.actions.say(f"{event['ended']} ended the room", "info")
            self._quit()
            return
        frame, playing, presenter = event.get("frame"), event.get("playing"), event.get("presenter")
        if isinstance(frame, int) and isinstance(playing, bool) and isinstance(presenter, str):
            if presenter != self.presenter:
                self.presenter = presenter
            self._state = (frame, playing)
            self._apply()

    def _apply(self) -> None:
        """Put the player where the presenter is."""
        if self._state is None:
            return
        frame, playing = self._state
        self._applying = True
        try:
            self.player.param.update(index=frame, playing=playing)
        finally:
            self._applying = False
        if self.redraw is not None:
            self.redraw()

    # -- what the player does --------------------------------------------------------------

    def _moved(self, *changes: param.parameterized.Event) -> None:
        if self._applying:
            return
        changed = {change.name: change.new for change in changes}
        # a step of playback (its own, in a follower): the index moved while playing
        playback = "playing" not in changed and self.player.playing
        if self.role == PRESENTER:
            if not playback or time.monotonic() - self._sent_at >= RESYNC_S:
                self._send_state()
            return
        # a follower's own playback moving on, or stopping, stays; anything else is undone
        own_playback = playback or changed.get("playing") is False
        if self.role == FOLLOWER and self._state is not None and not own_playback:
            self._apply()

    def _send_state(self) -> None:
        self._sent_at = time.monotonic()
        self._publish(
            {"frame": self.player.index, "playing": self.player.playing, "presenter": self.who()}
        )

    def _publish(self, payload: dict[str, Any]) -> None:
        live, room = self.live, self.room
        if live is not None and room is not None:
            self.actions.run(lambda: live.publish(ROOM, {"room": room, **payload}))
