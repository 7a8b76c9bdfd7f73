"""The push channel of the delivery pipeline (notifications.delivery): a queued push delivery
is sent to every active device of its user by send_to_user, with the notification's deep-link
data and the unread count as badge (message_for_notification).

The pipeline's statuses follow the push result: sent (at least one device took it), temporary
(retried with backoff), permanent (every device is dead; they are retired), no_device (the
delivery is suppressed: its devices were retired after it was queued). A user without an
active device gets no push delivery at all (`reachable_users`). Devices retired on the way are
written in the same session; the pipeline commits them with the delivery's outcome.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from crowd.extensions import db
from notifications.channels import PUSH, Channel, Outgoing, SendResult, register_channel
from notifications.models import Notification
from notifications.push.message import message_for_notification
from notifications.push.models import Device
from notifications.push.sender import send_to_user


def send_push(outgoing: Outgoing, content: dict | None) -> SendResult:
    """Send one delivery; `content` (a broadcast's text) replaces the notification's."""
    notification = db.session.get(Notification, outgoing.notification_id)
    if notification is None:
        return SendResult("permanent", error="the notification is gone")
    message = message_for_notification(notification)
    if content:
        message = replace(
            message,
            title=content.get("subject") or message.title,
            body=content.get("body") or message.body,
        )
    result = send_to_user(outgoing.user_id, message)
    return SendResult(result.status, error=None if result.status == "sent" else result.detail)


def reachable_users():
    """The users with an active device: the only ones a push delivery is queued for."""
    return select(Device.user_id).where(Device.retired_at.is_(None))


def install() -> None:
    """Plug push into the pipeline (notifications.wiring, at start)."""
    register_channel(Channel(PUSH, send_push, reachable=reachable_users))
