"""Refunds of a job's captured payment, reversing the split proportionally."""

from __future__ import annotations

from sqlalchemy import func, select

from crowd.core.auth import Principal
from crowd.core.background import enqueue
from crowd.core.db import utcnow
from crowd.core.errors import Conflict, NotFound
from crowd.extensions import db
from jobs.models import Job
from payouts import ledger
from payouts.job_money.payments import CLEARING, REFUND_TASK, key_for, payment_of
from payouts.ledger import Line, account_code_for_member
from payouts.models.job_payments import JobPayment, JobRefund
from payouts.models.ledger import LedgerTransaction
from payouts.providers import PaymentError, get_provider
from payouts.rounding import prorate


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
        raise NotFound("No such job.")
    payment = payment_of(job_id, lock=True)
    if payment is None or payment.settlement_transaction_id is None:
        state = payment.status if payment is not None else "pending"
        raise Conflict("Nothing has been captured for this job.", state=state)
    if payment.dispute_open:
        raise Conflict(
            "The payment is disputed; the dispute decides what goes back.", state="disputed"
        )
    left = payment.refundable - pending_refund_total(payment)
    if amount > left:
        raise Conflict(
            f"At most {left} can be refunded: {payment.amount_captured} captured, "
            f"{payment.amount_captured - left} refunded or being refunded.",
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


def execute_refund(refund_id: int) -> str:
    """Make a requested refund at the provider and post its reversal, once (task)."""
    refund = db.session.get(JobRefund, refund_id)
    if refund is None:
        return "no_refund"
    payment = payment_of(refund.job_id, lock=True)
    db.session.refresh(refund)
    if refund.status != "pending":
        return refund.status
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
        elif code.startswith("member:"):
            earning = -entry.amount
    return platform, share, earning


def apply_refund(payment: JobPayment, refund: JobRefund, provider_refund_id: str) -> None:
    """Post the refund's proportional reversal of the split and record it (under the lock)."""
    if refund.amount > payment.refundable:
        raise Conflict(
            f"Refund {refund.key} of {refund.amount} exceeds the {payment.refundable} left.",
            state=payment.status,
        )
    platform, share, _ = _settlement_shares(payment)
    captured, before = payment.amount_captured, payment.amount_refunded
    after = before + refund.amount
    platform_part = prorate(share, after, captured) - prorate(share, before, captured)
    member_part = refund.amount - platform_part
    lines = [Line(CLEARING, -refund.amount), Line(platform, platform_part)]
    receivable = 0
    if member_part:
        payable = account_code_for_member(payment.member_id)
        available = ledger.balance(payable, payment.currency)
        receivable = max(0, member_part - available)
        lines.append(Line(payable, member_part - receivable))
        lines.append(Line(f"member:{payment.member_id}:receivable", receivable))
    transaction = ledger.post(
        key=refund.key,
        kind="job_refund",
        currency=payment.currency,
        lines=[line for line in lines if line.amount],
        memo=f"Job {payment.job_id}: refund of {refund.amount} ({refund.reason})"[:500],
        job_id=payment.job_id,
        member_id=payment.member_id,
    )
    refund.status, refund.refunded_at = "succeeded", utcnow()
    refund.provider_refund_id = provider_refund_id
    refund.ledger_transaction_id = transaction.id
    refund.commission_part, refund.member_part = platform_part, member_part
    refund.member_receivable = receivable
    refund.last_error = None
    payment.amount_refunded = after
    payment.status = "refunded" if after == captured else "partially_refunded"
