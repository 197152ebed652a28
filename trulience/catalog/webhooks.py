"""Webhook endpoints and the log of every delivery attempt, as the catalog holds them.
trulience/notify/webhooks.py decides who may register one, signs and sends."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from trulience.catalog.errors import writing
from trulience.catalog.fetch import many, one

_COLUMNS = "id, url, secret, events, active"
_DELIVERY_COLUMNS = (
    "id, webhook_id, event, payload, attempt, status_code, error, delivered, created_at"
)


@dataclass(frozen=True, slots=True)
class Webhook:
    id: int
    url: str
    secret: str
    events: list[str]
    active: bool


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    """One row of webhook_deliveries."""

    id: int
    webhook_id: int
    event: str
    payload: dict[str, Any]
    attempt: int
    status_code: int | None
    error: str | None
    delivered: bool
    created_at: datetime


def insert_webhook(
    conn: psycopg.Connection, url: str, secret: str, events: Iterable[str]
) -> Webhook:
    values = {"url": url, "events": list(events)}
    with writing(conn, values):
        return one(
            conn,
            Webhook,
            f"INSERT INTO webhooks (url, secret, events) VALUES (%s, %s, %s) RETURNING {_COLUMNS}",
            (url, secret, values["events"]),
            "webhook",
            url,
        )


def webhooks_for(conn: psycopg.Connection, event: str) -> list[Webhook]:
    """The active webhooks subscribed to `event`."""
    return many(
        conn,
        Webhook,
        f"SELECT {_COLUMNS} FROM webhooks WHERE active AND %s = ANY(events) ORDER BY id",
        (event,),
    )


def deliveries_of(conn: psycopg.Connection, webhook_id: int) -> list[DeliveryAttempt]:
    """Every attempt made for a webhook, in order."""
    return many(
        conn,
        DeliveryAttempt,
        f"SELECT {_DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook_id = %s "
        f"ORDER BY created_at, id",
        (webhook_id,),
    )


def log_delivery_attempt(
    conn: psycopg.Connection,
    webhook_id: int,
    event: str,
    payload: Any,
    attempt: int,
    status: int | None,
    error: str | None,
    delivered: bool,
) -> None:
    """Record one attempt, in its own transaction (a savepoint inside the caller's): each
    attempt is kept even if a later one fails."""
    with writing(conn, {"event": event}):
        conn.execute(
            """INSERT INTO webhook_deliveries
                   (webhook_id, event, payload, attempt, status_code, error, delivered)
               VALUES (%s, %s, %s, %s, %s, %s, %s)""",
            (webhook_id, event, Jsonb(payload), attempt, status, error, delivered),
        )
