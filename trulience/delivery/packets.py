"""Each file of an assembly demuxed once, and its packets read back and muxed.

Each file is opened and demuxed once (`read_layout`), which records every sample's display
frame, flags and place in the file. Copying then reads the samples straight from those places:
an MP4 stores each sample whole and the demuxer hands it over unchanged, and opening a file
again is what costs (FFmpeg decodes its first frames to describe the stream). Other containers
are demuxed again instead. Only an assembly's first file is described by decoding: the others
are opened with their decoder told to skip frames and, carrying the same parameter sets, take
its pixel format (`read_layouts`).
"""

import os
import re
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

import av
from av.container import InputContainer
from av.video.stream import VideoStream

from trulience.media.probe import InvalidVideo, VideoInfo, describe, has_sample_table, open_video

_X264_CRF = re.compile(rb"crf=(\d+(?:\.\d+)?)")


class Sample(NamedTuple):
    """One packet of a file, as demuxed: where it shows and where its bytes are."""

    frame: int  # display frame in its file
    keyframe: bool
    pts: int
    dts: int | None
    pos: int  # byte offset in the file
    size: int


@dataclass(frozen=True)
class Gop:
    first: int  # first frame (display order) in its file
    frames: int
    delay: int  # most frames a packet is decoded ahead of its display slot


@dataclass(frozen=True)
class Layout:
    """A file's GOPs and samples, from demuxing only."""

    info: VideoInfo
    time_base: Fraction
    extradata: bytes
    gops: tuple[Gop, ...]
    closed: bool
    crf: int | None
    pts0: int  # pts of display frame 0
    samples: tuple[Sample, ...] = field(repr=False)  # decode order
    stored_whole: bool  # each sample's bytes are at (pos, size) in the file, unaltered


def read_layouts(paths: Sequence[Path], *, shared_probe: bool = True) -> list[Layout]:
    """The layouts of an assembly's files. With `shared_probe`, only the first file is
    described in full (FFmpeg decodes its first frames to name the pixel format, the
    dearest part of opening a file); the others are opened without decoding and take that
    pixel format when they carry the very same H.264 parameter sets, which fix it."""
    if not paths:
        return []
    first = read_layout(paths[0])
    return [first] + [read_layout(path, like=first if shared_probe else None) for path in paths[1:]]


def read_layout(path: Path, *, like: Layout | None = None) -> Layout:
    """GOPs and samples of `path` in display frames, read by demuxing. With `like`, a file
    of the same codec and parameter sets is read without decoding a frame."""
    if like is not None and like.extradata:
        undecoded = _undecoded_layout(path, like)
        if undecoded is not None:
            return undecoded
    with open_video(path) as (container, stream):
        info = describe(path, container, stream)
        if has_sample_table(container, stream):
            return _scan(path, info, container, stream)
    # Counting this file's frames demuxed it: read it again.
    with open_video(path) as (container, stream):
        return _scan(path, info, container, stream)


def _undecoded_layout(path: Path, like: Layout) -> Layout | None:
    """`path`'s layout read without decoding a frame, its pixel format taken from `like`;
    None when that shortcut does not hold (another codec or parameter sets, no sample
    table): the caller reads it in full."""
    with open_undecoded(path) as (container, stream):
        context = stream.codec_context
        if (
            container.format.name != like.info.container
            or context.name != like.info.codec
            or bytes(context.extradata or b"") != like.extradata
            or not has_sample_table(container, stream)
        ):
            return None
        info = replace(describe(path, container, stream), pix_fmt=like.info.pix_fmt)
        return _scan(path, info, container, stream)


@contextmanager
def open_undecoded(path: Path) -> Iterator[tuple[InputContainer, VideoStream]]:
    """`open_video`, with FFmpeg told not to decode the first frames to describe the video
    stream (its decoder works as usual afterwards; only its pixel format is left unnamed).
    Files it does not suit (no video as the first stream, a demuxer that names its streams
    only by probing) are opened by `open_video`."""
    try:
        container = av.open(str(path), mode="r", stream_options=[{"skip_frame": "all"}])
    except (av.FFmpegError, UnicodeDecodeError, ValueError, OSError):
        container = None  # ValueError: the demuxer names no stream before probing (MPEG-TS)
    if container is not None and (
        not container.streams.video
        or container.streams.video[0].index != 0
        or container.streams.video[0].codec_context is None
    ):
        container.close()
        container = None
    if container is None:
        with open_video(path) as opened:
            yield opened
        return
    with container:
        yield container, container.streams.video[0]


def _scan(path: Path, info: VideoInfo, container: InputContainer, stream: VideoStream) -> Layout:
    """Demux `stream` once, from its first packet, into a `Layout`."""
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
    scale = frame_scale(time_base, info.fps)
    samples = tuple(
        Sample(display_frame(pts - pts0, scale), keyframe, pts, dts, pos, size)
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
    return Layout(info, time_base, extradata, gops, closed, crf, pts0, samples, whole)


def _gops(samples: tuple[Sample, ...]) -> tuple[tuple[Gop, ...], bool]:
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
        gops.append(Gop(first=first, frames=len(group), delay=max(0, delay)))
    return tuple(gops), closed


def cut_points(layout: Layout) -> tuple[int, ...]:
    """Frames where a copy may stop and a new GOP begin: the packets shown before such a
    frame are a prefix, in decode order, of their (closed) GOP, so they decode without any
    packet after them. Every GOP's first frame is one; so is the frame after each P-frame
    that no B-frame before it waits on."""
    cuts = {layout.info.frames}
    gops = iter(layout.gops)
    gop = None
    shown = count = 0
    for sample in layout.samples:
        if sample.keyframe or gop is None:
            gop = next(gops)
            cuts.add(gop.first)
            shown, count = gop.first, 0
        count += 1
        shown = max(shown, sample.frame + 1)
        if shown - gop.first == count:
            cuts.add(shown)
    return tuple(sorted(cuts))


def frame_scale(time_base: Fraction, fps: Fraction) -> tuple[int, int]:
    """time_base x fps as (numerator, denominator): pts ticks to frames."""
    ratio = time_base * fps
    return ratio.numerator, ratio.denominator


def display_frame(offset: int, scale: tuple[int, int]) -> int:
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


def packets(
    path: Path, layout: Layout, first: int, frames: int
) -> Iterator[tuple[Sample, av.Packet]]:
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


def reorder_delay(layout: Layout, first: int, frames: int) -> int:
    return max((g.delay for g in layout.gops if first <= g.first < first + frames), default=0)


class Source(NamedTuple):
    """Where a span's packets come from: a file, its layout, the span's first frame there."""

    path: Path
    layout: Layout
    first: int
    delay: int


def mux(
    spans: Sequence[tuple[int, int]],
    sources: Sequence[Source],
    reference: Layout,
    template_path: Path,
    out: Path,
) -> None:
    """Write each span's packets (its first output frame and frame count, taken from its
    source) with continuous timestamps in frame units."""
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
            for (start, frames), source in zip(spans, sources, strict=True):
                shift = start - source.first
                for sample, packet in packets(source.path, source.layout, source.first, frames):
                    packet.stream = stream
                    packet.time_base = frame_time
                    packet.pts = shift + sample.frame
                    # Packets numbered in decode order, shifted by the largest reorder
                    # delay: always increasing across spans, and never after their pts.
                    packet.dts = decoded - delay
                    packet.duration = 1
                    output.mux(packet)
                    decoded += 1
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
