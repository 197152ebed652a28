"""Each frame's presentation time in a video, from the stream's real timestamps, so a player
can name the frame on screen from the time the browser reports (never time × fps).

Stored beside each proxy as `proxy.frames.json`; `proxy_frames` reads it, computing and
storing it first for older takes. (Minimal version in the player branch: the media task
builds the shared one to the same interface.)
"""

import json
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import av

from trulience.media.probe import InvalidVideo, open_video
from trulience.storage import Storage


@dataclass(frozen=True, slots=True)
class FrameTimes:
    """A video's frame rate, each frame's presentation time in seconds (in display order,
    the first at its own time), its picture size and whether it has sound."""

    fps: float
    times: tuple[float, ...]
    width: int
    height: int
    has_audio: bool

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "FrameTimes":
        data = json.loads(text)
        return cls(
            float(data["fps"]),
            tuple(float(t) for t in data["times"]),
            int(data["width"]),
            int(data["height"]),
            bool(data["has_audio"]),
        )


def frame_times(path: str | Path) -> FrameTimes:
    """The frame times of the first video stream of `path`, from its packets' pts (demuxing
    only: the demuxer applies the edit list, as a browser does)."""
    with open_video(path) as (container, stream):
        try:
            pts = sorted(
                packet.pts
                for packet in container.demux(stream)
                if packet.size and packet.pts is not None and not packet.is_discard
            )
        except av.FFmpegError as error:
            raise InvalidVideo(path, f"damaged video data ({error})") from error
        if not pts:
            raise InvalidVideo(path, "the video stream holds no frames")
        base = stream.time_base
        rate = stream.average_rate or stream.guessed_rate
        return FrameTimes(
            fps=float(rate) if rate else len(pts) / max(float((pts[-1] - pts[0]) * base), 1e-9),
            times=tuple(float(p * base) for p in pts),
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            has_audio=bool(container.streams.audio),
        )


def frames_key(proxy_key: str) -> str:
    """Where a proxy's frame times are stored: `proxy.frames.json` beside it."""
    folder, _, name = proxy_key.rpartition("/")
    stem = name.rsplit(".", 1)[0]
    return f"{folder}/{stem}.frames.json" if folder else f"{stem}.frames.json"


def proxy_frames(storage: Storage, proxy_key: str) -> FrameTimes:
    """The stored frame times of a proxy, computed and stored beside it when missing."""
    key = frames_key(proxy_key)
    if storage.exists(key):
        return FrameTimes.from_json(storage.read_bytes(key).decode())
    with tempfile.TemporaryDirectory(prefix="trulience-frames-") as work:
        found = frame_times(storage.local_file(proxy_key, work))
    storage.put_bytes(key, found.to_json().encode())
    return found
