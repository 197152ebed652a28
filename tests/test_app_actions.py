"""The one action runner every app uses (apps/actions.py): an action's value when it ran, and
each kind of refusal mapped once: an expired session, a missing permission, the app's own
answers, and any other refusal in its own words."""

import pytest

from apps.actions import ActionRunner, Done, refusal
from trulience.auth.errors import AuthError, LoginRefused, PermissionDenied, SessionRefused
from trulience.errors import TrulienceError


class Sink:
    """What the runner said, and the sessions it sent back to the login form."""

    def __init__(self):
        self.said: list[tuple[str, str]] = []
        self.expired: list[AuthError] = []

    def say(self, message: str, kind: str) -> None:
        self.said.append((message, kind))


class OpenQuestion(TrulienceError):
    pass


def raising(error: Exception):
    def action():
        raise error

    return action


@pytest.fixture
def sink():
    return Sink()


@pytest.fixture
def runner(sink):
    return ActionRunner(sink.expired.append, sink.say)


def test_an_action_that_runs_returns_its_value_and_says_nothing(runner, sink):
    assert runner.run(lambda: 42) == Done(42)
    assert runner.run(lambda: None) == Done(None)
    assert sink.said == [] and sink.expired == []


def test_an_expired_session_goes_back_to_login_and_says_nothing_here(runner, sink):
    error = SessionRefused("this session was revoked")
    assert runner.run(raising(error)) is None
    assert sink.expired == [error] and sink.said == []


def test_a_missing_permission_says_not_allowed_and_other_refusals_their_own_words(runner, sink):
    assert runner.run(raising(PermissionDenied("vic", "viewer", "review"))) is None
    assert runner.run(raising(TrulienceError("take 3 has no video yet"))) is None
    assert sink.said == [
        ("not allowed: user 'vic' (role viewer) does not have the permission 'review'", "danger"),
        ("take 3 has no video yet", "danger"),
    ]
    assert sink.expired == []


def test_a_run_may_say_elsewhere_and_answer_its_own_refusals_first(runner, sink):
    elsewhere: list[tuple[str, str]] = []
    asked: list[TrulienceError] = []
    question = OpenQuestion("1 open note")
    answers = {OpenQuestion: asked.append}

    def say(message: str, kind: str) -> None:
        elsewhere.append((message, kind))

    assert runner.run(raising(question), say, answers) is None
    assert asked == [question]
    assert runner.run(raising(TrulienceError("gone")), say) is None
    assert elsewhere == [("gone", "danger")] and sink.said == []


def test_an_app_may_send_every_auth_refusal_to_login_and_word_denials_its_way(sink):
    runner = ActionRunner(sink.expired.append, sink.say, expires=(AuthError,), denied="")
    assert runner.run(raising(PermissionDenied("vic", "viewer", "view"))) is None
    assert runner.run(raising(LoginRefused("wrong username or password"))) is None
    assert [type(e) for e in sink.expired] == [PermissionDenied, LoginRefused]
    words = ActionRunner(sink.expired.append, sink.say, denied="")
    words.run(raising(PermissionDenied("vic", "viewer", "view")))
    assert sink.said == [("user 'vic' (role viewer) does not have the permission 'view'", "danger")]


def test_other_exceptions_are_not_refusals_and_pass_through(runner, sink):
    with pytest.raises(ZeroDivisionError):
        runner.run(lambda: 1 // 0)
    assert refusal(TrulienceError("plain words")) == "plain words"
