"""The one login component both apps share (apps/login.py): password, the app's permission,
the user's shortcuts, and the session, the same way in the review and compare apps."""

import pytest

from apps.compare import CompareApp
from apps.login import Login, SignedIn
from apps.review import ReviewApp
from trulience.auth import users as accounts
from trulience.auth.errors import SessionRefused
from trulience.auth.permissions import Permission
from trulience.config import Settings
from trulience.review.shortcuts import set_shortcuts

PASSWORD = "s3cret-pass"


@pytest.fixture
def people(conn):
    for name, role in [("rita", "reviewer"), ("vic", "viewer")]:
        accounts.create_user(conn, name, name.title(), role, PASSWORD)
    set_shortcuts(conn, "rita", assignments={"approve": "k", "forward": "n"})


class Events:
    def __init__(self):
        self.signed_in: list[SignedIn] = []
        self.signed_out = 0

    def out(self) -> None:
        self.signed_out += 1


def form(db_url: str, permission: Permission) -> tuple[Login, Events]:
    events = Events()
    return Login(db_url, "test", permission, events.signed_in.append, events.out), events


def type_in(login: Login, username: str, password: str) -> None:
    login.username.value_input = username
    login.password.value_input = password
    login.log_in()


def test_login_refuses_a_wrong_password_and_a_missing_permission_leaving_no_session(
    db_url, conn, people
):
    login, events = form(db_url, Permission.REVIEW)
    type_in(login, "rita", "wrong password")
    assert login.notice.visible and "wrong username or password" in login.notice.object
    type_in(login, "vic", PASSWORD)
    assert "'vic' (role viewer) does not have the permission 'review'" in login.notice.object
    assert events.signed_in == [] and login.token is None
    assert accounts.sessions_of(conn, "vic", active_only=True) == []


def test_login_hands_the_app_the_session_and_the_users_own_shortcuts(db_url, conn, people):
    login, events = form(db_url, Permission.VIEW)
    type_in(login, "rita", PASSWORD)
    [signed_in] = events.signed_in
    assert signed_in.user.username == "rita" and login.token == signed_in.token
    assert signed_in.shortcuts.table["approve"] == "k"
    assert "Logged in as **rita** (reviewer)" in login.who.object
    assert login.password.value_input == "" and not login.notice.visible

    # an admin ends the session (`trulience users sessions --revoke`): the app is refused
    accounts.revoke_session(conn, accounts.sessions_of(conn, "rita")[0].id)
    with pytest.raises(SessionRefused) as refused:
        accounts.user_for_session(conn, signed_in.token)
    login.expired(refused.value)
    assert login.token is None and events.signed_out == 1
    assert "was revoked" in login.notice.object

    type_in(login, "rita", PASSWORD)
    login.log_out()
    assert events.signed_out == 2
    assert accounts.sessions_of(conn, "rita", active_only=True) == []


def test_review_and_compare_apps_log_in_through_the_shared_form_with_the_users_keys(
    db_url, people, tmp_path
):
    settings = Settings.from_env({"TRULIENCE_HOME": str(tmp_path), "DATABASE_URL": db_url})
    review, compare = ReviewApp(settings), CompareApp(settings)
    for app in (review, compare):
        assert type(app.login) is Login
        assert app.login_view is app.login.form
        type_in(app.login, "rita", PASSWORD)
        assert app.token is not None
        assert app.shortcuts.table["forward"] == "n"
        assert "n" in app.shortcuts.keyboard.keys and "." not in app.shortcuts.keyboard.keys
        assert '<kbd data-action="forward">n</kbd>' in app.shortcuts.legend.object
    assert review.shortcuts.table["approve"] == "k" and "approve" not in compare.shortcuts.table
    review.shortcuts.keyboard._handle_msg({"key": "?"})  # what the browser sends for "?"
    assert not review.shortcuts.legend.visible
    assert review.queue_view.visible and compare.compare_view.visible
    review.login.log_out()
    assert review.login_view.visible and not review.queue_view.visible
