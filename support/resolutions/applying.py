"""Applying a resolution — by the parties, staff or the deadline — in one transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from crowd.core.db import utcnow
from crowd.core.errors import DomainError, NotFound
from crowd.core.i18n import _, _l
from crowd.extensions import db
from jobs.lifecycle import transition as job_transition
from jobs.models import Job
from jobs.queries import lock_job
from members.service import record_dispute_lost
from notifications.service import notify
from payouts import job_money
from payouts.models.job_payments import JobPayment
from support.errors import ProposalNoLongerFits, ProposalOnHold, ResolutionNotOpen
from support.lifecycle import transition
from support.models import Resolution, Ticket
from support.resolutions.lifecycle import transition as resolve
from support.resolutions.money import check_money
from support.resolutions.notices import describe, tell_parties
from support.tickets.access import lock_ticket, watchers

DEADLINE_TASK = "support.apply_due_resolutions"


def resolution_of(ticket: Ticket, resolution_id: int) -> Resolution:
    """The ticket's resolution, locked after the ticket (404 when it is another ticket's)."""
    resolution = db.session.scalar(
        select(Resolution)
        .where(Resolution.id == resolution_id, Resolution.ticket_id == ticket.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if resolution is None:
        raise NotFound(_("No such resolution on this ticket."))
    return resolution


def require_proposed(ticket: Ticket, resolution: Resolution) -> None:
    """409 unless the proposal is live and its ticket waits for the answers."""
    if resolution.status != "proposed":
        raise ResolutionNotOpen(
            _("This proposal is {resolution_status}.", resolution_status=resolution.status),
            state=resolution.status,
        )
    if ticket.status != "resolution_proposed":
        # Escalated meanwhile: whoever takes it over brings it back to resolution_proposed.
        raise ProposalOnHold(
            _("The ticket is {value}; the proposal waits.", value=ticket.status.replace("_", " ")),
            state=ticket.status,
        )


def apply_due_resolutions(*, resolution_id: int | None = None, limit: int = 100) -> int:
    """Apply every proposal past its respond_by that nobody rejected (the default outcome).

    Each under its ticket's lock, its status checked again under it: of this run, a second
    run, and a party's answer at the same moment, exactly one applies it. A proposal that can
    no longer apply (the money moved meanwhile) escalates its ticket to staff instead. Returns
    how many were applied. Never commits.
    """
    now = utcnow()
    query = (
        select(Resolution.id, Resolution.ticket_id)
        .where(Resolution.status == "proposed", Resolution.respond_by <= now)
        .order_by(Resolution.respond_by, Resolution.id)
        .limit(limit)
    )
    if resolution_id is not None:
        query = query.where(Resolution.id == resolution_id)
    applied = 0
    for due_id, ticket_id in db.session.execute(query).all():
        ticket = lock_ticket(ticket_id)
        resolution = resolution_of(ticket, due_id)
        if (
            resolution.status != "proposed"
            or resolution.respond_by > now
            or ticket.status != "resolution_proposed"
        ):
            continue
        try:
            apply_resolution(
                ticket, resolution, by="deadline", actor="system", actor_id=None, now=now
            )
        except DomainError as error:  # raised before anything was written
            _escalate(ticket, resolution, error.detail)
            continue
        applied += 1
    return applied


def _escalate(ticket: Ticket, resolution: Resolution, problem: str) -> None:
    reason = f"Proposal {resolution.id} could not apply at its deadline: {problem}"[:500]
    transition(ticket, "escalate", actor="system", resolution_id=resolution.id, reason=reason)
    ticket.escalation_reason = reason
    for user_id in watchers(ticket):
        notify(
            user_id,
            "support.ticket_escalated",
            _l("Support ticket escalated"),
            _l("“{ticket_subject}”: {reason}", ticket_subject=ticket.subject, reason=reason),
            dedupe_key=f"support.resolution_stuck:{resolution.id}:{user_id}:{ticket.escalated_at}",
            ticket_id=ticket.id,
        )


def apply_resolution(
    ticket: Ticket,
    resolution: Resolution,
    *,
    by: str,
    actor: str,
    actor_id: int | None,
    now: datetime | None = None,
) -> None:
    """Settle the job as `resolution` says, in the caller's transaction (see the module).

    Every check comes before the first write, so a refusal (409) leaves nothing half done.
    """
    now = now or utcnow()
    job = lock_job(resolution.job_id)
    payment = job_money.payment_of(job.id, lock=True)
    never_confirmed = job.status == "disputed" and job.confirmed_at is None
    cancel = resolution.kind == "full_refund" and never_confirmed
    if cancel:
        refund, goodwill = job.price_amount, 0  # never captured: nothing is charged at all
    else:
        refund, goodwill = _amounts_now(resolution, job, payment)
    if job.status == "disputed":
        _settle_job(job, ticket, resolution, cancel=cancel)
    key = job_money.key_for(job.id, f"resolution-{resolution.id}")
    if refund and not cancel:
        reason = f"Ticket {ticket.id}: {resolution.kind.replace('_', ' ')}"
        resolution.refund_id = job_money.queue_refund(
            payment,
            amount=refund,
            reason=reason,
            key=key,
            requested_by_id=resolution.proposed_by_id,
        ).id
    if goodwill:
        resolution.refund_id = job_money.queue_refund(
            payment,
            amount=goodwill,
            reason=f"Ticket {ticket.id}: goodwill credit",
            key=key,
            requested_by_id=resolution.proposed_by_id,
            goodwill=True,
        ).id
    if resolution.member_at_fault and job.assigned_member_id is not None:
        record_dispute_lost(job.assigned_member_id)
    resolution.refund_amount = refund
    resolution.applied_by = by
    resolve(resolution, "apply", by=actor, actor_id=actor_id, now=now)
    transition(
        ticket, "apply", actor=actor, actor_id=actor_id, now=now, resolution_id=resolution.id, by=by
    )
    tell_parties(
        ticket,
        resolution,
        "support.resolution_applied",
        _l("Your dispute is resolved"),
        _l(
            "The {resolution} applies{when}{fault}",
            resolution=describe(resolution),
            when=_l(" (as nobody rejected it in time).") if by == "deadline" else ".",
            fault=_l(" The dispute counts as lost for the member.")
            if resolution.member_at_fault
            else "",
        ),
    )


def _amounts_now(resolution: Resolution, job: Job, payment: JobPayment | None) -> tuple[int, int]:
    """(refund, goodwill) of the proposal against the payment as it is now; 409 when the money
    moved meanwhile so that it no longer fits."""
    try:
        refund = check_money(
            resolution.kind,
            job,
            payment,
            refund=resolution.refund_amount,
            goodwill=resolution.goodwill_amount,
        )
    except DomainError as error:
        raise ProposalNoLongerFits(
            _(
                "The proposal no longer fits the job's payment: {error_detail}",
                error_detail=error.detail,
            ),
            state=job.status,
        ) from None
    return refund, resolution.goodwill_amount


def _settle_job(job: Job, ticket: Ticket, resolution: Resolution, *, cancel: bool) -> None:
    """Move the job out of `disputed`; what follows (the capture of a never-confirmed job or
    the release of a cancelled one, levels, notices, closing) is job.confirmed's and
    job.cancelled's subscribers'."""
    detail = {"ticket_id": ticket.id, "resolution": resolution.kind}
    if cancel:
        changes = {
            "cancelled_by": "staff",
            "cancel_reason": f"Dispute settled with a full refund (ticket {ticket.id})",
            "cancellation_fee_amount": 0,
        }
        job_transition(
            job,
            "resolve_cancel",
            actor="staff",
            actor_user_id=resolution.proposed_by_id,
            changes=changes,
            **detail,
        )
        return
    job_transition(job, "resolve", actor="staff", actor_user_id=resolution.proposed_by_id, **detail)
