"""The review queue (PRD-92): status, revision, age, assignee and due date per take, sorted
and filtered; assignments by producers and admins to people who may review, who are told."""

from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from tests.review_takes import make_project, make_take
from trulience.auth import AccountDisabled, PermissionDenied
from trulience.auth import users as accounts
from trulience.catalog.errors import InvalidValue, NotFound
from trulience.cli import main
from trulience.media.encode import encode_frames
from trulience.media.thumbnail import take_thumbnail, thumbnail_key
from trulience.notify import unread
from trulience.review import decide
from trulience.review.queue import QueueFilters, assign, due_moment, queue, unassign

TOMORROW = date.today() + timedelta(days=1)


@pytest.fixture
def people(conn):
    made = {
        name: accounts.create_user(conn, name, name.title(), role, "s3cret-pass")
        for name, role in [
            ("vic", "viewer"),
            ("rita", "reviewer"),
            ("rob", "reviewer"),
            ("paul", "producer"),
            ("ada-admin", "admin"),
            ("gone", "reviewer"),
        ]
    }
    accounts.disable_user(conn, "gone")
    return made


def add_character(conn, slug: str) -> None:
    """Another character in the demo project, so takes differ by character."""
    conn.execute("INSERT INTO characters (slug, name) VALUES (%s, %s)", (slug, slug.title()))
    conn.execute(
        "INSERT INTO project_characters (project_id, character_id) "
        "SELECT p.id, c.id FROM projects p, characters c WHERE p.slug = 'demo' AND c.slug = %s",
        (slug,),
    )


def take_of(conn, character: str, take: int, age_minutes: int) -> int:
    scene_id = make_take(conn, take=take, age_minutes=age_minutes)
    conn.execute(
        "UPDATE scenes SET character_id = (SELECT id FROM characters WHERE slug = %s) "
        "WHERE id = %s",
        (character, scene_id),
    )
    return scene_id


def ids(takes) -> list[int]:
    return [t.scene_id for t in takes]


def backdate_assignment(conn, scene_id: int, hours: int) -> None:
    """As if the take had been assigned long ago, due `hours` ago (time passing)."""
    conn.execute(
        "UPDATE take_assignments SET assigned_at = now() - interval '30 days', "
        "due_at = now() - make_interval(hours => %s) WHERE scene_id = %s",
        (hours, scene_id),
    )


@pytest.fixture
def cast(conn, people):
    """Four assembled takes: ada (oldest, 60 min), zoe (40), ada (20), zoe (newest, 5)."""
    make_project(conn)
    add_character(conn, "zoe")
    return [
        take_of(conn, "ada", 1, 60),
        take_of(conn, "zoe", 2, 40),
        take_of(conn, "ada", 3, 20),
        take_of(conn, "zoe", 4, 5),
    ]


def test_producer_assigns_a_take_with_a_due_date_and_the_reviewer_is_told(conn, people, cast):
    made = assign(conn, people["paul"], cast[1], "rita", TOMORROW)
    assert (made.assignee, made.assigned_by) == ("rita", "paul")
    assert made.due_at == datetime.combine(TOMORROW + timedelta(days=1), datetime.min.time(), UTC)
    (told,) = unread(conn, people["rita"])
    assert told.kind == "assigned" and told.subject["scene_id"] == cast[1]
    assert "paul asked you to review zoe · walk take 2" in told.body
    assert told.body.endswith(f"due {TOMORROW}")
    assert unread(conn, people["rob"]) == []
    row = next(t for t in queue(conn, people["vic"]) if t.scene_id == cast[1])
    assert (row.assignee, row.due_at, row.assigned_by) == ("rita", made.due_at, "paul")
    actors = conn.execute(
        "SELECT actor FROM audit_log WHERE table_name = 'take_assignments'"
    ).fetchall()
    assert actors == [("user:paul",)]


def test_assigning_again_replaces_the_assignment_and_tells_the_new_assignee(conn, people, cast):
    assign(conn, people["paul"], cast[0], "rita")
    assign(conn, people["ada-admin"], cast[0], "rob", TOMORROW)
    assert conn.execute("SELECT count(*) FROM take_assignments").fetchone()[0] == 1
    (row,) = queue(conn, people["vic"], QueueFilters(assignee="rob"))
    assert (row.scene_id, row.assigned_by) == (cast[0], "ada-admin")
    assert [n.kind for n in unread(conn, people["rob"])] == ["assigned"]
    assert unassign(conn, people["paul"], cast[0]) is True
    assert queue(conn, people["vic"], QueueFilters(assignee="rob")) == []


@pytest.mark.parametrize("who", ["vic", "rita"])
def test_only_producers_and_admins_assign(conn, people, cast, who):
    with pytest.raises(PermissionDenied, match="assign_reviews"):
        assign(conn, people[who], cast[0], "rob")
    with pytest.raises(PermissionDenied):
        unassign(conn, people[who], cast[0])
    assert conn.execute("SELECT count(*) FROM take_assignments").fetchone()[0] == 0
    assert unread(conn, people["rob"]) == []


def test_the_assignee_must_be_someone_who_may_review(conn, people, cast):
    with pytest.raises(InvalidValue, match=r"'vic': has the role viewer and may not review"):
        assign(conn, people["paul"], cast[0], "vic")
    with pytest.raises(InvalidValue, match=r"'gone': is disabled"):
        assign(conn, people["paul"], cast[0], "gone")
    with pytest.raises(NotFound, match="user 'nobody'"):
        assign(conn, people["paul"], cast[0], "nobody")
    with pytest.raises(NotFound, match="take 999999"):
        assign(conn, people["paul"], 999_999, "rita")
    assert conn.execute("SELECT count(*) FROM take_assignments").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM notifications").fetchone()[0] == 0


def test_a_due_date_already_past_is_refused(conn, people, cast):
    with pytest.raises(InvalidValue, match=r"due .*is already past"):
        assign(conn, people["paul"], cast[0], "rita", date.today() - timedelta(days=1))
    with pytest.raises(InvalidValue, match="already past"):
        assign(conn, people["paul"], cast[0], "rita", datetime.now(UTC) - timedelta(minutes=1))
    # a date is due at the end of that day: today still counts
    assert assign(conn, people["paul"], cast[0], "rita", date.today()).due_at > datetime.now(UTC)
    assert due_moment(datetime(2030, 1, 2, 3, 4)) == datetime(2030, 1, 2, 3, 4, tzinfo=UTC)


def test_overdue_means_past_due_and_still_awaiting_review(conn, people, cast):
    assign(conn, people["paul"], cast[0], "rita", TOMORROW)
    assign(conn, people["paul"], cast[1], "rita", TOMORROW)
    assign(conn, people["paul"], cast[2], "rob", TOMORROW)
    backdate_assignment(conn, cast[0], hours=2)
    backdate_assignment(conn, cast[1], hours=1)
    overdue = QueueFilters(overdue=True)
    assert ids(queue(conn, people["vic"], overdue)) == [cast[0], cast[1]]
    decide(conn, people["rita"], cast[1], "approve")  # decided: no longer overdue
    assert ids(queue(conn, people["vic"], overdue)) == [cast[0]]
    approved = queue(conn, people["vic"], QueueFilters(review_status="approved"))
    assert [(t.scene_id, t.overdue) for t in approved] == [(cast[1], False)]


def test_filters_by_assignee_mine_unassigned_character_status_and_project(conn, people, cast):
    assign(conn, people["paul"], cast[0], "rita")
    assign(conn, people["paul"], cast[3], "rob")
    decide(conn, people["rob"], cast[3], "flag", "hands")
    viewer = people["vic"]
    assert ids(queue(conn, people["rita"], QueueFilters(assignee="mine"))) == [cast[0]]
    assert ids(queue(conn, people["rob"], QueueFilters(assignee="mine"))) == [cast[3]]
    assert ids(queue(conn, viewer, QueueFilters(assignee="unassigned"))) == [cast[1], cast[2]]
    assert ids(queue(conn, viewer, QueueFilters(character="zoe"))) == [cast[1], cast[3]]
    assert ids(queue(conn, viewer, QueueFilters(review_status="awaiting"))) == cast[:3]
    assert ids(queue(conn, viewer, QueueFilters(review_status="flagged"))) == [cast[3]]
    assert queue(conn, viewer, QueueFilters(project="elsewhere")) == []
    both = QueueFilters(character="ada", assignee="unassigned")
    assert ids(queue(conn, viewer, both)) == [cast[2]]
    generating = make_take(conn, take=9, status="generating")
    assert generating not in ids(queue(conn, viewer))  # nothing to look at yet


def test_sorts_by_age_due_date_character_and_status(conn, people, cast):
    assign(conn, people["paul"], cast[2], "rita", TOMORROW + timedelta(days=3))
    assign(conn, people["paul"], cast[3], "rita", TOMORROW)
    decide(conn, people["rita"], cast[0], "approve")
    decide(conn, people["rita"], cast[1], "reject")
    viewer = people["vic"]
    assert ids(queue(conn, viewer, sort="age")) == cast  # waiting longest first
    assert ids(queue(conn, viewer, sort="due")) == [cast[3], cast[2], cast[0], cast[1]]
    assert ids(queue(conn, viewer, sort="character")) == [cast[0], cast[2], cast[1], cast[3]]
    # awaiting first, then flagged, rejected, approved; by age within each
    assert ids(queue(conn, viewer, sort="status")) == [cast[2], cast[3], cast[1], cast[0]]
    row = queue(conn, viewer)[0]
    assert (row.review_status, row.revision) == ("approved", 1)


def test_bad_sort_or_status_and_disabled_users_are_refused(conn, people, cast):
    with pytest.raises(InvalidValue, match="sort 'size': must be one of age, due, character"):
        queue(conn, people["vic"], sort="size")
    with pytest.raises(InvalidValue, match="status 'maybe': must be one of awaiting"):
        queue(conn, people["vic"], QueueFilters(review_status="maybe"))
    with pytest.raises(AccountDisabled):
        queue(conn, people["gone"])


def test_thumbnail_is_the_first_frame_made_once_beside_the_take(storage, tmp_path):
    frames = [np.full((64, 96, 3), 40 * (i + 1), np.uint8) for i in range(4)]
    encode_frames(iter(frames), tmp_path / "proxy.mp4", Fraction(24))
    storage.put_file("scenes/7/proxy.mp4", tmp_path / "proxy.mp4")
    assert take_thumbnail(storage, "scenes/8/scene.mp4") is None  # nothing stored there
    key = take_thumbnail(storage, "scenes/7/scene.mp4")
    assert key == thumbnail_key("scenes/7/scene.mp4") == "scenes/7/thumb.jpg"
    picture = Image.open(storage.path(key))
    assert picture.size == (240, 160)
    assert abs(int(np.asarray(picture).mean()) - 40) < 6  # the first frame, not a later one
    assert thumbnail_key("scenes/9/take9.mp4") == "scenes/9/take9.thumb.jpg"  # not shared
    made = storage.sha256(key)
    storage.delete("scenes/7/proxy.mp4")
    assert take_thumbnail(storage, "scenes/7/scene.mp4") == key  # made once, then read
    assert storage.sha256(key) == made


def test_cli_assigns_and_lists_the_queue(db_url, conn, people, cast, tmp_path):
    conn.commit()
    env = {"TRULIENCE_HOME": str(tmp_path / "home"), "DATABASE_URL": db_url}
    runner = CliRunner(env=env)
    due = TOMORROW.isoformat()
    done = runner.invoke(
        main, ["takes", "assign", str(cast[1]), "rob", "--due", due, "--as", "paul"]
    )
    assert done.exit_code == 0, done.output
    assert f"take {cast[1]}: assigned to rob by paul, due {due}" in done.output
    mine = runner.invoke(main, ["takes", "queue", "--mine", "--as", "rob"])
    assert mine.exit_code == 0, mine.output
    (line,) = mine.output.splitlines()
    assert line.split()[:2] == [str(cast[1]), "demo/zoe/walk"] and f"rob due {due}" in line
    refused = runner.invoke(main, ["takes", "assign", str(cast[0]), "rob", "--as", "rita"])
    assert refused.exit_code == 1 and "does not have the permission 'assign_reviews'" in (
        refused.output
    )
    by_due = runner.invoke(main, ["takes", "queue", "--sort", "due", "--as", "vic"])
    assert by_due.output.splitlines()[0].split()[0] == str(cast[1])
