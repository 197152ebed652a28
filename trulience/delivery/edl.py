"""Edit decision lists of a take (PRD-40): an OpenTimelineIO timeline of its segments as
clips, and a CMX 3600 EDL written from it by OTIO's adapter, for the delivery package.

Each clip's source is the segment's own media, its in and out in frames at the take's rate;
a trimmed segment's clip starts after its trimmed head and ends before its trimmed tail, as
the assembly manifest (`assembly.json`, beside the take) records them. Seam smoothing spreads
the jump over frames each side without adding any, so it is no dissolve: each seam is a
marker at the first frame of the clip after it, carrying the smoothing width.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import opentimelineio as otio
from opentimelineio.opentime import RationalTime, TimeRange

from trulience.catalog.records import Segment, Take
from trulience.catalog.trims import Trim
from trulience.errors import FileProblem
from trulience.storage import Storage

OTIO_FILE = "edit.otio"
EDL_FILE = "edit.edl"
ASSEMBLY_MANIFEST = "assembly.json"
CMX_3600 = "cmx_3600"
# CMX 3600 reel names are at most 8 characters.
REEL_CHARS = 8


class EditListProblem(FileProblem):
    """An assembly manifest that does not describe the take as it is; says which and why."""


@dataclass(frozen=True)
class EditClip:
    """One segment as it stands in the assembled take: its media and the frames kept."""

    index: int
    attempt: int
    media: str  # the segment's own file (storage uri)
    media_frames: int  # frames in that file
    head: int = 0  # trimmed from its start
    tail: int = 0  # trimmed from its end
    sha256: str | None = None

    @property
    def frames(self) -> int:
        """Frames of the segment in the take."""
        return self.media_frames - self.head - self.tail

    @property
    def reel(self) -> str:
        """A CMX reel name: segment and attempt ("S003A02")."""
        return f"S{self.index:03d}A{self.attempt:02d}"[:REEL_CHARS]


@dataclass(frozen=True)
class TakeLayout:
    """How an assembled take is made of its segments: rate, smoothing and the clips."""

    fps: Fraction
    crossfade_frames: int
    clips: tuple[EditClip, ...]

    @property
    def frames(self) -> int:
        return sum(c.frames for c in self.clips)

    def starts(self) -> list[int]:
        """The take's frame where each clip begins."""
        starts, at = [], 0
        for clip in self.clips:
            starts.append(at)
            at += clip.frames
        return starts


@dataclass(frozen=True)
class EditLists:
    """The edit decision lists written into a folder."""

    otio: Path
    edl: Path | None  # None: the rate has no SMPTE timecode (`edl_reason` says so)
    edl_reason: str | None = None


def take_layout(
    storage: Storage,
    take: Take,
    segments: dict[int, Segment],
    trims: Mapping[int, Trim] | None = None,
) -> TakeLayout:
    """The layout of an assembled take, read from its assembly manifest: the manifest must be
    the one that made the take's stored video and list its current segments. A take stored
    without a manifest is its segments whole, unless `trims` cut some (refused: only the
    manifest says how the video was cut)."""
    if take.uri is None:
        raise EditListProblem(f"take {take.take} (scene {take.id})", "is not assembled")
    key = f"{storage.key_of(take.uri).rsplit('/', 1)[0]}/{ASSEMBLY_MANIFEST}"
    if not storage.exists(key):
        if any(t.head or t.tail for t in (trims or {}).values()):
            raise EditListProblem(key, "missing for a trimmed take; assemble the take again")
        return _untrimmed(take, segments)
    try:
        manifest = json.loads(storage.read_bytes(key))
    except ValueError as error:
        raise EditListProblem(key, f"unreadable ({error})") from error
    return layout_of(manifest, take.sha256, segments, where=key)


def _untrimmed(take: Take, segments: dict[int, Segment]) -> TakeLayout:
    """The layout of a take assembled from its whole segments, at its scene type's rate."""
    where = f"take {take.take} (scene {take.id})"
    if sorted(segments) != list(range(len(segments))) or not all(
        s.frames for s in segments.values()
    ):
        raise EditListProblem(where, "its segments are not all committed with frame counts")
    config = take.effective_config
    return TakeLayout(
        Fraction(str(config.get("fps", "0"))),
        int(config.get("params", {}).get("crossfade_frames", 0)),
        tuple(
            EditClip(i, s.attempt, s.uri or "", s.frames or 0, sha256=s.sha256)
            for i, s in sorted(segments.items())
        ),
    )


def layout_of(
    manifest: dict[str, Any],
    video_sha256: str | None,
    segments: dict[int, Segment],
    *,
    where: str = ASSEMBLY_MANIFEST,
) -> TakeLayout:
    """The take's layout from its assembly manifest and current segments; refused, naming
    the field, when the manifest was not what made `video_sha256` or lists other segments."""
    if video_sha256 is not None and manifest.get("output_sha256") != video_sha256:
        raise EditListProblem(where, "made another video than the take's stored one")
    sources = manifest.get("sources") or []
    if len(sources) != len(segments) or sorted(segments) != list(range(len(sources))):
        raise EditListProblem(
            where, f"lists {len(sources)} sources, the take has {len(segments)} segments"
        )
    clips = []
    for index, source in enumerate(sources):
        segment = segments[index]
        if source.get("uri") != segment.uri:
            raise EditListProblem(where, f"source {index} is not segment {index}'s current file")
        if not segment.frames:
            raise EditListProblem(where, f"segment {index} has no frame count in the catalog")
        clip = EditClip(
            index,
            segment.attempt,
            segment.uri,
            segment.frames,
            int(source.get("head", 0)),
            int(source.get("tail", 0)),
            segment.sha256,
        )
        if clip.frames < 1 or clip.head < 0 or clip.tail < 0:
            raise EditListProblem(where, f"source {index}: trim {clip.head}/{clip.tail} is void")
        clips.append(clip)
    layout = TakeLayout(
        Fraction(manifest.get("fps", "0")), int(manifest.get("crossfade_frames", 0)), tuple(clips)
    )
    seams = layout.starts()[1:]
    if list(manifest.get("seams", seams)) != seams or manifest.get("frames") != layout.frames:
        raise EditListProblem(
            where, f"its seams and frames disagree with the trimmed segments ({seams})"
        )
    return layout


def timeline(name: str, layout: TakeLayout) -> otio.schema.Timeline:
    """The take as an OTIO timeline: one video track, one clip per segment, a marker at each
    seam."""
    rate = float(layout.fps)
    if rate <= 0:
        raise EditListProblem(name, f"frame rate {layout.fps} must be positive")
    made = otio.schema.Timeline(name=name, global_start_time=RationalTime(0, rate))
    made.metadata["trulience"] = {
        "fps": str(layout.fps),
        "crossfade_frames": layout.crossfade_frames,
        "frames": layout.frames,
    }
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    made.tracks.append(track)
    for clip, start in zip(layout.clips, layout.starts(), strict=True):
        track.append(_clip(clip, start, rate, layout.crossfade_frames))
    return made


def _clip(clip: EditClip, start: int, rate: float, crossfade: int) -> otio.schema.Clip:
    made = otio.schema.Clip(
        name=f"segment {clip.index} attempt {clip.attempt}",
        media_reference=otio.schema.ExternalReference(
            target_url=clip.media,
            available_range=TimeRange(RationalTime(0, rate), RationalTime(clip.media_frames, rate)),
        ),
        source_range=TimeRange(RationalTime(clip.head, rate), RationalTime(clip.frames, rate)),
        metadata={
            "cmx_3600": {"reel": clip.reel},
            "trulience": {
                "segment": clip.index,
                "attempt": clip.attempt,
                "sha256": clip.sha256,
                "head": clip.head,
                "tail": clip.tail,
                "record_frame": start,
            },
        },
    )
    if clip.index:
        made.markers.append(
            otio.schema.Marker(
                name=f"seam {clip.index}",
                marked_range=TimeRange(RationalTime(clip.head, rate), RationalTime(0, rate)),
                color=otio.schema.MarkerColor.RED,
                metadata={"trulience": {"seam_frame": start, "smoothed_each_side": crossfade}},
            )
        )
    return made


def write_edit_lists(directory: Path, name: str, layout: TakeLayout) -> EditLists:
    """Write `edit.otio` and, when the take's rate has SMPTE timecode, `edit.edl` (CMX
    3600) into `directory`."""
    made = timeline(name, layout)
    otio_path = directory / OTIO_FILE
    otio.adapters.write_to_file(made, str(otio_path))
    rate = float(layout.fps)
    if not RationalTime.is_valid_timecode_rate(rate):
        reason = f"{layout.fps} fps has no SMPTE timecode, so no CMX 3600 EDL"
        return EditLists(otio_path, None, reason)
    edl_path = directory / EDL_FILE
    edl_path.write_text(otio.adapters.write_to_string(made, CMX_3600))
    return EditLists(otio_path, edl_path)
