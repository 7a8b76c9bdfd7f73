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

import logging
from dataclasses import replace

from sqlalchemy import select

from crowd.extensions import db
from notifications.channels import PUSH, Channel, Outgoing, SendResult, register_channel
from notifications.inbox import unread_counts
from notifications.models import Notification
from notifications.push.message import message_for, message_for_notification
from notifications.push.models import Device
from notifications.push.sender import send_to_devices, send_to_user

log = logging.getLogger(__name__)


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


def send_push_many(items: list) -> list[SendResult]:
    """send_push for a batch of the sender: the users' active devices and unread counts read
    in one query each, then each delivery pushed to its user's devices."""
    user_ids = sorted({outgoing.user_id for outgoing, _ in items})
    devices: dict[int, list[Device]] = {user_id: [] for user_id in user_ids}
    for device in db.session.scalars(
        select(Device)
        .where(Device.user_id.in_(user_ids), Device.retired_at.is_(None))
        .order_by(Device.id)
    ):
        devices[device.user_id].append(device)
    badges = unread_counts(user_ids)
    results = []
    for outgoing, content in items:
        message = message_for(
            notification_id=outgoing.notification_id,
            kind=outgoing.kind,
            title=(content or {}).get("subject") or outgoing.title,
            body=(content or {}).get("body") or outgoing.body,
            data=outgoing.data,
            dedupe_key=outgoing.dedupe_key,
            badge=badges[outgoing.user_id],
        )
        try:
            result = send_to_devices(devices[outgoing.user_id], message)
        except Exception as error:  # one delivery's trouble must not fail the batch's others
            log.exception("push failed for delivery %s", outgoing.delivery_id)
            results.append(SendResult("temporary", error=f"{type(error).__name__}: {error}"))
            continue
        retired = {o.device_id for o in result.outcomes if o.retired}
        if retired:  # a later delivery of the batch to this user skips them
            devices[outgoing.user_id] = [
                d for d in devices[outgoing.user_id] if d.id not in retired
            ]
        results.append(
            SendResult(result.status, error=None if result.status == "sent" else result.detail)
        )
    return results


def reachable_users():
    """The users with an active device: the only ones a push delivery is queued for."""
    return select(Device.user_id).where(Device.retired_at.is_(None))


def install() -> None:
    """Plug push into the pipeline (notifications.wiring, at start)."""
    register_channel(Channel(PUSH, send_push, reachable=reachable_users, send_many=send_push_many))
