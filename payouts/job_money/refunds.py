"""Refunds of a job's captured payment, reversing the split proportionally.

Support mediation decides refunds that may come before the capture (a job disputed before it
was confirmed): `queue_refund` records them pending, and `execute_refund` makes them only once
the payment is settled — the capture queues every refund waiting for it, the sweep is the
safety net. A goodwill credit (key ending in GOODWILL_SUFFIX) is a provider refund too, so the
customer really gets the money and the webhook reconciliation knows it, but the platform
bears it alone (platform:goodwill against clearing): it takes nothing off the split, and later
refunds reverse the split as if it had not been made.
"""

from __future__ import annotations

from sqlalchemy import func, select

from crowd.core.auth import Principal
from crowd.core.background import enqueue
from crowd.core.db import utcnow
from crowd.core.errors import NotFound
from crowd.core.events import Event, declare, emit
from crowd.core.i18n import _
from crowd.extensions import db
from jobs.models import Job
from payouts import ledger
from payouts.errors import NothingCaptured, PaymentDisputed, RefundTooLarge
from payouts.job_money.payments import (
    CLEARING,
    REFUND_TASK,
    earning_accounts,
    key_for,
    payment_of,
)
from payouts.ledger import Line
from payouts.models.job_payments import JobPayment, JobRefund
from payouts.models.ledger import LedgerTransaction
from payouts.providers import PaymentError, get_provider
from payouts.rounding import prorate

GOODWILL_SUFFIX = "-goodwill"

# A refund posted (its split reversed): invoicing corrects the job's documents.
declare("payment.refunded")


def is_goodwill(refund: JobRefund) -> bool:
    """Whether the refund is a goodwill credit paid by the platform (see the module)."""
    return refund.key.endswith(GOODWILL_SUFFIX)


def pending_refund_total(payment: JobPayment) -> int:
    """What refunds of the payment still under way add up to."""
    total = db.session.scalar(
        select(func.coalesce(func.sum(JobRefund.amount), 0)).where(
            JobRefund.job_payment_id == payment.id, JobRefund.status == "pending"
        )
    )
    return int(total)  # PostgreSQL sums BIGINTs as NUMERIC


def request_refund(*, actor: Principal, job_id: int, amount: int, reason: str) -> JobRefund:
    """Refund `amount` of a job's captured payment (staff); the provider call runs as a task.

    409: nothing captured (or not settled yet), a dispute is open, or more than what is left
    to refund (captured − refunded − refunds under way).
    """
    if db.session.get(Job, job_id) is None:
        raise NotFound(_("No such job."))
    payment = payment_of(job_id, lock=True)
    if payment is None or payment.settlement_transaction_id is None:
        state = payment.status if payment is not None else "pending"
        raise NothingCaptured(_("Nothing has been captured for this job."), state=state)
    if payment.dispute_open:
        raise PaymentDisputed(
            _("The payment is disputed; the dispute decides what goes back."), state="disputed"
        )
    left = payment.refundable - pending_refund_total(payment)
    if amount > left:
        raise RefundTooLarge(
            _(
                "At most {left} can be refunded: {payment_amount_captured} "
                "captured, {value} refunded or being refunded.",
                left=left,
                payment_amount_captured=payment.amount_captured,
                value=payment.amount_captured - left,
            ),
            state=payment.status,
            errors={"json": {"amount": [f"must be at most {left}"]}},
            refundable=left,
        )
    count = db.session.scalar(
        select(func.count()).select_from(JobRefund).where(JobRefund.job_payment_id == payment.id)
    )
    refund = JobRefund(
        job_payment_id=payment.id,
        job_id=job_id,
        amount=amount,
        currency=payment.currency,
        reason=reason,
        source="api",
        status="pending",
        key=key_for(job_id, f"refund-{count + 1}"),
        requested_by_id=actor.user_id,
    )
    db.session.add(refund)
    db.session.flush()
    enqueue(REFUND_TASK, refund_id=refund.id)
    return refund


def queue_refund(
    payment: JobPayment,
    *,
    amount: int,
    reason: str,
    key: str,
    requested_by_id: int | None = None,
    goodwill: bool = False,
) -> JobRefund:
    """Record a refund decided now, made once the payment is settled (the caller checked the
    amount and holds the payment's lock). `key` must be unique to the decision; a goodwill
    credit's gets GOODWILL_SUFFIX."""
    refund = JobRefund(
        job_payment_id=payment.id,
        job_id=payment.job_id,
        amount=amount,
        currency=payment.currency,
        reason=reason[:500],
        source="api",
        status="pending",
        key=key + GOODWILL_SUFFIX if goodwill else key,
        requested_by_id=requested_by_id,
    )
    db.session.add(refund)
    db.session.flush()
    if payment.settlement_transaction_id is not None:
        enqueue(REFUND_TASK, refund_id=refund.id)
    return refund


def execute_refund(refund_id: int) -> str:
    """Make a requested refund at the provider and post its reversal, once (task).

    A refund queued before the payment was settled waits (stays pending) for the settlement.
    """
    refund = db.session.get(JobRefund, refund_id)
    if refund is None:
        return "no_refund"
    payment = payment_of(refund.job_id, lock=True)
    db.session.refresh(refund)
    if refund.status != "pending":
        return refund.status
    if payment.settlement_transaction_id is None:
        return "awaiting_settlement"
    try:
        result = get_provider().refund(
            payment.provider_payment_id,
            amount=refund.amount,
            idempotency_key=refund.key,
            metadata={"job_id": refund.job_id, "refund_key": refund.key},
        )
    except PaymentError as error:
        refund.status, refund.last_error = "failed", error.detail
        return refund.status
    apply_refund(payment, refund, result.id)
    return refund.status


def _settlement_shares(payment: JobPayment) -> tuple[str, int, int]:
    """(platform account, its share, the member's share) as the settlement posted them."""
    settlement = db.session.get(LedgerTransaction, payment.settlement_transaction_id)
    platform, share, earning = "platform:revenue", 0, 0
    for entry in settlement.entries:
        code = entry.account.code
        if code.startswith("platform:"):
            platform, share = code, -entry.amount
        elif code.startswith(("member:", "organisation:")):
            earning = -entry.amount
    return platform, share, earning


def _goodwill_total(payment: JobPayment) -> int:
    total = db.session.scalar(
        select(func.coalesce(func.sum(JobRefund.amount), 0)).where(
            JobRefund.job_payment_id == payment.id,
            JobRefund.status == "succeeded",
            JobRefund.key.endswith(GOODWILL_SUFFIX),
        )
    )
    return int(total)


def apply_refund(payment: JobPayment, refund: JobRefund, provider_refund_id: str) -> None:
    """Post the refund's proportional reversal of the split and record it (under the lock)."""
    if refund.amount > payment.refundable:
        raise RefundTooLarge(
            _(
                "Refund {refund_key} of {refund_amount} exceeds the {payment_refundable} left.",
                refund_key=refund.key,
                refund_amount=refund.amount,
                payment_refundable=payment.refundable,
            ),
            state=payment.status,
        )
    if is_goodwill(refund):
        _apply_goodwill(payment, refund, provider_refund_id)
        return
    platform, share, _unused = _settlement_shares(payment)
    # Goodwill credits took nothing off the split: the proportions count the other refunds.
    goodwill = _goodwill_total(payment)
    captured, before = payment.amount_captured, payment.amount_refunded - goodwill
    after = before + refund.amount
    platform_part = prorate(share, after, captured) - prorate(share, before, captured)
    member_part = refund.amount - platform_part
    lines = [Line(CLEARING, -refund.amount), Line(platform, platform_part)]
    receivable = 0
    if member_part:
        # The settlement's payee gives it back: the member, or the company paid for the job.
        payable, owed = earning_accounts(payment)
        available = ledger.balance(payable, payment.currency)
        receivable = max(0, member_part - available)
        lines.append(Line(payable, member_part - receivable))
        lines.append(Line(owed, receivable))
    transaction = ledger.post(
        key=refund.key,
        kind="job_refund",
        currency=payment.currency,
        lines=[line for line in lines if line.amount],
        memo=f"Job {payment.job_id}: refund of {refund.amount} ({refund.reason})"[:500],
        job_id=payment.job_id,
        member_id=payment.member_id,
    )
    refund.commission_part, refund.member_part = platform_part, member_part
    refund.member_receivable = receivable
    _record_refunded(payment, refund, provider_refund_id, transaction)
    payment.amount_refunded = after + goodwill
    payment.status = "refunded" if payment.amount_refunded == captured else "partially_refunded"


def _apply_goodwill(payment: JobPayment, refund: JobRefund, provider_refund_id: str) -> None:
    """The platform pays the customer back out of its own balance; the split stays as it is."""
    transaction = ledger.post(
        key=refund.key,
        kind="goodwill",
        currency=payment.currency,
        lines=[Line("platform:goodwill", refund.amount), Line(CLEARING, -refund.amount)],
        memo=f"Job {payment.job_id}: goodwill credit of {refund.amount} ({refund.reason})"[:500],
        job_id=payment.job_id,
    )
    refund.commission_part = refund.member_part = refund.member_receivable = 0
    _record_refunded(payment, refund, provider_refund_id, transaction)
    payment.amount_refunded += refund.amount
    payment.status = (
        "refunded" if payment.amount_refunded == payment.amount_captured else "partially_refunded"
    )


def _record_refunded(
    payment: JobPayment, refund: JobRefund, provider_refund_id: str, transaction
) -> None:
    refund.status, refund.refunded_at = "succeeded", utcnow()
    refund.provider_refund_id = provider_refund_id
    refund.ledger_transaction_id = transaction.id
    refund.last_error = None
    if refund.id is None:
        db.session.flush()
    emit(
        Event(
            name="payment.refunded",
            subject_type="job",
            subject_id=payment.job_id,
            actor="system",
            payload={"refund_id": refund.id, "transaction_id": transaction.id},
        )
    )
