"""What a video file holds: codec, size, exact frame count, rate, keyframe spacing.

The frame count is exact: taken from an MP4's sample table when that table is complete,
otherwise by demuxing the video packets (no decoding, so it stays cheap). A container's
own frame number is only a hint: an edit list can hide samples it still counts, and many
formats (Matroska, WebM, MPEG-TS) do not store one at all.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from av.container import InputContainer
from av.video.stream import VideoStream

from trulience.errors import FileProblem

# Demuxers whose index entries are the full sample table, read from the header.
_SAMPLE_TABLE_FORMATS = ("mov", "mp4")

# FFmpeg opens single images as one-frame "video" through these demuxers.
_STILL_IMAGE_FORMATS = ("image2",)


class InvalidVideo(FileProblem):
    """A file offered as video cannot be read as one; says which file and why."""


@dataclass(frozen=True)
class VideoInfo:
    """A video file's first video stream: `frames` is exact, `duration_s` is frames / fps,
    `keyframe_interval` the longest run of frames from one keyframe to the next."""

    path: str
    container: str  # FFmpeg's demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    codec: str
    width: int
    height: int
    pix_fmt: str | None
    fps: Fraction
    frames: int
    duration_s: float
    bit_rate: int | None
    has_audio: bool
    keyframe_interval: int | None


@contextmanager
def open_video(path: str | Path) -> Iterator[tuple[InputContainer, VideoStream]]:
    """Open `path` and yield its container and first video stream, or raise InvalidVideo."""
    path = Path(path)
    if not path.is_file():
        raise InvalidVideo(path, "no such file")
    try:
        container = av.open(str(path), mode="r")
    except (av.FFmpegError, UnicodeDecodeError) as error:
        raise InvalidVideo(path, f"not a readable video file ({error})") from error
    try:
        if not container.streams.video:
            raise InvalidVideo(path, "the file holds no video stream")
        name = container.format.name
        if name in _STILL_IMAGE_FORMATS or name.endswith("_pipe"):
            raise InvalidVideo(path, f"a still image ({name}), not a video")
        yield container, container.streams.video[0]
    finally:
        container.close()


def probe(path: str | Path) -> VideoInfo:
    """Describe the first video stream of `path`; raise InvalidVideo if there is none."""
    with open_video(path) as (container, stream):
        return describe(path, container, stream)


def describe(path: str | Path, container: InputContainer, stream: VideoStream) -> VideoInfo:
    """`probe` for a file already opened with `open_video`. Counting frames demuxes
    `stream` unless `has_sample_table`: only then are its packets left for the caller."""
    try:
        frames, keyframe_interval = _count_frames(container, stream)
    except av.FFmpegError as error:
        raise InvalidVideo(path, f"damaged video data ({error})") from error
    if frames == 0:
        raise InvalidVideo(path, "the video stream holds no frames")
    fps = stream.average_rate or stream.guessed_rate
    if not fps:
        raise InvalidVideo(path, "the video stream declares no frame rate")
    fps = Fraction(fps)
    context = stream.codec_context
    return VideoInfo(
        path=str(path),
        container=container.format.name,
        codec=context.name,
        width=context.width,
        height=context.height,
        pix_fmt=context.pix_fmt,
        fps=fps,
        frames=frames,
        duration_s=float(frames / fps),
        bit_rate=stream.bit_rate or container.bit_rate or None,
        has_audio=bool(container.streams.audio),
        keyframe_interval=keyframe_interval,
    )


def has_sample_table(container: InputContainer, stream: VideoStream) -> bool:
    """True when the header lists every sample of `stream` (a complete MP4 sample table),
    so its frames are counted without demuxing."""
    names = container.format.name.split(",")
    # A complete sample table has one entry per sample; fragmented MP4 fills it lazily.
    return any(n in _SAMPLE_TABLE_FORMATS for n in names) and 0 < stream.frames == len(
        stream.index_entries
    )


def _count_frames(container: InputContainer, stream: VideoStream) -> tuple[int, int | None]:
    """Exact count of presented frames and the longest keyframe interval, in decode order."""
    if has_sample_table(container, stream):
        flags = [(e.is_keyframe, e.is_discard) for e in stream.index_entries]
    else:
        flags = [
            (packet.is_keyframe, packet.is_discard)
            for packet in container.demux(stream)
            if packet.size and packet.pts is not None
        ]
    frames = 0
    interval = None
    run = 0
    for is_keyframe, is_discard in flags:
        if is_discard:
            continue
        frames += 1
        if is_keyframe and frames > 1:
            interval = max(interval or 0, run)
            run = 0
        run += 1
    if frames and any(k for k, _ in flags):
        interval = max(interval or 0, run)
    return frames, interval
