"""The review app's queue state in plain Python (no browser), against the real catalog: the
status, assignee and overdue filters and the sort, assigning the ticked takes (a producer
only), the stored thumbnail, and the tray's assignments and mentions opening their take."""

from datetime import date, timedelta

from tests.test_review_app_state import logged_in, studio  # noqa: F401 (a fixture)
from trulience.review import add_note, decide


def ids(takes) -> list[int]:
    return [t.scene_id for t in takes]


def test_a_producer_assigns_the_ticked_takes_and_the_rows_say_so(conn, studio):  # noqa: F811
    settings, takes, _ = studio
    app = logged_in(settings, "paul")
    session, view = app.session, app.queue
    assert session.may_assign and view.assign_form.visible
    assert session.reviewers == ["paul", "rita"]  # who may review; never the viewer
    assert view.assign_to.options == ["paul", "rita"]
    view.assign_button.clicks += 1  # nothing ticked
    assert session.queue_notice == ("select the takes to assign first", "warning")

    for row in view.queue.objects[1:3]:
        row.objects[0].value = True  # tick takes 2 and 3
    view.assign_to.value = "rita"
    due = date.today() + timedelta(days=2)
    view.assign_due.value = due
    view.assign_button.clicks += 1
    assert session.queue_notice == (f"2 takes assigned to rita, due {due:%Y-%m-%d}", "success")
    assert [t.assignee for t in session.shown] == [None, "rita", "rita", None]
    facts = view.queue.objects[1].objects[3].objects[1].object
    assert '<span class="queue-assignee">rita</span>' in facts and f"due {due:%Y-%m-%d}" in facts

    rita = logged_in(settings, "rita")
    assert not rita.session.may_assign and not rita.queue.assign_form.visible
    assert [n.kind for n in rita.session.unread] == ["assigned", "assigned"]
    rita.session.assignee = "mine"
    assert ids(rita.session.shown) == takes[1:3]
    rita.session.assign([takes[0]], "rita")  # the service refuses a reviewer
    assert rita.session.queue_notice[1] == "danger"
    assert "assign_reviews" in rita.session.queue_notice[0]


def test_status_overdue_and_sort_re_read_the_queue(conn, studio):  # noqa: F811
    settings, takes, people = studio
    decide(conn, people["rita"], takes[0], "flag", "hands")
    app = logged_in(settings, "paul")
    session = app.session
    assert ids(session.shown) == takes[1:]  # awaiting, by default
    session.review_status = "flagged"
    assert ids(session.shown) == [takes[0]]
    assert app.queue.heading.object == "### Takes: flagged"
    session.review_status = "(all)"
    session.sort = "status"
    assert ids(session.shown) == [*takes[1:], takes[0]]
    session.assign([takes[3]], "rita", date.today())
    conn.execute(
        "UPDATE take_assignments SET assigned_at = now() - interval '2 days', "
        "due_at = now() - interval '1 hour'"
    )
    conn.commit()
    session.overdue = True
    assert ids(session.shown) == [takes[3]]
    assert 'class="queue-overdue"' in app.queue.queue.objects[0].objects[3].objects[1].object
    session.param.update(overdue=False, assignee="unassigned")
    assert ids(session.shown) == [takes[1], takes[2], takes[0]]  # awaiting before flagged


def test_the_queue_shows_a_thumbnail_of_a_take_with_a_video(studio):  # noqa: F811
    settings, _, _ = studio
    app = logged_in(settings, "rita")
    with_video, without = app.session.shown[2], app.session.shown[0]
    url = app.session.thumbnail_url(with_video)
    assert url is not None and url.startswith("/media/") and url.endswith("/thumb.jpg")
    assert app.session.storage.exists("scenes/demo/ada/walk/take3/thumb.jpg")
    assert app.session.thumbnail_url(without) is None  # its file is nowhere in storage
    thumbnails = [row.objects[1].object for row in app.queue.queue.objects]
    assert thumbnails[2].startswith('<img src="/media/')
    assert 'class="no-thumbnail"' in thumbnails[0]


def test_a_mention_in_the_tray_opens_its_take_at_the_frame(conn, studio):  # noqa: F811
    settings, takes, people = studio
    add_note(conn, people["paul"], takes[2], "@rita look at this blink", frame=4)
    conn.commit()
    app = logged_in(settings, "rita")
    mention = next(n for n in app.session.unread if n.kind == "mention")
    row = next(r for r in app.tray.list.objects if "notification-mention" in r.css_classes)
    go = row.objects[0]
    assert go.label == f"Go to take {takes[2]}"
    assert "mentioned you" in row.objects[-1].object
    go.clicks += 1
    assert app.session.screen == "player" and app.session.take.scene_id == takes[2]
    assert app.session.player.index == 4
    app.session.show_queue()
    app.session.review_status = "approved"  # the take is no longer listed
    app.session.open_notified(mention)
    assert app.session.queue_notice[1] == "warning"
