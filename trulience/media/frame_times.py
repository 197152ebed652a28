"""Every frame's presentation time, read from the stream's real timestamps.

The browser player finds the frame on screen from these times (and the video's own frame
callback), never from `currentTime × fps`: a proxy whose first frame is not at 0, or whose
timestamps are not evenly spaced, would otherwise be one frame off. The times of a take's
proxy are stored beside it as `proxy.frames.json`.

With the times goes the proxy's packet index (`Packets`): each coded frame's byte range, whether
it is a keyframe, and its time, in decoding order, with the H.264 decoder configuration. From
it the player decodes the frames around the one shown in the page itself (WebCodecs), so a
step shows its frame at once instead of seeking the video. It is only written when it agrees
with the decoded frames one for one.
"""

import base64
import itertools
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import av

from trulience.media.probe import InvalidVideo, open_video
from trulience.storage import Storage

FRAMES_SUFFIX = ".frames.json"
_VERSION = 2  # 2 adds the packet index; a version 1 sidecar is read, and remade by proxy_frames


@dataclass(frozen=True)
class Packets:
    """A video stream's coded frames in decoding order: `packets[n]` is (byte offset in the
    file, size in bytes, keyframe, presentation time in seconds); `codec` the WebCodecs codec
    string (`avc1.PPCCLL`), `description` the decoder configuration (the avcC record)."""

    codec: str
    description: bytes
    packets: tuple[tuple[int, int, bool, float], ...]

    def to_data(self) -> dict:
        return {
            "codec": self.codec,
            "description": base64.b64encode(self.description).decode(),
            "packets": [[pos, size, int(key), pts] for pos, size, key, pts in self.packets],
        }

    @classmethod
    def from_data(cls, data: object) -> "Packets":
        if not isinstance(data, dict) or not isinstance(data.get("packets"), list):
            raise ValueError("frame times: 'packets' must be an object with a list of packets")
        packets = tuple(
            (int(pos), int(size), bool(key), float(pts)) for pos, size, key, pts in data["packets"]
        )
        if not packets or not packets[0][2]:
            raise ValueError("frame times: the first packet must be a keyframe")
        return cls(str(data["codec"]), base64.b64decode(data["description"]), packets)


@dataclass(frozen=True)
class FrameTimes:
    """A video's frames: `times[i]` is frame i's presentation time in seconds (display
    order, first frame at its own time), `fps` its average rate."""

    fps: float
    times: tuple[float, ...]
    width: int
    height: int
    has_audio: bool
    packets: Packets | None = None

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
                **({} if self.packets is None else {"packets": self.packets.to_data()}),
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> "FrameTimes":
        """Read a sidecar written by `to_json`; ValueError naming the field that is wrong."""
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("version") not in (1, _VERSION):
            raise ValueError(f"frame times: expected an object of version 1 or {_VERSION}")
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
            packets=None if "packets" not in data else Packets.from_data(data["packets"]),
        )


def frame_times(path: str | Path) -> FrameTimes:
    """Decode `path`'s first video stream and take each frame's pts (stream time base) as
    seconds, sorted into display order; with the packet index when it is H.264 and its
    packets name the decoded frames one for one."""
    with open_video(path) as (container, stream):
        stream.thread_type = "AUTO"
        time_base = stream.time_base
        fps = float(stream.average_rate or stream.guessed_rate or 0)
        times: list[float] = []
        packets: list[tuple[int, int, bool, float]] = []
        try:
            for packet in container.demux(stream):
                if packet.size and packet.pts is not None and packet.pos is not None:
                    pts = float(packet.pts * (packet.time_base or time_base))
                    packets.append((packet.pos, packet.size, packet.is_keyframe, pts))
                for frame in packet.decode():
                    if frame.pts is not None:
                        times.append(float(frame.pts * (frame.time_base or time_base)))
                    elif times and fps:  # a frame without a timestamp follows its neighbour
                        times.append(times[-1] + 1 / fps)
        except av.FFmpegError as error:
            raise InvalidVideo(path, f"damaged video data ({error})") from error
        if not times:
            raise InvalidVideo(path, "the video stream holds no frames")
        context = stream.codec_context
        times.sort()
        return FrameTimes(
            fps=fps or (len(times) - 1) / max(times[-1] - times[0], 1e-9),
            times=tuple(times),
            width=context.width,
            height=context.height,
            has_audio=bool(container.streams.audio),
            packets=_packets(context.name, bytes(context.extradata or b""), packets, times),
        )


def _packets(
    codec: str, extradata: bytes, packets: list[tuple[int, int, bool, float]], times: list[float]
) -> Packets | None:
    """The packet index, or None when the page could not decode from it frame for frame: not
    H.264 in an avcC record, no keyframe first, or packets that are not the decoded frames."""
    avcc = codec == "h264" and len(extradata) >= 7 and extradata[0] == 1
    if not avcc or not packets or not packets[0][2]:
        return None
    if sorted(pts for *_, pts in packets) != times:
        return None
    return Packets(f"avc1.{extradata[1:4].hex()}", extradata, tuple(packets))


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
    """The stored frame times of a proxy; computed and stored when missing (older takes),
    of an older version (no packet index) or unreadable."""
    key = frames_key(proxy_key)
    if storage.exists(key):
        try:
            raw = storage.read_bytes(key)
            if json.loads(raw).get("version") == _VERSION:  # older: remade with its packets
                return FrameTimes.from_json(raw)
        except (ValueError, KeyError, TypeError, AttributeError):
            pass  # a damaged sidecar is only a recomputation
    with tempfile.TemporaryDirectory(prefix="trulience-frames-") as work:
        return store_frames(storage, proxy_key, storage.local_file(proxy_key, work))
