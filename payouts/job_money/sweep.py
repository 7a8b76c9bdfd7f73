"""The safety net: queue again what a provider outage left undone."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, select

from crowd.core.background import enqueue
from crowd.core.db import utcnow
from crowd.extensions import db
from jobs.models import Job
from payouts.job_money.payments import (
    AUTHORIZE_TASK,
    CANCEL_TASK,
    CAPTURE_TASK,
    LAPSED,
    PAYABLE_JOB_STATES,
    REFUND_TASK,
    new_attempt,
)
from payouts.models.job_payments import JobPayment, JobRefund


def sweep(*, limit: int = 200, older_than: timedelta = timedelta(minutes=15)) -> dict[str, int]:
    """Queue again what a provider outage left undone past the outbox's own retries (periodic).

    Authorisations still pending, holds that lapsed on jobs still to be paid (authorised
    anew), confirmed jobs not settled, cancelled jobs still holding an authorisation, refunds
    still pending — each untouched for `older_than`.
    """
    cutoff = utcnow() - older_than
    base = (
        select(JobPayment.job_id)
        .join(Job, Job.id == JobPayment.job_id)
        .where(JobPayment.updated_at <= cutoff)
        .order_by(JobPayment.job_id)
        .limit(limit)
    )
    pending = db.session.scalars(
        base.where(JobPayment.status == "pending", Job.status.in_(PAYABLE_JOB_STATES))
    ).all()
    unsettled = db.session.scalars(
        base.where(
            JobPayment.status.in_(("authorized", "captured", "invoiced")),
            JobPayment.settlement_transaction_id.is_(None),
            Job.confirmed_at.is_not(None),
            Job.status.in_(("confirmed", "closed", "disputed")),
        )
    ).all()
    held = db.session.scalars(
        base.where(
            Job.status == "cancelled",
            JobPayment.settlement_transaction_id.is_(None),
            or_(
                JobPayment.status.in_(("pending", "authorized", "requires_action")),
                (JobPayment.status == "captured") & (Job.cancellation_fee_amount > 0),
            ),
        )
    ).all()
    lapsed = db.session.scalars(
        select(JobPayment)
        .join(Job, Job.id == JobPayment.job_id)
        .where(
            JobPayment.status == "failed",
            JobPayment.failure_code == LAPSED,
            JobPayment.updated_at <= cutoff,
            Job.status.in_(PAYABLE_JOB_STATES),
        )
        .order_by(JobPayment.id)
        .limit(limit)
        .with_for_update(of=JobPayment, skip_locked=True, key_share=True)
    ).all()
    refunds = db.session.scalars(
        select(JobRefund.id)
        .where(JobRefund.status == "pending", JobRefund.updated_at <= cutoff)
        .order_by(JobRefund.id)
        .limit(limit)
    ).all()
    for payment in lapsed:
        # A lapsed hold is authorised again with the saved method (a decline is not retried).
        new_attempt(payment)
        enqueue(AUTHORIZE_TASK, job_id=payment.job_id)
    for job_id in pending:
        enqueue(AUTHORIZE_TASK, job_id=job_id)
    for job_id in unsettled:
        enqueue(CAPTURE_TASK, job_id=job_id)
    for job_id in held:
        enqueue(CANCEL_TASK, job_id=job_id)
    for refund_id in refunds:
        enqueue(REFUND_TASK, refund_id=refund_id)
    return {
        "authorize": len(pending) + len(lapsed),
        "capture": len(unsettled),
        "cancel": len(held),
        "refund": len(refunds),
    }
