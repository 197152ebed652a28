"""The review app's player, apart from how it is shown: the open take's video, the frame on
screen and how it is composed (onion skin, zoom), stepping and playback.

Frames are decoded on the server by index (PRD-37), never by seeking a browser <video> to
a time, so "frame N" is the frame the reviewer sees. A decoding refusal is said through the
session's `ActionRunner`.
"""

import tempfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import param

from apps.actions import ActionRunner
from trulience.errors import TrulienceError
from trulience.media.frames import frame_at
from trulience.media.probe import probe
from trulience.review import Take
from trulience.review.onion_skin import NEIGHBOURS, neighbour_indices, onion_skin
from trulience.review.zoom import FACTORS, REGIONS, zoom
from trulience.storage import Storage

ZOOM_OFF = "off"
# Decoded frames kept per session: onion skin re-reads the neighbours of each frame.
_FRAME_CACHE = 8
# The visual aids (PRD-37): each change re-composes the frame on screen.
AIDS = ("onion", "opacity", "zoom_region", "zoom_factor")


@dataclass(frozen=True, slots=True)
class SegmentSpan:
    """A current segment of the open take and the take's frames it covers, [start, end)."""

    index: int
    start: int
    end: int


def segment_spans(frames_by_index: dict[int, int | None]) -> list[SegmentSpan]:
    """Segment boundaries in take frames, from each current segment's frame count."""
    spans, start = [], 0
    for index in sorted(frames_by_index):
        end = start + (frames_by_index[index] or 0)
        spans.append(SegmentSpan(index, start, end))
        start = end
    return spans


def storyboard_key(video_key: str) -> str | None:
    """Where a take's storyboard is stored: beside its `scene.mp4`, if it is one."""
    folder, _, name = video_key.rpartition("/")
    return f"{folder}/storyboard.png" if name == "scene.mp4" else None


@dataclass(frozen=True, slots=True, eq=False)
class Frame:
    """The frame on screen: its index of `total`, the picture composed from decoded frames
    (None if decoding failed: the refusal was said), the onion skin's neighbours, the zoomed
    region (None when zoom is off) and the committed segment covering it."""

    index: int
    total: int
    picture: np.ndarray | None
    over: tuple[int, ...]
    zoomed: np.ndarray | None
    region: str
    factor: int
    segment: SegmentSpan | None


class Player(param.Parameterized):
    """The open take in the player: its frames, the one on screen, the aids, playback."""

    index = param.Integer(0, doc="The frame on screen.")
    frame = param.Parameter(None, doc="The `Frame` on screen, or None without a video.")
    storyboard = param.Parameter(None, doc="The open take's storyboard PNG bytes, or None.")
    onion = param.Selector(objects=list(NEIGHBOURS), default="off")
    opacity = param.Integer(50, bounds=(0, 100))
    zoom_region = param.Selector(objects=[ZOOM_OFF, *REGIONS], default=ZOOM_OFF)
    zoom_factor = param.Selector(objects=list(FACTORS), default=FACTORS[0])
    playing = param.Boolean(False)
    drawing = param.Dict(None, allow_None=True, doc="The Drawing JSON on the frame shown.")

    def __init__(self, storage: Storage, actions: ActionRunner):
        super().__init__()
        self.storage, self.actions = storage, actions
        self.take: Take | None = None
        self.video: Path | None = None
        self.total, self.fps = 0, 0.0
        self.segments: list[SegmentSpan] = []
        self._frames: OrderedDict[int, np.ndarray] = OrderedDict()
        self._downloads = tempfile.TemporaryDirectory(prefix="trulience-review-")
        self.param.watch(lambda *_: self.show_frame(), list(AIDS))

    def load(self, take: Take) -> bool:
        """Open `take` at its first frame: fetch its video (once, when storage is remote),
        read its frame count and storyboard; whether it has a video to show."""
        self._frames.clear()
        self.param.update(playing=False, index=0)
        self.take = take
        loaded = self.actions.run(lambda: self._probe(take)) is not None
        if not loaded:
            self.video, self.total, self.fps, self.segments = None, 0, 0.0, []
            self.frame = None
        board = self.actions.run(lambda: self._storyboard(take.uri))
        self.storyboard = None if board is None else board.value
        return loaded

    def show(self, segments: list[SegmentSpan]) -> None:
        """Show the loaded take's first frame; `segments` are its committed segments."""
        self.segments = segments
        self.show_frame()

    def close(self) -> None:
        """No take is open (back to the queue or the login form)."""
        self.take = None
        self.playing = False

    def _probe(self, take: Take) -> None:
        if take.uri is None:
            raise TrulienceError(f"take {take.take} has no video yet")
        self.video = self.storage.local_file(self.storage.key_of(take.uri), self._downloads.name)
        found_video = probe(self.video)
        self.total, self.fps = found_video.frames, float(found_video.fps)

    def _storyboard(self, uri: str | None) -> bytes | None:
        """The take's storyboard strip, or None if it has none."""
        key = None if uri is None else storyboard_key(self.storage.key_of(uri))
        if key is None or not self.storage.exists(key):
            return None
        return self.storage.read_bytes(key)

    def step(self, delta: int) -> None:
        """Move `delta` frames, staying within the take."""
        if self.take is None or self.video is None:
            return
        self.index = min(max(self.index + delta, 0), self.total - 1)
        self.show_frame()

    def go_to(self, index: int) -> None:
        """Show frame `index` (the jog slider's value), staying within the take."""
        if self.take is None or self.video is None or index == self.index:
            return
        self.index = min(max(index, 0), self.total - 1)
        self.show_frame()

    def jump_to(self, frame: int) -> None:
        """Show a note's frame in the player (pausing playback)."""
        self.pause()
        self.go_to(frame)

    @property
    def period_ms(self) -> int:
        """How often playback advances a frame: the take's fps (24 if it has none)."""
        return round(1000 / self.fps) if self.fps > 0 else 1000 // 24

    def toggle_play(self) -> None:
        """Play the take from the frame on screen at its fps, or pause it where it is."""
        if self.playing:
            self.pause()
        else:
            self.play()

    def play(self) -> None:
        """Start playing (the player advances every `period_ms`), up to the last frame."""
        if self.take is None or self.video is None or self.playing:
            return
        if self.index >= self.total - 1:  # at the end: play again from the start
            self.index = 0
            self.show_frame()
        self.playing = True

    def pause(self) -> None:
        """Stop playing; the frame on screen is the decoded frame at the index."""
        self.playing = False

    def advance(self) -> None:
        """One tick of playback: the next frame, pausing at the last."""
        if self.take is None or self.video is None or self.index >= self.total - 1:
            self.pause()
            return
        self.step(+1)
        if self.index >= self.total - 1:
            self.pause()

    def show_frame(self) -> None:
        """Decode the frame at the index on the server and compose it: blended with its
        neighbours when onion skin is on, a region enlarged when zoom is on, all from
        full-resolution decoded frames."""
        if self.video is None:
            return
        over = neighbour_indices(self.index, self.total, self.onion)
        composed = self.actions.run(
            lambda: onion_skin(
                self._decoded(self.index), [self._decoded(i) for i in over], self.opacity / 100
            )
        )
        picture = None if composed is None else composed.value
        region, factor = self.zoom_region, self.zoom_factor
        zoomed = None if picture is None or region == ZOOM_OFF else zoom(picture, region, factor)
        self.frame = Frame(
            self.index, self.total, picture, tuple(over), zoomed, region, factor, self.segment()
        )

    def _decoded(self, index: int) -> np.ndarray:
        """Frame `index` of the open take, decoded on the server (recent ones kept)."""
        assert self.video is not None
        if index not in self._frames:
            self._frames[index] = frame_at(self.video, index)
            while len(self._frames) > _FRAME_CACHE:
                self._frames.popitem(last=False)
        self._frames.move_to_end(index)
        return self._frames[index]

    def segment(self) -> SegmentSpan | None:
        """The committed segment covering the frame on screen, if one does."""
        return next((s for s in self.segments if s.start <= self.index < s.end), None)
