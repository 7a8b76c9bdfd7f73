"""The ticket state machine as data, and the one function that moves a ticket along it.

(state, action, actor) → next state. Actors: "customer" and "member" (the ticket's parties),
"staff" (community managers and admins), "system" (timers). `transition` checks the table,
records a TicketEvent (the audit trail), keeps the SLA clocks (time spent waiting on a party
pauses them, so the due times move later by exactly that long) and emits `ticket.<new state>`
(crowd.core.events); `opened` records and emits a new ticket's `ticket.opened`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from crowd.core.db import utcnow
from crowd.core.events import Event, declare, emit
from crowd.extensions import db
from support.config import support_rules
from support.errors import ticket_refusal
from support.models import FIXED_DEADLINE_CATEGORIES, Ticket, TicketEvent

ACTIVE = ("new", "open", "waiting_on_customer", "waiting_on_member", "in_mediation")
WAITING = ("waiting_on_customer", "waiting_on_member")
PARTIES = ("customer", "member")

TRANSITIONS: dict[tuple[str, str, str], str] = {
    ("new", "assign", "staff"): "open",
    ("new", "assign", "system"): "open",
    **{(s, "wait_on_customer", "staff"): "waiting_on_customer" for s in ACTIVE if s != "new"},
    **{(s, "wait_on_member", "staff"): "waiting_on_member" for s in ACTIVE if s != "new"},
    # The party waited on answers: back to the CM.
    ("waiting_on_customer", "reply", "customer"): "open",
    ("waiting_on_member", "reply", "member"): "open",
    **{(s, "mediate", "staff"): "in_mediation" for s in ("open", *WAITING)},
    **{(s, "propose", "staff"): "resolution_proposed" for s in ACTIVE if s != "new"},
    ("resolution_proposed", "reject_proposal", "customer"): "in_mediation",
    ("resolution_proposed", "reject_proposal", "member"): "in_mediation",
    ("resolution_proposed", "withdraw_proposal", "staff"): "in_mediation",
    # Applied when both parties accept (actor = the second to accept), by the deadline's
    # default outcome (system) or imposed by a CM (staff).
    ("resolution_proposed", "apply", "customer"): "resolved",
    ("resolution_proposed", "apply", "member"): "resolved",
    ("resolution_proposed", "apply", "system"): "resolved",
    ("resolution_proposed", "apply", "staff"): "resolved",
    # Settled without money (a question answered, a behaviour complaint handled).
    **{(s, "resolve", "staff"): "resolved" for s in ACTIVE},
    # The customer's bank decided a chargeback (support.chargebacks).
    **{(s, "chargeback_closed", "system"): "resolved" for s in (*ACTIVE, "escalated")},
    # A party's reply reopens a resolved ticket; closed is final.
    ("resolved", "reply", "customer"): "open",
    ("resolved", "reply", "member"): "open",
    ("resolved", "reopen", "staff"): "open",
    ("resolved", "close", "system"): "closed",
    ("resolved", "close", "staff"): "closed",
    # Escalation (an SLA breach, or a CM asking for help) and taking it over.
    **{
        (s, "escalate", who): "escalated"
        for s in (*ACTIVE, "resolution_proposed")
        for who in ("staff", "system")
    },
}
# Taking over an escalated ticket returns it to where it was (status_before_escalation).
TAKE_OVER = ("escalated", "take_over", "staff")

declare("ticket.opened", *{f"ticket.{state}" for state in TRANSITIONS.values()})


def allowed_actions(status: str, actor: str) -> list[str]:
    """What `actor` may do to a ticket in `status` (for clients to offer the right buttons)."""
    actions = {action for (state, action, who) in TRANSITIONS if state == status and who == actor}
    if (status, actor) == (TAKE_OVER[0], TAKE_OVER[2]):
        actions.add(TAKE_OVER[1])
    return sorted(actions)


def record(ticket: Ticket, action: str, *, actor: str, actor_id: int | None, **data) -> TicketEvent:
    """Add an audit event that does not change the status (a message, an assignment …)."""
    event = TicketEvent(
        ticket_id=ticket.id,
        actor_id=actor_id,
        actor_role=actor,
        action=action,
        from_status=ticket.status,
        to_status=ticket.status,
        data=data,
    )
    db.session.add(event)
    return event


def opened(ticket: Ticket, *, actor: str, actor_id: int | None, **data) -> TicketEvent:
    """Record a new ticket (in the session, with its id) and emit `ticket.opened`; its
    subscribers see the ticket as it is (mentoring: priority support of top performers)."""
    event = TicketEvent(
        ticket_id=ticket.id,
        actor_id=actor_id,
        actor_role=actor,
        action="open",
        from_status=None,
        to_status=ticket.status,
        data=data,
    )
    db.session.add(event)
    _emit(ticket, "ticket.opened", action="open", by=actor, actor_id=actor_id, before=None)
    return event


def transition(
    ticket: Ticket,
    action: str,
    *,
    actor: str,
    actor_id: int | None = None,
    now: datetime | None = None,
    **data,
) -> TicketEvent:
    """Move `ticket` by `action`; 409 with its state when the table does not allow it.

    The caller holds the ticket's row lock. A move to another state emits `ticket.<state>`.
    """
    now = now or utcnow()
    if (ticket.status, action, actor) == TAKE_OVER:
        target = ticket.status_before_escalation or "open"
    else:
        target = TRANSITIONS.get((ticket.status, action, actor))
    if target is None:
        raise ticket_refusal(ticket.status)(
            f"Cannot {action.replace('_', ' ')} a ticket that is "
            f"{ticket.status.replace('_', ' ')}.",
            state=ticket.status,
        )
    before = ticket.status
    _keep_clocks(ticket, before, target, now)
    if target == "escalated":
        ticket.status_before_escalation = before
        ticket.escalated_at = now
    ticket.status = target
    event = TicketEvent(
        ticket_id=ticket.id,
        actor_id=actor_id,
        actor_role=actor,
        action=action,
        from_status=before,
        to_status=target,
        data=data,
    )
    db.session.add(event)
    if target != before:
        _emit(ticket, f"ticket.{target}", action=action, by=actor, actor_id=actor_id, before=before)
    return event


def _emit(
    ticket: Ticket, name: str, *, action: str, by: str, actor_id: int | None, before: str | None
) -> None:
    emit(
        Event(
            name=name,
            subject_type="ticket",
            subject_id=ticket.id,
            actor=actor_id if actor_id is not None else "system",
            payload={
                "action": action,
                "by": by,
                "from_status": before,
                "to_status": ticket.status,
                "dispute": bool(ticket.dispute),
                "job_id": ticket.job_id,
                "customer_id": ticket.customer_id,
                "member_id": ticket.member_id,
                "priority": ticket.priority,
            },
        )
    )


def _keep_clocks(ticket: Ticket, before: str, after: str, now: datetime) -> None:
    """Pause the SLA clocks while waiting on a party; resume them, shifted, afterwards."""
    if after in WAITING and ticket.sla_paused_at is None:
        ticket.sla_paused_at = now
    elif after not in WAITING and ticket.sla_paused_at is not None:
        paused = now - ticket.sla_paused_at
        ticket.sla_paused_seconds += int(paused.total_seconds())
        if ticket.first_response_at is None:
            ticket.first_response_due_at += paused
        if ticket.category not in FIXED_DEADLINE_CATEGORIES:
            ticket.resolution_due_at += paused
        ticket.sla_paused_at = None
    if after == "resolved":
        ticket.resolved_at = now
        ticket.auto_close_at = now + timedelta(days=support_rules().auto_close_days)
    elif before == "resolved" and after != "closed":
        # Reopened: the auto-close is off until it is resolved again.
        ticket.resolved_at = None
        ticket.auto_close_at = None
    if after == "closed":
        ticket.closed_at = now
        ticket.auto_close_at = None
