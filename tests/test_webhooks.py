"""Signed webhooks against a real HTTP receiver on 127.0.0.1, and per-user notifications."""

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from trulience.auth import PermissionDenied
from trulience.auth import users as accounts
from trulience.catalog.errors import InvalidValue
from trulience.catalog.webhooks import deliveries_of
from trulience.notify import add_webhook, deliver, mark_read, notify, publish, unread, verify

SECRET = "a-long-shared-secret-for-tests"


class Receiver:
    """An HTTP endpoint answering with scripted status codes and keeping what it got."""

    def __init__(self, statuses: list[int]):
        self.statuses = list(statuses)
        self.received: list[tuple[dict[str, str], bytes, bool]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                # checked here as a receiver would, independently of trulience's own code
                expected = (
                    "sha256="
                    + hmac.new(
                        SECRET.encode(),
                        self.headers["X-Trulience-Timestamp"].encode() + b"." + body,
                        hashlib.sha256,
                    ).hexdigest()
                )
                valid = hmac.compare_digest(expected, self.headers["X-Trulience-Signature"])
                receiver.received.append((dict(self.headers), body, valid))
                status = (
                    receiver.statuses.pop(0)
                    if len(receiver.statuses) > 1
                    else (receiver.statuses[0])
                )
                self.send_response(status if valid else 401)
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"nope")

            def log_message(self, *args) -> None:  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"

    def __enter__(self) -> "Receiver":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def admin(conn):
    return accounts.create_user(conn, "root", "Root", "admin", "s3cret-pass")


@pytest.fixture
def receiver(request) -> Iterator[Receiver]:
    with Receiver(request.param) as r:
        yield r


def attempts(conn, hook) -> list[tuple[int, int | None, bool]]:
    return [(d.attempt, d.status_code, d.delivered) for d in deliveries_of(conn, hook.id)]


@pytest.mark.parametrize("receiver", [[200]], indirect=True)
def test_receiver_gets_a_correctly_signed_event(conn, admin, receiver):
    hook = add_webhook(conn, admin, receiver.url, ["approved"], secret=SECRET)
    result = deliver(conn, hook, "approved", {"scene_id": 7, "decision": "approved"})
    assert result.delivered and result.attempts == 1 and result.status_code == 200
    [(headers, body, valid)] = receiver.received
    assert valid
    assert headers["X-Trulience-Event"] == "approved"
    assert json.loads(body) == {"scene_id": 7, "decision": "approved"}
    assert verify(SECRET, body, headers["X-Trulience-Timestamp"], headers["X-Trulience-Signature"])
    # a replayed request, ten minutes later, is refused by the same check
    late = int(headers["X-Trulience-Timestamp"]) + 600
    assert not verify(
        SECRET, body, headers["X-Trulience-Timestamp"], headers["X-Trulience-Signature"], now=late
    )
    assert attempts(conn, hook) == [(1, 200, True)]


@pytest.mark.parametrize("receiver", [[500, 500, 200]], indirect=True)
def test_failing_receiver_is_retried_and_every_failure_logged(conn, admin, receiver):
    hook = add_webhook(conn, admin, receiver.url, ["delivered"], secret=SECRET)
    result = deliver(conn, hook, "delivered", {"scene_id": 1}, backoff_s=0.01)
    assert result.delivered and result.attempts == 3
    assert attempts(conn, hook) == [(1, 500, False), (2, 500, False), (3, 200, True)]
    assert "HTTP 500" in deliveries_of(conn, hook.id)[0].error


@pytest.mark.parametrize("receiver", [[500]], indirect=True)
def test_receiver_that_always_fails_is_given_up_on_after_the_retries(conn, admin, receiver):
    hook = add_webhook(conn, admin, receiver.url, ["run_failed"], secret=SECRET)
    result = deliver(conn, hook, "run_failed", {"scene_id": 1}, retries=2, backoff_s=0.01)
    assert not result.delivered and result.attempts == 3 and result.status_code == 500
    assert attempts(conn, hook) == [(1, 500, False), (2, 500, False), (3, 500, False)]


@pytest.mark.parametrize("receiver", [[404, 200]], indirect=True)
def test_a_4xx_is_not_retried(conn, admin, receiver):
    hook = add_webhook(conn, admin, receiver.url, ["gate_failed"], secret=SECRET)
    result = deliver(conn, hook, "gate_failed", {"scene_id": 1}, backoff_s=0.01)
    assert not result.delivered and result.attempts == 1
    assert attempts(conn, hook) == [(1, 404, False)]
    assert len(receiver.received) == 1


def test_unreachable_receiver_is_retried_and_the_connection_error_logged(conn, admin):
    with Receiver([200]) as gone:
        url = gone.url  # a port that was just closed: connections are refused
    hook = add_webhook(conn, admin, url, ["delivered"], secret=SECRET)
    result = deliver(conn, hook, "delivered", {}, retries=1, backoff_s=0.01, timeout_s=1)
    assert not result.delivered and result.attempts == 2
    logged = deliveries_of(conn, hook.id)
    assert [d.status_code for d in logged] == [None, None]
    assert all("ConnectionError" in d.error for d in logged)


@pytest.mark.parametrize("receiver", [[200]], indirect=True)
def test_publish_reaches_only_subscribed_active_webhooks(conn, admin, receiver):
    add_webhook(conn, admin, receiver.url, ["approved"], secret=SECRET)
    add_webhook(conn, admin, receiver.url, ["delivered"], secret=SECRET)
    results = publish(conn, "approved", {"scene_id": 3})
    assert [r.delivered for r in results] == [True]
    assert len(receiver.received) == 1


def test_only_admins_add_webhooks_and_bad_ones_are_refused(conn, admin):
    producer = accounts.create_user(conn, "paul", "Paul", "producer", "s3cret-pass")
    with pytest.raises(PermissionDenied, match="manage_webhooks"):
        add_webhook(conn, producer, "https://example.test/hook", ["approved"])
    with pytest.raises(InvalidValue, match="http:// or https://"):
        add_webhook(conn, admin, "ftp://example.test/hook", ["approved"])
    with pytest.raises(InvalidValue, match="unknown event exploded"):
        add_webhook(conn, admin, "https://example.test/hook", ["approved", "exploded"])
    hook = add_webhook(conn, admin, "https://example.test/hook", ["approved"], secret=SECRET)
    audited = conn.execute(
        "SELECT actor, after::text FROM audit_log WHERE table_name = 'webhooks'"
    ).fetchall()
    assert [a for a, _ in audited] == ["user:root"]
    assert SECRET not in audited[0][1] and hook.secret == SECRET


def test_notifications_go_to_the_roles_that_act_on_them_until_read(conn, admin):
    paul = accounts.create_user(conn, "paul", "Paul", "producer", "s3cret-pass")
    rita = accounts.create_user(conn, "rita", "Rita", "reviewer", "s3cret-pass")
    notify(conn, "run_failed", {"scene_id": 4}, "take 4 failed at segment 3")
    notify(conn, "ready_for_review", {"scene_id": 5}, "take 5 is assembled")
    assert [n.kind for n in unread(conn, paul)] == ["run_failed", "ready_for_review"]
    assert [n.kind for n in unread(conn, rita)] == ["ready_for_review"]
    assert [n.kind for n in unread(conn, admin)] == ["run_failed"]
    notify(conn, "delivered", {"scene_id": 5}, "take 5 delivered", users=["rita"])
    assert mark_read(conn, rita, [unread(conn, rita)[0].id]) == 1
    assert [n.kind for n in unread(conn, rita)] == ["delivered"]
    assert mark_read(conn, paul) == 2 and unread(conn, paul) == []
