"""How a ticket is presented to each side: parties get no SLA internals or escalation reason,
and see only their own rating; everyone gets the actions they may take next."""

from __future__ import annotations

from sqlalchemy import select

from accounts.models import User
from crowd.extensions import db
from support import lifecycle
from support.models import Ticket, TicketRating
from support.sla import next_due
from support.tickets.access import PARTIES, dispute_live

# State-machine actions → what the API calls them (None: no action of its own).
PARTY_NAMES = {"reply": None, "apply": "answer_proposal", "reject_proposal": "answer_proposal"}
STAFF_NAMES = {"apply": "impose_proposal"}


def _names(user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = db.session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids)))
    return dict(rows.all())


def allowed_actions(ticket: Ticket, side: str, rated: bool = False) -> list[str]:
    """What the caller may do next, named as the API names it: the state machine's actions
    (a party's reply is simply a message; proposals are answered or imposed through
    /resolutions) plus message, rate, assign and update."""
    renamed = PARTY_NAMES if side in PARTIES else STAFF_NAMES
    actions = {renamed.get(a, a) for a in lifecycle.allowed_actions(ticket.status, side)}
    actions.discard(None)
    for party in PARTIES:
        if getattr(ticket, f"{party}_id") is None:
            actions.discard(f"wait_on_{party}")
    if "resolve" in actions and dispute_live(ticket):
        # Money is frozen: only a resolution (support.resolutions) settles a live dispute.
        actions.discard("resolve")
    if ticket.status != "closed":
        actions.add("message")
        if side == "staff":
            actions.update({"assign", "update"})
    elif side in PARTIES and not rated:
        actions.add("rate")
    return sorted(actions)


def summarise(ticket: Ticket, side: str, names: dict[int, str], sla_due_at=None) -> dict:
    """A ticket as `side` sees it in lists (staff get the SLA clocks)."""
    view = {
        "id": ticket.id,
        "subject": ticket.subject,
        "category": ticket.category,
        "priority": ticket.priority,
        "status": ticket.status,
        "dispute": ticket.dispute,
        "job_id": ticket.job_id,
        "customer_id": ticket.customer_id,
        "member_id": ticket.member_id,
        "follow_up_of_id": ticket.follow_up_of_id,
        "opened_by_role": ticket.opened_by_role,
        "assignee": None
        if ticket.assignee_id is None
        else {"id": ticket.assignee_id, "display_name": names.get(ticket.assignee_id)},
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "first_response_at": ticket.first_response_at,
        "resolved_at": ticket.resolved_at,
        "auto_close_at": ticket.auto_close_at,
        "closed_at": ticket.closed_at,
    }
    if side == "staff":
        view.update(
            opened_by_id=ticket.opened_by_id,
            sla_due_at=sla_due_at,
            first_response_due_at=ticket.first_response_due_at,
            resolution_due_at=ticket.resolution_due_at,
            sla_paused_at=ticket.sla_paused_at,
            sla_paused_seconds=ticket.sla_paused_seconds,
            first_response_breached_at=ticket.first_response_breached_at,
            resolution_breached_at=ticket.resolution_breached_at,
            escalated_at=ticket.escalated_at,
            escalation_reason=ticket.escalation_reason,
            status_before_escalation=ticket.status_before_escalation,
        )
    return view


def present_page(rows: list[tuple[Ticket, object]], side: str) -> list[dict]:
    """Summaries of (ticket, sla due) rows, the assignees' names loaded in one query."""
    names = _names({t.assignee_id for t, _ in rows if t.assignee_id is not None})
    return [summarise(ticket, side, names, due) for ticket, due in rows]


def present_ticket(ticket: Ticket, side: str) -> dict:
    """A ticket in full for `side`: with its ratings (a party sees only its own) and the
    actions the caller may take."""
    names = _names({ticket.assignee_id} - {None})
    view = summarise(ticket, side, names, next_due(ticket))
    ratings = db.session.scalars(
        select(TicketRating).where(TicketRating.ticket_id == ticket.id).order_by("party")
    ).all()
    if side != "staff":
        ratings = [rating for rating in ratings if rating.party == side]
    view["ratings"] = ratings
    view["allowed_actions"] = allowed_actions(ticket, side, rated=bool(ratings))
    return view
