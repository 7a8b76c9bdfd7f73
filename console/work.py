"""What "My work" shows a community manager, gathered from the services the API uses: their
tickets by SLA deadline (those about to breach flagged), unassigned tickets of their queues,
jobs escalated to staff, open chargebacks."""

from __future__ import annotations

from flask import has_request_context, request

from accounts.staff_alerts import responsible_for
from crowd.core.auth import Principal
from crowd.core.db import utcnow
from jobs.queries import list_jobs_for_staff
from payouts.job_money.chargebacks import list_open as open_chargebacks
from support import sla
from support.models import STATUSES
from support.tickets.queue import list_tickets

# Tickets that still need someone: everything but resolved and closed.
OPEN_TICKET_STATUSES = [status for status in STATUSES if status not in sla.STOPPED]
LIMIT = 50


def _flag_due(tickets: list[dict]) -> list[dict]:
    now = utcnow()
    soon = sla.warning_cutoff(now)
    for ticket in tickets:
        due = ticket.get("sla_due_at")
        ticket["overdue"] = due is not None and due <= now
        ticket["due_soon"] = due is not None and now < due <= soon
    return tickets


def my_work(actor: Principal) -> dict:
    """What My work shows; gathered once per request (the My work page and the nav's badges
    under it read the same lists)."""
    if not has_request_context():
        return _gather(actor)
    # Kept in the request's environ: an app context (and its g) may outlive one request.
    cache = request.environ.setdefault("crowd.console.my_work", {})
    if actor.user_id not in cache:
        cache[actor.user_id] = _gather(actor)
    return cache[actor.user_id]


def _gather(actor: Principal) -> dict:
    mine = list_tickets(actor=actor, assignee_id="me", status=OPEN_TICKET_STATUSES, limit=LIMIT)
    unassigned = (
        list_tickets(actor=actor, assignee_id="none", status=OPEN_TICKET_STATUSES, limit=LIMIT)
        if responsible_for(actor.user_id, "tickets")
        else None
    )
    escalated = list_jobs_for_staff(actor=actor, escalated=True, limit=LIMIT)
    return {
        "my_tickets": _flag_due(mine["items"]),
        "my_tickets_total": mine["page"]["total"],
        "unassigned": _flag_due(unassigned["items"]) if unassigned is not None else None,
        "unassigned_total": unassigned["page"]["total"] if unassigned is not None else 0,
        "escalated_jobs": escalated["items"],
        "escalated_total": escalated["page"].get("total") or len(escalated["items"]),
        "chargebacks": open_chargebacks(actor=actor, limit=LIMIT),
    }


def counts(actor: Principal) -> dict:
    """The nav's badges: my open tickets, those about to breach, escalated jobs."""
    work = my_work(actor)
    return {
        "my_tickets": work["my_tickets_total"],
        "due_soon": sum(1 for t in work["my_tickets"] if t["due_soon"] or t["overdue"]),
        "unassigned": work["unassigned_total"],
        "escalated": work["escalated_total"],
        "chargebacks": len(work["chargebacks"]),
    }
