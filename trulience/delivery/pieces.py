"""An assembly's plan: the pieces of its output in order, each either a run of one
segment's packets copied or a run of frames (across seams) decoded, smoothed and re-encoded.

A seam's run starts at the last cut before its window in the segment before it (a frame
after which the copied packets decode on their own, `cut_points`) and ends at the first
keyframe at or after its window in the segment after it; nothing else is re-encoded.
"""

from dataclasses import dataclass

from trulience.delivery.packets import Gop, Layout, cut_points
from trulience.delivery.seams import seam_windows


@dataclass(frozen=True)
class Piece:
    """A run of output frames from `start`: packets copied from one source file (`source`,
    `source_start`; from a keyframe to a cut), or frames of the listed segments decoded,
    smoothed and re-encoded."""

    kind: str  # "copy" or "encode"
    start: int
    frames: int
    segments: tuple[int, ...]
    source: int | None = None  # segment index for a copy
    source_start: int = 0  # first frame in that segment
    ranges: tuple[tuple[int, int, int], ...] = ()  # (segment, first, count) for an encode


def plan_pieces(layouts: list[Layout], n: int) -> list[Piece]:
    """Output pieces in order: each segment's untouched middle copied, each seam re-encoded
    from the last cut before its window (`cut_points`) to the next segment's first keyframe
    after it (a segment with no untouched middle joins its seams' runs)."""
    lengths = [layout.info.frames for layout in layouts]
    windows = seam_windows(lengths, n)
    pieces: list[Piece] = []
    start = 0
    run: list[tuple[int, int, int]] = []  # (segment, first, count) to encode

    def flush() -> None:
        nonlocal start, run
        if run:
            frames = sum(count for _, _, count in run)
            segments = tuple(sorted({s for s, _, _ in run}))
            pieces.append(Piece("encode", start, frames, segments, ranges=tuple(run)))
            start += frames
            run = []

    for s, layout in enumerate(layouts):
        length = lengths[s]
        head = windows[s - 1] if s > 0 else 0
        tail = windows[s] if s < len(windows) else 0
        clean_from = next((g.first for g in layout.gops if g.first >= head), length)
        clean_to = max(c for c in cut_points(layout) if c <= length - tail) if tail else length
        if clean_from >= clean_to:
            run.append((s, 0, length))
            continue
        if clean_from:
            run.append((s, 0, clean_from))
        flush()
        frames = clean_to - clean_from
        pieces.append(Piece("copy", start, frames, (s,), source=s, source_start=clean_from))
        start += frames
        if clean_to < length:
            run.append((s, clean_to, length - clean_to))
    flush()
    return pieces


def plan_pieces_by_gops(layouts: list[Layout], n: int) -> list[Piece]:
    """The first version's plan (`reference`): runs of clean GOPs copied, runs of GOPs that
    hold a smoothed frame re-encoded whole."""
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


def piece_key(piece: Piece) -> tuple:
    return (piece.kind, piece.segments, piece.source, piece.source_start, piece.ranges)
