"""Reading the offline provider's push outbox (admins, `flask crowd push-outbox`)."""

from __future__ import annotations

from sqlalchemy import select

from crowd.core.pagination import paginate
from crowd.extensions import db
from notifications.push.models import PushOutboxEntry


def _query(user_id: int | None):
    query = select(PushOutboxEntry)
    if user_id is not None:
        query = query.where(PushOutboxEntry.user_id == user_id)
    return query


def list_outbox(*, user_id: int | None = None, limit=None, cursor=None) -> dict:
    """One page of the pushes the offline provider kept, newest first."""
    return paginate(
        _query(user_id),
        {"limit": limit, "cursor": cursor},
        order=[PushOutboxEntry.id],
        descending=True,
    )


def latest(*, user_id: int | None = None, limit: int = 20) -> list[PushOutboxEntry]:
    """The newest `limit` entries, newest first."""
    query = _query(user_id).order_by(PushOutboxEntry.id.desc()).limit(limit)
    return db.session.scalars(query).all()
