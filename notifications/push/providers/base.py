"""The interface every push provider implements, and what it answers for one device."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Literal

from notifications.push.message import PushMessage
from notifications.push.models import Device

# When a provider asks to wait without saying how long.
DEFAULT_RETRY_AFTER = 60


@dataclass(frozen=True)
class Delivery:
    """A provider's answer for one device: sent, temporary (retry later) or permanent; a
    permanent answer about the token itself names why the device is to be retired."""

    status: Literal["sent", "temporary", "permanent"]
    detail: str = ""
    retire_reason: str | None = None
    retry_after: int | None = None


class PushProvider(abc.ABC):
    """Sends one message to one device; never raises for what the provider answers."""

    name: str

    @abc.abstractmethod
    def send(self, device: Device, message: PushMessage) -> Delivery:
        """Deliver `message` to `device`."""


def retry_after_seconds(header: str | None) -> int:
    """A Retry-After header in seconds (the HTTP-date form is not used by FCM or APNs)."""
    try:
        return max(1, int(header or ""))
    except ValueError:
        return DEFAULT_RETRY_AFTER
