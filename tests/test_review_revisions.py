"""Revisions of a take: a regenerated take is reviewable again, decisions judge the revision
they saw, and only an approved revision, past its undo window, is delivered."""

import numpy as np
import pytest
from dagster import build_sensor_context

from resources import CatalogResource
from sensors.review import approvals_sensor, regeneration_sensor
from tests.review_takes import (
    assemble,
    commit_segments,
    make_project,
    make_take,
    retake_segment,
)
from trulience.auth import users as accounts
from trulience.catalog import migrations
from trulience.catalog.database import connect
from trulience.catalog.scenes import commit_segment
from trulience.delivery.deliver import NotApproved, deliver_take
from trulience.delivery.scene import assemble_take
from trulience.media.encode import encode_frames
from trulience.review import NotReviewable, UndoRefused, decide, review_queue, undo_decision
from trulience.review.regenerate import reject_segment
from trulience.storage import Storage


@pytest.fixture
def people(conn):
    return {
        role: accounts.create_user(conn, name, name.title(), role, "s3cret-pass")
        for role, name in [("viewer", "vic"), ("reviewer", "rita"), ("producer", "paul")]
    }


@pytest.fixture
def take(conn) -> int:
    """An assembled take of three committed segments (revision 1)."""
    make_project(conn)
    scene = make_take(conn, status="generated")
    commit_segments(conn, scene, 3)
    assemble(conn, scene, "revision 1")
    return scene


def queued(conn, user) -> list[tuple[int, int]]:
    return [(t.scene_id, t.revision) for t in review_queue(conn, user)]


def revisions(conn, scene: int) -> list[tuple[int, str | None]]:
    return conn.execute(
        "SELECT revision, sha256 FROM scene_revisions WHERE scene_id = %s ORDER BY revision",
        (scene,),
    ).fetchall()


def test_a_rejected_and_regenerated_take_returns_to_the_queue_as_its_new_revision(
    conn, people, take
):
    reviewer = people["reviewer"]
    assert queued(conn, reviewer) == [(take, 1)]
    reject_segment(conn, reviewer, take, 1, "the arm pops")
    assert queued(conn, reviewer) == []

    retake_segment(conn, take, 1)  # the loop regenerates segment 1 ...
    assemble(conn, take, "revision 2")  # ... and assembly joins the take again
    assert queued(conn, reviewer) == [(take, 2)]
    assert [r for r, _ in revisions(conn, take)] == [1, 2]

    # the rejection stays on revision 1; revision 2 is approved on its own
    approved = decide(conn, reviewer, take, "approve", acknowledge_open_notes=True)
    assert approved.revision == 2
    assert queued(conn, reviewer) == []
    assert conn.execute(
        "SELECT revision, decision FROM reviews WHERE scene_id = %s ORDER BY id", (take,)
    ).fetchall() == [(1, "rejected"), (2, "approved")]


def test_the_same_file_assembled_again_is_the_same_revision(conn, people, take):
    decide(conn, people["reviewer"], take, "flag")
    assemble(conn, take, "revision 1")  # scene_video re-run with nothing changed
    assert [r for r, _ in revisions(conn, take)] == [1]
    assert queued(conn, people["reviewer"]) == []


def test_a_decision_on_a_revision_replaced_since_it_was_opened_is_refused(conn, people, take):
    opened = review_queue(conn, people["reviewer"])[0]
    assemble(conn, take, "revision 2 (assembled while the reviewer watched revision 1)")
    with pytest.raises(NotReviewable, match="revision 1 was replaced by revision 2"):
        decide(conn, people["reviewer"], take, "approve", revision=opened.revision)
    assert conn.execute("SELECT count(*) FROM reviews").fetchone()[0] == 0
    assert decide(conn, people["reviewer"], take, "approve", revision=2).revision == 2


def test_a_newer_unreviewed_revision_of_an_approved_take_is_not_delivered(
    conn, people, take, tmp_path
):
    decide(conn, people["reviewer"], take, "approve", undo_window_s=0)
    assemble(conn, take, "revision 2, nobody has seen it")
    with pytest.raises(NotApproved, match="revision 2 has no approval"):
        deliver_take(conn, Storage((tmp_path / "storage").as_uri()), take, tmp_path / "work")
    assert conn.execute("SELECT count(*) FROM deliverables").fetchone()[0] == 0


def test_a_stored_video_that_is_not_the_approved_revision_is_not_delivered(conn, people, tmp_path):
    storage = Storage((tmp_path / "storage").as_uri())
    make_project(conn)
    scene = make_take(conn, status="generated")
    stored = storage.put_bytes(f"scenes/{scene}/scene.mp4", b"revision 1")
    conn.execute(
        "UPDATE scenes SET status = 'assembled', uri = %s, sha256 = %s WHERE id = %s",
        (stored.uri, stored.sha256, scene),
    )
    decide(conn, people["reviewer"], scene, "approve", undo_window_s=0)
    # a new assembly has written its file but not yet recorded it in the catalog
    storage.put_bytes(f"scenes/{scene}/scene.mp4", b"revision 2, half recorded")
    with pytest.raises(NotApproved, match="stored video is not revision 1"):
        deliver_take(conn, storage, scene, tmp_path / "work")


def sensor_context(db_url: str, tmp_path):
    catalog = CatalogResource(home=str(tmp_path), database_url=db_url)
    return build_sensor_context(resources={"catalog": catalog})


def test_an_approval_is_handed_to_delivery_only_after_its_undo_window(
    conn, db_url, people, take, tmp_path
):
    approval = decide(conn, people["reviewer"], take, "approve")
    waiting = approvals_sensor(sensor_context(db_url, tmp_path))
    assert "no approved take" in waiting.skip_message  # still within its undo window

    undo_decision(conn, people["reviewer"], approval.review_id)
    conn.execute("UPDATE reviews SET undo_until = now() - interval '1 minute'")
    assert "no approved take" in approvals_sensor(sensor_context(db_url, tmp_path)).skip_message

    again = decide(conn, people["reviewer"], take, "approve")
    conn.execute(
        "UPDATE reviews SET undo_until = now() - interval '1 second' WHERE id = %s",
        (again.review_id,),
    )
    (request,) = approvals_sensor(sensor_context(db_url, tmp_path)).run_requests
    assert request.run_key == f"deliver:{take}:r1"
    assert request.tags["trulience/revision"] == "1"
    requested = "SELECT delivery_requested_at FROM reviews WHERE id = %s"
    (at,) = conn.execute(requested, (again.review_id,)).fetchone()
    # picked up: asked again, the sensor names the same run (Dagster runs a run key once)
    (same,) = approvals_sensor(sensor_context(db_url, tmp_path)).run_requests
    assert same.run_key == request.run_key
    assert conn.execute(requested, (again.review_id,)).fetchone() == (at,)
    with pytest.raises(UndoRefused, match="delivery was requested at"):
        undo_decision(conn, people["reviewer"], again.review_id)


def test_a_rejected_segment_is_requested_for_regeneration_once_per_rejection(
    conn, db_url, people, take, tmp_path
):
    assert "no take waits" in regeneration_sensor(sensor_context(db_url, tmp_path)).skip_message
    reject_segment(conn, people["reviewer"], take, 0, "eyes drift")
    (request,) = regeneration_sensor(sensor_context(db_url, tmp_path)).run_requests
    assert request.run_key == f"regenerate:{take}:1"
    retake_segment(conn, take, 0)
    assemble(conn, take, "revision 2")
    assert "no take waits" in regeneration_sensor(sensor_context(db_url, tmp_path)).skip_message


def test_migration_gives_existing_reviews_revisions_and_one_current_decision(empty_db_url):
    """A catalog from before 0014, with the defects it allowed: two approvals by one
    reviewer, and a take rejected, regenerated and assembled again (stuck out of review)."""
    before = [m for m in migrations.discover() if m.name < "0014"]
    with connect(empty_db_url, actor="tester") as conn:
        migrations.migrate(conn, before)
        make_project(conn)
        twice = make_take(conn, take=1)
        stuck = make_take(conn, take=2, status="generated")
        commit_segments(conn, stuck, 2)
        assemble(conn, twice, "approved twice")
        assemble(conn, stuck, "revision 1")
        reviewer = conn.execute(
            "INSERT INTO users (username, display_name, role) VALUES ('rita', 'Rita', "
            "'reviewer') RETURNING id"
        ).fetchone()[0]
        for scene, decision in ((twice, "approved"), (twice, "approved"), (stuck, "rejected")):
            conn.execute(
                "INSERT INTO reviews (scene_id, reviewer_id, decision) VALUES (%s, %s, %s)",
                (scene, reviewer, decision),
            )
        retake_segment(conn, stuck, 1)
        assemble(conn, stuck, "revision 2")

        migrations.migrate(conn)
        rows = conn.execute(
            "SELECT scene_id, revision, decision, current FROM reviews ORDER BY id"
        ).fetchall()
        assert rows == [
            (twice, 1, "approved", False),
            (twice, 1, "approved", True),
            (stuck, 1, "rejected", True),
        ]
        found = conn.execute(
            "SELECT scene_id, revision, decision, awaiting_review FROM take_decisions "
            "ORDER BY scene_id"
        ).fetchall()
        assert found == [(twice, 1, "approved", False), (stuck, 2, None, True)]


def test_assembly_reports_whether_it_made_a_new_revision(conn, people, tmp_path):
    """Real segments joined by assemble_take: the same segments again are the same
    revision; after a rejected segment is retaken, the new file is revision 2."""
    storage = Storage((tmp_path / "storage").as_uri())
    make_project(conn)
    scene = make_take(conn, status="generated")
    conn.execute("UPDATE scenes SET planned_segments = 2 WHERE id = %s", (scene,))

    def segment(index: int, attempt: int, grey: int) -> None:
        clip = tmp_path / f"{index}-{attempt}.mp4"
        encode_frames((np.full((32, 32, 3), grey, np.uint8) for _ in range(6)), clip, 12, gop=6)
        stored = storage.put_file(f"scenes/demo/ada/walk/take1/{index}-{attempt}.mp4", clip)
        commit_segment(
            conn,
            scene,
            index,
            attempt,
            uri=stored.uri,
            sha256=stored.sha256,
            frames=6,
            provenance={"backend": "test"},
        )

    segment(0, 1, 60)
    segment(1, 1, 120)
    first = assemble_take(conn, storage, scene, tmp_path / "a")
    again = assemble_take(conn, storage, scene, tmp_path / "b")
    assert (first.revision, first.new_revision) == (1, True)
    assert (again.revision, again.new_revision) == (1, False)

    reject_segment(conn, people["reviewer"], scene, 1, "too dark")
    segment(1, 2, 200)
    conn.execute("UPDATE scenes SET status = 'generated' WHERE id = %s", (scene,))
    retaken = assemble_take(conn, storage, scene, tmp_path / "c")
    assert (retaken.revision, retaken.new_revision) == (2, True)
    assert [t.revision for t in review_queue(conn, people["reviewer"])] == [2]
