"""Trims at seams (PRD-78) with real video: a segment's head and tail cut from an assembled
take, the take re-stitched around that segment's seams only (every frame outside them is
bit-identical to before), the trim recorded in the catalog and the assembly manifest; a
trim that leaves no frame refused, naming the values; the trim from the review app's state."""

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.review_takes import make_project, make_take
from trulience.auth import users as accounts
from trulience.auth.acting import Operator
from trulience.auth.errors import PermissionDenied
from trulience.catalog.errors import InvalidValue
from trulience.catalog.scenes import commit_segment
from trulience.catalog.trims import current_trims
from trulience.cli import main
from trulience.delivery.assemble import SEAM_REENCODE
from trulience.delivery.scene import assemble_take
from trulience.delivery.trims import trim_segment
from trulience.media.encode import encode_frames
from trulience.media.frames import FrameOutOfRange, read_frames
from trulience.media.probe import probe
from trulience.media.trim import cut_frames
from trulience.storage import Storage

SEGMENTS, FRAMES, GOP, FPS = 4, 24, 6, 12
FOLDER = "scenes/demo/ada/walk/take1"


def picture(number: int) -> np.ndarray:
    """Frame `number` of the take: its number in its grey level, over a fixed texture."""
    rng = np.random.default_rng(7)
    texture = rng.integers(0, 24, (48, 64, 1), dtype=np.uint8)
    return np.repeat(texture, 3, axis=2) + np.uint8(20 + 2 * number)


def number_of(frame: np.ndarray) -> int:
    return round((float(frame.mean()) - 20 - 11.5) / 2)


@pytest.fixture
def made(conn, tmp_path):
    """An assembled take of four real 24-frame segments (frames numbered 0..95)."""
    storage = Storage((tmp_path / "storage").as_uri())
    make_project(conn)
    scene = make_take(conn, status="generated")
    conn.execute("UPDATE scenes SET planned_segments = %s WHERE id = %s", (SEGMENTS, scene))
    for index in range(SEGMENTS):
        clip = tmp_path / f"{index}.mp4"
        first = index * FRAMES
        encode_frames((picture(first + i) for i in range(FRAMES)), clip, FPS, gop=GOP)
        stored = storage.put_file(f"{FOLDER}/{index}-1.mp4", clip)
        commit_segment(
            conn,
            scene,
            index,
            1,
            uri=stored.uri,
            sha256=stored.sha256,
            frames=FRAMES,
            provenance={"backend": "test"},
        )
    assemble_take(conn, storage, scene, tmp_path / "first")
    return storage, scene


def frames_of(storage: Storage, tmp_path: Path) -> list[np.ndarray]:
    return list(read_frames(storage.local_file(f"{FOLDER}/scene.mp4", tmp_path)))


def test_a_trimmed_segment_is_restitched_at_its_own_seams_only(conn, made, tmp_path):
    storage, scene = made
    before = frames_of(storage, tmp_path)
    done = trim_segment(conn, Operator("cli:ana"), storage, scene, 1, head=3, tail=2)

    after = frames_of(storage, tmp_path)
    assert len(before) == SEGMENTS * FRAMES and len(after) == len(before) - 5 == done.frames
    assert (done.method, done.replaced_segment, done.revision) == (SEAM_REENCODE, 1, 2)
    # Segment 0 before its seam GOP, and everything from segment 2's second GOP on (seam
    # 2|3 included, reused from the stored file): the same pixels, shifted by the 5 cut.
    for i in range(FRAMES - GOP):
        assert np.array_equal(after[i], before[i]), i
    for i in range(2 * FRAMES + GOP, SEGMENTS * FRAMES):
        assert np.array_equal(after[i - 5], before[i]), i
    # Re-encoded: only the two seams around segment 1, each from the last cut before its
    # 2-frame window (B-frames wait on the frame after them: at most 3 more) to the next
    # keyframe after the seam, the first frame copied again. The trimmed segment 1 opens
    # GOPs right after the window at its start and at the one at its end (its 19 frames
    # make GOPs 0-1, 2-7, 8-13, 14-16, 17-18); segment 2, untrimmed, only every 6 frames.
    assert (2 + 2) + (2 + GOP) <= done.reencoded_frames <= (2 + 3 + 2) + (2 + GOP)
    # The trimmed segment's middle shows its own frames 3.. 21: head 3 cut, tail 2 cut.
    kept = [number_of(after[FRAMES + k]) for k in range(GOP, 19 - GOP)]
    assert kept == [FRAMES + 3 + k for k in range(GOP, 19 - GOP)]

    manifest = json.loads(storage.read_bytes(f"{FOLDER}/assembly.json"))
    trim = manifest["trims"][0]
    assert (trim["segment"], trim["head"], trim["tail"], trim["frames"]) == (1, 3, 2, 19)
    assert trim["by"] == "cli:ana"
    assert manifest["sources"][1]["head"] == 3 and "head" not in manifest["sources"][0]
    assert current_trims(conn, scene)[1].by_user == "cli:ana"


def test_undoing_a_trim_brings_back_every_frame(conn, made, tmp_path):
    storage, scene = made
    trim_segment(conn, Operator("cli:ana"), storage, scene, 3, tail=4)
    assert probe(storage.local_file(f"{FOLDER}/scene.mp4", tmp_path)).frames == 92
    undone = trim_segment(conn, Operator("cli:ana"), storage, scene, 3)
    assert undone.frames == SEGMENTS * FRAMES
    assert json.loads(storage.read_bytes(f"{FOLDER}/assembly.json"))["trims"] == []


def test_a_trim_that_leaves_no_frame_is_refused_naming_the_values(conn, made):
    storage, scene = made
    with pytest.raises(InvalidValue, match=r"'20\+4'.*segment 2 has 24 frames.*at least 1"):
        trim_segment(conn, Operator("cli:ana"), storage, scene, 2, head=20, tail=4)
    with pytest.raises(InvalidValue, match="has no segment 7"):
        trim_segment(conn, Operator("cli:ana"), storage, scene, 7, head=1)
    with pytest.raises(InvalidValue, match="nothing to trim"):
        trim_segment(conn, Operator("cli:ana"), storage, scene, 0)
    viewer = accounts.create_user(conn, "vic", "Vic", "viewer", "s3cret-pass")
    with pytest.raises(PermissionDenied):
        trim_segment(conn, viewer, storage, scene, 0, head=1)
    assert current_trims(conn, scene) == {}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(head=st.integers(-3, 30), tail=st.integers(-3, 30))
def test_any_trim_values_are_kept_or_refused_with_nothing_recorded(conn, made, head, tail):
    """Refused values leave no trim behind; the rule is the segment's frame count."""
    storage, scene = made
    assume(not (head >= 0 and tail >= 0 and 0 < head + tail < FRAMES))  # valid: tests above
    with pytest.raises(InvalidValue) as refused:
        trim_segment(conn, Operator("cli:ana"), storage, scene, 1, head=head, tail=tail)
    assert str(head) in str(refused.value) or str(tail) in str(refused.value)
    assert current_trims(conn, scene) == {}


@settings(max_examples=15, deadline=None)
@given(head=st.integers(-2, 14), tail=st.integers(-2, 14))
def test_cutting_frames_keeps_exactly_the_rest_or_refuses(tmp_path_factory, head, tail):
    folder = tmp_path_factory.mktemp("cut")
    clip = folder / "clip.mp4"
    encode_frames((picture(i) for i in range(12)), clip, FPS, gop=4)
    if head < 0 or tail < 0 or head + tail >= 12:
        with pytest.raises(FrameOutOfRange, match=f"head {head}"):
            cut_frames(clip, folder / "cut.mp4", head=head, tail=tail)
        return
    cut_frames(clip, folder / "cut.mp4", head=head, tail=tail)
    numbers = [number_of(f) for f in read_frames(folder / "cut.mp4")]
    assert numbers == list(range(head, 12 - tail))


def test_the_cli_trims_a_segment_and_names_a_refusal(made, db_url, tmp_path):
    storage, scene = made
    env = {"DATABASE_URL": db_url, "TRULIENCE_HOME": str(tmp_path), "STORAGE_URL": storage.url}
    run = CliRunner().invoke
    done = run(main, ["takes", "trim", str(scene), "2", "--head", "1", "--tail", "1"], env=env)
    assert done.exit_code == 0, done.output
    assert "segment 2 trimmed (head 1, tail 1): 94 frames" in done.output
    refused = run(main, ["takes", "trim", str(scene), "0", "--head", "30"], env=env)
    assert refused.exit_code == 1 and "'30+0'" in refused.output, refused.output
