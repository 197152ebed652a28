"""Delivery of an approved take: package with manifest, compliance against the spec."""

import numpy as np
import pytest

from tests.ingest_files import ASTRONAUT
from trulience.catalog import characters, projects, users
from trulience.delivery.deliver import NotApproved, deliver_take
from trulience.delivery.package import verify_package
from trulience.delivery.scene import SceneNotReady, assemble_take
from trulience.generation.loop import run_loop
from trulience.generation.preview import LocalPreviewBackend
from trulience.generation.scene_config import Definition, define
from trulience.ingest.assess import assess_images, thresholds_for
from trulience.library import add_image_file
from trulience.media.frames import read_frames


@pytest.fixture
def take(conn, storage, face_models, tmp_path):
    projects.create_project(conn, "moonbase", "Moonbase")
    characters.create_character(conn, "eileen", "Eileen", {"role": "pilot"}, ["moonbase"])
    add_image_file(conn, storage, "eileen", ASTRONAUT)
    assess_images(conn, storage, face_models, "eileen", thresholds_for(conn, "eileen"))
    define(
        conn,
        Definition(
            "blink",
            "Blink",
            settings={
                "target_duration_s": 3,
                "segment_duration_s": 1,
                "fps": 12,
                "width": 128,
                "height": 128,
            },
        ),
    )
    result = run_loop(conn, storage, LocalPreviewBackend(), "eileen", "blink", tmp_path / "loop")
    users.create_user(conn, "rita", "Rita", "reviewer")
    return result.take


def approve(conn, scene_id):
    conn.execute(
        "INSERT INTO reviews (scene_id, reviewer_id, decision) "
        "SELECT %s, id, 'approved' FROM users WHERE username = 'rita'",
        (scene_id,),
    )


def test_an_approved_assembled_take_is_packaged_and_complies(conn, storage, take, tmp_path):
    with pytest.raises(NotApproved, match="not approved"):
        deliver_take(conn, storage, take.id, tmp_path / "d0")
    approve(conn, take.id)
    with pytest.raises(NotApproved, match="not assembled"):
        deliver_take(conn, storage, take.id, tmp_path / "d1")
    scene = assemble_take(conn, storage, take.id, tmp_path / "a")
    assert scene.frames == 36
    delivery = deliver_take(conn, storage, take.id, tmp_path / "d2")
    assert delivery.status == "packaged" and delivery.violations == []
    assert verify_package(tmp_path / "d2" / "package") == []
    row = conn.execute(
        "SELECT status, manifest -> 'files' ? 'manifest.json' FROM deliverables WHERE id = %s",
        (delivery.deliverable_id,),
    ).fetchone()
    assert row == ("packaged", True)
    assert storage.exists(storage.key_of(delivery.uri))


def test_a_package_that_misses_the_spec_lists_every_violation(conn, storage, take, tmp_path):
    projects.update_settings(
        conn,
        "moonbase",
        {
            "delivery_spec": {
                "codec": "h264",
                "width": 1920,
                "height": 1080,
                "fps": 24,
                "duration_s": 10,
                "duration_tolerance_s": 0.5,
            }
        },
    )
    approve(conn, take.id)
    assemble_take(conn, storage, take.id, tmp_path / "a")
    delivery = deliver_take(conn, storage, take.id, tmp_path / "d")
    assert delivery.status == "failed"
    fields = {v["field"] for v in delivery.violations}
    assert {"width", "height", "fps", "duration_s"} <= fields


def test_an_incomplete_take_is_not_assembled(conn, storage, take, tmp_path):
    conn.execute(
        "UPDATE segments SET current = false WHERE scene_id = %s AND index = 2", (take.id,)
    )
    with pytest.raises(SceneNotReady, match="2/3 segments"):
        assemble_take(conn, storage, take.id, tmp_path)


def test_the_same_segments_again_keep_the_stored_file_and_a_changed_one_is_remade(
    conn, storage, take, tmp_path, monkeypatch
):
    """x264 does not always give the same bytes for the same frames, so a re-run over
    unchanged segments keeps the stored video (no encode, no new revision); a stored video
    that is not the one its manifest names is assembled anew."""
    import trulience.delivery.scene as scene_module

    first = assemble_take(conn, storage, take.id, tmp_path / "a")
    key = storage.key_of(first.uri)
    stored_bytes = storage.read_bytes(key)
    real_assemble = scene_module.assemble

    def no_encode(*args, **kwargs):
        raise AssertionError("the unchanged take was encoded again")

    monkeypatch.setattr(scene_module, "assemble", no_encode)
    storage.delete(storage.key_of(first.proxy_uri))  # a missing proxy alone is remade
    again = assemble_take(conn, storage, take.id, tmp_path / "b")
    assert (again.sha256, again.revision, again.new_revision) == (first.sha256, 1, False)
    assert storage.read_bytes(key) == stored_bytes
    assert storage.exists(storage.key_of(again.proxy_uri))
    assert again.frames == first.frames and again.method == first.method

    storage.put_bytes(key, stored_bytes[:-1])  # not the file the manifest names
    monkeypatch.setattr(scene_module, "assemble", real_assemble)
    remade = assemble_take(conn, storage, take.id, tmp_path / "c")
    assert remade.frames == 36 and storage.sha256(key) == remade.sha256


def test_face_contact_sheet_across_takes(conn, storage, take, face_models, tmp_path):
    from PIL import Image

    from trulience.qa.contact_sheet import TILE, contact_sheet

    png, count = contact_sheet(conn, storage, face_models, "eileen", tmp_path)
    assert count == 6  # 3 segments x 2 samples, a face found in each
    path = tmp_path / "sheet.png"
    path.write_bytes(png)
    with Image.open(path) as sheet:
        assert sheet.size == (6 * TILE, TILE)


def test_rejecting_a_segment_regenerates_only_that_segment(conn, storage, take, tmp_path):
    from trulience.auth.errors import PermissionDenied
    from trulience.auth.users import create_user
    from trulience.catalog import scenes as scene_repo
    from trulience.review.regenerate import reject_segment
    from trulience.review.service import notes_for

    assemble_take(conn, storage, take.id, tmp_path / "a")
    before = {i: s.sha256 for i, s in scene_repo.current_segments(conn, take.id).items()}
    viewer = create_user(conn, "vic", "Vic", "viewer", "long enough password")
    with pytest.raises(PermissionDenied):
        reject_segment(conn, viewer, take.id, 1, "hand glitch")
    reviewer = create_user(conn, "rhea", "Rhea", "reviewer", "long enough password")
    reject_segment(conn, reviewer, take.id, 1, "the hand melts at the end")
    assert scene_repo.get_take(conn, take.id).status == "generating"
    (note,) = notes_for(conn, reviewer, take.id)
    assert note.frame == 12 and "hand melts" in note.body  # segment 1 starts at frame 12

    result = run_loop(conn, storage, LocalPreviewBackend(), "eileen", "blink", tmp_path / "l")
    assert result.resumed and result.generated == [1] and result.take.id == take.id
    after = {i: s.sha256 for i, s in scene_repo.current_segments(conn, take.id).items()}
    assert after[0] == before[0] and after[2] == before[2] and after[1] != before[1]
    again = assemble_take(conn, storage, take.id, tmp_path / "b")
    assert again.frames == 36 and again.replaced_segment == 1


def test_a_retaken_segment_is_reassembled_around_its_own_seams_only(conn, storage, take, tmp_path):
    from trulience.auth.users import create_user
    from trulience.review.regenerate import reject_segment

    # four 3 s segments at 12 fps; the preview opens a GOP right after the 2-frame window
    # at each segment's start and at the one at its end, so a seam re-encodes its window
    define(
        conn,
        Definition(
            "walk",
            "Walk",
            settings={
                "target_duration_s": 12,
                "segment_duration_s": 3,
                "fps": 12,
                "width": 96,
                "height": 96,
            },
        ),
    )
    scene = run_loop(conn, storage, LocalPreviewBackend(), "eileen", "walk", tmp_path / "l1").take
    first = assemble_take(conn, storage, scene.id, tmp_path / "a")
    assert first.replaced_segment is None
    assert (first.frames, first.reencoded_frames) == (144, 3 * (2 + 2))
    old = list(read_frames(storage.local_file(storage.key_of(first.uri), tmp_path / "o")))

    reviewer = create_user(conn, "rhea", "Rhea", "reviewer", "long enough password")
    reject_segment(conn, reviewer, scene.id, 1, "the hand melts")
    run_loop(conn, storage, LocalPreviewBackend(), "eileen", "walk", tmp_path / "l2")
    again = assemble_take(conn, storage, scene.id, tmp_path / "b")
    # segment 1's seams (0|1 and 1|2) are redone; seam 2|3 is copied as it was
    assert again.replaced_segment == 1
    assert (again.frames, again.reencoded_frames, again.copied_frames) == (144, 8, 136)
    new = list(read_frames(storage.local_file(storage.key_of(again.uri), tmp_path / "n")))
    assert len(new) == 144
    for index in [*range(0, 24), *range(84, 144)]:  # outside segment 1 and its seams
        assert np.array_equal(new[index], old[index]), index
    assert not np.array_equal(new[54], old[54])  # the middle of the new segment 1


def test_the_proxy_keeps_its_frame_times_beside_it_and_an_older_take_gets_them(
    conn, storage, take, tmp_path
):
    from trulience.media.frame_times import frames_key, proxy_frames

    first = assemble_take(conn, storage, take.id, tmp_path / "a")
    proxy_key = storage.key_of(first.proxy_uri)
    sidecar = frames_key(proxy_key)
    assert sidecar.endswith("/proxy.frames.json") and storage.exists(sidecar)
    times = proxy_frames(storage, proxy_key)
    assert len(times.times) == 36 and times.fps == 12
    assert times.times == pytest.approx([i / 12 for i in range(36)], abs=1e-6)

    storage.delete(sidecar)  # a take assembled before frame times were stored
    assemble_take(conn, storage, take.id, tmp_path / "b")
    assert storage.exists(sidecar)
    assert proxy_frames(storage, proxy_key) == times
