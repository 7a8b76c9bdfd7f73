"""Keeping a job's authorisation alive, and the customer's authentication (3-D Secure).

A card authorisation holds only so long (JOB_PAYMENTS_AUTHORISATION_VALID_DAYS; Stripe
cancels an uncaptured manual-capture intent after 7 days). A hold that would lapse before the
job is expected to be captured — its end plus the auto-confirmation window, or the completion
plus that window — is renewed JOB_PAYMENTS_REAUTHORISE_MARGIN_HOURS before it lapses: a new
intent (attempt n+1, its own idempotency key job-{id}-authorize-{n+1}) is authorised first,
and only then is the old one released (key job-{id}-release-{old intent}), once. A renewal
that fails or needs the customer pauses the job's dispatch (payments.pause_dispatch); the
old hold is released once a later attempt is authorised, or when the job is cancelled.

The customer's authentication completes at their bank; we learn it from the webhook
(payment_intent.amount_capturable_updated / payment_failed) or when their client asks us to
look (POST /jobs/{id}/payment/refresh → `refresh`, which retrieves the intent).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from crowd.core.auth import Principal
from crowd.core.background import enqueue
from crowd.core.db import utcnow
from crowd.core.errors import NotFound
from crowd.core.i18n import _
from crowd.extensions import db
from customers.models import Customer
from jobs.config import job_rules
from jobs.models import Job
from jobs.queries import lock_job
from payouts.config import job_payment_rules
from payouts.job_money.payments import (
    LAPSED,
    REAUTHORIZE_TASK,
    REFRESH_TASK,
    REQUIRES_ACTION,
    authorize_at_provider,
    mark_authorized,
    mark_failed,
    pause_dispatch,
    payment_of,
    saved_method,
)
from payouts.models.job_payments import JobPayment
from payouts.providers import AUTHORIZED, PaymentError, get_provider

# Jobs whose price is still to be captured: a hold on them must not lapse.
WAITING_FOR_CAPTURE = ("open", "offered", "assigned", "in_progress", "completed", "disputed")


def expected_capture_at(job: Job) -> datetime | None:
    """When the job's payment is expected to be captured: its completion (or else its end)
    plus the auto-confirmation window; None when nobody can tell (a dispute)."""
    window = timedelta(hours=job_rules().auto_confirm_hours)
    if job.status == "disputed":
        return None
    if job.completed_at is not None:
        return job.completed_at + window
    end = job.scheduled_end or max((w.ends_at for w in job.windows), default=None)
    return end + window if end is not None else None


def renewal_due(payment: JobPayment, job: Job, now: datetime) -> bool:
    """Whether the hold lapses within the margin and before the job's capture (with the
    margin again: a capture an hour before the lapse is too close to rely on)."""
    expires = payment.authorization_expires_at
    if payment.status != "authorized" or expires is None or job.status not in WAITING_FOR_CAPTURE:
        return False
    if payment.settlement_transaction_id is not None:
        return False
    margin = timedelta(hours=job_payment_rules().reauthorise_margin_hours)
    if expires - margin > now:
        return False
    capture_at = expected_capture_at(job)
    return capture_at is None or expires < capture_at + margin


def queue_renewals(*, limit: int = 200, now: datetime | None = None) -> int:
    """Queue the renewal of every hold that is due (periodic task); returns how many."""
    now = now or utcnow()
    margin = timedelta(hours=job_payment_rules().reauthorise_margin_hours)
    rows = db.session.execute(
        select(JobPayment, Job)
        .join(Job, Job.id == JobPayment.job_id)
        .where(
            JobPayment.status == "authorized",
            JobPayment.settlement_transaction_id.is_(None),
            JobPayment.authorization_expires_at <= now + margin,
            Job.status.in_(WAITING_FOR_CAPTURE),
        )
        .order_by(JobPayment.job_id)
        .limit(limit)
    ).all()
    queued = 0
    for payment, job in rows:
        if renewal_due(payment, job, now):
            enqueue(REAUTHORIZE_TASK, job_id=job.id)
            queued += 1
    return queued


def reauthorize(job_id: int, *, now: datetime | None = None) -> str:
    """Renew the job's hold when it is due (task; idempotent: a second run finds it renewed)."""
    job = lock_job(job_id)
    payment = payment_of(job_id, lock=True)
    if job is None or payment is None or not renewal_due(payment, job, now or utcnow()):
        return "not_due"
    if payment.superseded_payment_id is None:
        payment.superseded_payment_id = payment.provider_payment_id
    method = saved_method(job.customer_id)
    payment.authorize_attempt += 1
    payment.status = "pending"
    payment.provider_payment_id = None
    payment.provider_event_at = None
    payment.amount_authorized = 0
    if method is not None:  # the customer's current method; else the one that held so far
        payment.payment_method = method.payment_method
        payment.customer_ref = method.provider_customer_ref
    return authorize_at_provider(payment, job)


def release_superseded(job_id: int) -> str:
    """Release the previous attempt's hold once the current one is authorised, or the job
    cancelled (task; once: its key is the old intent's, and the column is cleared)."""
    payment = payment_of(job_id, lock=True)
    if payment is None or payment.superseded_payment_id is None:
        return "nothing"
    job = db.session.get(Job, job_id)
    if payment.status != "authorized" and job.status != "cancelled":
        return "kept"  # the old hold is all there is until a new one is authorised
    old = payment.superseded_payment_id
    try:
        get_provider().cancel_payment(old, idempotency_key=f"job-{job_id}-release-{old}")
    except PaymentError as error:  # lapsed or released already: nothing is held
        payment.last_error = f"Releasing the previous hold: {error.detail}"
    payment.superseded_payment_id = None
    return "released"


def request_refresh(*, actor: Principal, job_id: int) -> JobPayment:
    """The customer's client says the authentication is done: look at the intent (in the
    background; the answer is the payment as it stands). Only the job's customer may ask."""
    job = db.session.get(Job, job_id)
    own = db.session.scalar(select(Customer.id).where(Customer.user_id == actor.user_id))
    if job is None or own is None or job.customer_id != own:
        raise NotFound(_("No such job."))
    payment = payment_of(job_id)
    if payment is not None and payment.status == REQUIRES_ACTION:
        enqueue(REFRESH_TASK, job_id=job_id)
    return payment


def refresh(job_id: int) -> str:
    """Reconcile a payment waiting for the customer's authentication with its intent (task)."""
    job = lock_job(job_id)
    payment = payment_of(job_id, lock=True)
    if job is None or payment is None or payment.status != REQUIRES_ACTION:
        return payment.status if payment else "no_payment"
    result = get_provider().retrieve_payment(payment.provider_payment_id)
    if result.status == AUTHORIZED and result.amount_capturable:
        mark_authorized(payment, job, min(result.amount_capturable, job.price_amount))
    elif result.status == "requires_payment_method" and result.error_code:
        mark_failed(
            payment,
            result.error_code,
            None,
            result.error_message or "The authentication of your payment failed.",
        )
        pause_dispatch(job, payment)
    elif result.status == "canceled":
        mark_failed(payment, LAPSED, None, "The payment was cancelled at the provider.")
        pause_dispatch(job, payment)
    return payment.status
