"""Join a scene's segments into one H.264 MP4, copying packets wherever pixels do not change.

Seam smoothing keeps the frame count: the jump J between the last frame of segment k and the
first of segment k+1 is spread over 2n+1 steps. The frame k places before the seam (k < n)
is moved by +J (n - k) / (2n + 1) and the frame k places after it by -J (n - k) / (2n + 1),
so both sides move toward the seam's midpoint and the step across the seam drops to
J / (2n + 1). Only the jump is added, never another frame, so each frame keeps its own motion.

Only the smoothed frames are re-encoded, with the fewest others that close their GOPs: from
the last cut before a seam's window (after it the copied packets decode on their own) to the
first keyframe after it (trulience/delivery/pieces.py); every other frame is copied as packets.
A backend that encodes opens GOPs right after the window at a segment's start and at the one
at its end (`seam_keyframes`), so a seam then decodes and re-encodes its window alone.
Copying needs one set of H.264
parameter sets for the whole file, so the seam encoder reuses the segments' CRF (read from
x264's settings note in the first packet) and its output is checked against the segments'
parameter sets; anything else falls back to a full re-encode, and the result says why.

Each file is demuxed once (trulience/delivery/packets.py), and only the first is described by
decoding; the seams' smoothing and re-encodes are trulience/delivery/seams.py.
"""

import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from trulience.delivery.packets import (
    Layout,
    Source,
    mux,
    read_layout,
    read_layouts,
    reorder_delay,
)
from trulience.delivery.pieces import Piece, piece_key, plan_pieces, plan_pieces_by_gops
from trulience.delivery.seams import encode_run, reencode_all, seam_windows
from trulience.errors import TrulienceError
from trulience.media.encode import DEFAULT_CRF, DEFAULT_PRESET

PACKET_COPY = "packet_copy"
SEAM_REENCODE = "seam_reencode"
FULL_REENCODE = "full_reencode"


class AssemblyError(TrulienceError):
    """Segments that cannot be assembled at all (none given, a bad window, a bad index)."""


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
    reference: bool = False,
) -> AssemblyResult:
    """Join `segments` into `out` (H.264 yuv420p MP4, constant fps, +faststart); with
    `crossfade_frames` n > 0 smooth each seam over n frames per side, re-encoding only the
    frames the smoothing touches and the fewest around them that close their GOPs.
    `reference` is the first version, kept to compare against: every file described by
    decoding, and seams re-encoded by whole GOPs."""
    clock = time.perf_counter()
    paths = tuple(Path(p) for p in segments)
    out = Path(out)
    _check_request(paths, crossfade_frames)
    layouts = read_layouts(paths, shared_probe=not reference)
    reason = _copy_blocker(paths, layouts, need_closed=crossfade_frames > 0)
    if reason is not None:
        return _full_reencode(paths, layouts, out, crossfade_frames, preset, reason, clock)
    plan = (plan_pieces_by_gops if reference else plan_pieces)(layouts, crossfade_frames)
    try:
        _write_plan(
            plan, paths, layouts, out, crossfade_frames, preset, reuse={}, reference=reference
        )
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
    layouts = read_layouts(paths)
    reason = _copy_blocker(tuple(paths), layouts, need_closed=n > 0)
    if reason is not None:
        return _full_reencode(tuple(paths), layouts, out, n, preset, reason, clock)
    plan = plan_pieces(layouts, n)
    old = {piece_key(piece): piece for piece in previous.pieces}
    reuse = {
        piece_key(piece): old[piece_key(piece)]
        for piece in plan
        if index not in piece.segments and piece_key(piece) in old
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


def _write_plan(
    plan: list[Piece],
    paths: tuple[Path, ...],
    layouts: list[Layout],
    out: Path,
    n: int,
    preset: str,
    reuse: dict[tuple, Piece],
    previous_path: Path | None = None,
    *,
    reference: bool = False,
) -> None:
    """Encode the dirty runs to scratch files, then mux every piece's packets into `out`."""
    lengths = [layout.info.frames for layout in layouts]
    crf = layouts[0].crf if layouts[0].crf is not None else DEFAULT_CRF
    windows = seam_windows(lengths, n)
    with tempfile.TemporaryDirectory(prefix=".assemble-", dir=out.parent) as scratch:
        sources: list[Source] = []
        previous_layout = (
            read_layout(previous_path, like=layouts[0])
            if previous_path is not None and reuse
            else None
        )
        for number, piece in enumerate(plan):
            if piece_key(piece) in reuse and previous_layout is not None:
                old = reuse[piece_key(piece)]
                delay = reorder_delay(previous_layout, old.start, old.frames)
                sources.append(Source(previous_path, previous_layout, old.start, delay))
            elif piece.kind == "copy":
                layout = layouts[piece.source]
                delay = reorder_delay(layout, piece.source_start, piece.frames)
                sources.append(Source(paths[piece.source], layout, piece.source_start, delay))
            else:
                scratch_path = Path(scratch) / f"run-{number:04d}.mp4"
                encode_run(
                    piece.ranges,
                    paths,
                    layouts,
                    scratch_path,
                    windows,
                    lengths,
                    preset,
                    reference=reference,
                )
                run_layout = read_layout(scratch_path, like=None if reference else layouts[0])
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
    encoded = sum(p.frames for p in plan if p.kind == "encode" and piece_key(p) not in reused)
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
