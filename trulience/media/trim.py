"""Keep exactly the first N frames of a video.

Re-encoded rather than packet-copied: with B-frames (x264 uses them at every preset but
ultrafast) a frame shown before the cut may depend on a frame decoded before it but shown
after it, so a packet copy must either keep frames past the cut (hidden by an MP4 edit
list, which players and frame counters honour unevenly) or break the last GOP. One
generation of re-encoding at the house CRF is the price of an exact, self-contained file.
The decoded frames go straight back to the encoder in yuv420p, with no RGB round trip.
"""

import os
import shutil
import uuid
from collections.abc import Collection
from pathlib import Path

import av

from trulience.media.encode import DEFAULT_CRF, DEFAULT_PRESET, H264Writer
from trulience.media.frames import FrameOutOfRange
from trulience.media.probe import InvalidVideo, VideoInfo, open_video, probe


def trim_to_frames(
    src: str | Path,
    dst: str | Path,
    frames: int,
    *,
    crf: int = DEFAULT_CRF,
    preset: str = DEFAULT_PRESET,
) -> VideoInfo:
    """Write the first `frames` frames of `src` to `dst` as H.264 MP4 at the source's
    constant rate (video only); FrameOutOfRange if `src` has fewer."""
    src, dst = Path(src), Path(dst)
    info = probe(src)
    if frames < 1:
        raise FrameOutOfRange(src, f"a trim must keep at least one frame, not {frames}")
    if frames > info.frames:
        raise FrameOutOfRange(src, f"has {info.frames} frames, cannot keep the first {frames}")
    if frames == info.frames and _is_h264_mp4(info):
        # Nothing to cut: a copy avoids a generation of compression loss.
        if src.resolve() != dst.resolve():
            partial = dst.with_name(f".{dst.name}.{uuid.uuid4().hex[:8]}.mp4")
            try:
                shutil.copyfile(src, partial)
                os.replace(partial, dst)
            finally:
                partial.unlink(missing_ok=True)
        return probe(dst)
    with (
        open_video(src) as (container, stream),
        H264Writer(dst, info.fps, info.width, info.height, crf=crf, preset=preset) as writer,
    ):
        stream.thread_type = "AUTO"
        try:
            for frame in container.decode(stream):
                writer.write(frame)
                if writer.frames_written == frames:
                    break
        except av.FFmpegError as error:
            raise InvalidVideo(src, f"damaged video data ({error})") from error
        if writer.frames_written < frames:
            raise InvalidVideo(
                src, f"only {writer.frames_written} of its {info.frames} frames decoded"
            )
        return writer.close()


def _is_h264_mp4(info: VideoInfo) -> bool:
    return info.codec == "h264" and "mp4" in info.container.split(",")


def cut_frames(
    src: str | Path,
    dst: str | Path,
    *,
    head: int = 0,
    tail: int = 0,
    crf: int = DEFAULT_CRF,
    preset: str = DEFAULT_PRESET,
    gop: int | None = None,
    keyframes: Collection[int] = (),
) -> VideoInfo:
    """Write `src` without its first `head` and last `tail` frames to `dst` (H.264 MP4 at the
    source's rate, video only, GOPs also opened at `keyframes` of the result);
    FrameOutOfRange unless at least one frame remains."""
    src, dst = Path(src), Path(dst)
    info = probe(src)
    if head < 0 or tail < 0:
        raise FrameOutOfRange(
            src, f"cannot cut a negative number of frames (head {head}, tail {tail})"
        )
    keep = info.frames - head - tail
    if keep < 1:
        raise FrameOutOfRange(
            src, f"has {info.frames} frames: cutting head {head} and tail {tail} leaves {keep}"
        )
    with (
        open_video(src) as (container, stream),
        H264Writer(
            dst,
            info.fps,
            info.width,
            info.height,
            crf=crf,
            preset=preset,
            gop=gop,
            keyframes=keyframes,
        ) as writer,
    ):
        stream.thread_type = "AUTO"
        try:
            for number, frame in enumerate(container.decode(stream)):
                if number >= head:
                    writer.write(frame)
                if writer.frames_written == keep:
                    break
        except av.FFmpegError as error:
            raise InvalidVideo(src, f"damaged video data ({error})") from error
        if writer.frames_written < keep:
            raise InvalidVideo(
                src, f"only {writer.frames_written} of its {info.frames} frames decoded"
            )
        return writer.close()
