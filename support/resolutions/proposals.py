"""Proposing a resolution and answering, withdrawing or imposing it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from crowd.core.auth import Principal
from crowd.core.background import enqueue
from crowd.core.db import utcnow
from crowd.core.errors import Forbidden, field_error
from crowd.core.i18n import _, _l
from crowd.core.pagination import paginate
from crowd.extensions import db
from jobs.models import Job
from payouts import job_money
from support.config import support_rules
from support.errors import ProposalAlreadyAnswered, TicketNotAboutJob
from support.lifecycle import record, transition
from support.models import Resolution
from support.resolutions.applying import (
    DEADLINE_TASK,
    apply_resolution,
    require_proposed,
    resolution_of,
)
from support.resolutions.lifecycle import proposed
from support.resolutions.lifecycle import transition as resolve
from support.resolutions.money import check_money, proposed_refund
from support.resolutions.notices import describe, tell_parties, tell_staff_and_other
from support.tickets.access import ticket_for

PARTIES = ("customer", "member")


def list_resolutions(
    *, actor: Principal, ticket_id: int, limit: int | None = None, cursor: str | None = None
) -> dict:
    """The ticket's resolutions, oldest first (its parties and staff)."""
    ticket, _ = ticket_for(actor, ticket_id)
    query = select(Resolution).where(Resolution.ticket_id == ticket.id)
    return paginate(query, {"limit": limit, "cursor": cursor}, order=[Resolution.id])


def _require_staff(actor: Principal) -> None:
    if not actor.is_staff:
        raise Forbidden(_("Only community managers and admins may do this."))


def propose(
    *,
    actor: Principal,
    ticket_id: int,
    kind: str,
    note: str,
    member_at_fault: bool,
    refund_amount: int | None = None,
    customer_share_percent: int | None = None,
    goodwill_amount: int | None = None,
    respond_within_hours: int | None = None,
) -> Resolution:
    """Staff propose how to settle a ticket about a job; the parties have until respond_by."""
    _require_staff(actor)
    ticket, _unused = ticket_for(actor, ticket_id, lock=True)
    job = db.session.get(Job, ticket.job_id) if ticket.job_id is not None else None
    if job is None:
        raise TicketNotAboutJob(
            _("This ticket is not about a job: there is nothing to settle."), state=ticket.status
        )
    if kind == "goodwill" and goodwill_amount is None:
        raise field_error("goodwill_amount", _("required for goodwill"))
    goodwill = goodwill_amount if kind == "goodwill" else 0
    refund = check_money(
        kind,
        job,
        job_money.payment_of(job.id),
        refund=proposed_refund(kind, job, refund_amount, customer_share_percent),
        goodwill=goodwill,
    )
    now = utcnow()
    hours = respond_within_hours or support_rules().proposal_response_hours
    respond_by = now + timedelta(hours=hours)
    transition(
        ticket,
        "propose",
        actor="staff",
        actor_id=actor.user_id,
        now=now,
        kind=kind,
        refund_amount=refund,
        goodwill_amount=goodwill,
        customer_share_percent=customer_share_percent,
        respond_by=respond_by.isoformat(),
    )
    resolution = Resolution(
        ticket_id=ticket.id,
        job_id=job.id,
        kind=kind,
        refund_amount=refund,
        goodwill_amount=goodwill,
        currency=job.currency,
        member_at_fault=member_at_fault,
        note=note,
        status="proposed",
        proposed_by_id=actor.user_id,
        proposed_at=now,
        respond_by=respond_by,
    )
    db.session.add(resolution)
    db.session.flush()
    proposed(resolution, actor_id=actor.user_id)
    enqueue(DEADLINE_TASK, run_at=respond_by, resolution_id=resolution.id)
    tell_parties(
        ticket,
        resolution,
        "support.resolution_proposed",
        _l("A resolution is proposed"),
        _l(
            "Support proposes a {resolution}. Accept or reject it by "
            "{respond_by:%Y-%m-%d %H:%M} UTC; without a rejection it "
            "applies then.",
            resolution=describe(resolution),
            respond_by=respond_by,
        ),
    )
    return resolution


def answer_proposal(
    *, actor: Principal, ticket_id: int, resolution_id: int, answer: str
) -> Resolution:
    """A party accepts or rejects a proposal, once. Both accepting applies it; a rejection
    sends the ticket back to mediation."""
    ticket, side = ticket_for(actor, ticket_id, lock=True)
    if side not in PARTIES:
        raise Forbidden(_("Only the ticket's customer or member answers a proposal."))
    resolution = resolution_of(ticket, resolution_id)
    require_proposed(ticket, resolution)
    if getattr(resolution, f"{side}_answer") is not None:
        raise ProposalAlreadyAnswered(
            _("You have answered this proposal already."), state=resolution.status
        )
    now = utcnow()
    setattr(resolution, f"{side}_answer", answer)
    setattr(resolution, f"{side}_answered_at", now)
    if answer == "reject":
        resolve(resolution, "reject", by=side, actor_id=actor.user_id, now=now)
        transition(
            ticket,
            "reject_proposal",
            actor=side,
            actor_id=actor.user_id,
            resolution_id=resolution.id,
        )
        tell_staff_and_other(ticket, resolution, side)
        return resolution
    waiting = [
        party
        for party in PARTIES
        if getattr(ticket, f"{party}_id") is not None
        and getattr(resolution, f"{party}_answer") != "accept"
    ]
    if waiting:
        record(
            ticket,
            "accept_proposal",
            actor=side,
            actor_id=actor.user_id,
            resolution_id=resolution.id,
        )
        return resolution
    apply_resolution(ticket, resolution, by="parties", actor=side, actor_id=actor.user_id)
    return resolution


def withdraw(*, actor: Principal, ticket_id: int, resolution_id: int) -> Resolution:
    """Staff take a proposal back; the ticket returns to mediation."""
    _require_staff(actor)
    ticket, _unused = ticket_for(actor, ticket_id, lock=True)
    resolution = resolution_of(ticket, resolution_id)
    require_proposed(ticket, resolution)
    resolve(resolution, "withdraw", by="staff", actor_id=actor.user_id)
    transition(
        ticket,
        "withdraw_proposal",
        actor="staff",
        actor_id=actor.user_id,
        resolution_id=resolution.id,
    )
    tell_parties(
        ticket,
        resolution,
        "support.resolution_withdrawn",
        _l("Proposal withdrawn"),
        _l(
            "Support withdrew the proposed {resolution}; mediation goes on.",
            resolution=describe(resolution),
        ),
    )
    return resolution


def impose(*, actor: Principal, ticket_id: int, resolution_id: int) -> Resolution:
    """Staff apply a proposal now, whatever the parties answered so far."""
    _require_staff(actor)
    ticket, _ = ticket_for(actor, ticket_id, lock=True)
    resolution = resolution_of(ticket, resolution_id)
    require_proposed(ticket, resolution)
    apply_resolution(ticket, resolution, by="staff", actor="staff", actor_id=actor.user_id)
    return resolution
