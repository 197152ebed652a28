"""Passwords, login sessions and the role → permission map."""

import pytest

from trulience.auth import (
    AccountDisabled,
    LoginRefused,
    Permission,
    PermissionDenied,
    SessionRefused,
    WeakPassword,
    require,
)
from trulience.auth import users as accounts
from trulience.auth.passwords import hash_password, verify_password


def test_password_hash_verifies_and_refuses_the_wrong_password():
    encoded = hash_password("correct horse battery")
    assert encoded.startswith("scrypt$32768$8$1$")
    assert verify_password("correct horse battery", encoded)
    assert not verify_password("correct horse batterz", encoded)
    assert not verify_password("correct horse battery", "scrypt$garbage")


def test_same_password_hashes_differently_each_time():
    assert hash_password("same password") != hash_password("same password")


@pytest.mark.parametrize("weak", ["", "   ", "short"])
def test_empty_or_short_password_is_refused_with_a_reason(weak):
    with pytest.raises(WeakPassword, match="password"):
        hash_password(weak)


def test_weak_password_leaves_no_user_behind(conn):
    with pytest.raises(WeakPassword):
        accounts.create_user(conn, "ann", "Ann", "reviewer", "abc")
    assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 0


def test_login_gives_a_token_whose_hash_alone_is_stored(conn):
    accounts.create_user(conn, "ann", "Ann", "reviewer", "s3cret-pass")
    login = accounts.authenticate(conn, "ann", "s3cret-pass", user_agent="pytest")
    assert accounts.user_for_session(conn, login.token).username == "ann"
    stored = conn.execute("SELECT token_sha256 FROM sessions").fetchall()
    assert stored == [(accounts.token_digest(login.token),)]
    assert login.token not in str(conn.execute("SELECT after FROM audit_log").fetchall())
    assert [s.id for s in accounts.sessions_of(conn, "ann", active_only=True)] == [login.session.id]


def test_wrong_password_and_unknown_user_are_refused_alike(conn):
    accounts.create_user(conn, "ann", "Ann", "reviewer", "s3cret-pass")
    with pytest.raises(LoginRefused, match="wrong username or password"):
        accounts.authenticate(conn, "ann", "not-her-password")
    with pytest.raises(LoginRefused, match="wrong username or password"):
        accounts.authenticate(conn, "nobody", "s3cret-pass")


def test_revoked_session_is_refused(conn):
    accounts.create_user(conn, "ann", "Ann", "reviewer", "s3cret-pass")
    login = accounts.authenticate(conn, "ann", "s3cret-pass")
    accounts.revoke_session(conn, login.session.id)
    with pytest.raises(SessionRefused, match="revoked"):
        accounts.user_for_session(conn, login.token)
    assert accounts.sessions_of(conn, "ann", active_only=True) == []


def test_expired_session_is_refused(conn):
    accounts.create_user(conn, "ann", "Ann", "reviewer", "s3cret-pass")
    login = accounts.authenticate(conn, "ann", "s3cret-pass")
    conn.execute(
        "UPDATE sessions SET created_at = now() - interval '2 days', "
        "expires_at = now() - interval '1 second'"
    )
    with pytest.raises(SessionRefused, match="expired"):
        accounts.user_for_session(conn, login.token)


def test_unknown_token_is_refused(conn):
    with pytest.raises(SessionRefused, match="unknown session"):
        accounts.user_for_session(conn, "made-up-token")


def test_disabled_user_cannot_log_in_nor_use_an_open_session(conn):
    accounts.create_user(conn, "ann", "Ann", "reviewer", "s3cret-pass")
    login = accounts.authenticate(conn, "ann", "s3cret-pass")
    user = accounts.disable_user(conn, "ann")
    assert user.disabled
    with pytest.raises(SessionRefused):  # disabling revoked her sessions
        accounts.user_for_session(conn, login.token)
    with pytest.raises(AccountDisabled, match="ann"):
        accounts.authenticate(conn, "ann", "s3cret-pass")
    with pytest.raises(AccountDisabled):
        require(user, Permission.VIEW)


def test_new_password_works_and_ends_old_sessions(conn):
    accounts.create_user(conn, "ann", "Ann", "reviewer", "s3cret-pass")
    old = accounts.authenticate(conn, "ann", "s3cret-pass")
    accounts.set_password(conn, "ann", "n3w-s3cret-pass")
    with pytest.raises(SessionRefused):
        accounts.user_for_session(conn, old.token)
    with pytest.raises(LoginRefused):
        accounts.authenticate(conn, "ann", "s3cret-pass")
    assert accounts.authenticate(conn, "ann", "n3w-s3cret-pass").user.username == "ann"


def test_roles_grant_what_the_studio_expects(conn):
    people = {
        role: accounts.create_user(conn, role, role.title(), role, "s3cret-pass")
        for role in ("viewer", "reviewer", "producer", "admin")
    }
    require(people["viewer"], Permission.VIEW)
    with pytest.raises(PermissionDenied, match=r"'viewer' \(role viewer\).*'review'"):
        require(people["viewer"], Permission.REVIEW)
    require(people["reviewer"], Permission.WRITE_NOTES)
    with pytest.raises(PermissionDenied, match="request_regeneration"):
        require(people["reviewer"], Permission.REQUEST_REGENERATION)
    require(people["producer"], Permission.MANAGE_SCENE_TYPES)
    with pytest.raises(PermissionDenied, match="manage_users"):
        require(people["producer"], Permission.MANAGE_USERS)
    for permission in Permission:
        require(people["admin"], permission)
