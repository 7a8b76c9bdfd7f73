"""Disputes: a ticket with dispute=true about a job freezes the job's money.

Opening one moves the job to `disputed` through jobs.lifecycle (under the job's row lock); what
follows is support.events' subscriber of job.disputed, whatever disputed the job (this ticket,
POST /jobs/{id}/dispute, or a chargeback): the dispute ticket linked or opened, the dispute
counted on the member's stats (record_job_disputed, which levels read), the other party told.
While any job of a member is `disputed`, payout runs hold that member's payout
(payouts.payout_run); the ticket's resolution (support.resolutions) moves the job on, and the
hold lifts.

A job has at most one open dispute: a second one is a 409 naming the first ticket (the job's
row lock serialises the check; the partial unique index uq_tickets_open_dispute_job backs it).
The legacy POST /jobs/{id}/dispute disputes the job in jobs, and the subscriber opens its
dispute ticket, so there is one path into mediation.
"""

from __future__ import annotations

from sqlalchemy import select

from crowd.core.auth import Principal
from crowd.core.errors import Forbidden, NotFound
from crowd.core.i18n import _
from crowd.extensions import db
from jobs.errors import JobNotDisputable
from jobs.lifecycle import transition as job_transition
from jobs.models import Job
from jobs.queries import lock_job
from support.errors import AlreadyDisputed
from support.models import Ticket

DISPUTABLE = ("completed", "confirmed")


def party_of_job(actor: Principal, job: Job) -> str | None:
    """ "customer" or "member" when `actor` is the job's customer or assigned member, else None."""
    if actor.role == "customer":
        own = actor.customer_id
        return "customer" if own is not None and own == job.customer_id else None
    if actor.role == "member":
        own = actor.member_id
        return "member" if own is not None and own == job.assigned_member_id else None
    return None


def open_dispute_ticket_id(job_id: int, *, other_than: int | None = None) -> int | None:
    """The job's open (not closed) dispute ticket, if any."""
    query = select(Ticket.id).where(
        Ticket.job_id == job_id, Ticket.dispute.is_(True), Ticket.status != "closed"
    )
    if other_than is not None:
        query = query.where(Ticket.id != other_than)
    return db.session.scalar(query.order_by(Ticket.id).limit(1))


def open_dispute(ticket: Ticket, *, actor: Principal) -> Job:
    """Make `ticket` (in the session, its columns set, about a job) the dispute of its job.

    403: staff (a dispute is a party's complaint); 404: the caller is not the job's customer
    or assigned member; 409: the job has an open dispute ticket already (`ticket_id` names
    it), or its state does not allow a dispute by the caller (`state`: only completed or
    confirmed jobs; a member only while completed).
    """
    if actor.is_staff:
        raise Forbidden(_("Only the job's customer or member can dispute it."))
    job = lock_job(ticket.job_id) if ticket.job_id is not None else None
    party = party_of_job(actor, job) if job is not None else None
    if party is None:
        raise NotFound(_("No such job."))
    first = open_dispute_ticket_id(job.id, other_than=ticket.id)
    if first is not None:
        raise AlreadyDisputed(
            _(
                "Job {job_id} is disputed in ticket {first} already; please add to that ticket.",
                job_id=job.id,
                first=first,
            ),
            state="disputed",
            ticket_id=first,
        )
    if job.status not in DISPUTABLE:
        raise JobNotDisputable(
            _(
                "Only a completed or confirmed job can be disputed; this one is {value}.",
                value=job.status.replace("_", " "),
            ),
            state=job.status,
        )
    ticket.dispute = True
    db.session.flush()  # the ticket's id, for the audit trail and the notification
    # The lifecycle refuses what the actor may not do (a member disputing a confirmed job).
    job_transition(
        job,
        "dispute",
        actor=party,
        actor_user_id=actor.user_id,
        context={"path": "party", "reason": ticket.subject, "ticket_id": ticket.id},
        reason=ticket.subject,
    )
    return job
