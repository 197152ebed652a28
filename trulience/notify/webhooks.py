"""Signed outgoing webhooks, every attempt logged.

A delivery is an HTTP POST of the JSON payload with these headers:

- `X-Trulience-Event`: the event kind (a code of `notification_kinds`).
- `X-Trulience-Timestamp`: Unix seconds when the attempt was signed.
- `X-Trulience-Signature`: `sha256=<hex>`, HMAC-SHA256 with the webhook's secret over
  `<timestamp>.` followed by the exact body bytes. Signing the timestamp with the body lets
  a receiver refuse replays: recompute, compare in constant time, and reject timestamps
  older than a few minutes (`verify` does all three).
"""

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
import requests

from trulience.auth.permissions import Permission, require
from trulience.auth.users import acting_user
from trulience.catalog import webhooks as catalog
from trulience.catalog.database import acting_as
from trulience.catalog.records import User
from trulience.catalog.webhooks import DeliveryAttempt as DeliveryAttempt  # re-exported
from trulience.catalog.webhooks import Webhook, webhooks_for

SIGNATURE_HEADER = "X-Trulience-Signature"
TIMESTAMP_HEADER = "X-Trulience-Timestamp"
EVENT_HEADER = "X-Trulience-Event"
REPLAY_TOLERANCE_S = 300


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """How a delivery ended: delivered or not, after how many attempts, and why."""

    webhook_id: int
    event: str
    delivered: bool
    attempts: int
    status_code: int | None
    error: str | None


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """`sha256=<hex>` HMAC of `body` (prefixed by `<timestamp>.` when a timestamp is given)."""
    message = body if timestamp is None else f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(
    secret: str,
    body: bytes,
    timestamp: str,
    signature: str,
    *,
    tolerance_s: int = REPLAY_TOLERANCE_S,
    now: float | None = None,
) -> bool:
    """What a receiver checks: a fresh timestamp and a matching signature."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - sent) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, body, sent), signature)


def add_webhook(
    conn: psycopg.Connection,
    actor: User | str,
    url: str,
    events: Iterable[str],
    secret: str | None = None,
) -> Webhook:
    """Register an endpoint for some events (admins only); a secret is made if none given."""
    user = acting_user(conn, actor)
    require(user, Permission.MANAGE_WEBHOOKS)
    with acting_as(conn, f"user:{user.username}"):
        return catalog.insert_webhook(conn, url, secret or secrets.token_urlsafe(32), events)


def deliver(
    conn: psycopg.Connection,
    webhook: Webhook,
    event: str,
    payload: Mapping[str, Any],
    *,
    retries: int = 3,
    backoff_s: float = 0.2,
    timeout_s: float = 5,
) -> DeliveryResult:
    """POST a signed event; retry connection errors and 5xx up to `retries` more times.

    Waits backoff_s, 2*backoff_s, 4*backoff_s... between attempts. A 4xx is final: the
    receiver refused this request and sending it again would not change its mind.
    """
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()
    stored = json.loads(body)  # what was sent, exactly, rather than the caller's objects
    status: int | None = None
    error: str | None = None
    attempt = 0
    for attempt in range(1, max(retries, 0) + 2):
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            EVENT_HEADER: event,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(webhook.secret, body, timestamp),
        }
        status, error = None, None
        try:
            # redirects are not followed: the signed body goes only where it was addressed
            response = requests.post(
                webhook.url, data=body, headers=headers, timeout=timeout_s, allow_redirects=False
            )
            status = response.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}: {response.text[:200]}".strip()
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        delivered = status is not None and 200 <= status < 300
        catalog.log_delivery_attempt(
            conn, webhook.id, event, stored, attempt, status, error, delivered
        )
        retryable = status is None or status >= 500
        if delivered or not retryable or attempt > retries:
            break
        time.sleep(backoff_s * 2 ** (attempt - 1))
    return DeliveryResult(
        webhook_id=webhook.id,
        event=event,
        delivered=status is not None and 200 <= status < 300,
        attempts=attempt,
        status_code=status,
        error=error,
    )


def publish(
    conn: psycopg.Connection, event: str, payload: Mapping[str, Any], **options: Any
) -> list[DeliveryResult]:
    """Deliver an event to every active webhook subscribed to it (options as in `deliver`)."""
    return [deliver(conn, hook, event, payload, **options) for hook in webhooks_for(conn, event)]
