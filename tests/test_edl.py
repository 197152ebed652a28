"""Edit decision lists in the delivery package (PRD-40) with real video: the take's OTIO
timeline and its CMX 3600 EDL read back by OpenTimelineIO, their clips, durations and
timecodes those of the assembled take's frames as PyAV decodes them, a trimmed segment
included; a rate without SMPTE timecode gets the timeline only, saying why; a manifest that
did not make the take is refused."""

import json
from pathlib import Path

import opentimelineio as otio
import pytest

from tests.numbered_takes import FOLDER, make_numbered_take
from tests.test_delivery import approve
from tests.test_trims import number_of
from trulience.auth.acting import Operator
from trulience.catalog import users
from trulience.catalog.scenes import current_segments, get_take
from trulience.catalog.trims import current_trims
from trulience.delivery.deliver import deliver_take
from trulience.delivery.edl import EDL_FILE, OTIO_FILE, EditListProblem, layout_of, take_layout
from trulience.delivery.package import verify_package
from trulience.delivery.trims import trim_segment
from trulience.media.frames import read_frames
from trulience.review.timecode import to_timecode

HEAD, TAIL = 3, 2  # trimmed from segment 1


def delivered(conn, made, tmp_path: Path) -> Path:
    users.create_user(conn, "rita", "Rita", "reviewer")
    approve(conn, made.scene_id)
    delivery = deliver_take(conn, made.storage, made.scene_id, tmp_path / "delivery")
    assert delivery.status == "packaged", delivery.violations
    return tmp_path / "delivery" / "package"


def decoded(path: str | Path) -> list:
    return list(read_frames(path))


def edl_events(text: str) -> list[list[str]]:
    """The event lines of a CMX 3600 EDL, split into fields."""
    return [line.split() for line in text.splitlines() if line[:3].isdigit()]


def test_the_package_holds_the_takes_edit_lists_with_a_trimmed_segment(conn, tmp_path):
    made = make_numbered_take(conn, tmp_path)
    trim_segment(conn, Operator("cli:ana"), made.storage, made.scene_id, 1, head=HEAD, tail=TAIL)
    package = delivered(conn, made, tmp_path)
    assert verify_package(package) == []
    listed = {f["path"] for f in json.loads((package / "manifest.json").read_text())["files"]}
    assert {OTIO_FILE, EDL_FILE} <= listed
    sidecar = json.loads((package / "sidecar.json").read_text())
    assert sidecar["edit_decision_list"]["cmx_3600"] == EDL_FILE

    take = decoded(package / "scene.mp4")
    segments = current_segments(conn, made.scene_id)
    media = [
        decoded(made.storage.local_file(made.storage.key_of(s.uri), tmp_path / "m"))
        for s in segments.values()
    ]
    trims = [(0, 0), (HEAD, TAIL), (0, 0)]
    kept = [len(m) - head - tail for m, (head, tail) in zip(media, trims, strict=True)]
    assert kept == [24, 19, 24] and sum(kept) == len(take)
    starts = [0, kept[0], kept[0] + kept[1]]

    timeline = otio.adapters.read_from_file(str(package / OTIO_FILE))
    clips = list(timeline.find_clips())
    assert [c.source_range.duration.to_frames() for c in clips] == kept
    assert [c.source_range.start_time.to_frames() for c in clips] == [h for h, _ in trims]
    assert [c.range_in_parent().start_time.to_frames() for c in clips] == starts
    assert [c.media_reference.target_url for c in clips] == [s.uri for s in segments.values()]
    assert [c.media_reference.available_range.duration.to_frames() for c in clips] == [
        len(m) for m in media
    ]
    assert timeline.duration().to_frames() == len(take)
    seams = [m.metadata["trulience"]["seam_frame"] for c in clips for m in c.markers]
    assert seams == starts[1:]
    # What each clip points at is what the take shows: mid-clip, far from any smoothed seam
    for clip, start, (head, _) in zip(clips, starts, trims, strict=True):
        middle = clip.source_range.duration.to_frames() // 2
        shown = number_of(take[start + middle])
        assert shown == number_of(media[clip.metadata["trulience"]["segment"]][head + middle])

    text = (package / EDL_FILE).read_text()
    events = edl_events(text)
    assert len(events) == 3
    for event, start, frames, (head, _) in zip(events, starts, kept, trims, strict=True):
        assert event[-4:] == [
            to_timecode(head, 24),
            to_timecode(head + frames, 24),
            to_timecode(start, 24),
            to_timecode(start + frames, 24),
        ]
    assert [e[1] for e in events] == ["S000A01", "S001A01", "S002A01"]
    edl = otio.adapters.read_from_file(str(package / EDL_FILE), rate=24)
    read = list(edl.find_clips())
    assert [c.source_range.duration.to_frames() for c in read] == kept
    assert [c.range_in_parent().start_time.to_frames() for c in read] == starts
    assert [len(c.markers) for c in read] == [0, 1, 1]


def test_a_rate_without_smpte_timecode_gets_the_timeline_and_says_why(conn, tmp_path):
    made = make_numbered_take(conn, tmp_path, (12, 12), fps=12)
    package = delivered(conn, made, tmp_path)
    entry = json.loads((package / "sidecar.json").read_text())["edit_decision_list"]
    assert entry["cmx_3600"] is None
    assert "12 fps has no SMPTE timecode" in entry["why_no_cmx_3600"]
    assert not (package / EDL_FILE).exists()
    timeline = otio.adapters.read_from_file(str(package / OTIO_FILE))
    assert [c.source_range.duration.to_frames() for c in timeline.find_clips()] == [12, 12]
    assert verify_package(package) == []


def test_an_assembly_manifest_that_did_not_make_the_take_is_refused(conn, tmp_path):
    made = make_numbered_take(conn, tmp_path, (12, 12))
    segments = current_segments(conn, made.scene_id)
    manifest = json.loads(made.storage.read_bytes(f"{FOLDER}/assembly.json"))
    sha = manifest["output_sha256"]
    assert layout_of(manifest, sha, segments).frames == 24
    with pytest.raises(EditListProblem, match="made another video"):
        layout_of(manifest, "0" * 64, segments)
    with pytest.raises(EditListProblem, match="lists 2 sources, the take has 1 segments"):
        layout_of(manifest, sha, {0: segments[0]})
    moved = manifest | {"seams": [11]}
    with pytest.raises(EditListProblem, match="seams and frames disagree"):
        layout_of(moved, sha, segments)


def test_a_take_without_its_manifest_is_its_whole_segments_unless_trimmed(conn, tmp_path):
    made = make_numbered_take(conn, tmp_path, (12, 12))
    made.storage.delete(f"{FOLDER}/assembly.json")
    take, segments = get_take(conn, made.scene_id), current_segments(conn, made.scene_id)
    whole = take_layout(made.storage, take, segments)
    assert [c.frames for c in whole.clips] == [12, 12] and whole.fps == 24
    trim_segment(conn, Operator("cli:ana"), made.storage, made.scene_id, 0, head=2)
    made.storage.delete(f"{FOLDER}/assembly.json")
    take = get_take(conn, made.scene_id)
    with pytest.raises(EditListProblem, match="missing for a trimmed take"):
        take_layout(made.storage, take, segments, current_trims(conn, made.scene_id))
