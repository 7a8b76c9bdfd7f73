"""send_to_user: one message to every active device of a user, each through its platform's
provider; dead tokens are retired in the caller's unit of work (the caller commits)."""

from __future__ import annotations

import logging

from notifications.config import push_settings
from notifications.models import Notification
from notifications.push.devices import active_devices, retire
from notifications.push.message import (
    DeviceOutcome,
    PushMessage,
    PushResult,
    message_for_notification,
)
from notifications.push.providers import provider_for

log = logging.getLogger(__name__)


def send_to_user(user_id: int, message: PushMessage) -> PushResult:
    """Push `message` to each active device of the user and say what became of it.

    Sent when at least one device took it (retrying would show it twice there); otherwise
    temporary when any device may take it later (retry after `retry_after` seconds), else
    permanent. A device whose token the provider declares dead is retired and not used again.
    """
    return send_to_devices(active_devices(user_id), message)


def send_to_devices(devices: list, message: PushMessage) -> PushResult:
    """send_to_user with the user's active devices read already (a batch of the sender)."""
    if not devices:
        return PushResult("no_device", "the user has no active device")
    settings = push_settings()
    providers = {}
    outcomes = []
    for device in devices:
        if device.platform not in providers:
            providers[device.platform] = provider_for(device.platform, settings)
        delivery = providers[device.platform].send(device, message)
        if delivery.retire_reason:
            retire([device.id], delivery.retire_reason)
            log.info("push: device %s retired (%s)", device.id, delivery.detail)
        outcomes.append(
            DeviceOutcome(
                device_id=device.id,
                platform=device.platform,
                status=delivery.status,
                detail=delivery.detail,
                retired=delivery.retire_reason is not None,
                retry_after=delivery.retry_after,
            )
        )
    return _result(outcomes)


def _result(outcomes: list[DeviceOutcome]) -> PushResult:
    sent = sum(o.status == "sent" for o in outcomes)
    retired = sum(o.retired for o in outcomes)
    temporary = [o for o in outcomes if o.status == "temporary"]
    counts = f"{sent} of {len(outcomes)} devices took it, {retired} retired"
    if sent:
        return PushResult("sent", counts, tuple(outcomes), sent, retired)
    if temporary:
        retry_after = max(o.retry_after or 0 for o in temporary) or None
        detail = f"{counts}; temporary: {temporary[0].detail}"
        return PushResult("temporary", detail, tuple(outcomes), 0, retired, retry_after)
    detail = f"{counts}; {outcomes[0].detail}"
    return PushResult("permanent", detail, tuple(outcomes), 0, retired)


def push_notification(notification: Notification) -> PushResult:
    """Push an inbox notification to its user's devices (message_for_notification)."""
    return send_to_user(notification.user_id, message_for_notification(notification))
