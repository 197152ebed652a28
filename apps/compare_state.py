"""The compare app's session state, apart from its views: who is signed in with which keys,
the take and segment chosen and the attempts loaded for it (PRD-101), two whole takes of a
scene type compared (PRD-101, PRD-50), and the scene type chosen with the grid of each
character's newest take played in sync in the browser (PRD-68, PRD-36).

Plain Python drives it as the page does (tests/test_compare_state.py): sign in through
`login`, set `take` / `segment` and `show_attempts()` (which also picks two attempts to play
compared, the current and the previous one; set `shown_attempt` / `compared_attempt` to
switch, `compare_mode` and `wipe` to lay them out); or set `scene_type`, `first_take` /
`second_take` and `compare_takes()` to play two takes compared in the same player, each with
its QA (that of its current segments) and the change between them; set `scene_type` and
`show_grid()` for the grid, whose frame `step(±1)` moves. The browser plays every video from
its proxy and frame times (nothing is decoded here but the attempts' first frames).
"""

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import param
import psycopg

from apps.actions import ActionRunner
from apps.compare_words import (
    attempt_heading,
    change_line,
    grid_verdict,
    pair_label,
    take_change_line,
    take_label,
    take_qa,
    take_verdict_lines,
    verdict_lines,
)
from apps.login import Login, SignedIn
from apps.media_routes import media_url
from apps.notices import Says
from apps.review_player import proxy_key
from apps.video_player import COMPARE_MODES
from trulience.auth import users as accounts
from trulience.auth.permissions import Permission, require
from trulience.catalog.comparisons import (
    Attempt,
    CharacterTake,
    assembled_takes,
    attempts_of,
    current_verdicts,
    newest_takes,
    scene_types_with_takes,
    takes_with_segments,
)
from trulience.catalog.database import connect, database_url
from trulience.catalog.records import User
from trulience.config import Settings
from trulience.errors import TrulienceError
from trulience.media.frame_times import proxy_frames
from trulience.media.frames import frame_at
from trulience.review.sensitivity import blurred_for
from trulience.storage import Storage

T = TypeVar("T")
# A video's signed URL (valid an hour) is given again for this long, so that comparing the
# same video again does not make the browser load it anew.
RESIGN_S = 1800.0


@dataclass(frozen=True)
class BrowserVideo:
    """What the browser plays of an attempt or a take: its file's signed URL (a take's
    proxy, an attempt's own file) and its frame times."""

    src: str
    times: tuple[float, ...]
    fps: float


@dataclass(frozen=True)
class AttemptCard:
    """One attempt as its card shows it: its first frame (or why there is none), its
    status and verdict in words, and its video for the compare player (None: none)."""

    attempt: Attempt
    frame: np.ndarray | None
    problem: str | None
    lines: list[str]
    video: BrowserVideo | None = None


def default_pair(cards: list[AttemptCard]) -> tuple[int | None, int | None]:
    """The attempts compared first: the current one (else the newest) and the one before
    it (None when there is no other)."""
    if not cards:
        return None, None
    numbers = [c.attempt.attempt for c in cards]
    current = [c.attempt.attempt for c in cards if c.attempt.current]
    shown = current[0] if current else numbers[-1]
    earlier = [n for n in numbers if n < shown]
    later = [n for n in numbers if n > shown]
    compared = earlier[-1] if earlier else (later[0] if later else None)
    return shown, compared


@dataclass(frozen=True)
class GridCell:
    """A character's newest take in the grid: the take, its proxy for the browser, its QA
    verdict in one line and whether the user sees it blurred."""

    take: CharacterTake
    video: BrowserVideo
    verdict: str
    blurred: bool

    def to_data(self) -> dict[str, Any]:
        """The cell as the browser grid (apps/video_grid.py) takes it."""
        return {
            "src": self.video.src,
            "times": list(self.video.times),
            "fps": self.video.fps,
            "name": self.take.character,
            "take": self.take.take,
            "verdict": self.verdict,
            "blurred": self.blurred,
        }


def _kept(chosen: T | None, choices: dict[str, T]) -> T | None:
    """What stays chosen when the choices change: the same, or else the first (a chooser's
    rule)."""
    return chosen if chosen in choices.values() else next(iter(choices.values()), None)


class CompareSession(Says):
    """One browser session of the compare app; reads nothing until a login with view."""

    user = param.ClassSelector(class_=User, default=None, allow_None=True)
    keys = param.Dict(default={}, doc="The user's action → key table.")
    takes = param.Dict(default={}, doc="Label → scene id of every take with segments.")
    take = param.Integer(default=None, allow_None=True, doc="The chosen take's scene id.")
    segment = param.Integer(default=0, bounds=(0, None), allow_None=True)
    attempts = param.List(default=None, allow_None=True, doc="Cards of the loaded attempts.")
    shown_segment = param.Integer(default=None, allow_None=True, doc="Whose attempts those are.")
    playable = param.Dict(default={}, doc="Label → number of the loaded attempts with a video.")
    shown_attempt = param.Integer(default=None, allow_None=True, doc="The attempt played.")
    compared_attempt = param.Integer(default=None, allow_None=True, doc="The one beside it.")
    shown_video = param.ClassSelector(class_=BrowserVideo, default=None, allow_None=True)
    compared_video = param.ClassSelector(class_=BrowserVideo, default=None, allow_None=True)
    comparing = param.Selector(objects=["attempts", "takes"], default="attempts")
    compared_lines = param.List(default=[], doc="Each compared video's heading and verdict.")
    change = param.String(default="", doc="What changed between the two compared videos.")
    compared_blurred = param.Boolean(default=False, doc="A compared take is sensitive.")
    compare_mode = param.Selector(objects=list(COMPARE_MODES), default="side")
    wipe = param.Number(default=0.5, bounds=(0, 1), doc="The wipe's divider, 0..1 of the width.")
    attempt_frame = param.Integer(default=0, bounds=(0, None), doc="The compare player's frame.")
    scene_types = param.Dict(default={}, doc="Label → slug of scene types with assembled takes.")
    scene_type = param.String(default=None, allow_None=True, doc="The chosen scene type's slug.")
    pair_takes = param.Dict(default={}, doc="Label → scene id of the scene type's takes.")
    first_take = param.Integer(default=None, allow_None=True, doc="The take played.")
    second_take = param.Integer(default=None, allow_None=True, doc="The take beside it.")
    grid = param.List(default=None, allow_None=True, doc="The grid's cells (None: not asked).")
    total = param.Integer(default=0, doc="Frames of the grid's longest take.")
    frame = param.Integer(default=0, bounds=(0, None), doc="The frame the grid shows.")

    def __init__(self, settings: Settings, **params):
        super().__init__(**params)
        self.url = database_url(settings)
        self.storage = Storage(settings.storage_url, settings.storage_options)
        self._downloads = tempfile.TemporaryDirectory(prefix="trulience-compare-")
        self.login = Login(self.url, "compare", Permission.VIEW, self._signed_in, self._signed_out)
        # a PermissionDenied reads as itself, like every other refusal here
        self.runner = ActionRunner(self.login.expired, self.say, denied="")
        self.param.watch(lambda *_: self._compare(), ["shown_attempt", "compared_attempt"])
        self.param.watch(lambda *_: self._pair_choices(), "scene_type")
        self._pair: dict[int, CharacterTake] = {}
        self._signed: dict[str, tuple[str, tuple[float, ...], float]] = {}

    # -- login ---------------------------------------------------------------------------

    def _signed_in(self, signed_in: SignedIn) -> None:
        """After login: the user's own keys, the takes and scene types to choose from."""
        with connect(self.url) as conn:
            takes = {take_label(t): t.scene_id for t in takes_with_segments(conn)}
            scene_types = {t.name: t.slug for t in scene_types_with_takes(conn)}
        self.param.update(
            keys=dict(signed_in.shortcuts.table),
            takes=takes,
            take=_kept(self.take, takes),
            scene_types=scene_types,
            scene_type=_kept(self.scene_type, scene_types),
            user=signed_in.user,
        )
        self._pair_choices()

    def _signed_out(self) -> None:
        """After logout or a refused session: back to the login form."""
        self.user = None

    def _viewing(self, read: Callable[[psycopg.Connection], T]) -> T | None:
        """`read` from the catalog while this session may still view; None when it may not
        (an expired session goes back to login, any other refusal is said)."""
        if self.login.token is None:
            return None
        token = self.login.token

        def checked() -> T:
            with connect(self.url) as conn:
                require(accounts.user_for_session(conn, token), Permission.VIEW)
                return read(conn)

        done = self.runner.run(checked)
        return None if done is None else done.value

    def _browser_video(self, key: str) -> BrowserVideo:
        """Stored video `key` for the browser: its signed URL (the one given before, while it
        is fresh and the video's frame times are the same) and frame times (stored beside it
        the first time)."""
        times = proxy_frames(self.storage, key)
        signed = self._signed.get(key)
        if signed is None or signed[1] != times.times or time.monotonic() - signed[2] > RESIGN_S:
            signed = self._signed[key] = (media_url(key), times.times, time.monotonic())
        return BrowserVideo(signed[0], times.times, times.fps if times.fps > 0 else 24.0)

    def _take_video(self, take: CharacterTake) -> BrowserVideo:
        """What the browser plays of a take: its proxy, as the review player does."""
        return self._browser_video(proxy_key(self.storage, self.storage.key_of(take.uri)))

    # -- attempts of a segment (PRD-101) -------------------------------------------------

    def show_attempts(self) -> None:
        """Load every attempt at the chosen segment, each with its first frame and verdict."""
        scene_id, index = self.take, self.segment
        if scene_id is None or index is None:
            return
        attempts = self._viewing(lambda conn: attempts_of(conn, scene_id, index))
        if attempts is None:
            return
        self.hush()
        cards, previous = [], None
        for attempt in attempts:
            cards.append(self._card(attempt, previous))
            previous = attempt.qa
        playable = {f"attempt {c.attempt.attempt}": c.attempt.attempt for c in cards if c.video}
        shown, compared = default_pair([c for c in cards if c.video])
        self.param.update(
            comparing="attempts",
            compared_blurred=False,
            attempts=cards,
            shown_segment=index,
            playable=playable,
            shown_attempt=shown,
            compared_attempt=compared,
            attempt_frame=0,
        )
        self._compare()  # also when the pair's numbers stay and the segment changed

    def _card(self, attempt: Attempt, previous: dict[str, Any] | None) -> AttemptCard:
        problems: list[str] = []

        def said(message: str, _kind: str) -> None:
            problems.append(message)

        decoded = self.runner.run(lambda: self._first_frame(attempt), say=said)
        video = None if decoded is None else self.runner.run(lambda: self._video(attempt), say=said)
        lines = [attempt_heading(attempt), *verdict_lines(attempt.qa, previous)]
        frame = None if decoded is None else decoded.value
        return AttemptCard(
            attempt,
            frame,
            problems[0] if problems else None,
            lines,
            None if video is None else video.value,
        )

    def _video(self, attempt: Attempt) -> BrowserVideo:
        """An attempt's own file for the browser (a segment has no proxy), with its frame
        times, stored beside it the first time."""
        return self._browser_video(self.storage.key_of(attempt.uri or ""))

    def _compare(self) -> None:
        """The chosen pair's videos, verdicts and change, for the compare player."""
        if self.comparing != "attempts":
            return
        cards = {c.attempt.attempt: c for c in self.attempts or [] if c.video}
        shown, compared = cards.get(self.shown_attempt), cards.get(self.compared_attempt)
        chosen = [c for c in (shown, compared) if c is not None]
        lines = [[attempt_heading(c.attempt), *verdict_lines(c.attempt.qa, None)] for c in chosen]
        self.param.update(
            shown_video=shown and shown.video,
            compared_video=compared and compared.video,
            compared_lines=lines,
            change="" if len(chosen) < 2 else change_line(chosen[0].attempt, chosen[1].attempt),
        )

    def _first_frame(self, attempt: Attempt) -> np.ndarray:
        if attempt.uri is None:
            raise TrulienceError(f"attempt {attempt.attempt} has no video")
        key = self.storage.key_of(attempt.uri)
        return frame_at(self.storage.local_file(key, self._downloads.name), 0)

    # -- two whole takes of a scene type (PRD-101, PRD-50) --------------------------------

    def _pair_choices(self) -> None:
        """The takes of the chosen scene type to compare two of: each character's takes and
        branches; the chosen ones kept while they are still there."""
        scene_type = self.scene_type
        takes = (
            [] if scene_type is None else self._viewing(lambda c: assembled_takes(c, scene_type))
        )
        self._pair = {t.scene_id: t for t in takes or []}
        choices = {pair_label(t): t.scene_id for t in takes or []}
        first = _kept(self.first_take, choices)
        others = {k: v for k, v in choices.items() if v != first} or choices
        second = self.second_take if self.second_take in others.values() else _kept(None, others)
        self.param.update(pair_takes=choices, first_take=first, second_take=second)

    def compare_takes(self) -> None:
        """Play the two chosen takes compared, each with its QA and the change between them."""
        first, second = self._pair.get(self.first_take), self._pair.get(self.second_take)
        if first is None or second is None:
            self.say("Choose two takes of the scene type to compare.", "warning")
            return
        user = self.user
        found = self._viewing(
            lambda conn: (
                current_verdicts(conn, [first.scene_id, second.scene_id]),
                any(blurred_for(conn, user, t.scene_id) for t in (first, second)),
            )
        )
        if found is None:
            return
        verdicts, blurred = found
        videos = self.runner.run(lambda: [self._take_video(t) for t in (first, second)])
        if videos is None:
            return
        self.hush()
        qa = {
            t.scene_id: take_qa([v for v in verdicts if v.scene_id == t.scene_id])
            for t in (first, second)
        }
        self.param.update(
            comparing="takes",
            shown_video=videos.value[0],
            compared_video=videos.value[1],
            compared_lines=[
                [f"**{pair_label(t)}**", *take_verdict_lines(qa[t.scene_id])]
                for t in (first, second)
            ],
            change=take_change_line(first, qa[first.scene_id], second, qa[second.scene_id]),
            compared_blurred=blurred,
            attempt_frame=0,
        )

    # -- one scene type across characters (PRD-68, PRD-36) -------------------------------

    def show_grid(self) -> None:
        """Load the newest assembled take of each character in the chosen scene type, each
        with its proxy, its QA verdict and whether it is blurred, at the first frame."""
        scene_type, user = self.scene_type, self.user
        if scene_type is None:
            return

        def read(conn: psycopg.Connection):
            takes = newest_takes(conn, scene_type)
            verdicts = current_verdicts(conn, [t.scene_id for t in takes])
            return takes, verdicts, {t.scene_id: blurred_for(conn, user, t.scene_id) for t in takes}

        found = self._viewing(read)
        if found is None:
            return
        takes, verdicts, blurred = found

        def cell(take: CharacterTake) -> GridCell:
            qa = take_qa([v for v in verdicts if v.scene_id == take.scene_id])
            return GridCell(take, self._take_video(take), grid_verdict(qa), blurred[take.scene_id])

        loaded = self.runner.run(lambda: [cell(take) for take in takes])
        grid = [] if loaded is None else loaded.value
        if grid:
            self.hush()
        total = max((len(c.video.times) for c in grid), default=0)
        self.param.update(grid=grid, total=total, frame=0)

    def step(self, delta: int) -> None:
        """Move the grid's frame `delta` frames (kept within its longest take)."""
        if self.grid:
            self.frame = min(max(self.frame + delta, 0), self.total - 1)
