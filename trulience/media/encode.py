"""H.264 MP4 encoding at an exact constant frame rate.

Frames are converted to yuv420p with BT.709 coefficients and the stream is tagged BT.709,
so browsers and our own decoder (PyAV converts back with the frame's tag) agree on colour.
The file is written beside its destination and renamed into place only when complete:
a crash never leaves a half-written video at `path`.
"""

import contextlib
import os
import uuid
from collections.abc import Collection, Iterable
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import numpy as np
from av.video.frame import PictureType

from trulience.errors import FileProblem
from trulience.media.probe import VideoInfo, probe

DEFAULT_CRF = 20
DEFAULT_PRESET = "veryfast"

X264_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
)

# AVColorSpace / AVColorPrimaries / AVColorTransferCharacteristic value for BT.709, and
# AVColorRange "MPEG" (limited range, 16-235), what players assume for H.264.
_BT709 = 1
_LIMITED_RANGE = 1
# Sample rates AAC (in MP4) takes as they are; other sources are resampled to 48 kHz.
AAC_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
_AAC_FRAME = 1024


class UnencodableFrames(FileProblem):
    """Frames or settings that cannot become an H.264 file; says which file and why."""


def frame_rate(fps: Fraction | int | float | str, path: str | Path = "<video>") -> Fraction:
    """`fps` as an exact Fraction (29.97 becomes 2997/100); refuse zero, negatives and rates
    whose terms do not fit a 32-bit time base."""
    try:
        rate = Fraction(str(fps)) if isinstance(fps, float) else Fraction(fps)
    except (ValueError, TypeError, ZeroDivisionError) as error:
        raise UnencodableFrames(path, f"frame rate {fps!r} is not a number") from error
    if rate <= 0:
        raise UnencodableFrames(path, f"frame rate must be positive, got {fps!r}")
    if max(rate.numerator, rate.denominator) >= 2**31:
        raise UnencodableFrames(path, f"frame rate {fps!r} is not a usable fraction")
    return rate


class H264Writer:
    """Writes frames one at a time to an H.264 MP4 at constant rate `fps`; the file appears
    at `path` when `close()` succeeds. Use as a context manager to discard it on error."""

    def __init__(
        self,
        path: str | Path,
        fps: Fraction | int,
        width: int,
        height: int,
        *,
        crf: int = DEFAULT_CRF,
        preset: str = DEFAULT_PRESET,
        gop: int | None = None,
        keyframes: Collection[int] = (),
        audio_rate: int | None = None,
        audio_layout: str = "stereo",
    ) -> None:
        self.path = Path(path)
        # Frames that open a GOP besides the encoder's own choices (every `gop` frames):
        # where an assembly will cut, e.g. right after a seam's smoothing window.
        self._keyframes = frozenset(keyframes)
        self.fps = frame_rate(fps, self.path)
        self.width = width
        self.height = height
        self.frames_written = 0
        _check_settings(self.path, width, height, crf, preset, gop)
        if not self.path.parent.is_dir():
            raise UnencodableFrames(self.path, "the destination folder does not exist")
        # Encoder time base 1/fps: frame i has pts i, so timestamps are exact integers.
        self._time_base = 1 / self.fps
        # The name keeps ".mp4" last so that tools recognise a leftover; the format is
        # given explicitly anyway.
        self._partial = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex[:8]}.mp4")
        self._container = av.open(
            str(self._partial), mode="w", format="mp4", options={"movflags": "+faststart"}
        )
        self._open = True
        try:
            stream = self._container.add_stream("libx264", rate=self.fps)
            stream.width = width
            stream.height = height
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": str(crf), "preset": preset}
            context = stream.codec_context
            context.gop_size = gop if gop is not None else max(1, round(self.fps))
            context.colorspace = _BT709
            context.color_primaries = _BT709
            context.color_trc = _BT709
            context.color_range = _LIMITED_RANGE
            self._audio = None
            if audio_rate is not None:
                self._audio = self._container.add_stream("aac", rate=audio_rate)
                self._audio.layout = audio_layout
                self._resampler = av.AudioResampler(
                    format="fltp", layout=audio_layout, rate=audio_rate, frame_size=_AAC_FRAME
                )
                self._audio_base = Fraction(1, audio_rate)
                self._samples_written = 0
        except BaseException:
            self._discard()
            raise
        self._stream = stream

    def write_audio(self, frame: av.AudioFrame | None) -> None:
        """Append decoded audio (any format, resampled to the writer's AAC stream); None
        flushes what the resampler still holds. Needs `audio_rate` at creation."""
        if self._audio is None:
            raise UnencodableFrames(self.path, "this writer was made without an audio stream")
        if frame is not None:
            frame.pts = None  # the resampler re-times; the source's clock is not ours
        for chunk in self._resampler.resample(frame):
            chunk.pts = self._samples_written
            chunk.time_base = self._audio_base
            self._samples_written += chunk.samples
            self._container.mux(self._audio.encode(chunk))

    def write(self, frame: np.ndarray | av.VideoFrame, *, keyframe: bool = False) -> None:
        """Append one frame: RGB uint8 (H, W, 3) at the writer's size, or a decoded
        VideoFrame of that size (re-timed and stripped of its picture type); `keyframe`
        opens a GOP at it, as the writer's `keyframes` do."""
        if isinstance(frame, av.VideoFrame):
            if (frame.width, frame.height) != (self.width, self.height):
                raise UnencodableFrames(
                    self.path,
                    f"frame {self.frames_written} is {frame.width}x{frame.height}, "
                    f"expected {self.width}x{self.height}",
                )
            source = frame
        else:
            _check_rgb(self.path, frame, self.frames_written, (self.height, self.width))
            source = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
        video_frame = source.reformat(
            format="yuv420p", dst_colorspace="ITU709", dst_color_range="MPEG"
        )
        # A decoded frame remembers it was an I-frame, and x264 would obey and force a
        # keyframe there; NONE lets the encoder choose by its own GOP, I asks for one.
        forced = keyframe or self.frames_written in self._keyframes
        video_frame.pict_type = PictureType.I if forced else PictureType.NONE
        # A decoded frame keeps its source's time base (1/12288 at 24 fps in MP4): left
        # there, the encoder would rescale pts i from it to 1/fps and round nearly all to 0.
        video_frame.time_base = self._time_base
        video_frame.pts = self.frames_written
        self._container.mux(self._stream.encode(video_frame))
        self.frames_written += 1

    def close(self) -> VideoInfo:
        """Flush the encoder, move the finished file to `path` and describe it."""
        if not self._open:
            raise UnencodableFrames(self.path, "the writer is already closed")
        if self.frames_written == 0:
            self.abort()
            raise UnencodableFrames(self.path, "no frames to encode")
        try:
            self._container.mux(self._stream.encode(None))
            if self._audio is not None:
                self.write_audio(None)
                self._container.mux(self._audio.encode(None))
            self._container.close()
            self._open = False
            os.replace(self._partial, self.path)
        except BaseException:
            self._discard()
            raise
        return probe(self.path)

    def abort(self) -> None:
        """Stop without producing a file; `path` is left as it was."""
        self._discard()

    def __enter__(self) -> "H264Writer":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self._discard()
        elif self._open:
            self.close()

    def _discard(self) -> None:
        if self._open:
            self._open = False
            # The partial file is deleted below: a failure to finish it does not matter.
            with contextlib.suppress(av.FFmpegError):
                self._container.close()
        self._partial.unlink(missing_ok=True)


def encode_frames(
    frames: Iterable[np.ndarray],
    path: str | Path,
    fps: Fraction | int,
    *,
    crf: int = DEFAULT_CRF,
    preset: str = DEFAULT_PRESET,
    gop: int | None = None,
) -> VideoInfo:
    """Encode RGB uint8 frames (H, W, 3, all one size, even sides) to an H.264 MP4 at
    exactly `fps`, keyframes every `gop` frames (default one second), `+faststart`."""
    path = Path(path)
    iterator = iter(frames)
    first = next(iterator, None)
    if first is None:
        raise UnencodableFrames(path, "no frames to encode (the frame sequence is empty)")
    _check_rgb(path, first, 0, None)
    height, width = first.shape[:2]
    with H264Writer(path, fps, width, height, crf=crf, preset=preset, gop=gop) as writer:
        writer.write(first)
        for frame in iterator:
            writer.write(frame)
        info = writer.close()
    return info


def _check_settings(
    path: Path, width: int, height: int, crf: int, preset: str, gop: int | None
) -> None:
    if width <= 0 or height <= 0:
        raise UnencodableFrames(path, f"frame size {width}x{height} is empty")
    if width % 2 or height % 2:
        raise UnencodableFrames(
            path,
            f"frame size {width}x{height} has an odd side: H.264 in yuv420p stores colour "
            "at half resolution, so libx264 needs even width and height",
        )
    if not (isinstance(crf, int) and 0 <= crf <= 51):
        raise UnencodableFrames(path, f"crf must be an integer from 0 to 51, got {crf!r}")
    if preset not in X264_PRESETS:
        raise UnencodableFrames(
            path, f"unknown x264 preset {preset!r}; use one of {', '.join(X264_PRESETS)}"
        )
    if gop is not None and (not isinstance(gop, int) or gop < 1):
        raise UnencodableFrames(path, f"gop must be a positive number of frames, got {gop!r}")


def _check_rgb(path: Path, frame: object, index: int, size: tuple[int, int] | None) -> None:
    if not isinstance(frame, np.ndarray):
        raise UnencodableFrames(path, f"frame {index} is a {type(frame).__name__}, not an array")
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise UnencodableFrames(
            path,
            f"frame {index} is {frame.dtype} {frame.shape}; expected RGB uint8 (H, W, 3)",
        )
    if size is not None and frame.shape[:2] != size:
        raise UnencodableFrames(
            path,
            f"frame {index} is {frame.shape[1]}x{frame.shape[0]}, "
            f"expected {size[1]}x{size[0]} like the first frame",
        )
