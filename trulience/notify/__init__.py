"""Telling people and systems what happened: notifications and signed webhooks."""

from trulience.notify.notifications import (
    DEFAULT_ROLES,
    Notification,
    default_recipients,
    mark_read,
    notify,
    unread,
)
from trulience.notify.webhooks import (
    DeliveryAttempt,
    DeliveryResult,
    Webhook,
    add_webhook,
    deliver,
    publish,
    sign,
    verify,
)

__all__ = [
    "DEFAULT_ROLES",
    "DeliveryAttempt",
    "DeliveryResult",
    "Notification",
    "Webhook",
    "add_webhook",
    "default_recipients",
    "deliver",
    "mark_read",
    "notify",
    "publish",
    "sign",
    "unread",
    "verify",
]
