"""What admins read of delivery: deliveries (filtered), suppressed addresses (and lifting
one), and the emails the offline provider kept."""

from __future__ import annotations

from sqlalchemy import select

from crowd.core.errors import NotFound
from crowd.core.i18n import _
from crowd.core.pagination import paginate
from crowd.extensions import db
from notifications.models import Delivery, OutboundEmail, Suppression


def list_deliveries(*, limit=None, cursor=None, **filters) -> dict:
    """Deliveries newest first, filtered by status, channel, user_id and kind."""
    query = select(Delivery)
    for name, value in filters.items():
        if value is not None:
            query = query.where(getattr(Delivery, name) == value)
    return paginate(query, {"limit": limit, "cursor": cursor}, order=[Delivery.id], descending=True)


def list_suppressions(*, limit=None, cursor=None) -> dict:
    query = select(Suppression)
    args = {"limit": limit, "cursor": cursor}
    return paginate(query, args, order=[Suppression.id], descending=True)


def lift_suppression(*, suppression_id: int) -> None:
    """Send to the address again (later deliveries only; suppressed ones stay so)."""
    row = db.session.get(Suppression, suppression_id)
    if row is None:
        raise NotFound(_("No such suppression."))
    db.session.delete(row)
    db.session.flush()


def list_outbox(*, limit=None, cursor=None) -> dict:
    query = select(OutboundEmail)
    args = {"limit": limit, "cursor": cursor}
    return paginate(query, args, order=[OutboundEmail.id], descending=True)


def outbox_email(*, email_id: int) -> OutboundEmail:
    email = db.session.get(OutboundEmail, email_id)
    if email is None:
        raise NotFound(_("No such email."))
    return email
