"""What support does after a change (crowd.core.events): a disputed job's mediation, whatever
disputed it, and the notice of a sanction.

A job is disputed by its customer or member (a dispute ticket, or POST /jobs/{id}/dispute) or
by the customer's bank (a chargeback, payouts.job_money.webhooks). Every path has the same
consequences, here: the job's dispute ticket (the one the party opened, else the job's open
dispute ticket, else a new one, category `chargeback` for a bank's) notes the dispute, the
dispute counts on the member's stats (record_job_disputed, which levels read) and the other side
is told that support mediates. A chargeback is a mediated case besides (support.chargebacks):
its ticket is due at the evidence deadline, the CMs are told, and the bank's decision is told
to both parties and resolves the ticket.
"""

from __future__ import annotations

from sqlalchemy import select

from crowd.core.events import Event, subscribe
from crowd.core.i18n import _, _l
from crowd.extensions import db
from customers.models import Customer
from jobs.models import Job
from members.models import Member
from members.service import record_job_disputed
from notifications.service import notify
from payouts.models.job_payments import JobPayment
from support import chargebacks
from support.disputes import open_dispute_ticket_id
from support.errors import AlreadyDisputed
from support.lifecycle import record
from support.models import Ticket
from support.sanctions import MESSAGES
from support.tickets.opening import create_ticket

# Who disputes, as the other side reads it.
DISPUTER = {
    "customer": _l("The customer"),
    "member": _l("Your member"),
    "chargeback": _l("The customer's bank"),
}


def _user_of(model, row_id: int | None) -> int | None:
    if row_id is None:
        return None
    return db.session.scalar(select(model.user_id).where(model.id == row_id))


@subscribe("job.dispute_requested")
def one_open_dispute_per_job(event: Event) -> None:
    """A party's second dispute of a job joins the first: 409 naming its ticket."""
    existing = open_dispute_ticket_id(event.subject_id)
    if existing is not None:
        raise AlreadyDisputed(
            _(
                "Job {event_subject_id} is already disputed in ticket "
                "{existing}; add your complaint there as a message.",
                event_subject_id=event.subject_id,
                existing=existing,
            ),
            state=event.payload["status"],
            ticket_id=existing,
        )


@subscribe("job.disputed")
def mediate_dispute(event: Event) -> None:
    """Link or open the dispute ticket, count the dispute and tell the other side."""
    job = db.session.get(Job, event.subject_id)
    path = event.payload.get("path", "party")
    by = event.payload["by"]
    actor_id = event.actor if isinstance(event.actor, int) else None
    ticket = _dispute_ticket(job, event, path)
    if path == "chargeback":
        record(
            ticket,
            "dispute",
            actor="system",
            actor_id=None,
            job_id=job.id,
            dispute_id=event.payload["detail"].get("dispute_id"),
        )
    else:
        record(ticket, "dispute", actor=by, actor_id=actor_id, job_id=job.id)
    if job.assigned_member_id is not None:
        record_job_disputed(job.assigned_member_id)
    _tell_the_other_side(job, ticket, disputer="chargeback" if path == "chargeback" else by)


def _dispute_ticket(job: Job, event: Event, path: str) -> Ticket:
    """The ticket the party opened the dispute with, else the job's open dispute ticket (a
    chargeback after a settled dispute joins it), else a new one, opened for the customer."""
    ticket_id = event.payload.get("ticket_id") or open_dispute_ticket_id(job.id)
    if ticket_id is not None:
        return db.session.get(Ticket, ticket_id)
    reason = event.payload.get("reason") or event.payload["detail"].get("reason") or "Dispute"
    if path == "chargeback":
        return create_ticket(
            opener_id=_user_of(Customer, job.customer_id),
            kind="customer",
            subject=reason[:200],
            category="chargeback",
            description=chargebacks.chargeback_description(
                job, event.payload["detail"].get("reason")
            ),
            priority="high",
            job_id=job.id,
            customer_id=job.customer_id,
            member_id=job.assigned_member_id,
            dispute=True,
            author_role="system",
        )
    # POST /jobs/{id}/dispute: the customer's reason opens the ticket, as POST /tickets would.
    return create_ticket(
        opener_id=event.actor,
        kind=event.payload["by"],
        subject=reason[:200],
        category="quality_complaint",
        description=reason,
        # Money is frozen until it is settled.
        priority="high",
        job_id=job.id,
        customer_id=job.customer_id,
        member_id=job.assigned_member_id,
        dispute=True,
    )


def _tell_the_other_side(job: Job, ticket: Ticket, *, disputer: str) -> None:
    """The member hears of a customer's or bank's dispute, the customer of the member's."""
    if disputer == "member":
        user_id, held = _user_of(Customer, job.customer_id), ""
    else:
        held = _l("; your payout is held until then")
        user_id = _user_of(Member, job.assigned_member_id)
    if user_id is None:
        return
    notify(
        user_id,
        "job.disputed",
        _l("Job disputed"),
        _l(
            "{value} disputes “{job_title}”. Support will mediate{held}.",
            value=DISPUTER[disputer],
            job_title=job.title,
            held=held,
        ),
        dedupe_key=f"job.disputed:{job.id}:{user_id}:ticket-{ticket.id}",
        job_id=job.id,
        ticket_id=ticket.id,
    )


@subscribe("chargeback.opened")
def open_chargeback_case(event: Event) -> None:
    """The chargeback's ticket (the one job.disputed opened, else a new one) is linked to it,
    due at the evidence deadline, and the responsible community managers are told."""
    chargebacks.open_case(db.session.get(JobPayment, event.subject_id))


@subscribe("chargeback.won", "chargeback.lost", "chargeback.closed")
def close_chargeback_case(event: Event) -> None:
    """Both parties hear the bank's decision; the ticket is resolved with a system note."""
    payment = db.session.get(JobPayment, event.subject_id)
    chargebacks.close_case(payment, event.name.removeprefix("chargeback."))


@subscribe("sanction.imposed", "sanction.lifted")
def tell_sanctioned_member(event: Event) -> None:
    """The member hears of their warning, suspension or reinstatement, and why."""
    kind = event.payload["kind"]
    title, body = MESSAGES[kind]
    notify(
        event.payload["member_user_id"],
        f"support.sanction_{kind}",
        _l(title),
        _l(body, reason=event.payload["reason"]),
        dedupe_key=f"support.sanction:{event.subject_id}",
        sanction_id=event.subject_id,
    )
