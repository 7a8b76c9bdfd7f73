"""Reading a user's own inbox and marking entries read; nobody reaches another user's entries."""

from __future__ import annotations

from sqlalchemy import func, select, update

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import NotFound
from crowd.core.i18n import _
from crowd.core.pagination import paginate
from crowd.extensions import db
from notifications.models import Notification


def _unread(user_id: int):
    return select(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )


def unread_count(user_id: int) -> int:
    """How many of the user's notifications are unread."""
    query = select(func.count()).select_from(_unread(user_id).subquery())
    return db.session.scalar(query)


def unread_counts(user_ids: list[int]) -> dict[int, int]:
    """unread_count for several users in one query (users with none read 0)."""
    rows = db.session.execute(
        select(Notification.user_id, func.count())
        .where(Notification.user_id.in_(user_ids), Notification.read_at.is_(None))
        .group_by(Notification.user_id)
    )
    counts = {user_id: 0 for user_id in user_ids}
    counts.update({user_id: count for user_id, count in rows})
    return counts


def list_notifications(
    *,
    actor: Principal,
    unread: bool = False,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict:
    """The caller's notifications, newest first (only unread ones with `unread`)."""
    if unread:
        query = _unread(actor.user_id)
    else:
        query = select(Notification).where(Notification.user_id == actor.user_id)
    page = paginate(
        query, {"limit": limit, "cursor": cursor}, order=[Notification.id], descending=True
    )
    page["unread_count"] = unread_count(actor.user_id)
    return page


def mark_read(*, actor: Principal, notification_id: int) -> Notification:
    """Mark one of the caller's notifications read; reading it again keeps the first time."""
    notification = db.session.scalar(
        select(Notification)
        .where(Notification.id == notification_id, Notification.user_id == actor.user_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if notification is None:
        raise NotFound(_("No such notification."))
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.flush()
    return notification


def mark_all_read(*, actor: Principal) -> int:
    """Mark every unread notification of the caller read; returns how many changed."""
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == actor.user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
