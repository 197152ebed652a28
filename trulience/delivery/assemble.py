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

Each file is demuxed once (trulience/delivery/packets.py); the seams' smoothing and
re-encodes are trulience/delivery/seams.py.
"""

import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from trulience.delivery.packets import Gop, Layout, Source, mux, read_layout, reorder_delay
from trulience.delivery.seams import encode_run, reencode_all, seam_windows
from trulience.errors import TrulienceError
from trulience.media.encode import DEFAULT_CRF, DEFAULT_PRESET

PACKET_COPY = "packet_copy"
SEAM_REENCODE = "seam_reencode"
FULL_REENCODE = "full_reencode"


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
    layouts = [read_layout(p) for p in paths]
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
    layouts = [read_layout(p) for p in paths]
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


class _ParameterSetsDiffer(TrulienceError):
    """The seam encoder's H.264 headers do not match the segments': copying would corrupt."""


def _check_request(paths: tuple[Path, ...], crossfade_frames: int) -> None:
    if not paths:
        raise AssemblyError("no segments to assemble")
    if not isinstance(crossfade_frames, int) or crossfade_frames < 0:
        raise AssemblyError(
            f"crossfade_frames must be a whole number of frames >= 0, got {crossfade_frames!r}"
        )


def _copy_blocker(
    paths: tuple[Path, ...], layouts: list[Layout], *, need_closed: bool
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


def _plan(layouts: list[Layout], n: int) -> list[Piece]:
    """Output pieces in order: runs of clean GOPs copied, runs of dirty GOPs re-encoded."""
    lengths = [layout.info.frames for layout in layouts]
    windows = seam_windows(lengths, n)
    # Every GOP of the timeline, tagged dirty if it holds a smoothed frame.
    tagged: list[tuple[int, Gop, bool]] = []
    for s, layout in enumerate(layouts):
        left = windows[s - 1] if s > 0 else 0
        right = windows[s] if s < len(windows) else 0
        for gop in layout.gops:
            end = gop.first + gop.frames
            dirty = gop.first < left or end > lengths[s] - right
            tagged.append((s, gop, dirty))
    pieces: list[Piece] = []
    start = 0
    run: list[tuple[int, Gop, bool]] = []

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
    layouts: list[Layout],
    out: Path,
    n: int,
    preset: str,
    reuse: dict[tuple, Piece],
    previous_path: Path | None = None,
) -> None:
    """Encode the dirty runs to scratch files, then mux every piece's packets into `out`."""
    lengths = [layout.info.frames for layout in layouts]
    crf = layouts[0].crf if layouts[0].crf is not None else DEFAULT_CRF
    windows = seam_windows(lengths, n)
    with tempfile.TemporaryDirectory(prefix=".assemble-", dir=out.parent) as scratch:
        sources: list[Source] = []
        previous_layout = (
            read_layout(previous_path) if previous_path is not None and reuse else None
        )
        for number, piece in enumerate(plan):
            if _key(piece) in reuse and previous_layout is not None:
                old = reuse[_key(piece)]
                delay = reorder_delay(previous_layout, old.start, old.frames)
                sources.append(Source(previous_path, previous_layout, old.start, delay))
            elif piece.kind == "copy":
                layout = layouts[piece.source]
                delay = reorder_delay(layout, piece.source_start, piece.frames)
                sources.append(Source(paths[piece.source], layout, piece.source_start, delay))
            else:
                scratch_path = Path(scratch) / f"run-{number:04d}.mp4"
                encode_run(piece.ranges, paths, layouts, scratch_path, windows, lengths, preset)
                run_layout = read_layout(scratch_path)
                if run_layout.extradata != layouts[0].extradata:
                    raise _ParameterSetsDiffer(
                        f"the seam encoder (libx264 crf {crf} {preset}) writes other H.264 "
                        "parameter sets than the segments, so its GOPs cannot be spliced in"
                    )
                delay = reorder_delay(run_layout, 0, piece.frames)
                sources.append(Source(scratch_path, run_layout, 0, delay))
        mux([(p.start, p.frames) for p in plan], sources, layouts[0], paths[0], out)


def _result(
    out: Path,
    plan: list[Piece],
    paths: tuple[Path, ...],
    layouts: list[Layout],
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


def _full_reencode(
    paths: tuple[Path, ...],
    layouts: list[Layout],
    out: Path,
    n: int,
    preset: str,
    reason: str,
    clock: float,
) -> AssemblyResult:
    """Every frame decoded and encoded again (nothing could be copied), and why."""
    total = reencode_all(paths, layouts, out, n, preset)
    return AssemblyResult(
        path=out,
        frames=total,
        reencoded_frames=total,
        copied_frames=0,
        seams=_seams([layout.info.frames for layout in layouts]),
        method=FULL_REENCODE,
        fallback_reason=reason,
        segments=paths,
        crossfade_frames=n,
        fps=layouts[0].info.fps,
        elapsed_s=time.perf_counter() - clock,
    )


def _seams(lengths: list[int]) -> tuple[int, ...]:
    return tuple(int(x) for x in np.cumsum(lengths)[:-1])
