"""Passwords, login sessions and the role → permission map."""

import pytest
from click.testing import CliRunner

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
from trulience.catalog.audit import audit_trail
from trulience.catalog.database import connect
from trulience.cli import main


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


def test_a_login_names_the_user_in_the_audit_log(conn, db_url):
    accounts.create_user(conn, "ann", "Ann", "reviewer", "s3cret-pass")
    with connect(db_url) as app:  # an app's connection names nobody: db:postgres
        login = accounts.authenticate(app, "ann", "s3cret-pass", user_agent="pytest")
        app.execute("UPDATE sessions SET last_seen_at = now() - interval '1 hour'")
        assert accounts.user_for_session(app, login.token).username == "ann"  # seen again
        accounts.logout(app, login.token)
        accounts.logout(app, "made-up-token")  # nothing to end, nothing recorded
    trail = audit_trail(conn, table="sessions")
    assert [(e.actor, e.action) for e in reversed(trail)] == [
        ("user:ann", "INSERT"),
        ("user:ann", "UPDATE"),  # the logout; being seen again is a liveness stamp only
    ]
    assert trail[0].after["revoked_at"] is not None and trail[0].before["revoked_at"] is None


def test_a_password_change_is_audited_with_the_hash_redacted(conn, db_url, tmp_path):
    accounts.create_user(conn, "ann", "Ann", "reviewer", "s3cret-pass")
    login = accounts.authenticate(conn, "ann", "s3cret-pass")
    old_hash = conn.execute("SELECT password_hash FROM users").fetchone()[0]
    env = {
        "TRULIENCE_HOME": str(tmp_path),
        "DATABASE_URL": db_url,
        "TRULIENCE_PASSWORD": "n3w-s3cret-pass",
        "TRULIENCE_ACTOR": "cli:admin",
    }
    changed = CliRunner().invoke(main, ["users", "passwd", "ann"], env=env)
    assert changed.exit_code == 0, changed.output
    new_hash = conn.execute("SELECT password_hash FROM users").fetchone()[0]
    assert new_hash != old_hash
    passwd = audit_trail(conn, table="users", actor="cli:admin")
    assert [e.action for e in passwd] == ["UPDATE"]
    assert (passwd[0].before["password_hash"], passwd[0].after["password_hash"]) == (
        "[redacted]",
        "[redacted: changed]",
    )
    ended = audit_trail(conn, table="sessions", actor="cli:admin")
    assert [e.row_key for e in ended] == [str(login.session.id)]  # her session ended
    logged = conn.execute("SELECT string_agg(concat(before, after), ' ') FROM audit_log")
    text = logged.fetchone()[0]
    assert old_hash not in text and new_hash not in text and "scrypt$" not in text
