"""The review app's player, apart from how it is shown: the open take's proxy and frame
times, the frame on screen, playback (rate, loop, in/out points), the drawing tool and the
drawing on the frame shown, and the scrubber's markers.

The browser plays the proxy natively (`apps/video_player.py`, linked to this state by the
view): frame accuracy comes from the proxy's real frame times, so "frame N" is the frame the
reviewer sees. Nothing is decoded on the server, except while onion skin or zoom (PRD-37)
is on: those aids are composed on the server from the full-resolution take, for the frame
on screen only. A refusal is said through the session's `ActionRunner`.
"""

import tempfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import param

from apps.actions import ActionRunner
from apps.media_routes import media_url
from trulience.errors import TrulienceError
from trulience.media.frame_times import FrameTimes, proxy_frames
from trulience.media.frames import frame_at
from trulience.review import Take
from trulience.review.onion_skin import NEIGHBOURS, neighbour_indices, onion_skin
from trulience.review.zoom import FACTORS, REGIONS, zoom
from trulience.storage import Storage

ZOOM_OFF = "off"
# Decoded frames kept per session while an aid is on: onion skin re-reads the neighbours.
_FRAME_CACHE = 8
# The visual aids (PRD-37): each change re-composes the aid picture.
AIDS = ("onion", "opacity", "zoom_region", "zoom_factor")
# The browser player's compare modes (apps/video_player.py's COMPARE_MODES, which is Panel;
# this state is not): the compared take beside the open one, or over it as a wipe.
COMPARE_MODES = ("side", "wipe")


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


def proxy_key(storage: Storage, video_key: str) -> str:
    """What the browser plays of a take: the `proxy.mp4` assembly stored beside its
    `scene.mp4`, else the take's video itself (H.264 too)."""
    folder, _, name = video_key.rpartition("/")
    proxy = f"{folder}/proxy.mp4"
    return proxy if name == "scene.mp4" and storage.exists(proxy) else video_key


def scrubber_markers(segments: list[SegmentSpan], note_frames: list[int]) -> list[dict]:
    """The scrubber's marks: each segment's start, the seams between segments, the notes."""
    marks = [
        {"frame": s.start, "kind": "seam" if n else "segment", "label": f"segment {s.index}"}
        for n, s in enumerate(segments)
    ]
    marks += [{"frame": f, "kind": "note", "label": f"note at {f}"} for f in sorted(note_frames)]
    return marks


@dataclass(frozen=True, slots=True, eq=False)
class Aid:
    """The server-composed picture of the frame on screen while an aid is on: blended with
    its neighbours `over` (onion skin), and the zoomed region (None when zoom is off)."""

    index: int
    picture: np.ndarray
    over: tuple[int, ...]
    zoomed: np.ndarray | None
    region: str
    factor: int


class Player(param.Parameterized):
    """The open take in the player: its proxy, the frame on screen, playback, drawing."""

    index = param.Integer(0, bounds=(0, None), doc="The frame on screen.")
    total = param.Integer(0, doc="The open take's frames (0 without a video).")
    src = param.String("", doc="The proxy's media URL, '' without a video.")
    times = param.List([], doc="Each frame's presentation time in the proxy, seconds.")
    packets = param.Dict(None, allow_None=True, doc="The proxy's packet index (page decoding).")
    fps = param.Number(24.0)
    has_audio = param.Boolean(False)
    playing = param.Boolean(False)
    rate = param.Number(1.0, bounds=(0.25, 2))
    loop = param.Boolean(False)
    in_point = param.Integer(None, allow_None=True)
    out_point = param.Integer(None, allow_None=True)
    markers = param.List([], doc="Segments, seams and notes on the scrubber.")
    tool = param.String("none", doc="The drawing tool (the browser player's TOOLS).")
    drawing = param.Dict(None, allow_None=True, doc="The drawing on the frame shown, or None.")
    overlays = param.List([], doc='The drawn notes, {"frame", "drawing"}, shown at their frame.')
    blurred = param.Boolean(False, doc="Sensitive media hidden until the user reveals it.")
    following = param.Boolean(False, doc="Following a review room's presenter: controls inert.")
    segment_span = param.ClassSelector(class_=SegmentSpan, default=None, allow_None=True)
    storyboard = param.Parameter(None, doc="The open take's storyboard PNG bytes, or None.")
    more = param.Boolean(False, doc="The visual aids (onion skin, zoom) shown: behind More.")
    onion = param.Selector(objects=list(NEIGHBOURS), default="off")
    opacity = param.Integer(50, bounds=(0, 100))
    zoom_region = param.Selector(objects=[ZOOM_OFF, *REGIONS], default=ZOOM_OFF)
    zoom_factor = param.Selector(objects=list(FACTORS), default=FACTORS[0])
    aid = param.ClassSelector(class_=Aid, default=None, allow_None=True, doc="Aid picture.")
    compare_src = param.String("", doc="The compared take's proxy URL ('' = no compare).")
    compare_times = param.List([], doc="The compared take's frame times in its proxy, seconds.")
    compare_mode = param.Selector(objects=list(COMPARE_MODES), default="side")

    def __init__(self, storage: Storage, actions: ActionRunner):
        super().__init__()
        self.storage, self.actions = storage, actions
        self.take: Take | None = None
        self.segments: list[SegmentSpan] = []
        self._note_frames: list[int] = []
        self._video: Path | None = None
        self._frames: OrderedDict[int, np.ndarray] = OrderedDict()
        self._downloads = tempfile.TemporaryDirectory(prefix="trulience-review-")
        self.param.watch(lambda *_: self._compose_aid(), [*AIDS, "index", "playing"])
        self.param.watch(lambda _: self._on_index(), "index")

    def load(self, take: Take) -> bool:
        """Open `take` at its first frame: its proxy's URL and frame times, its storyboard;
        whether it has a video to show."""
        self._frames.clear()
        self._video = None
        self.take = take
        self.segments, self._note_frames = [], []
        found = self.actions.run(lambda: self._proxy(take))
        times = None if found is None else found.value
        self.param.update(
            playing=False,
            index=0,
            drawing=None,
            in_point=None,
            out_point=None,
            markers=[],
            src="" if times is None else times[0],
            times=[] if times is None else list(times[1].times),
            packets=None
            if times is None or times[1].packets is None
            else times[1].packets.to_data(),
            fps=24.0 if times is None or times[1].fps <= 0 else times[1].fps,
            has_audio=times is not None and times[1].has_audio,
            total=0 if times is None else len(times[1].times),
            compare_src="",
            compare_times=[],
        )
        board = self.actions.run(lambda: self._storyboard(take.uri))
        self.storyboard = None if board is None else board.value
        self._on_index()
        return times is not None

    def _proxy(self, take: Take) -> tuple[str, FrameTimes]:
        if take.uri is None:
            raise TrulienceError(f"take {take.take} has no video yet")
        key = proxy_key(self.storage, self.storage.key_of(take.uri))
        return media_url(key), proxy_frames(self.storage, key)

    def show(self, segments: list[SegmentSpan]) -> None:
        """The loaded take's committed segments (for the scrubber and rejecting one)."""
        self.segments = segments
        self.markers = scrubber_markers(segments, self._note_frames)
        self._on_index()

    def mark_notes(self, frames: list[int]) -> None:
        """The frames the open take's notes are at, marked on the scrubber."""
        self._note_frames = list(frames)
        self.markers = scrubber_markers(self.segments, self._note_frames)

    def close(self) -> None:
        """No take is open (back to the queue or the login form)."""
        self.take = None
        self.param.update(
            playing=False,
            src="",
            times=[],
            packets=None,
            total=0,
            drawing=None,
            compare_src="",
            compare_times=[],
        )

    def compare_with(self, uri: str | None, label: str) -> None:
        """Play the take stored at `uri` (its proxy) beside the open one, frame for frame;
        `label` names it in the refusal when it has no video."""
        if uri is None:
            raise TrulienceError(f"{label} has no video yet")
        key = proxy_key(self.storage, self.storage.key_of(uri))
        times = proxy_frames(self.storage, key)
        self.param.update(compare_src=media_url(key), compare_times=list(times.times))

    def stop_comparing(self) -> None:
        """Only the open take in the player again."""
        self.param.update(compare_src="", compare_times=[])

    def _storyboard(self, uri: str | None) -> bytes | None:
        """The take's storyboard strip, or None if it has none."""
        key = None if uri is None else storyboard_key(self.storage.key_of(uri))
        if key is None or not self.storage.exists(key):
            return None
        return self.storage.read_bytes(key)

    def _on_index(self) -> None:
        """A new frame on screen: the drawing of another frame is dropped, and the
        segment covering this one is found."""
        if self.drawing is not None and self.drawing.get("frame") != self.index:
            self.drawing = None
        self.segment_span = self.segment()

    def step(self, delta: int) -> None:
        """Move `delta` frames, staying within the take (pausing playback)."""
        if self.total:
            self.playing = False
            self.index = min(max(self.index + delta, 0), self.total - 1)

    def go_to(self, index: int) -> None:
        """Show frame `index`, staying within the take (pausing playback)."""
        if self.total:
            self.playing = False
            self.index = min(max(index, 0), self.total - 1)

    def jump_to(self, frame: int) -> None:
        """Show a note's frame in the player (pausing playback)."""
        self.go_to(frame)

    def toggle_play(self) -> None:
        """Play the take from the frame on screen, or pause it where it is."""
        self.playing = bool(self.total) and not self.playing

    def segment(self) -> SegmentSpan | None:
        """The committed segment covering the frame on screen, if one does."""
        return next((s for s in self.segments if s.start <= self.index < s.end), None)

    def _compose_aid(self) -> None:
        """While onion skin or zoom is on and playback is paused, compose the frame on
        screen on the server from the full-resolution take; None when both are off."""
        aids_off = self.onion == "off" and self.zoom_region == ZOOM_OFF
        if aids_off or self.playing or not self.total:
            self.aid = None
            return
        over = neighbour_indices(self.index, self.total, self.onion)
        composed = self.actions.run(
            lambda: onion_skin(
                self._decoded(self.index), [self._decoded(i) for i in over], self.opacity / 100
            )
        )
        if composed is None:
            self.aid = None
            return
        picture, region, factor = composed.value, self.zoom_region, self.zoom_factor
        zoomed = None if region == ZOOM_OFF else zoom(picture, region, factor)
        self.aid = Aid(self.index, picture, tuple(over), zoomed, region, factor)

    def _decoded(self, index: int) -> np.ndarray:
        """Frame `index` of the open take's video, decoded on the server (recent kept)."""
        assert self.take is not None and self.take.uri is not None
        if self._video is None:
            key = self.storage.key_of(self.take.uri)
            self._video = self.storage.local_file(key, self._downloads.name)
        if index not in self._frames:
            self._frames[index] = frame_at(self._video, index)
            while len(self._frames) > _FRAME_CACHE:
                self._frames.popitem(last=False)
        self._frames.move_to_end(index)
        return self._frames[index]
