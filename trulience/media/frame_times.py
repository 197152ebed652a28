"""Every frame's presentation time, read from the stream's real timestamps.

The browser player finds the frame on screen from these times (and the video's own frame
callback), never from `currentTime × fps`: a proxy whose first frame is not at 0, or whose
timestamps are not evenly spaced, would otherwise be one frame off. The times of a take's
proxy are stored beside it as `proxy.frames.json`.
"""

import itertools
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import av

from trulience.media.probe import InvalidVideo, open_video
from trulience.storage import Storage

FRAMES_SUFFIX = ".frames.json"
_VERSION = 1


@dataclass(frozen=True)
class FrameTimes:
    """A video's frames: `times[i]` is frame i's presentation time in seconds (display
    order, first frame at its own time), `fps` its average rate."""

    fps: float
    times: tuple[float, ...]
    width: int
    height: int
    has_audio: bool

    def to_json(self) -> str:
        """The sidecar text stored beside a proxy."""
        return json.dumps(
            {
                "version": _VERSION,
                "fps": self.fps,
                "width": self.width,
                "height": self.height,
                "has_audio": self.has_audio,
                "times": list(self.times),
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> "FrameTimes":
        """Read a sidecar written by `to_json`; ValueError naming the field that is wrong."""
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("version") != _VERSION:
            raise ValueError(f"frame times: expected an object of version {_VERSION}")
        times = data.get("times")
        if not isinstance(times, list) or not all(isinstance(t, (int, float)) for t in times):
            raise ValueError("frame times: 'times' must be a list of seconds")
        if any(b < a for a, b in itertools.pairwise(times)):
            raise ValueError("frame times: 'times' must not go backwards")
        return cls(
            fps=float(data["fps"]),
            times=tuple(float(t) for t in times),
            width=int(data["width"]),
            height=int(data["height"]),
            has_audio=bool(data["has_audio"]),
        )


def frame_times(path: str | Path) -> FrameTimes:
    """Decode `path`'s first video stream and take each frame's pts (stream time base) as
    seconds, sorted into display order."""
    with open_video(path) as (container, stream):
        stream.thread_type = "AUTO"
        time_base = stream.time_base
        fps = float(stream.average_rate or stream.guessed_rate or 0)
        times: list[float] = []
        try:
            for frame in container.decode(stream):
                if frame.pts is not None:
                    times.append(float(frame.pts * (frame.time_base or time_base)))
                elif times and fps:  # a frame without a timestamp follows its neighbour
                    times.append(times[-1] + 1 / fps)
        except av.FFmpegError as error:
            raise InvalidVideo(path, f"damaged video data ({error})") from error
        if not times:
            raise InvalidVideo(path, "the video stream holds no frames")
        context = stream.codec_context
        return FrameTimes(
            fps=fps or (len(times) - 1) / max(times[-1] - times[0], 1e-9),
            times=tuple(sorted(times)),
            width=context.width,
            height=context.height,
            has_audio=bool(container.streams.audio),
        )


def frames_key(proxy_key: str) -> str:
    """The key of a proxy's frame-times sidecar: `.../proxy.mp4` → `.../proxy.frames.json`."""
    stem = proxy_key.rsplit(".", 1)[0] if "." in proxy_key.rsplit("/", 1)[-1] else proxy_key
    return stem + FRAMES_SUFFIX


def store_frames(storage: Storage, proxy_key: str, local_proxy: str | Path) -> FrameTimes:
    """Compute the frame times of a proxy file and store them beside its key."""
    times = frame_times(local_proxy)
    storage.put_bytes(frames_key(proxy_key), times.to_json().encode())
    return times


def proxy_frames(storage: Storage, proxy_key: str) -> FrameTimes:
    """The stored frame times of a proxy; computed and stored when missing (older takes)
    or unreadable."""
    key = frames_key(proxy_key)
    if storage.exists(key):
        try:
            return FrameTimes.from_json(storage.read_bytes(key))
        except (ValueError, KeyError, TypeError):
            pass  # a damaged sidecar is only a recomputation
    with tempfile.TemporaryDirectory(prefix="trulience-frames-") as work:
        return store_frames(storage, proxy_key, storage.local_file(proxy_key, work))
