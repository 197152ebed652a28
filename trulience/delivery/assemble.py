"""Join a scene's segments into one H.264 MP4, copying packets wherever pixels do not change.

Seam smoothing keeps the frame count: the jump J between the last frame of segment k and the
first of segment k+1 is spread over 2n+1 steps. The frame k places before the seam (k < n)
is moved by +J (n - k) / (2n + 1) and the frame k places after it by -J (n - k) / (2n + 1),
so both sides move toward the seam's midpoint and the step across the seam drops to
J / (2n + 1). Only the jump is added, never another frame, so each frame keeps its own motion.

Only the GOPs (keyframe to keyframe, closed as x264 writes them) that hold smoothed frames are
decoded and re-encoded; every other GOP is copied as packets. Copying needs one set of H.264
parameter sets for the whole file, so the seam encoder reuses the segments' CRF (read from
x264's settings note in the first packet) and its output is checked against the segments'
parameter sets; anything else falls back to a full re-encode, and the result says why.

Each file is opened and demuxed once (`_layout`), which records every sample's display frame,
flags and place in the file. Copying then reads the samples straight from those places: an MP4
stores each sample whole and the demuxer hands it over unchanged, and opening a file again is
what costs (FFmpeg decodes its first frames to describe the stream). Other containers are
demuxed again instead.
"""

import os
import re
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import pairwise
from pathlib import Path
from typing import Any, NamedTuple

import av
import cv2
import numpy as np
from av.container import InputContainer
from av.video.stream import VideoStream

from trulience.errors import TrulienceError
from trulience.media.encode import DEFAULT_CRF, DEFAULT_PRESET, H264Writer
from trulience.media.frames import first_frame, frame_at, last_frame
from trulience.media.probe import (
    InvalidVideo,
    VideoInfo,
    describe,
    has_sample_table,
    open_video,
)

PACKET_COPY = "packet_copy"
SEAM_REENCODE = "seam_reencode"
FULL_REENCODE = "full_reencode"

_X264_CRF = re.compile(rb"crf=(\d+(?:\.\d+)?)")


class AssemblyError(TrulienceError):
    """Segments that cannot be assembled at all (none given, a bad window, a bad index)."""


@dataclass(frozen=True)
class Piece:
    """A run of output frames from `start`: GOPs copied from one source file (`source`,
    `source_start`), or frames of the listed segments decoded, smoothed and re-encoded."""

    kind: str  # "copy" or "encode"
    start: int
    frames: int
    segments: tuple[int, ...]
    source: int | None = None  # segment index for a copy
    source_start: int = 0  # first frame in that segment
    ranges: tuple[tuple[int, int, int], ...] = ()  # (segment, first, count) for an encode


@dataclass(frozen=True)
class AssemblyResult:
    """An assembled scene: frame counts by how they were made, and the plan to redo a seam."""

    path: Path
    frames: int
    reencoded_frames: int
    copied_frames: int
    seams: tuple[int, ...]  # output frame where each segment after the first begins
    method: str
    fallback_reason: str | None
    segments: tuple[Path, ...]
    crossfade_frames: int
    fps: Fraction
    elapsed_s: float
    pieces: tuple[Piece, ...] = field(default=(), repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, to keep beside the scene as its assembly manifest."""
        return {
            "path": str(self.path),
            "frames": self.frames,
            "reencoded_frames": self.reencoded_frames,
            "copied_frames": self.copied_frames,
            "seams": list(self.seams),
            "method": self.method,
            "fallback_reason": self.fallback_reason,
            "segments": [str(p) for p in self.segments],
            "crossfade_frames": self.crossfade_frames,
            "fps": str(self.fps),
            "elapsed_s": self.elapsed_s,
            "pieces": [
                {**piece.__dict__, "segments": list(piece.segments), "ranges": piece.ranges}
                for piece in self.pieces
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "AssemblyResult":
        """Inverse of `to_dict`."""
        pieces = tuple(
            Piece(
                **{
                    **p,
                    "segments": tuple(p["segments"]),
                    "ranges": tuple(tuple(r) for r in p["ranges"]),
                }
            )
            for p in data.get("pieces", [])
        )
        return cls(
            path=Path(data["path"]),
            frames=data["frames"],
            reencoded_frames=data["reencoded_frames"],
            copied_frames=data["copied_frames"],
            seams=tuple(data["seams"]),
            method=data["method"],
            fallback_reason=data.get("fallback_reason"),
            segments=tuple(Path(p) for p in data["segments"]),
            crossfade_frames=data["crossfade_frames"],
            fps=Fraction(data["fps"]),
            elapsed_s=data.get("elapsed_s", 0.0),
            pieces=pieces,
        )


class _Sample(NamedTuple):
    """One packet of a file, as demuxed: where it shows and where its bytes are."""

    frame: int  # display frame in its file
    keyframe: bool
    pts: int
    dts: int | None
    pos: int  # byte offset in the file
    size: int


@dataclass(frozen=True)
class _Gop:
    first: int  # first frame (display order) in its file
    frames: int
    delay: int  # most frames a packet is decoded ahead of its display slot


@dataclass(frozen=True)
class _Layout:
    """A file's GOPs and samples, from demuxing only."""

    info: VideoInfo
    time_base: Fraction
    extradata: bytes
    gops: tuple[_Gop, ...]
    closed: bool
    crf: int | None
    pts0: int  # pts of display frame 0
    samples: tuple[_Sample, ...] = field(repr=False)  # decode order
    stored_whole: bool  # each sample's bytes are at (pos, size) in the file, unaltered


def assemble(
    segments: Sequence[str | Path],
    out: str | Path,
    *,
    crossfade_frames: int = 0,
    preset: str = DEFAULT_PRESET,
) -> AssemblyResult:
    """Join `segments` into `out` (H.264 yuv420p MP4, constant fps, +faststart); with
    `crossfade_frames` n > 0 smooth each seam over n frames per side, re-encoding only the
    GOPs that hold them."""
    clock = time.perf_counter()
    paths = tuple(Path(p) for p in segments)
    out = Path(out)
    _check_request(paths, crossfade_frames)
    layouts = [_layout(p) for p in paths]
    reason = _copy_blocker(paths, layouts, need_closed=crossfade_frames > 0)
    if reason is not None:
        return _full_reencode(paths, layouts, out, crossfade_frames, preset, reason, clock)
    plan = _plan(layouts, crossfade_frames)
    try:
        _write_plan(plan, paths, layouts, out, crossfade_frames, preset, reuse={})
    except _ParameterSetsDiffer as error:
        return _full_reencode(paths, layouts, out, crossfade_frames, preset, str(error), clock)
    return _result(out, plan, paths, layouts, crossfade_frames, None, clock)


def reassemble(
    previous: AssemblyResult | dict[str, Any],
    index: int,
    new_segment: str | Path,
    out: str | Path | None = None,
    *,
    preset: str = DEFAULT_PRESET,
) -> AssemblyResult:
    """Replace segment `index` of a previous assembly: re-encode only the GOPs around that
    segment's seams and copy everything else (other seams' smoothed GOPs from the previous
    output). Falls back to `assemble` when the previous output cannot be reused."""
    clock = time.perf_counter()
    if isinstance(previous, dict):
        previous = AssemblyResult.from_dict(previous)
    if not 0 <= index < len(previous.segments):
        raise AssemblyError(
            f"segment {index} does not exist: the scene has {len(previous.segments)} segments"
        )
    paths = list(previous.segments)
    paths[index] = Path(new_segment)
    out = Path(out) if out is not None else previous.path
    n = previous.crossfade_frames
    if previous.method == FULL_REENCODE or not previous.path.is_file():
        return assemble(paths, out, crossfade_frames=n, preset=preset)
    layouts = [_layout(p) for p in paths]
    reason = _copy_blocker(tuple(paths), layouts, need_closed=n > 0)
    if reason is not None:
        return _full_reencode(tuple(paths), layouts, out, n, preset, reason, clock)
    plan = _plan(layouts, n)
    old = {_key(piece): piece for piece in previous.pieces}
    reuse = {
        _key(piece): old[_key(piece)]
        for piece in plan
        if index not in piece.segments and _key(piece) in old
    }
    try:
        _write_plan(plan, tuple(paths), layouts, out, n, preset, reuse, previous.path)
    except _ParameterSetsDiffer as error:
        return _full_reencode(tuple(paths), layouts, out, n, preset, str(error), clock)
    return _result(out, plan, tuple(paths), layouts, n, None, clock, reused=reuse)


def seam_jumps(path: str | Path, boundaries: Sequence[int]) -> list[float]:
    """Mean absolute difference (0-255) between the frames either side of each boundary
    (the first frame after it), compared as 64-pixel-wide grey pictures."""
    return [_grey_difference(frame_at(path, b - 1), frame_at(path, b)) for b in boundaries]


class _ParameterSetsDiffer(TrulienceError):
    """The seam encoder's H.264 headers do not match the segments': copying would corrupt."""


def _check_request(paths: tuple[Path, ...], crossfade_frames: int) -> None:
    if not paths:
        raise AssemblyError("no segments to assemble")
    if not isinstance(crossfade_frames, int) or crossfade_frames < 0:
        raise AssemblyError(
            f"crossfade_frames must be a whole number of frames >= 0, got {crossfade_frames!r}"
        )


def _layout(path: Path) -> _Layout:
    """GOPs and samples of `path` in display frames, read by demuxing (no decoding)."""
    with open_video(path) as (container, stream):
        info = describe(path, container, stream)
        if has_sample_table(container, stream):
            return _scan(path, info, container, stream)
    # Counting this file's frames demuxed it: read it again.
    with open_video(path) as (container, stream):
        return _scan(path, info, container, stream)


def _scan(path: Path, info: VideoInfo, container: InputContainer, stream: VideoStream) -> _Layout:
    """Demux `stream` once, from its first packet, into a `_Layout`."""
    time_base = Fraction(stream.time_base)
    # Samples can be read back from the file by place only if the demuxer adds nothing to
    # them: MP4, no side data, no flag a new packet could not carry.
    whole = "mp4" in container.format.name.split(",")
    packets: list[tuple[int, int | None, bool, int, int]] = []  # pts, dts, key, pos, size
    first_bytes = b""
    try:
        for packet in container.demux(stream):
            if not packet.size or packet.pts is None or packet.is_discard:
                continue
            if not packets:
                first_bytes = bytes(packet)
            if whole and (
                packet.pos < 0
                or packet.is_disposable
                or next(iter(packet.iter_sidedata()), None) is not None
            ):
                whole = False
            packets.append((packet.pts, packet.dts, packet.is_keyframe, packet.pos, packet.size))
    except av.FFmpegError as error:
        raise InvalidVideo(path, f"damaged video data ({error})") from error
    pts0 = min(pts for pts, *_ in packets)
    scale = _scale(time_base, info.fps)
    samples = tuple(
        _Sample(_display_frame(pts - pts0, scale), keyframe, pts, dts, pos, size)
        for pts, dts, keyframe, pos, size in packets
    )
    # The first sample read back by place must be the packet the demuxer gave.
    whole = whole and _read_at(path, samples[0].pos, samples[0].size) == first_bytes
    crf = None
    if info.codec == "h264":
        match = _X264_CRF.search(first_bytes)
        crf = round(float(match.group(1))) if match else None
    gops, closed = _gops(samples)
    extradata = bytes(stream.codec_context.extradata or b"")
    return _Layout(info, time_base, extradata, gops, closed, crf, pts0, samples, whole)


def _gops(samples: tuple[_Sample, ...]) -> tuple[tuple[_Gop, ...], bool]:
    """The GOPs of a file's samples (keyframe to keyframe in decode order), and whether
    they are all closed."""
    groups: list[list[int]] = []
    for sample in samples:
        if sample.keyframe or not groups:
            groups.append([])
        groups[-1].append(sample.frame)
    gops = []
    closed = True
    expected = 0
    for group in groups:
        first = min(group)
        # Closed GOP: its frames are exactly the next run of display slots.
        if sorted(group) != list(range(expected, expected + len(group))):
            closed = False
        expected = max(expected, max(group) + 1)
        delay = max(j - (frame - first) for j, frame in enumerate(group))
        gops.append(_Gop(first=first, frames=len(group), delay=max(0, delay)))
    return tuple(gops), closed


def _scale(time_base: Fraction, fps: Fraction) -> tuple[int, int]:
    """time_base x fps as (numerator, denominator): pts ticks to frames."""
    ratio = time_base * fps
    return ratio.numerator, ratio.denominator


def _display_frame(offset: int, scale: tuple[int, int]) -> int:
    """round(offset x scale) for a pts offset, in integers (Fraction arithmetic per packet
    cost more than demuxing it); halves go to even, as `round` does."""
    quotient, remainder = divmod(offset * scale[0], scale[1])
    if 2 * remainder > scale[1] or (2 * remainder == scale[1] and quotient % 2):
        quotient += 1
    return quotient


def _read_at(path: Path, pos: int, size: int) -> bytes:
    with path.open("rb") as file:
        file.seek(pos)
        return file.read(size)


def _copy_blocker(
    paths: tuple[Path, ...], layouts: list[_Layout], *, need_closed: bool
) -> str | None:
    """Why these segments cannot be joined by copying packets, or None if they can."""
    first = layouts[0].info
    if first.codec != "h264":
        return f"segment 0 is {first.codec}, not H.264"
    if first.pix_fmt != "yuv420p":
        return f"segment 0 is {first.pix_fmt}, not yuv420p"
    for i, layout in enumerate(layouts):
        info = layout.info
        for name, value, expected in (
            ("codec", info.codec, first.codec),
            ("size", f"{info.width}x{info.height}", f"{first.width}x{first.height}"),
            ("pix_fmt", info.pix_fmt, first.pix_fmt),
            ("fps", info.fps, first.fps),
            ("time base", layout.time_base, layouts[0].time_base),
        ):
            if value != expected:
                return f"segment {i} ({paths[i].name}) has {name} {value}, segment 0 has {expected}"
        if layout.extradata != layouts[0].extradata:
            return (
                f"segment {i} ({paths[i].name}) was encoded with other H.264 parameter sets "
                "(different encoder settings) than segment 0"
            )
        if need_closed and not layout.closed:
            return f"segment {i} ({paths[i].name}) has open GOPs: they cannot be cut apart"
    return None


def _windows(lengths: list[int], n: int) -> list[int]:
    """Frames smoothed on each side of each seam: n, or less where a segment is shorter."""
    return [min(n, lengths[k], lengths[k + 1]) for k in range(len(lengths) - 1)]


def _plan(layouts: list[_Layout], n: int) -> list[Piece]:
    """Output pieces in order: runs of clean GOPs copied, runs of dirty GOPs re-encoded."""
    lengths = [layout.info.frames for layout in layouts]
    windows = _windows(lengths, n)
    # Every GOP of the timeline, tagged dirty if it holds a smoothed frame.
    tagged: list[tuple[int, _Gop, bool]] = []
    for s, layout in enumerate(layouts):
        left = windows[s - 1] if s > 0 else 0
        right = windows[s] if s < len(windows) else 0
        for gop in layout.gops:
            end = gop.first + gop.frames
            dirty = gop.first < left or end > lengths[s] - right
            tagged.append((s, gop, dirty))
    pieces: list[Piece] = []
    start = 0
    run: list[tuple[int, _Gop, bool]] = []

    def flush() -> None:
        nonlocal start, run
        if not run:
            return
        frames = sum(g.frames for _, g, _ in run)
        segments = tuple(sorted({s for s, _, _ in run}))
        if run[0][2]:
            ranges: dict[int, list[int]] = {}
            for s, g, _ in run:
                first, count = ranges.get(s, [g.first, 0])
                ranges[s] = [first, count + g.frames]
            pieces.append(
                Piece(
                    kind="encode",
                    start=start,
                    frames=frames,
                    segments=segments,
                    ranges=tuple((s, f, c) for s, (f, c) in ranges.items()),
                )
            )
        else:
            s = run[0][0]
            pieces.append(
                Piece("copy", start, frames, segments, source=s, source_start=run[0][1].first)
            )
        start += frames
        run = []

    for item in tagged:
        # A copy run stays within one file; a dirty run may cross a seam.
        if run and (run[-1][2] != item[2] or (not item[2] and run[-1][0] != item[0])):
            flush()
        run.append(item)
    flush()
    return pieces


def _key(piece: Piece) -> tuple:
    return (piece.kind, piece.segments, piece.source, piece.source_start, piece.ranges)


def _write_plan(
    plan: list[Piece],
    paths: tuple[Path, ...],
    layouts: list[_Layout],
    out: Path,
    n: int,
    preset: str,
    reuse: dict[tuple, Piece],
    previous_path: Path | None = None,
) -> None:
    """Encode the dirty runs to scratch files, then mux every piece's packets into `out`."""
    lengths = [layout.info.frames for layout in layouts]
    crf = layouts[0].crf if layouts[0].crf is not None else DEFAULT_CRF
    windows = _windows(lengths, n)
    with tempfile.TemporaryDirectory(prefix=".assemble-", dir=out.parent) as scratch:
        sources: list[_Source] = []
        previous_layout = _layout(previous_path) if previous_path is not None and reuse else None
        for number, piece in enumerate(plan):
            if _key(piece) in reuse and previous_layout is not None:
                old = reuse[_key(piece)]
                delay = _delay(previous_layout, old.start, old.frames)
                sources.append(_Source(previous_path, previous_layout, old.start, delay))
            elif piece.kind == "copy":
                layout = layouts[piece.source]
                delay = _delay(layout, piece.source_start, piece.frames)
                sources.append(_Source(paths[piece.source], layout, piece.source_start, delay))
            else:
                scratch_path = Path(scratch) / f"run-{number:04d}.mp4"
                _encode_run(piece, paths, layouts, scratch_path, windows, lengths, preset)
                run_layout = _layout(scratch_path)
                if run_layout.extradata != layouts[0].extradata:
                    raise _ParameterSetsDiffer(
                        f"the seam encoder (libx264 crf {crf} {preset}) writes other H.264 "
                        "parameter sets than the segments, so its GOPs cannot be spliced in"
                    )
                delay = _delay(run_layout, 0, piece.frames)
                sources.append(_Source(scratch_path, run_layout, 0, delay))
        _mux(plan, sources, layouts[0], paths[0], out)


class _Source(NamedTuple):
    """Where a piece's packets come from: a file, its layout, the piece's first frame there."""

    path: Path
    layout: _Layout
    first: int
    delay: int


def _delay(layout: _Layout, first: int, frames: int) -> int:
    return max((g.delay for g in layout.gops if first <= g.first < first + frames), default=0)


def _encode_run(
    piece: Piece,
    paths: tuple[Path, ...],
    layouts: list[_Layout],
    dst: Path,
    windows: list[int],
    lengths: list[int],
    preset: str,
) -> None:
    """Decode the run's GOPs, smooth the frames in seam windows, encode them to `dst`."""
    info = layouts[0].info
    crf = layouts[0].crf if layouts[0].crf is not None else DEFAULT_CRF
    gop = max(1, info.keyframe_interval or round(info.fps))
    # A run holds every smoothed frame of each seam it crosses, so the jumps it needs are
    # those seams': from its last frame of a segment to the next segment's first.
    jumps: dict[int, np.ndarray] = {}
    with H264Writer(
        dst, info.fps, info.width, info.height, crf=crf, preset=preset, gop=gop
    ) as writer:
        for position, (segment, first, count) in enumerate(piece.ranges):
            frames = _decode_range(paths[segment], layouts[segment], first, count)
            if position + 1 < len(piece.ranges):  # the run crosses the seam after `segment`
                before = frames[-1][1].to_ndarray(format="rgb24").astype(np.float32)
                after = first_frame(paths[piece.ranges[position + 1][0]]).astype(np.float32)
                jumps[segment] = after - before
            for index, frame in frames:
                correction = _correction(segment, index, lengths, jumps, windows)
                if correction is None:
                    writer.write(frame)
                else:
                    rgb = frame.to_ndarray(format="rgb24").astype(np.float32) + correction
                    writer.write(np.clip(np.rint(rgb), 0, 255).astype(np.uint8))
        writer.close()


def _decode_range(
    path: Path, layout: _Layout, first: int, count: int
) -> list[tuple[int, av.VideoFrame]]:
    """Frames `first` .. `first + count - 1` of `path`, decoding only the GOPs that hold them
    (closed GOPs: their packets decode on their own)."""
    gops = [g for g in layout.gops if g.first < first + count and g.first + g.frames > first]
    start = min(g.first for g in gops)
    stop = max(g.first + g.frames for g in gops)
    scale = _scale(layout.time_base, layout.info.fps)
    frames: list[tuple[int, av.VideoFrame]] = []
    # Opened only for a decoder set up from the file's own stream (its colour tags decide
    # the RGB conversion); the packets come by the scan's record.
    with open_video(path) as (_, stream):
        decoder = stream.codec_context
        for sample, packet in _packets(path, layout, start, stop - start):
            packet.pts, packet.dts = sample.pts, sample.dts
            packet.time_base = layout.time_base
            for frame in decoder.decode(packet):
                frames.append((_display_frame(frame.pts - layout.pts0, scale), frame))
        for frame in decoder.decode(None):
            frames.append((_display_frame(frame.pts - layout.pts0, scale), frame))
    frames.sort(key=lambda item: item[0])
    kept = [(i, f) for i, f in frames if first <= i < first + count]
    if len(kept) != count:
        raise InvalidVideo(path, f"frames {first}-{first + count - 1} did not all decode")
    return kept


def _jumps(paths: Sequence[Path], n: int, size: tuple[int, int] | None = None) -> list[np.ndarray]:
    """RGB difference (float) from the last frame of each segment to the first of the next."""
    jumps = []
    for a, b in pairwise(paths):
        before, after = last_frame(a), first_frame(b)
        if size is not None:
            before, after = _fit(before, size), _fit(after, size)
        jumps.append(after.astype(np.float32) - before.astype(np.float32))
    return jumps


def _correction(
    segment: int,
    index: int,
    lengths: list[int],
    jumps: Sequence[np.ndarray] | Mapping[int, np.ndarray],
    windows: list[int],
) -> np.ndarray | None:
    """What to add to frame `index` of `segment`: its share of the neighbouring seams' jumps."""
    total = None
    if segment < len(windows):  # the seam after this segment
        n, k = windows[segment], lengths[segment] - 1 - index
        if k < n:
            total = jumps[segment] * ((n - k) / (2 * n + 1))
    if segment > 0:  # the seam before it
        n, k = windows[segment - 1], index
        if k < n:
            share = -jumps[segment - 1] * ((n - k) / (2 * n + 1))
            total = share if total is None else total + share
    return total


def _mux(
    plan: list[Piece],
    sources: list[_Source],
    reference: _Layout,
    template_path: Path,
    out: Path,
) -> None:
    """Write every piece's packets with continuous timestamps in frame units."""
    fps = reference.info.fps
    frame_time = 1 / fps
    delay = max(source.delay for source in sources)
    partial = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.mp4")
    try:
        with (
            open_video(template_path) as (_, template),
            av.open(
                str(partial), mode="w", format="mp4", options={"movflags": "+faststart"}
            ) as output,
        ):
            stream = output.add_stream_from_template(template)
            stream.time_base = frame_time
            decoded = 0
            for piece, source in zip(plan, sources, strict=True):
                shift = piece.start - source.first
                for sample, packet in _packets(
                    source.path, source.layout, source.first, piece.frames
                ):
                    packet.stream = stream
                    packet.time_base = frame_time
                    packet.pts = shift + sample.frame
                    # Packets numbered in decode order, shifted by the largest reorder
                    # delay: always increasing across pieces, and never after their pts.
                    packet.dts = decoded - delay
                    packet.duration = 1
                    output.mux(packet)
                    decoded += 1
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)


def _packets(
    path: Path, layout: _Layout, first: int, frames: int
) -> Iterator[tuple[_Sample, av.Packet]]:
    """(sample, packet) in decode order for display frames `first` .. `first + frames - 1`:
    read by place when the layout allows it, else demuxed again."""
    wanted = [s for s in layout.samples if first <= s.frame < first + frames]
    if len(wanted) != frames:
        raise InvalidVideo(path, f"expected {frames} frames from {first}, found {len(wanted)}")
    if layout.stored_whole:
        with path.open("rb") as file:
            for sample in wanted:
                file.seek(sample.pos)
                data = file.read(sample.size)
                if len(data) != sample.size:
                    raise InvalidVideo(path, "the file was cut short while it was being read")
                packet = av.Packet(data)
                packet.is_keyframe = sample.keyframe
                yield sample, packet
        return
    with open_video(path) as (container, stream):
        demuxed = (
            packet
            for packet in container.demux(stream)
            if packet.size and packet.pts is not None and not packet.is_discard
        )
        try:
            # The same packets in the same order as the scan that made `layout`.
            for sample, packet in zip(layout.samples, demuxed, strict=False):
                if first <= sample.frame < first + frames:
                    yield sample, packet
        except av.FFmpegError as error:
            raise InvalidVideo(path, f"damaged video data ({error})") from error


def _result(
    out: Path,
    plan: list[Piece],
    paths: tuple[Path, ...],
    layouts: list[_Layout],
    n: int,
    reason: str | None,
    clock: float,
    reused: dict[tuple, Piece] | None = None,
) -> AssemblyResult:
    reused = reused or {}
    encoded = sum(p.frames for p in plan if p.kind == "encode" and _key(p) not in reused)
    total = sum(p.frames for p in plan)
    return AssemblyResult(
        path=out,
        frames=total,
        reencoded_frames=encoded,
        copied_frames=total - encoded,
        seams=_seams([layout.info.frames for layout in layouts]),
        method=SEAM_REENCODE if n else PACKET_COPY,
        fallback_reason=reason,
        segments=paths,
        crossfade_frames=n,
        fps=layouts[0].info.fps,
        elapsed_s=time.perf_counter() - clock,
        pieces=tuple(plan),
    )


def _seams(lengths: list[int]) -> tuple[int, ...]:
    return tuple(int(x) for x in np.cumsum(lengths)[:-1])


def _full_reencode(
    paths: tuple[Path, ...],
    layouts: list[_Layout],
    out: Path,
    n: int,
    preset: str,
    reason: str,
    clock: float,
) -> AssemblyResult:
    """Decode every segment and encode one file at segment 0's rate and (even) size: every
    frame is kept, retimed to that rate, and scaled if its segment differs."""
    first = layouts[0].info
    size = (first.width - first.width % 2, first.height - first.height % 2)
    lengths = [layout.info.frames for layout in layouts]
    jumps = _jumps(paths, n, size) if n else []
    windows = _windows(lengths, n)
    total = 0
    with H264Writer(out, first.fps, *size, crf=DEFAULT_CRF, preset=preset) as writer:
        for segment, path in enumerate(paths):
            with open_video(path) as (container, stream):
                stream.thread_type = "AUTO"
                try:
                    for index, frame in enumerate(container.decode(stream)):
                        rgb = _fit(frame.to_ndarray(format="rgb24"), size)
                        correction = _correction(segment, index, lengths, jumps, windows)
                        if correction is not None:
                            rgb = np.clip(np.rint(rgb + correction), 0, 255).astype(np.uint8)
                        writer.write(rgb)
                        total += 1
                except av.FFmpegError as error:
                    raise InvalidVideo(path, f"damaged video data ({error})") from error
        writer.close()
    return AssemblyResult(
        path=out,
        frames=total,
        reencoded_frames=total,
        copied_frames=0,
        seams=_seams(lengths),
        method=FULL_REENCODE,
        fallback_reason=reason,
        segments=paths,
        crossfade_frames=n,
        fps=first.fps,
        elapsed_s=time.perf_counter() - clock,
    )


def _fit(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if (frame.shape[1], frame.shape[0]) == size:
        return frame
    shrink = size[0] * size[1] < frame.shape[0] * frame.shape[1]
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)


def _grey_difference(a: np.ndarray, b: np.ndarray) -> float:
    def small(frame: np.ndarray) -> np.ndarray:
        grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        width = 64
        height = max(1, round(grey.shape[0] * width / grey.shape[1]))
        return cv2.resize(grey, (width, height), interpolation=cv2.INTER_AREA).astype(np.float32)

    return float(np.abs(small(a) - small(b)).mean())
