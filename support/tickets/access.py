"""Who may see a ticket and as which side, and who hears about it.

A ticket has up to two parties, its customer and its member; staff (community managers and
admins) see every ticket. Anyone else — another customer, another member — gets 404, so ticket
ids reveal nothing.
"""

from __future__ import annotations

from sqlalchemy import select

from accounts.models import User
from crowd.core.auth import Principal
from crowd.core.errors import NotFound
from crowd.core.i18n import _, _l
from crowd.extensions import db
from customers.models import Customer
from jobs.models import Job
from members.models import Member
from notifications.service import notify
from support import lifecycle
from support.models import Ticket, TicketEvent

PARTIES = lifecycle.PARTIES
# Who reads a message of each visibility, besides staff (who read everything).
READERS = {
    "parties": frozenset(PARTIES),
    "customer": frozenset({"customer"}),
    "member": frozenset({"member"}),
    "internal": frozenset(),
}
# Visibilities each side may read.
READABLE = {side: tuple(v for v, who in READERS.items() if side in who) for side in PARTIES}
# Status changes the parties are not told about: escalation is the platform's own business.
INTERNAL_ACTIONS = frozenset({"escalate", "take_over"})


def actor_kind(actor: Principal) -> str:
    """The state-machine actor a principal acts as: staff, customer or member."""
    return "staff" if actor.is_staff else actor.role


def profile_id(actor: Principal) -> int | None:
    """The caller's customer or member profile id (None for staff)."""
    model = {"customer": Customer, "member": Member}.get(actor.role)
    if model is None:
        return None
    return db.session.scalar(select(model.id).where(model.user_id == actor.user_id))


def side_of(actor: Principal, ticket: Ticket) -> str | None:
    """'staff', 'customer' or 'member' when the caller may see `ticket`, else None."""
    if actor.is_staff:
        return "staff"
    own = profile_id(actor)
    if own is None:
        return None
    if actor.role == "customer" and ticket.customer_id == own:
        return "customer"
    if actor.role == "member" and ticket.member_id == own:
        return "member"
    return None


def lock_ticket(ticket_id: int, *, skip_locked: bool = False) -> Ticket | None:
    """The ticket with its row locked for this unit of work (fresh from the database)."""
    query = (
        select(Ticket)
        .where(Ticket.id == ticket_id)
        .with_for_update(skip_locked=skip_locked, key_share=True)
        .execution_options(populate_existing=True)
    )
    return db.session.scalar(query)


def ticket_for(actor: Principal, ticket_id: int, *, lock: bool = False) -> tuple[Ticket, str]:
    """The ticket and the caller's side of it; one the caller may not see is not found."""
    ticket = lock_ticket(ticket_id) if lock else db.session.get(Ticket, ticket_id)
    side = side_of(actor, ticket) if ticket is not None else None
    if side is None:
        raise NotFound(_("No such ticket."))
    return ticket, side


def dispute_live(ticket: Ticket) -> bool:
    """A dispute whose job is still `disputed`: its money is frozen until a resolution."""
    if not ticket.dispute or ticket.job_id is None:
        return False
    return db.session.scalar(select(Job.status).where(Job.id == ticket.job_id)) == "disputed"


# --- who hears about it -----------------------------------------------------------------------


def party_user_ids(ticket: Ticket) -> dict[str, int]:
    """{side: user id} of the ticket's parties."""
    users = {}
    if ticket.customer_id is not None:
        users["customer"] = db.session.scalar(
            select(Customer.user_id).where(Customer.id == ticket.customer_id)
        )
    if ticket.member_id is not None:
        users["member"] = db.session.scalar(
            select(Member.user_id).where(Member.id == ticket.member_id)
        )
    return users


def readers_of(ticket: Ticket, visibility: str) -> set[int]:
    """Users who read a message of `visibility`: those parties, and the assignee."""
    parties = party_user_ids(ticket)
    users = {parties[side] for side in READERS[visibility] if side in parties}
    if ticket.assignee_id is not None:
        users.add(ticket.assignee_id)
    return users


def watchers(ticket: Ticket) -> set[int]:
    """Who hears of breaches and escalations: the assignee and every active admin."""
    admins = db.session.scalars(
        select(User.id).where(User.role == "admin", User.disabled_at.is_(None))
    )
    users = set(admins)
    if ticket.assignee_id is not None:
        users.add(ticket.assignee_id)
    return users


def notify_status(ticket: Ticket, event: TicketEvent) -> None:
    """Tell the parties (not the one who acted) that their ticket moved."""
    if event.from_status == event.to_status or event.action in INTERNAL_ACTIONS:
        return
    db.session.flush()
    closed = event.to_status == "closed"
    for user_id in party_user_ids(ticket).values():
        if user_id == event.actor_id:
            continue
        if closed:
            # Closing happens once per ticket; the rating is asked for with it.
            notify(
                user_id,
                "support.ticket_closed",
                _l("Support ticket closed"),
                _l(
                    "“{ticket_subject}” is closed. How did we do? Rate it from 1 to 5.",
                    ticket_subject=ticket.subject,
                ),
                dedupe_key=f"support.closed:{ticket.id}:{user_id}",
                ticket_id=ticket.id,
                rate=True,
            )
            continue
        notify(
            user_id,
            "support.ticket_status",
            _l("Support ticket updated"),
            _l(
                "“{ticket_subject}” is now {value}.",
                ticket_subject=ticket.subject,
                value=event.to_status.replace("_", " "),
            ),
            dedupe_key=f"support.status:{event.id}:{user_id}",
            ticket_id=ticket.id,
            status=event.to_status,
        )
