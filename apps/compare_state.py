"""The compare app's session state, apart from its views: who is signed in with which keys,
the take and segment chosen and the attempts loaded for it (PRD-101), the scene type chosen
and the grid of each character's newest take stepped to one frame (PRD-68, PRD-36).

Plain Python drives it as the page does (tests/test_compare_state.py): sign in through
`login`, set `take` / `segment` and `show_attempts()` (which also picks two attempts to play
compared, the current and the previous one; set `shown_attempt` / `compared_attempt` to
switch, `compare_mode` and `wipe` to lay them out), set `scene_type` and `show_grid()`,
`step(±1)`. Frames are decoded here, by index (PRD-37); the views (apps/compare_views.py)
only show them.
"""

import html
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import param
import psycopg

from apps.actions import ActionRunner
from apps.login import Login, SignedIn
from apps.media_routes import media_url
from apps.notices import Says
from apps.video_player import COMPARE_MODES
from trulience.auth import users as accounts
from trulience.auth.permissions import Permission, require
from trulience.catalog.comparisons import (
    Attempt,
    CharacterTake,
    SegmentedTake,
    attempts_of,
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
from trulience.media.probe import probe
from trulience.storage import Storage

T = TypeVar("T")


def verdict_lines(qa: dict[str, Any], previous: dict[str, Any] | None) -> list[str]:
    """A QA verdict in words: gates passed and failed, identity median, and what changed
    since the previous attempt."""
    if not qa:
        return ["no QA verdict yet"]
    gates = {g["name"]: g for g in qa.get("gates", []) if isinstance(g, dict) and "name" in g}
    failed = list(qa.get("failed", [g for g, r in gates.items() if not r.get("passed")]))
    passed = [name for name, gate in gates.items() if gate.get("passed")]
    lines = [f"QA **{'passed' if qa.get('passed') else 'failed'}**"]
    lines.append("gates passed: " + (", ".join(passed) or "none"))
    failures = []
    for name in failed:
        message = gates.get(name, {}).get("message")
        failures.append(f"**{name}**" + (f" ({html.escape(message)})" if message else ""))
    lines.append("gates failed: " + (", ".join(failures) or "none"))
    median = _identity_median(qa)
    lines.append("identity median: " + ("n/a" if median is None else f"{median:.3f}"))
    if previous is not None:
        lines.append("vs previous: " + _change(qa, previous))
    return lines


def _identity_median(qa: dict[str, Any]) -> float | None:
    value = (qa.get("metrics") or {}).get("identity_median")
    return float(value) if isinstance(value, int | float) else None


def _change(qa: dict[str, Any], previous: dict[str, Any]) -> str:
    now, before = set(qa.get("failed", [])), set(previous.get("failed", []))
    changes = [f"{name} fixed" for name in sorted(before - now)]
    changes += [f"{name} newly failed" for name in sorted(now - before)]
    median, earlier = _identity_median(qa), _identity_median(previous)
    if median is not None and earlier is not None:
        changes.append(f"identity {median - earlier:+.3f}")
    return ", ".join(changes) or "no change"


def status_of(attempt: Attempt) -> str:
    """The attempt's machine status as the compare view names it."""
    return f"{attempt.status} · current" if attempt.current else attempt.status


def take_label(take: SegmentedTake) -> str:
    """How the take chooser names a take with segments."""
    return f"{take.character} · {take.scene_type} · take {take.take} ({take.project})"


def attempt_heading(attempt: Attempt) -> str:
    """An attempt's number and status, as a card or the compare player heads it."""
    return f"**Attempt {attempt.attempt}** · status `{status_of(attempt)}`"


def change_line(first: Attempt, second: Attempt) -> str:
    """What changed between two compared attempts, from the earlier to the later."""
    if first.attempt == second.attempt:
        return f"attempt {first.attempt} compared with itself"
    early, late = sorted((first, second), key=lambda a: a.attempt)
    if not early.qa or not late.qa:
        return f"attempt {early.attempt} → {late.attempt}: no QA verdict to compare"
    return f"attempt {early.attempt} → {late.attempt}: {_change(late.qa, early.qa)}"


@dataclass(frozen=True)
class AttemptVideo:
    """What the browser plays of an attempt: its file's signed URL and its frame times."""

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
    video: AttemptVideo | None = None


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
class GridTake:
    """A character's newest take in the grid: the take, its local video, its frame count."""

    take: CharacterTake
    video: Path
    frames: int


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
    shown_video = param.ClassSelector(class_=AttemptVideo, default=None, allow_None=True)
    compared_video = param.ClassSelector(class_=AttemptVideo, default=None, allow_None=True)
    compared_lines = param.List(default=[], doc="Each compared attempt's heading and verdict.")
    change = param.String(default="", doc="What changed between the two compared attempts.")
    compare_mode = param.Selector(objects=list(COMPARE_MODES), default="side")
    wipe = param.Number(default=0.5, bounds=(0, 1), doc="The wipe's divider, 0..1 of the width.")
    attempt_frame = param.Integer(default=0, bounds=(0, None), doc="The compare player's frame.")
    scene_types = param.Dict(default={}, doc="Label → slug of scene types with assembled takes.")
    scene_type = param.String(default=None, allow_None=True, doc="The chosen scene type's slug.")
    grid = param.List(default=None, allow_None=True, doc="The grid's takes (None: not asked).")
    total = param.Integer(default=0, doc="Frames every take of the grid has.")
    frame = param.Integer(default=0, doc="The frame the grid shows.")
    pictures = param.List(default=[], doc="That frame of each grid take, decoded.")

    def __init__(self, settings: Settings, **params):
        super().__init__(**params)
        self.url = database_url(settings)
        self.storage = Storage(settings.storage_url, settings.storage_options)
        self._downloads = tempfile.TemporaryDirectory(prefix="trulience-compare-")
        self.login = Login(self.url, "compare", Permission.VIEW, self._signed_in, self._signed_out)
        # a PermissionDenied reads as itself, like every other refusal here
        self.runner = ActionRunner(self.login.expired, self.say, denied="")
        self.param.watch(lambda *_: self._compare(), ["shown_attempt", "compared_attempt"])

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

    def _local_video(self, uri: str) -> Path:
        """A local path to read a video from (downloaded once when storage is remote)."""
        return self.storage.local_file(self.storage.key_of(uri), self._downloads.name)

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

    def _video(self, attempt: Attempt) -> AttemptVideo:
        """An attempt's own file for the browser (a segment has no proxy), with its frame
        times, stored beside it the first time."""
        key = self.storage.key_of(attempt.uri or "")
        times = proxy_frames(self.storage, key)
        return AttemptVideo(media_url(key), times.times, times.fps if times.fps > 0 else 24.0)

    def _compare(self) -> None:
        """The chosen pair's videos, verdicts and change, for the compare player."""
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
        return frame_at(self._local_video(attempt.uri), 0)

    # -- one scene type across characters (PRD-68, PRD-36) -------------------------------

    def show_grid(self) -> None:
        """Load the newest assembled take of each character in the chosen scene type and
        show its first frame."""
        scene_type = self.scene_type
        if scene_type is None:
            return
        takes = self._viewing(lambda conn: newest_takes(conn, scene_type))
        if takes is None:
            return
        loaded = self.runner.run(lambda: [self._grid_take(take) for take in takes])
        grid = [] if loaded is None else loaded.value
        if grid:
            self.hush()
        total = min((g.frames for g in grid), default=0)
        self.param.update(grid=grid, total=total, frame=0)
        self.show_frame(0)

    def _grid_take(self, take: CharacterTake) -> GridTake:
        video = self._local_video(take.uri)
        return GridTake(take, video, probe(video).frames)

    def step(self, delta: int) -> None:
        """Move every take of the grid `delta` frames together."""
        if self.grid:
            self.show_frame(self.frame + delta)

    def show_frame(self, index: int) -> None:
        """Decode frame `index` (kept within the takes) of every take of the grid."""
        if not self.grid:
            return
        index = min(max(index, 0), self.total - 1)
        pictures = [frame_at(g.video, index) for g in self.grid]
        self.param.update(frame=index, pictures=pictures)
