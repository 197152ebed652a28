"""Share links for outside reviewers (PRD-84): the service against the real catalog."""

from datetime import timedelta

import pytest

from tests.review_takes import assemble, make_project, make_take
from trulience.auth.errors import PermissionDenied, WeakPassword
from trulience.auth.users import create_user, token_digest
from trulience.catalog.errors import InvalidValue
from trulience.review.share import (
    NotShareable,
    ShareCommentsClosed,
    ShareExpired,
    SharePasswordNeeded,
    ShareRevoked,
    ShareUnknown,
    ShareWrongPassword,
    comment_via_share,
    create_share,
    link_refusal,
    list_shares,
    open_share,
    revoke_share,
    uses_of_share,
)

WEEK = timedelta(days=7)


@pytest.fixture
def people(conn):
    make_project(conn)
    return {
        role: create_user(conn, f"{role}1", role.title(), role, "long-enough-pw")
        for role in ("viewer", "reviewer", "producer")
    }


@pytest.fixture
def take(conn, people):
    scene_id = make_take(conn, status="generated")
    assemble(conn, scene_id, "first cut", frames=24)
    return scene_id


def outcomes(conn, link_id):
    rows = conn.execute(
        "SELECT outcome, reason, remote FROM share_link_uses WHERE link_id IS NOT DISTINCT FROM %s"
        " ORDER BY id",
        (link_id,),
    ).fetchall()
    return rows


def test_a_reviewer_shares_a_take_once_and_only_the_tokens_hash_is_stored(conn, people, take):
    link, token = create_share(conn, people["reviewer"], take, expires_in=WEEK, label="client")
    assert (link.scene_id, link.revision, link.created_by) == (take, 1, "reviewer1")
    assert not link.has_password and not link.allow_comments and link.label == "client"
    stored = conn.execute("SELECT token_sha256 FROM share_links WHERE id = %s", (link.id,))
    assert stored.fetchone()[0] == token_digest(token)
    leaked = conn.execute(
        "SELECT count(*) FROM audit_log WHERE after::text LIKE %s", (f"%{token}%",)
    ).fetchone()[0]
    assert leaked == 0

    grant = open_share(conn, token, remote="203.0.113.9")
    assert grant.take.id == take and grant.link.id == link.id
    assert grant.proxy_uri == f"file:///storage/scenes/{take}/proxy.mp4"
    assert outcomes(conn, link.id) == [("viewed", "", "203.0.113.9")]
    assert [s.id for s in list_shares(conn, people["producer"], take)] == [link.id]
    assert list_shares(conn, people["producer"], take)[0].uses == 1


def test_only_reviewers_and_producers_share_and_only_assembled_takes(conn, people, take):
    with pytest.raises(PermissionDenied):
        create_share(conn, people["viewer"], take, expires_in=WEEK)
    create_share(conn, people["producer"], take, expires_in=WEEK)
    unassembled = make_take(conn, take=2, status="generated")
    with pytest.raises(NotShareable, match="assemble it"):
        create_share(conn, people["reviewer"], unassembled, expires_in=WEEK)
    for bad in (timedelta(0), timedelta(days=-1), timedelta(days=91)):
        with pytest.raises(InvalidValue, match="expires_in"):
            create_share(conn, people["reviewer"], take, expires_in=bad)
    with pytest.raises(WeakPassword):
        create_share(conn, people["reviewer"], take, expires_in=WEEK, password="short")
    assert conn.execute("SELECT count(*) FROM share_links").fetchone()[0] == 1


def test_an_unknown_token_is_refused_and_recorded(conn, people, take):
    with pytest.raises(ShareUnknown, match="not known"):
        open_share(conn, "made-up-token", remote="198.51.100.1")
    assert outcomes(conn, None) == [
        ("refused", "this share link is not known (mistyped, or never made)", "198.51.100.1")
    ]


def test_an_expired_link_is_refused_and_its_media_too(conn, people, take):
    link, token = create_share(conn, people["reviewer"], take, expires_in=WEEK)
    assert link_refusal(conn, link.id) is None
    conn.execute(
        "UPDATE share_links SET created_at = now() - interval '2 days', "
        "expires_at = now() - interval '1 day' WHERE id = %s",
        (link.id,),
    )
    with pytest.raises(ShareExpired, match="expired on"):
        open_share(conn, token)
    assert link_refusal(conn, link.id) == "the share link has expired"
    assert [o for o, *_ in outcomes(conn, link.id)] == ["refused"]


def test_a_revoked_link_is_refused_from_then_on(conn, people, take):
    link, token = create_share(conn, people["reviewer"], take, expires_in=WEEK)
    open_share(conn, token)
    other = create_user(conn, "reviewer2", "Other", "reviewer", "long-enough-pw")
    with pytest.raises(PermissionDenied, match="revoke"):
        revoke_share(conn, other, link.id)
    revoked = revoke_share(conn, people["producer"], link.id)
    assert revoked.revoked_at is not None
    with pytest.raises(ShareRevoked, match="revoked"):
        open_share(conn, token)
    assert link_refusal(conn, link.id) == "the share link was revoked"
    assert [u.outcome for u in uses_of_share(conn, people["producer"], link.id)] == [
        "viewed",
        "refused",
    ]
    actors = conn.execute(
        "SELECT actor, action FROM audit_log WHERE table_name = 'share_links' ORDER BY id"
    ).fetchall()
    assert actors == [("user:reviewer1", "INSERT"), ("user:producer1", "UPDATE")]


def test_a_password_link_asks_for_it_and_refuses_a_wrong_one(conn, people, take):
    link, token = create_share(
        conn, people["reviewer"], take, expires_in=WEEK, password="client-secret-1"
    )
    assert link.has_password
    with pytest.raises(SharePasswordNeeded):
        open_share(conn, token)
    with pytest.raises(ShareWrongPassword):
        open_share(conn, token, password="guess-guess")
    assert open_share(conn, token, password="client-secret-1").take.id == take
    assert [o for o, *_ in outcomes(conn, link.id)] == ["refused", "refused", "viewed"]
    stored = conn.execute("SELECT password_hash FROM share_links WHERE id = %s", (link.id,))
    assert stored.fetchone()[0].startswith("scrypt$")


def test_comments_come_through_only_when_allowed_naming_the_outside_reviewer(conn, people, take):
    _closed, closed_token = create_share(conn, people["reviewer"], take, expires_in=WEEK)
    with pytest.raises(ShareCommentsClosed):
        comment_via_share(conn, closed_token, "Dana", "Lovely", 3)
    link, token = create_share(conn, people["reviewer"], take, expires_in=WEEK, allow_comments=True)
    note = comment_via_share(conn, token, "Dana (client)", "Hold the smile longer", 12)
    assert note.frame == 12 and "Dana (client)" in note.body and "Hold the smile" in note.body
    author = conn.execute(
        "SELECT u.username FROM notes n JOIN users u ON u.id = n.author_id WHERE n.id = %s",
        (note.id,),
    ).fetchone()[0]
    assert author == "reviewer1"
    assert outcomes(conn, link.id)[-1][:2] == ("commented", f"note {note.id} by Dana (client)")
    bad_comments = [("", "x", 1, "name"), ("D", " ", 1, "body"), ("D", "x", 24, "frame")]
    for name, body, frame, field in bad_comments:
        with pytest.raises(InvalidValue, match=field):
            comment_via_share(conn, token, name, body, frame)
    revoke_share(conn, people["reviewer"], link.id)
    with pytest.raises(ShareRevoked):
        comment_via_share(conn, token, "Dana", "one more", 1)
