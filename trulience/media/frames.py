"""Decoded frames as RGB uint8 arrays (H, W, 3): all of them, the first, one by index, the last.

Frames are identified by their presentation timestamps (pts), never by rounding a time in
seconds: a frame index maps to the index-th smallest pts among the stream's packets. To
reach a frame we seek to the keyframe at or before it and decode forward, so the cost is at
most one GOP of decoding, whatever the file's length.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import av
import numpy as np
from av.container import InputContainer
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from trulience.errors import FileProblem
from trulience.media.probe import InvalidVideo, open_video

# Larger than any timestamp: seeking there, backwards, lands on the last keyframe.
_END_OF_STREAM = 2**62


class FrameOutOfRange(FileProblem):
    """A frame number the video does not have; says which file and why."""


def read_frames(path: str | Path) -> Iterator[np.ndarray]:
    """Every frame of the first video stream, in display order."""
    with open_video(path) as (container, stream):
        stream.thread_type = "AUTO"
        try:
            for frame in container.decode(stream):
                yield _rgb(frame)
        except av.FFmpegError as error:
            raise InvalidVideo(path, f"damaged video data ({error})") from error


def first_frame(path: str | Path) -> np.ndarray:
    """The first displayed frame."""
    with open_video(path) as (container, stream):
        try:
            for frame in container.decode(stream):
                return _rgb(frame)
        except av.FFmpegError as error:
            raise InvalidVideo(path, f"damaged video data ({error})") from error
    raise InvalidVideo(path, "the video stream holds no frames")


def frame_at(path: str | Path, index: int) -> np.ndarray:
    """Frame number `index` (0-based; negative counts from the end), decoded from the
    keyframe at or before it."""
    with open_video(path) as (container, stream):
        try:
            packets = _packet_timestamps(container, stream)
        except av.FFmpegError as error:
            raise InvalidVideo(path, f"damaged video data ({error})") from error
        if not -len(packets) <= index < len(packets):
            raise FrameOutOfRange(path, f"has {len(packets)} frames, there is no frame {index}")
        target = sorted(pts for pts, _ in packets)[index]
        # Seek to the keyframe that opens the target's GOP (the last one decoded before or
        # with it), by its pts: FFmpeg's MP4 demuxer lands on the last keyframe whose pts
        # is at or before the request, and B-frames put a keyframe's dts a frame or two
        # earlier, so seeking by dts would cost a whole extra GOP.
        position = next(i for i, (pts, _) in enumerate(packets) if pts == target)
        seek_to = next(
            (packets[i][0] for i in range(position, -1, -1) if packets[i][1]), packets[0][0]
        )
        frame = _decode_until(container, stream, seek_to, target)
        if frame is None:
            # The demuxer's seek overshot (some formats index coarsely): start over.
            frame = _decode_until(container, stream, None, target)
        if frame is None:
            raise InvalidVideo(path, f"frame {index} (pts {target}) could not be decoded")
        return _rgb(frame)


def last_frame(path: str | Path) -> np.ndarray:
    """The last displayed frame, decoding at most the last GOP (a single-GOP file costs a
    full decode)."""
    with open_video(path) as (container, stream):
        stream.thread_type = "AUTO"
        with _damage_refused(path):
            container.seek(_END_OF_STREAM, stream=stream, backward=True)
            last = _last_decoded(container, stream)
            if last is None:
                # Nothing presentable after the last keyframe (an edit list may hide
                # the tail): decode everything instead.
                container.seek(stream.start_time or 0, stream=stream, backward=True)
                last = _last_decoded(container, stream)
        return _last_shown(path, last)


def last_frame_full_decode(path: str | Path) -> np.ndarray:
    """The last displayed frame by decoding the whole file: the slow baseline that
    `last_frame` is measured and checked against."""
    with open_video(path) as (container, stream):
        stream.thread_type = "AUTO"
        with _damage_refused(path):
            last = _last_decoded(container, stream)
        return _last_shown(path, last)


@contextmanager
def _damage_refused(path: str | Path) -> Iterator[None]:
    """FFmpeg's refusal of damaged data, as the file's InvalidVideo."""
    try:
        yield
    except av.FFmpegError as error:
        raise InvalidVideo(path, f"damaged video data ({error})") from error


def _last_shown(path: str | Path, last: VideoFrame | None) -> np.ndarray:
    if last is None:
        raise InvalidVideo(path, "the video stream holds no frames")
    return _rgb(last)


def _rgb(frame: VideoFrame) -> np.ndarray:
    # The decoder tags each frame with its colour space; PyAV converts with that tag.
    return frame.to_ndarray(format="rgb24")


def _packet_timestamps(container: InputContainer, stream: VideoStream) -> list[tuple[int, bool]]:
    """(pts, is_keyframe) of each presented packet, in decode order; demuxing only."""
    return [
        (packet.pts, packet.is_keyframe)
        for packet in container.demux(stream)
        if packet.size and packet.pts is not None and not packet.is_discard
    ]


def _decode_until(
    container: InputContainer, stream: VideoStream, seek_to: int | None, target: int
) -> VideoFrame | None:
    """Seek (to the start if `seek_to` is None) and decode forward to the frame with pts
    `target`; None if decoding began past it."""
    if seek_to is None:
        container.seek(stream.start_time or 0, stream=stream, backward=True)
    else:
        container.seek(seek_to, stream=stream, backward=True)
    for frame in container.decode(stream):
        if frame.pts is None:
            continue
        if frame.pts == target:
            return frame
        if frame.pts > target:
            # Frames come in display order, so the target is behind us.
            return None
    return None


def _last_decoded(container: InputContainer, stream: VideoStream) -> VideoFrame | None:
    """Decode to the end of the stream and keep the frame with the largest pts."""
    last = None
    for frame in container.decode(stream):
        if frame.pts is not None and (last is None or frame.pts > last.pts):
            last = frame
    return last
