"""What a push says (PushMessage), what became of it (PushResult), and the message a
notification of the inbox becomes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal

from notifications.inbox import unread_count
from notifications.models import Notification

Status = Literal["sent", "no_device", "temporary", "permanent"]
DeviceStatus = Literal["sent", "temporary", "permanent"]
# apns-collapse-id may hold at most 64 bytes; FCM's collapse_key is as short in practice.
MAX_COLLAPSE_KEY = 64


@dataclass(frozen=True)
class PushMessage:
    """One push: the alert, deep-link data (string values only, as FCM and the apps expect),
    the app icon's badge (None leaves it as it is) and a collapse key (a newer push with the
    same key replaces an undelivered older one)."""

    title: str
    body: str
    kind: str
    data: dict[str, str] = field(default_factory=dict)
    badge: int | None = None
    collapse_key: str | None = None

    def __post_init__(self) -> None:
        # Both providers carry data as strings; anything else is a programming error here.
        object.__setattr__(self, "data", {str(k): str(v) for k, v in self.data.items()})


@dataclass(frozen=True)
class DeviceOutcome:
    """What one device's provider answered."""

    device_id: int
    platform: str
    status: DeviceStatus
    # The provider's reason (e.g. Unregistered, UNAVAILABLE) or its message id when sent.
    detail: str = ""
    retired: bool = False
    retry_after: int | None = None


@dataclass(frozen=True)
class PushResult:
    """The push to every active device of a user.

    `status`: sent (at least one device took it), no_device (the user has no active device),
    temporary (none took it, and at least one may later: retry after `retry_after` seconds),
    permanent (none took it and retrying will not help: dead tokens, now retired, or a message
    the provider refuses).
    """

    status: Status
    detail: str
    outcomes: tuple[DeviceOutcome, ...] = ()
    sent: int = 0
    retired: int = 0
    retry_after: int | None = None


def collapse_key_for(text: str) -> str:
    """`text` as a collapse key: itself when short enough, else a digest of it."""
    if len(text.encode()) <= MAX_COLLAPSE_KEY:
        return text
    return hashlib.sha256(text.encode()).hexdigest()[:MAX_COLLAPSE_KEY]


def message_for_notification(notification: Notification) -> PushMessage:
    """The push for an inbox notification: its title and body, its ids as deep-link data
    (offer_id, job_id, ticket_id … as strings, with the notification's id and kind), and the
    user's unread inbox count as the badge. The collapse key is the notification's event, so
    a retried push replaces the first on the device instead of showing twice."""
    return message_for(
        notification_id=notification.id,
        kind=notification.kind,
        title=notification.title,
        body=notification.body,
        data=notification.data,
        dedupe_key=notification.dedupe_key,
        badge=unread_count(notification.user_id),
    )


def message_for(
    *,
    notification_id: int,
    kind: str,
    title: str,
    body: str,
    data: dict | None,
    dedupe_key: str | None,
    badge: int | None,
) -> PushMessage:
    """message_for_notification from the notification's values (a batch of the sender has
    read them already, and the badges of all its users in one query)."""
    values = {
        key: str(value)
        for key, value in (data or {}).items()
        if isinstance(value, (str, int)) and not isinstance(value, bool)
    }
    values.update(notification_id=str(notification_id), kind=kind)
    return PushMessage(
        title=title,
        body=body,
        kind=kind,
        data=values,
        badge=badge,
        collapse_key=collapse_key_for(dedupe_key or f"notification:{notification_id}"),
    )
