"""The share page's state in plain Python (no browser): open, password, refusal, comment."""

from datetime import timedelta

import pytest

from apps.share_state import ShareVisit
from tests.review_takes import make_project, make_take
from tests.test_frame_times import numbered
from trulience.auth.signed import verify
from trulience.auth.users import create_user
from trulience.media.encode import encode_frames
from trulience.review.share import create_share, revoke_share


@pytest.fixture(autouse=True)
def secret(monkeypatch):
    monkeypatch.setenv("TRULIENCE_SECRET", "state-test-secret-" + "x" * 20)


@pytest.fixture
def shared(conn, storage, tmp_path):
    """A reviewer and one assembled take whose proxy (12 frames) is stored."""
    make_project(conn)
    reviewer = create_user(conn, "rita", "Rita", "reviewer", "long-enough-pw")
    encode_frames((numbered(i) for i in range(12)), tmp_path / "proxy.mp4", 12)
    proxy = storage.put_file("scenes/demo/ada/walk/take1/proxy.mp4", tmp_path / "proxy.mp4")
    scene = make_take(conn, status="generated")
    conn.execute(
        "UPDATE scenes SET status = 'assembled', uri = %s, sha256 = %s, frames = 12 WHERE id = %s",
        (proxy.uri.replace("proxy.mp4", "scene.mp4"), proxy.sha256, scene),
    )
    return reviewer, scene


def test_an_open_link_shows_the_take_through_a_share_scoped_media_url(
    conn, db_url, storage, shared
):
    reviewer, scene = shared
    link, token = create_share(conn, reviewer, scene, expires_in=timedelta(days=1), label="Acme")
    visit = ShareVisit(db_url, storage, token, "192.0.2.4")
    assert visit.open()
    assert visit.status == "open" and visit.heading == "Take 1, revision 1 · Acme"
    assert len(visit.times.times) == 12 and not visit.allow_comments
    assert visit.media_src.startswith("/media/") and visit.media_src.endswith("/proxy.mp4")
    payload = verify(visit.media_src.split("/")[2])
    assert payload["key"] == "scenes/demo/ada/walk/take1/proxy.mp4"
    assert payload["share"] == link.id
    assert payload["exp"] <= link.expires_at.timestamp() + 1


def test_a_revoked_or_unknown_link_shows_why_and_no_media(conn, db_url, storage, shared):
    reviewer, scene = shared
    link, token = create_share(conn, reviewer, scene, expires_in=timedelta(days=1))
    visit = ShareVisit(db_url, storage, token)
    assert visit.open()
    revoke_share(conn, reviewer, link.id)
    assert not visit.open()
    assert visit.status == "refused" and visit.heading == "This share link was revoked"
    assert visit.media_src == "" and visit.times is None
    unknown = ShareVisit(db_url, storage, "no-such-token")
    assert not unknown.open()
    assert unknown.heading == "This share link is not known" and unknown.media_src == ""


def test_a_password_link_asks_then_opens_and_takes_comments(conn, db_url, storage, shared):
    reviewer, scene = shared
    _, token = create_share(
        conn,
        reviewer,
        scene,
        expires_in=timedelta(days=1),
        password="client-pass-1",
        allow_comments=True,
    )
    visit = ShareVisit(db_url, storage, token)
    assert not visit.open()
    assert visit.status == "password" and visit.notice is None and visit.media_src == ""
    assert not visit.open("wrong-pass-1")
    assert visit.status == "password" and visit.notice[1] == "danger"
    assert visit.open("client-pass-1") and visit.allow_comments
    note = visit.comment("Dana", "Warmer light here", 5)
    assert note is not None and note.frame == 5 and "Dana" in note.body
    assert visit.notice[1] == "success"
    assert visit.comment("", "no name", 5) is None
    assert "name" in visit.notice[0]
    assert visit.status == "open"  # a refused comment does not close the page


def test_the_page_shows_the_player_only_while_the_link_is_open(conn, db_url, storage, shared):
    from apps.share_views import ShareView

    reviewer, scene = shared
    link, token = create_share(
        conn, reviewer, scene, expires_in=timedelta(days=1), allow_comments=True
    )
    visit = ShareVisit(db_url, storage, token)
    visit.open()
    view = ShareView(visit=visit)
    shown = view.__panel__().objects
    assert view.player in shown and view.comments.layout in shown
    assert view.player.objects[0].src == visit.media_src  # the browser player plays it
    revoke_share(conn, reviewer, link.id)
    visit.open()
    shown = view.__panel__().objects
    assert view.player not in shown and view.comments.layout not in shown
    assert "revoked" in view.heading.object
