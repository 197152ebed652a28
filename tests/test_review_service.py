"""The review service: permissions enforced in the service, decisions, queue and notes."""

import dataclasses
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.review_takes import make_project, make_take
from trulience.auth import PermissionDenied
from trulience.auth import users as accounts
from trulience.catalog.errors import InvalidValue, NotFound
from trulience.notify import notify, unread
from trulience.review import (
    NotReviewable,
    OpenNotesRemain,
    UndoRefused,
    add_note,
    batch_decide,
    decide,
    notes_for,
    reopen_note,
    resolve_note,
    review_queue,
    undo_decision,
)


@pytest.fixture
def people(conn):
    return {
        role: accounts.create_user(conn, name, name.title(), role, "s3cret-pass")
        for role, name in [
            ("viewer", "vic"),
            ("reviewer", "rita"),
            ("producer", "paul"),
            ("admin", "ada-admin"),
        ]
    }


@pytest.fixture
def takes(conn):
    make_project(conn)
    return [make_take(conn, take=n) for n in (1, 2, 3)]


def count(conn, table: str) -> int:
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_viewers_approve_is_refused_by_the_service_and_nothing_is_written(conn, people, takes):
    audit_before = count(conn, "audit_log")
    with pytest.raises(PermissionDenied, match=r"'vic' \(role viewer\).*'review'"):
        decide(conn, people["viewer"], takes[0], "approve")
    assert count(conn, "reviews") == 0
    assert count(conn, "notifications") == 0
    assert count(conn, "audit_log") == audit_before


def test_forged_role_on_a_user_record_counts_for_nothing(conn, people, takes):
    forged = dataclasses.replace(people["viewer"], role="admin")
    with pytest.raises(PermissionDenied):
        decide(conn, forged, takes[0], "approve")


def test_reviewers_approval_is_recorded_and_audited_as_the_reviewer(conn, people, takes):
    decision = decide(conn, people["reviewer"], takes[0], "approve", "lovely")
    assert decision.decision == "approved" and decision.request_delivery
    assert conn.execute("SELECT scene_id, decision, comment FROM reviews").fetchall() == [
        (takes[0], "approved", "lovely")
    ]
    actors = conn.execute(
        "SELECT actor FROM audit_log WHERE table_name = 'reviews' AND action = 'INSERT'"
    ).fetchall()
    assert actors == [("user:rita",)]
    # the producer hears that the take is ready for delivery; the reviewer does not
    assert [n.kind for n in unread(conn, people["producer"])] == ["approved"]
    assert unread(conn, people["reviewer"]) == []


def test_session_token_acts_as_its_user(conn, people, takes):
    token = accounts.authenticate(conn, "rita", "s3cret-pass").token
    assert not decide(conn, token, takes[0], "reject", "eyes drift").request_delivery
    accounts.logout(conn, token)
    with pytest.raises(accounts.SessionRefused):
        decide(conn, token, takes[1], "approve")
    assert count(conn, "reviews") == 1


def test_unknown_decision_is_refused(conn, people, takes):
    with pytest.raises(InvalidValue, match="approve, reject or flag"):
        decide(conn, people["reviewer"], takes[0], "maybe")


def test_batch_approve_is_all_or_nothing(conn, people, takes):
    generating = make_take(conn, take=4, status="generating")
    with pytest.raises(NotReviewable) as refused:
        batch_decide(conn, people["reviewer"], [takes[0], generating, takes[1], 999_999], "approve")
    assert set(refused.value.problems) == {generating, 999_999}
    assert "not assembled" in str(refused.value) and "no such scene" in str(refused.value)
    assert count(conn, "reviews") == 0
    assert count(conn, "notifications") == 0

    decided = batch_decide(conn, people["reviewer"], [takes[0], takes[1]], "approve")
    assert [d.scene_id for d in decided] == takes[:2]
    assert count(conn, "reviews") == 2


def test_review_queue_lists_undecided_assembled_takes_oldest_first(conn, people):
    make_project(conn)
    make_project(conn, "other")
    newest = make_take(conn, take=1, age_minutes=1)
    oldest = make_take(conn, take=2, age_minutes=30)
    middle = make_take(conn, take=3, age_minutes=10)
    make_take(conn, take=4, status="generating", age_minutes=60)
    elsewhere = make_take(conn, project="other", take=1, age_minutes=5)

    queue = review_queue(conn, people["viewer"])
    assert [t.scene_id for t in queue] == [oldest, middle, elsewhere, newest]
    assert (queue[0].project, queue[0].character, queue[0].scene_type) == ("demo", "ada", "walk")
    assert [t.scene_id for t in review_queue(conn, people["viewer"], "other")] == [elsewhere]

    decide(conn, people["reviewer"], middle, "flag", "check the hands")
    assert [t.scene_id for t in review_queue(conn, people["viewer"])] == [
        oldest,
        elsewhere,
        newest,
    ]


def test_note_at_a_frame_is_seen_by_another_user_in_thread_order(conn, people, takes):
    first = add_note(conn, people["reviewer"], takes[0], "blink at 42", frame=42)
    second = add_note(conn, people["producer"], takes[0], "colour shifts", frame=90)
    reply = add_note(conn, people["producer"], takes[0], "agreed, regenerate", reply_to=first.id)
    add_note(conn, people["reviewer"], takes[1], "another take")

    thread = notes_for(conn, people["viewer"], takes[0])
    assert [(n.id, n.depth, n.author) for n in thread] == [
        (first.id, 0, "rita"),
        (reply.id, 1, "paul"),
        (second.id, 0, "paul"),
    ]
    assert thread[0].frame == 42 and thread[0].body == "blink at 42"
    actors = conn.execute(
        "SELECT DISTINCT actor FROM audit_log WHERE table_name = 'notes' ORDER BY actor"
    ).fetchall()
    assert actors == [("user:paul",), ("user:rita",)]
    # the others hear of each note; an author is not told about their own
    told = unread(conn, people["producer"])
    assert [(n.kind, n.subject["frame"]) for n in told] == [
        ("note_added", 42),
        ("note_added", None),
    ]

    resolved = resolve_note(conn, people["reviewer"], first.id)
    assert resolved.status == "resolved"
    assert notes_for(conn, people["viewer"], takes[0])[0].status == "resolved"


def test_viewer_cannot_write_notes_and_replies_stay_on_their_take(conn, people, takes):
    with pytest.raises(PermissionDenied, match="write_notes"):
        add_note(conn, people["viewer"], takes[0], "sneaky", frame=1)
    note = add_note(conn, people["reviewer"], takes[0], "first")
    with pytest.raises(InvalidValue, match=f"is not a note on scene {takes[1]}"):
        add_note(conn, people["reviewer"], takes[1], "wrong thread", reply_to=note.id)
    assert count(conn, "notes") == 1


def test_resolved_note_is_reopened_by_a_writer_only_and_both_changes_are_audited(
    conn, people, takes
):
    note = add_note(conn, people["reviewer"], takes[0], "hand flickers", frame=3)
    reply = add_note(conn, people["producer"], takes[0], "fixed in take 2", reply_to=note.id)
    assert reply.parent_id == note.id
    assert resolve_note(conn, people["producer"], note.id).status == "resolved"
    with pytest.raises(PermissionDenied, match="write_notes"):
        reopen_note(conn, people["viewer"], note.id)
    assert notes_for(conn, people["viewer"], takes[0])[0].status == "resolved"
    assert reopen_note(conn, people["reviewer"], note.id).status == "open"
    changes = conn.execute(
        "SELECT actor, after ->> 'status' FROM audit_log "
        "WHERE table_name = 'notes' AND action = 'UPDATE' AND row_key = %s ORDER BY id",
        (str(note.id),),
    ).fetchall()
    assert changes == [("user:paul", "resolved"), ("user:rita", "open")]
    with pytest.raises(NotFound, match="note 999999 not found"):
        reopen_note(conn, people["reviewer"], 999_999)


def stored(conn, scene: int) -> list[tuple[str, str, bool]]:
    """Every review row of a take: (reviewer, decision, in force), oldest first."""
    return conn.execute(
        "SELECT u.username, r.decision, r.current FROM reviews r "
        "JOIN users u ON u.id = r.reviewer_id WHERE r.scene_id = %s ORDER BY r.id",
        (scene,),
    ).fetchall()


def test_a_second_approval_by_the_same_reviewer_stores_nothing_and_tells_nobody(
    conn, people, takes
):
    first = decide(conn, people["reviewer"], takes[0], "approve", "lovely")
    again = decide(conn, people["reviewer"], takes[0], "approve")
    assert again.repeated and not first.repeated
    assert again.review_id == first.review_id and again.comment == "lovely"
    assert stored(conn, takes[0]) == [("rita", "approved", True)]
    assert [n.kind for n in unread(conn, people["producer"])] == ["approved"]
    batch = batch_decide(conn, people["reviewer"], [takes[0], takes[1]], "approve")
    assert [d.repeated for d in batch] == [True, False]
    assert count(conn, "reviews") == 2


def test_a_different_decision_supersedes_the_reviewers_own_and_keeps_it_as_history(
    conn, people, takes
):
    decide(conn, people["reviewer"], takes[0], "flag", "check the hands")
    decide(conn, people["producer"], takes[0], "approve")
    decide(conn, people["reviewer"], takes[0], "reject", "hands are wrong")
    assert stored(conn, takes[0]) == [
        ("rita", "flagged", False),
        ("paul", "approved", True),
        ("rita", "rejected", True),
    ]
    # the take's decision is the newest one in force: rita's rejection
    assert conn.execute(
        "SELECT decision FROM take_decisions WHERE scene_id = %s", (takes[0],)
    ).fetchone() == ("rejected",)


def test_undo_within_the_window_puts_the_take_back_as_it_was(conn, people, takes):
    for user in ("reviewer", "producer"):
        notify(conn, "ready_for_review", {"scene_id": takes[0]}, "take 1 is ready", [people[user]])
    decide(conn, people["reviewer"], takes[0], "flag")
    assert unread(conn, people["producer"]) == []  # the decision closed both
    flag_closed = conn.execute(
        "SELECT count(*) FROM notifications WHERE closed_by_review_id IS NOT NULL"
    ).fetchone()[0]
    assert flag_closed == 2
    approval = decide(conn, people["reviewer"], takes[0], "approve")
    assert stored(conn, takes[0]) == [("rita", "flagged", False), ("rita", "approved", True)]

    undo_decision(conn, people["reviewer"], approval.review_id)
    assert stored(conn, takes[0]) == [("rita", "flagged", True)]  # the flag is back
    assert [n.kind for n in unread(conn, people["producer"])] == []  # no "approved" left
    flag = conn.execute("SELECT id FROM reviews WHERE scene_id = %s", (takes[0],)).fetchone()[0]
    undo_decision(conn, people["reviewer"], flag)
    assert stored(conn, takes[0]) == []
    assert takes[0] in [t.scene_id for t in review_queue(conn, people["viewer"])]
    assert [n.kind for n in unread(conn, people["producer"])] == ["ready_for_review"]
    assert [n.kind for n in unread(conn, people["reviewer"])] == ["ready_for_review"]
    undone = conn.execute(
        "SELECT actor, before ->> 'decision' FROM audit_log "
        "WHERE table_name = 'reviews' AND action = 'DELETE' ORDER BY id"
    ).fetchall()
    assert undone == [("user:rita", "approved"), ("user:rita", "flagged")]


def test_undo_is_refused_with_the_reason_and_changes_nothing(conn, people, takes):
    late = decide(conn, people["reviewer"], takes[0], "approve", undo_window_s=0)
    with pytest.raises(UndoRefused, match="the undo window closed at"):
        undo_decision(conn, people["reviewer"], late.review_id)
    mine = decide(conn, people["reviewer"], takes[1], "approve")
    with pytest.raises(UndoRefused, match="only rita, who made it, can take it back"):
        undo_decision(conn, people["producer"], mine.review_id)
    with pytest.raises(PermissionDenied):
        undo_decision(conn, people["viewer"], mine.review_id)
    conn.execute(
        "UPDATE reviews SET delivery_requested_at = now() WHERE id = %s", (mine.review_id,)
    )
    with pytest.raises(UndoRefused, match="delivery was requested at"):
        undo_decision(conn, people["reviewer"], mine.review_id)
    with pytest.raises(UndoRefused, match="no such review"):
        undo_decision(conn, people["reviewer"], 999_999)
    # all or nothing: an undoable decision listed with a refused one stays
    fresh = decide(conn, people["reviewer"], takes[2], "flag")
    with pytest.raises(UndoRefused):
        undo_decision(conn, people["reviewer"], [fresh.review_id, late.review_id])
    assert count(conn, "reviews") == 3


def test_approving_a_take_with_open_notes_asks_first_and_stores_nothing(conn, people, takes):
    note = add_note(conn, people["producer"], takes[0], "the blink at 42 is doubled", frame=42)
    with pytest.raises(OpenNotesRemain, match=r"1 open note \(frame 42: the blink at 42") as asked:
        decide(conn, people["reviewer"], takes[0], "approve")
    assert [n.id for n in asked.value.notes[takes[0]]] == [note.id]
    assert count(conn, "reviews") == 0
    with pytest.raises(OpenNotesRemain):
        batch_decide(conn, people["reviewer"], [takes[1], takes[0]], "approve")
    assert count(conn, "reviews") == 0

    # a rejection or a flag is what open notes ask for: no question
    assert decide(conn, people["reviewer"], takes[0], "flag").decision == "flagged"
    approved = decide(conn, people["reviewer"], takes[0], "approve", acknowledge_open_notes=True)
    assert approved.open_notes_acknowledged == 1
    resolve_note(conn, people["producer"], note.id)
    assert decide(conn, people["reviewer"], takes[1], "approve").decision == "approved"


VERBS = ("approved", "rejected", "flagged")
TAKE_NUMBERS = itertools.count(1)
steps = st.lists(
    st.tuples(st.sampled_from(["rita", "paul"]), st.sampled_from([*VERBS, "undo"])),
    max_size=8,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=steps)
def test_any_sequence_of_decisions_and_undos_leaves_one_decision_per_reviewer(conn, people, steps):
    """Against a model: each reviewer's decisions form a stack (a new one on top, an undo
    pops it); the take's decision is the newest of the reviewers' tops."""
    if conn.execute("SELECT 1 FROM projects WHERE slug = 'demo'").fetchone() is None:
        make_project(conn)
    take = make_take(conn, take=next(TAKE_NUMBERS))  # a fresh take for each example
    users = {"rita": people["reviewer"], "paul": people["producer"]}
    stacks: dict[str, list[tuple[int, str, int]]] = {"rita": [], "paul": []}
    for order, (who, verb) in enumerate(steps):
        stack = stacks[who]
        if verb == "undo":
            if stack:
                undo_decision(conn, users[who], stack.pop()[2])
            continue
        made = decide(conn, users[who], take, verb, undo_window_s=600)
        if stack and stack[-1][1] == verb:
            assert made.repeated and made.review_id == stack[-1][2]
        else:
            stack.append((order, verb, made.review_id))
    in_force = conn.execute(
        "SELECT u.username, r.decision FROM reviews r JOIN users u ON u.id = r.reviewer_id "
        "WHERE r.scene_id = %s AND r.current ORDER BY u.username",
        (take,),
    ).fetchall()
    assert in_force == sorted((who, s[-1][1]) for who, s in stacks.items() if s)
    tops = [s[-1] for s in stacks.values() if s]
    expected = max(tops)[1] if tops else None
    (decision,) = conn.execute(
        "SELECT decision FROM take_decisions WHERE scene_id = %s", (take,)
    ).fetchone()
    assert decision == expected
