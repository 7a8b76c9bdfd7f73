"""Reading tickets: one ticket, the queue (filtered, most urgent deadline first) and the audit
trail.

Staff see every ticket; a customer or member only those they are a party to. The queue is
ordered by each ticket's next SLA deadline (see support.sla.due_expression) and then id;
tickets without a running clock (waiting on a party, resolved, closed) come last. Pages are
keyset pages like crowd.core.pagination's, whose key here is that computed deadline.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime

from flask import current_app
from sqlalchemy import Select, func, literal, or_, select, tuple_, type_coerce
from sqlalchemy.orm import aliased

from accounts.models import User
from crowd.core.auth import Principal
from crowd.core.db import UTCDateTime
from crowd.core.errors import Unprocessable
from crowd.core.i18n import _
from crowd.core.pagination import page_total, paginate
from crowd.extensions import db
from customers.models import Customer
from jobs.models import Job
from members.models import Member
from support import sla
from support.models import Ticket, TicketEvent
from support.tickets.access import actor_kind, profile_id, ticket_for
from support.tickets.views import present_page, present_ticket


def get_ticket(*, actor: Principal, ticket_id: int) -> dict:
    """One ticket as the caller may see it, with the actions open to them."""
    ticket, side = ticket_for(actor, ticket_id)
    return present_ticket(ticket, side)


def list_events(
    *, actor: Principal, ticket_id: int, limit: int | None = None, cursor: str | None = None
) -> dict:
    """The ticket's full audit trail, oldest first (staff)."""
    ticket, _ = ticket_for(actor, ticket_id)
    query = select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
    return paginate(query, {"limit": limit, "cursor": cursor}, order=[TicketEvent.id])


def list_tickets(
    *, actor: Principal, limit: int | None = None, cursor: str | None = None, **filters
) -> dict:
    """One page of the tickets the caller may see, most urgent deadline first."""
    side = actor_kind(actor)
    due = sla.due_expression()
    query = _filtered(select(Ticket, due.label("sla_due")), actor, side, **filters)
    settings = current_app.config["CROWD_SETTINGS"]
    limit = min(limit or settings.page_size_default, settings.page_size_max)
    counted = query
    if cursor:
        after_due, after_id = _decode(cursor)
        after = tuple_(literal(after_due, UTCDateTime()), literal(after_id))
        query = query.where(tuple_(due, Ticket.id) > after)
    rows = db.session.execute(query.order_by(due, Ticket.id).limit(limit + 1)).all()
    total = page_total(counted, rows, limit, first_page=not cursor)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = _encode(rows[-1].sla_due, rows[-1].Ticket.id)
    items = [(ticket, None if due_at == sla.NO_DEADLINE else due_at) for ticket, due_at in rows]
    return {
        "items": present_page(items, side),
        "page": {"next_cursor": next_cursor, "limit": limit, "total": total},
    }


EXPORT_COLUMNS = (
    "id",
    "subject",
    "category",
    "priority",
    "status",
    "dispute",
    "job_id",
    "customer_id",
    "member_id",
    "assignee",
    "sla_due_at",
    "created_at",
    "updated_at",
)


def export_rows(*, actor: Principal, **filters) -> Select:
    """Every ticket of the queue with the same filters, in the queue's order, as plain columns
    (EXPORT_COLUMNS) for a download; read it in batches (the console streams it)."""
    side = actor_kind(actor)
    due = sla.due_expression()
    assignee = aliased(User)  # apart from the users the search's subqueries read
    shown_due = type_coerce(
        func.nullif(due, literal(sla.NO_DEADLINE, UTCDateTime())), UTCDateTime()
    )
    query = select(
        Ticket.id,
        Ticket.subject,
        Ticket.category,
        Ticket.priority,
        Ticket.status,
        Ticket.dispute,
        Ticket.job_id,
        Ticket.customer_id,
        Ticket.member_id,
        assignee.display_name,
        shown_due,
        Ticket.created_at,
        Ticket.updated_at,
    ).outerjoin(assignee, assignee.id == Ticket.assignee_id)
    return _filtered(query, actor, side, **filters).order_by(due, Ticket.id)


def _filtered(
    query: Select,
    actor: Principal,
    side: str,
    *,
    status: list[str] | None = None,
    priority: list[str] | None = None,
    category: list[str] | None = None,
    assignee_id: str | None = None,
    sla_due_before: datetime | None = None,
    breached: bool | None = None,
    job_id: int | None = None,
    member_id: int | None = None,
    customer_id: int | None = None,
    dispute: bool | None = None,
    region: str | None = None,
    search: str | None = None,
) -> Select:
    if side != "staff":
        own = profile_id(actor)
        column = Ticket.customer_id if side == "customer" else Ticket.member_id
        query = query.where(column == own)
    if status:
        query = query.where(Ticket.status.in_(status))
    if priority:
        query = query.where(Ticket.priority.in_(priority))
    if category:
        query = query.where(Ticket.category.in_(category))
    if assignee_id == "none":
        query = query.where(Ticket.assignee_id.is_(None))
    elif assignee_id is not None:
        wanted = actor.user_id if assignee_id == "me" else int(assignee_id)
        query = query.where(Ticket.assignee_id == wanted)
    if sla_due_before is not None:
        query = query.where(sla.due_before(sla_due_before))
    if breached is not None:
        query = query.where(sla.breached() if breached else ~sla.breached())
    for column, value in (
        (Ticket.job_id, job_id),
        (Ticket.member_id, member_id),
        (Ticket.customer_id, customer_id),
        (Ticket.dispute, dispute),
    ):
        if value is not None:
            query = query.where(column == value)
    if region:
        query = query.where(Ticket.job_id.in_(_jobs_in_region(region)))
    if search and search.strip():
        query = query.where(_matching(search.strip(), staff=side == "staff"))
    return query


def _jobs_in_region(region: str) -> Select:
    """Jobs in a region: a country ("DE") or a country and a postcode prefix ("DE-80")."""
    country, _sep, prefix = region.strip().upper().replace(" ", "-").partition("-")
    if len(country) != 2 or not country.isalpha():
        raise Unprocessable(
            _("region is not valid"),
            errors={"query": {"region": [_("a country code, optionally -postcode prefix")]}},
        )
    query = select(Job.id).where(Job.country == country)
    if prefix:
        query = query.where(Job.postcode.startswith(prefix, autoescape=True))
    return query


def _matching(text: str, *, staff: bool):
    """Tickets whose id is `text`, or whose subject (and, for staff, whose customer's or
    member's name or email) contains it, ignoring case."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    like = f"%{escaped}%"
    found = [func.lower(Ticket.subject).like(like, escape="\\")]
    if text.lstrip("#").isdigit():
        found.append(Ticket.id == int(text.lstrip("#")))
    if staff:
        customers = (
            select(Customer.id)
            .join(User, User.id == Customer.user_id)
            .where(
                or_(
                    func.lower(Customer.display_name).like(like, escape="\\"),
                    func.lower(func.coalesce(Customer.company_name, "")).like(like, escape="\\"),
                    func.lower(User.email).like(like, escape="\\"),
                )
            )
        )
        members = (
            select(Member.id)
            .join(User, User.id == Member.user_id)
            .where(
                or_(
                    func.lower(Member.display_name).like(like, escape="\\"),
                    func.lower(User.email).like(like, escape="\\"),
                )
            )
        )
        found += [Ticket.customer_id.in_(customers), Ticket.member_id.in_(members)]
    return or_(*found)


# --- cursors: [deadline, id], as opaque as crowd.core.pagination's -----------------------------


def _encode(due: datetime, ticket_id: int) -> str:
    raw = json.dumps([due.isoformat(), ticket_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode())
        due, ticket_id = json.loads(raw)
        when = datetime.fromisoformat(due)
        if when.tzinfo is None or not isinstance(ticket_id, int):
            raise ValueError(cursor)
    except (ValueError, TypeError):
        raise Unprocessable(
            _("cursor is not valid"), errors={"query": {"cursor": ["not valid"]}}
        ) from None
    return when, ticket_id
