"""What community managers do to tickets without moving money: assign (one or in bulk), move
them through the state machine, and change their subject, category or priority.

Every change locks the ticket rows first (in id order when there are several), so concurrent
managers serialise: an assignment that changes nothing records nothing, and each actual change
is one audit event.
"""

from __future__ import annotations

from sqlalchemy import select

from accounts.models import User
from crowd.core.auth import STAFF, Principal
from crowd.core.errors import Forbidden, NotFound, field_error
from crowd.core.i18n import _, _l
from crowd.extensions import db
from notifications.service import notify
from support import sla
from support.errors import DisputeNeedsResolution, NoPartyToWaitOn, TicketClosed
from support.lifecycle import record, transition
from support.models import SYSTEM_CATEGORIES, Ticket, TicketEvent
from support.tickets.access import dispute_live, lock_ticket, notify_status, watchers
from support.tickets.views import present_page, present_ticket

# The status actions of POST /tickets/{id}/actions/{action}; money moves in support.resolutions.
ACTIONS = (
    "wait_on_customer",
    "wait_on_member",
    "mediate",
    "resolve",
    "reopen",
    "close",
    "escalate",
    "take_over",
)
MAX_BULK = 100


def _require_staff(actor: Principal) -> None:
    if not actor.is_staff:
        raise Forbidden(_("Only community managers and admins may do this."))


def _staff_ticket(ticket_id: int) -> Ticket:
    ticket = lock_ticket(ticket_id)
    if ticket is None:
        raise NotFound(_("No such ticket."))
    return ticket


def _assignee(user_id: int) -> int:
    role = db.session.scalar(
        select(User.role).where(User.id == user_id, User.disabled_at.is_(None))
    )
    if role not in STAFF:
        raise field_error("assignee_id", _("must be an active community manager or admin"))
    return user_id


def assignable_staff() -> list[dict]:
    """Who a ticket may be assigned to (the rule of `assign`): active CMs and admins, by name."""
    rows = db.session.execute(
        select(User.id, User.display_name, User.role)
        .where(User.role.in_(STAFF), User.disabled_at.is_(None))
        .order_by(User.display_name, User.id)
    )
    return [{"id": uid, "display_name": name, "role": role} for uid, name, role in rows]


# --- assigning --------------------------------------------------------------------------------


def assign(*, actor: Principal, ticket_id: int, assignee_id: int) -> dict:
    """Give a ticket to a community manager: a new ticket opens, any other is reassigned."""
    _require_staff(actor)
    assignee_id = _assignee(assignee_id)
    ticket = _staff_ticket(ticket_id)
    _assign(ticket, assignee_id, actor)
    db.session.flush()
    return present_ticket(ticket, "staff")


def bulk_assign(*, actor: Principal, ticket_ids: list[int], assignee_id: int) -> dict:
    """Assign many tickets at once, all or nothing: one that cannot be assigned → 409 naming it."""
    _require_staff(actor)
    assignee_id = _assignee(assignee_id)
    wanted = sorted(set(ticket_ids))
    # One statement locks them all, in id order: concurrent bulk assignments cannot deadlock.
    tickets = db.session.scalars(
        select(Ticket)
        .where(Ticket.id.in_(wanted))
        .order_by(Ticket.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).all()
    missing = sorted(set(wanted) - {ticket.id for ticket in tickets})
    if missing:
        raise field_error(
            "ticket_ids", _("no such ticket(s): {value}", value=", ".join(map(str, missing)))
        )
    for ticket in tickets:
        _check_assignable(ticket)
    for ticket in tickets:
        _assign(ticket, assignee_id, actor)
    db.session.flush()
    return {"items": present_page([(ticket, sla.next_due(ticket)) for ticket in tickets], "staff")}


def _check_assignable(ticket: Ticket) -> None:
    if ticket.status == "closed":
        raise TicketClosed(
            _("Ticket {ticket_id} is closed and cannot be assigned.", ticket_id=ticket.id),
            state=ticket.status,
            ticket_id=ticket.id,
        )


def _assign(ticket: Ticket, assignee_id: int, actor: Principal) -> None:
    """new → open with its assignee, or a reassignment; the same assignee again changes nothing."""
    _check_assignable(ticket)
    previous = ticket.assignee_id
    if ticket.status != "new" and previous == assignee_id:
        return
    ticket.assignee_id = assignee_id
    if ticket.status == "new":
        event = transition(
            ticket, "assign", actor="staff", actor_id=actor.user_id, assignee_id=assignee_id
        )
        notify_status(ticket, event)
    else:
        event = record(
            ticket,
            "reassign",
            actor="staff",
            actor_id=actor.user_id,
            assignee_id=assignee_id,
            previous_assignee_id=previous,
        )
    if assignee_id != actor.user_id:
        db.session.flush()
        notify(
            assignee_id,
            "support.ticket_assigned",
            _l("Support ticket assigned to you"),
            _l(
                "Ticket #{ticket_id} “{ticket_subject}” ({ticket_priority}).",
                ticket_id=ticket.id,
                ticket_subject=ticket.subject,
                ticket_priority=ticket.priority,
            ),
            dedupe_key=f"support.assigned:{event.id}",
            ticket_id=ticket.id,
        )


# --- status actions ---------------------------------------------------------------------------


def act(
    *,
    actor: Principal,
    ticket_id: int,
    action: str,
    note: str | None = None,
    reason: str | None = None,
) -> dict:
    """Move a ticket by a staff status action; one its state does not allow is a 409."""
    _require_staff(actor)
    if action not in ACTIONS:
        raise NotFound(_("No such action; use one of: {value}.", value=", ".join(ACTIONS)))
    if action == "escalate" and not reason:
        raise field_error("reason", _("say why the ticket is escalated"))
    if action == "resolve" and not note:
        raise field_error("note", _("say how the ticket was resolved"))
    ticket = _staff_ticket(ticket_id)
    _check_action(ticket, action)
    data = {key: value for key, value in (("note", note), ("reason", reason)) if value}
    if action == "take_over" and ticket.status == "escalated":
        # Whoever takes an escalation over owns it; a ticket escalated while still new
        # therefore comes back open.
        data["previous_assignee_id"] = ticket.assignee_id
        ticket.assignee_id = actor.user_id
        if ticket.status_before_escalation == "new":
            ticket.status_before_escalation = "open"
    event = transition(ticket, action, actor="staff", actor_id=actor.user_id, **data)
    if action == "escalate":
        ticket.escalation_reason = reason
        _announce_escalation(ticket, event, reason)
    notify_status(ticket, event)
    db.session.flush()
    return present_ticket(ticket, "staff")


def _check_action(ticket: Ticket, action: str) -> None:
    for party in ("customer", "member"):
        if action == f"wait_on_{party}" and getattr(ticket, f"{party}_id") is None:
            raise NoPartyToWaitOn(
                _("This ticket has no {party} to wait on.", party=party), state=ticket.status
            )
    if action == "resolve" and dispute_live(ticket):
        raise DisputeNeedsResolution(
            _(
                "A dispute holds the job's money: settle it with a resolution"
                " (propose or impose one), not a plain resolve."
            ),
            state=ticket.status,
        )


def _announce_escalation(ticket: Ticket, event: TicketEvent, reason: str) -> None:
    db.session.flush()
    for user_id in sorted(watchers(ticket) - {event.actor_id}):
        notify(
            user_id,
            "support.ticket_escalated",
            _l("Support ticket escalated"),
            _l(
                "Ticket #{ticket_id} “{ticket_subject}”: {reason}",
                ticket_id=ticket.id,
                ticket_subject=ticket.subject,
                reason=reason,
            ),
            dedupe_key=f"support.escalated:{event.id}:{user_id}",
            ticket_id=ticket.id,
        )


# --- editing ----------------------------------------------------------------------------------


def update_ticket(*, actor: Principal, ticket_id: int, **changes) -> dict:
    """Change subject, category or priority; a new priority re-aims the SLA deadlines."""
    _require_staff(actor)
    ticket = _staff_ticket(ticket_id)
    if ticket.status == "closed":
        raise TicketClosed(_("A closed ticket is final; open a follow-up."), state=ticket.status)
    if ticket.category in SYSTEM_CATEGORIES and changes.get("category", ticket.category) != (
        ticket.category
    ):
        raise field_error(
            "category", _("a {category} ticket keeps its category", category=ticket.category)
        )
    changed = {
        name: [getattr(ticket, name), value]
        for name, value in changes.items()
        if getattr(ticket, name) != value
    }
    for name, (_unused, value) in changed.items():
        setattr(ticket, name, value)
    if "priority" in changed:
        sla.retarget(ticket)
    if changed:
        record(ticket, "update", actor="staff", actor_id=actor.user_id, changes=changed)
    db.session.flush()
    return present_ticket(ticket, "staff")
