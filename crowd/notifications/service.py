"""Queue notifications for users' inboxes; crowd.notifications.tasks writes them."""

from __future__ import annotations

from sqlalchemy import select

from crowd.core.background import enqueue
from crowd.extensions import db
from crowd.notifications.models import Notification


def notify(user_id: int, kind: str, title: str, body: str = "", *, dedupe_key: str, **data) -> None:
    """Queue a notification with the current unit of work; it is written after the commit.

    `dedupe_key` names the event (e.g. "offer.new:42"): the same event never notifies twice,
    and notifying it again (a re-run sweep) is harmless.
    """
    delivered = select(Notification.id).where(Notification.dedupe_key == dedupe_key)
    if db.session.scalar(delivered) is not None:
        return
    # The key travels to the task as `key`, not as enqueue's `dedupe_key`: that one is the
    # outbox's unique key, and a repeated event must never fail the caller's unit of work on
    # it. The inbox row's unique key is what makes the event land once.
    enqueue(
        "notifications.deliver",
        user_id=user_id,
        kind=kind,
        title=title,
        body=body,
        data=data,
        key=dedupe_key,
    )
