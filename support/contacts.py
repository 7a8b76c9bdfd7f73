"""Contact history: community managers' notes about a member or a customer, and the calls,
conversations and emails they had with them — newest first, for staff only (the API's
/members/{id}/contacts and /customers/{id}/contacts, and the console's people pages)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import Forbidden, NotFound, field_error
from crowd.core.i18n import _
from crowd.core.pagination import paginate
from crowd.extensions import db
from customers.models import Customer
from members.models import Member
from support.models import StaffContact

# A contact is logged after it happened; a clock a little ahead is no reason to refuse it.
CLOCK_SKEW = timedelta(minutes=5)
SUBJECTS = {
    "member": (Member, StaffContact.member_id),
    "customer": (Customer, StaffContact.customer_id),
}


def _require_staff(actor: Principal) -> None:
    if not actor.is_staff:
        raise Forbidden(_("Only community managers and admins keep the contact history."))


def _subject(kind: str, subject_id: int) -> None:
    model, _column = SUBJECTS[kind]
    if db.session.get(model, subject_id) is None:
        raise NotFound(_("No such crowd member.") if kind == "member" else _("No such customer."))


def list_contacts(
    *,
    actor: Principal,
    subject: str,
    subject_id: int,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict:
    """A member's or customer's contact history (`subject` "member" or "customer"), newest
    first."""
    _require_staff(actor)
    _subject(subject, subject_id)
    column = SUBJECTS[subject][1]
    return paginate(
        select(StaffContact).where(column == subject_id),
        {"limit": limit, "cursor": cursor},
        order=[StaffContact.happened_at, StaffContact.id],
        descending=True,
    )


def log_contact(
    *,
    actor: Principal,
    subject: str,
    subject_id: int,
    kind: str,
    channel: str,
    summary: str,
    happened_at: datetime | None = None,
) -> StaffContact:
    """Add a note or a contact to a member's or customer's history (staff); `happened_at`
    defaults to now and may not lie in the future."""
    _require_staff(actor)
    _subject(subject, subject_id)
    now = utcnow()
    if happened_at is not None and happened_at > now + CLOCK_SKEW:
        raise field_error("happened_at", _("must not lie in the future"))
    contact = StaffContact(
        member_id=subject_id if subject == "member" else None,
        customer_id=subject_id if subject == "customer" else None,
        kind=kind,
        channel=channel,
        summary=summary,
        happened_at=happened_at or now,
        author_id=actor.user_id,
        created_at=now,
    )
    db.session.add(contact)
    db.session.flush()
    return contact
