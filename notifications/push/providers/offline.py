"""The embedded default: pushes are kept in the push outbox instead of leaving the machine."""

from __future__ import annotations

from crowd.extensions import db
from notifications.push.message import PushMessage
from notifications.push.models import Device, PushOutboxEntry
from notifications.push.providers.base import Delivery, PushProvider


class OfflineProvider(PushProvider):
    """Records what would be sent (GET /api/v1/push-outbox, `flask crowd push-outbox`)."""

    name = "offline"

    def send(self, device: Device, message: PushMessage) -> Delivery:
        entry = PushOutboxEntry(
            user_id=device.user_id,
            device_id=device.id,
            platform=device.platform,
            token_tail=device.token[-8:],
            kind=message.kind,
            title=message.title,
            body=message.body,
            data=dict(message.data),
            badge=message.badge,
            collapse_key=message.collapse_key,
        )
        db.session.add(entry)
        db.session.flush()
        return Delivery("sent", f"outbox:{entry.id}")
