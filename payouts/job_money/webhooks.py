"""Provider events about job payments: reconcile our record, never backwards, never twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from crowd.core.background import enqueue
from crowd.core.db import utcnow
from crowd.extensions import db
from crowd.members.models import Member
from crowd.notifications.service import notify
from jobs.lifecycle import allowed_actions, transition
from jobs.models import Job
from jobs.queries import lock_job
from payouts import ledger
from payouts.job_money.payments import (
    CANCEL_TASK,
    CAPTURE_TASK,
    CLEARING,
    LAPSED,
    UNAUTHORIZED,
    mark_authorized,
    mark_captured,
    mark_failed,
    payment_of,
    price_due,
)
from payouts.job_money.refunds import apply_refund, pending_refund_total
from payouts.ledger import Line
from payouts.models.job_payments import JobPayment, JobRefund
from payouts.webhooks import Ignored, on_event

# Where a webhook may move a payment from; from anywhere else the event is stale (it reports
# an earlier state than ours) and changes nothing: captured stays captured.
MOVES_FROM = {
    "authorized": UNAUTHORIZED,
    "captured": (*UNAUTHORIZED, "authorized"),
    "failed": ("pending", "requires_action"),
    "lapsed": ("pending", "requires_action", "authorized"),
}


def _payment_by_intent(intent_id: str | None, *, lock: bool = True) -> JobPayment | None:
    if not intent_id:
        return None
    query = select(JobPayment).where(JobPayment.provider_payment_id == intent_id)
    if lock:
        query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
    return db.session.scalar(query)


def _movable_payment(intent_id: str | None, to: str) -> JobPayment | Ignored:
    """The job payment behind `intent_id`, locked — or why the event leaves it alone: unknown,
    or stale (the event would move the payment backwards: it is older than our state)."""
    payment = _payment_by_intent(intent_id)
    if payment is None:
        return Ignored("not a job payment we know")
    if payment.status not in MOVES_FROM[to]:
        return Ignored(f"stale: the payment is {payment.status} already")
    return payment


@on_event("payment_intent.amount_capturable_updated")
def _intent_capturable(event) -> Ignored | None:
    intent = event.data_object
    if intent.get("status") != "requires_capture" or not intent.get("amount_capturable"):
        return Ignored("nothing capturable")
    payment = _movable_payment(intent.get("id"), "authorized")
    if isinstance(payment, Ignored):
        return payment
    mark_authorized(payment, db.session.get(Job, payment.job_id), int(intent["amount_capturable"]))
    return None


@on_event("payment_intent.succeeded")
def _intent_succeeded(event) -> Ignored | None:
    intent = event.data_object
    payment = _movable_payment(intent.get("id"), "captured")
    if isinstance(payment, Ignored):
        return payment
    received = int(intent.get("amount_received") or 0)
    payment.amount_authorized = max(payment.amount_authorized, received)
    mark_captured(payment, received)
    # The posting stays with the tasks, keyed by the job: they post what was captured.
    job = db.session.get(Job, payment.job_id)
    if price_due(job):
        enqueue(CAPTURE_TASK, job_id=job.id)
    elif job.status == "cancelled":
        enqueue(CANCEL_TASK, job_id=job.id)
    return None


@on_event("payment_intent.payment_failed")
def _intent_failed(event) -> Ignored | None:
    intent = event.data_object
    payment = _movable_payment(intent.get("id"), "failed")
    if isinstance(payment, Ignored):
        return payment
    error = intent.get("last_payment_error") or {}
    mark_failed(
        payment,
        error.get("code"),
        error.get("decline_code"),
        error.get("message") or "The payment failed.",
    )
    return None


@on_event("payment_intent.canceled")
def _intent_canceled(event) -> Ignored | None:
    payment = _movable_payment(event.data_object.get("id"), "lapsed")
    if isinstance(payment, Ignored):
        return payment
    job = db.session.get(Job, payment.job_id)
    if job.status == "cancelled":
        payment.status, payment.cancelled_at = "cancelled", utcnow()
        return None
    # Cancelled at the provider while the job still needs paying (an expired hold, say).
    mark_failed(payment, LAPSED, None, "The authorisation of your payment lapsed.")
    return None


@on_event("charge.refunded")
def _charge_refunded(event) -> Ignored | None:
    charge = event.data_object
    payment = _payment_by_intent(charge.get("payment_intent"))
    if payment is None:
        return Ignored("not a job payment we know")
    if payment.settlement_transaction_id is None:
        return Ignored("the payment is not settled; staff reconcile its refund by hand")
    listed = (charge.get("refunds") or {}).get("data")
    applied = 0
    if listed is not None:
        for item in sorted(listed, key=lambda r: (r.get("created") or 0, r.get("id") or "")):
            if item.get("status") in ("succeeded", "pending"):
                applied += _reconcile_refund(payment, item, event.created)
    else:
        # Without the list: whatever the charge says is refunded beyond what we know of.
        missing = int(charge.get("amount_refunded") or 0) - (
            payment.amount_refunded + pending_refund_total(payment)
        )
        if missing > 0:
            key = f"provider-refund-{charge.get('id')}-{charge['amount_refunded']}"
            applied += _external_refund(payment, key, missing, None, "refunded at the provider")
    return None if applied else Ignored("every refund is known")


def _reconcile_refund(payment: JobPayment, item: dict, at: datetime) -> int:
    known = db.session.scalar(select(JobRefund).where(JobRefund.provider_refund_id == item["id"]))
    if known is not None:
        return 0
    ours = db.session.scalar(
        select(JobRefund).where(
            JobRefund.key == (item.get("metadata") or {}).get("refund_key", ""),
            JobRefund.job_payment_id == payment.id,
        )
    )
    if ours is not None:
        if ours.status != "pending":
            return 0
        apply_refund(payment, ours, item["id"])  # its task will find it done
        return 1
    reason = f"refunded at the provider ({item.get('reason') or 'no reason given'})"
    return _external_refund(
        payment, f"provider-refund-{item['id']}", int(item["amount"]), item["id"], reason
    )


def _external_refund(
    payment: JobPayment, key: str, amount: int, provider_refund_id: str | None, reason: str
) -> int:
    if db.session.scalar(select(JobRefund.id).where(JobRefund.key == key)) is not None:
        return 0
    refund = JobRefund(
        job_payment_id=payment.id,
        job_id=payment.job_id,
        amount=amount,
        currency=payment.currency,
        reason=reason,
        source="provider",
        status="pending",
        key=key,
    )
    db.session.add(refund)
    db.session.flush()
    apply_refund(payment, refund, provider_refund_id)
    return 1


@on_event("charge.dispute.created")
def _dispute_created(event) -> Ignored | None:
    dispute = event.data_object
    found = _payment_by_intent(dispute.get("payment_intent"), lock=False)
    if found is None:
        return Ignored("not a job payment we know")
    # The job first, then its payment: the order the jobs code (and its hooks) lock in.
    job = lock_job(found.job_id)
    payment = payment_of(found.job_id, lock=True)
    if payment.dispute_id == dispute.get("id"):
        return Ignored("the dispute is known already")
    payment.dispute_id = dispute.get("id")
    payment.dispute_status = dispute.get("status") or "needs_response"
    payment.dispute_reason = dispute.get("reason")
    payment.dispute_amount = dispute.get("amount")
    payment.disputed_at, payment.dispute_closed_at = event.created, None
    if "dispute" in allowed_actions(job.status, "customer"):
        transition(
            job,
            "dispute",
            actor="customer",
            reason=f"chargeback: {payment.dispute_reason or 'no reason given'}",
            dispute_id=payment.dispute_id,
        )
        member_user = db.session.scalar(
            select(Member.user_id).where(Member.id == job.assigned_member_id)
        )
        if member_user is not None:
            notify(
                member_user,
                "job.disputed",
                "Job disputed",
                f"The customer's bank disputes the payment for “{job.title}”.",
                dedupe_key=f"job.chargeback:{payment.dispute_id}",
                job_id=job.id,
            )
    return None


@on_event("charge.dispute.closed")
def _dispute_closed(event) -> Ignored | None:
    dispute = event.data_object
    payment = _payment_by_intent(dispute.get("payment_intent"))
    if payment is None:
        return Ignored("not a job payment we know")
    if payment.dispute_id == dispute.get("id") and payment.dispute_closed_at is not None:
        return Ignored("the dispute is closed already")
    payment.dispute_id = dispute.get("id")
    payment.dispute_status = dispute.get("status")
    payment.dispute_reason = dispute.get("reason") or payment.dispute_reason
    payment.dispute_amount = dispute.get("amount") or payment.dispute_amount
    payment.disputed_at = payment.disputed_at or event.created
    payment.dispute_closed_at = event.created
    if payment.dispute_status == "lost" and payment.dispute_amount:
        # The bank took the money back from the platform's balance; the platform bears it
        # (whether the member gives their earning back is for mediation to decide).
        ledger.post(
            key=f"dispute-{payment.dispute_id}-lost",
            kind="dispute_lost",
            currency=payment.currency,
            lines=[
                Line("platform:disputes", payment.dispute_amount),
                Line(CLEARING, -payment.dispute_amount),
            ],
            memo=f"Job {payment.job_id}: chargeback {payment.dispute_id} lost",
            job_id=payment.job_id,
        )
    return None
