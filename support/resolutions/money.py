"""What a resolution may move: the kinds' preconditions and amounts against the job's payment."""

from __future__ import annotations

from crowd.core.errors import field_error
from crowd.core.i18n import _
from jobs.models import Job
from payouts.job_money.refunds import pending_refund_total
from payouts.models.job_payments import JobPayment
from support.errors import SettlementNotPossible


def money_problem(kind: str, job: Job, payment: JobPayment | None) -> str | None:
    """Why `kind` cannot settle `job` now, or None."""
    if payment is not None and payment.dispute_open:
        # The payout run does not look at chargebacks; only the bank settles this money now.
        return "The customer's bank disputes the payment; the chargeback decides what goes back."
    if kind == "release":
        return None if job.status == "disputed" else "The job is not disputed: nothing is held."
    if payment is None:
        return "The job has no payment to give back from."
    price_due = job.confirmed_at is not None and job.status in ("confirmed", "closed")
    if job.status != "disputed" and not price_due:
        return f"The job is {job.status.replace('_', ' ')}: its price is not due."
    return None


def left_to_give_back(job: Job, payment: JobPayment) -> int:
    """What can still go back to the customer: captured (or, before the capture, the price)
    less what is refunded or being refunded."""
    if payment.settlement_transaction_id is not None:
        return payment.refundable - pending_refund_total(payment)
    return job.price_amount - pending_refund_total(payment)


def split_refund(price: int, customer_share_percent: int) -> int:
    """The customer's share of `price`, rounded half up to a minor unit."""
    return (price * customer_share_percent * 2 + 100) // 200


# The field that names a kind's amount in the proposal (422 errors point at it).
AMOUNT_FIELD = {
    "partial_refund": "refund_amount",
    "split": "customer_share_percent",
    "goodwill": "goodwill_amount",
}


def proposed_refund(
    kind: str, job: Job, refund_amount: int | None, customer_share_percent: int | None
) -> int:
    """The refund a partial refund or split proposes (0 for the other kinds; a full refund's
    is what is left, found by check_money)."""
    if kind == "split":
        if customer_share_percent is None:
            raise field_error("customer_share_percent", _("required for a split"))
        return split_refund(job.price_amount, customer_share_percent)
    if kind == "partial_refund":
        if refund_amount is None:
            raise field_error("refund_amount", _("required for a partial refund"))
        return refund_amount
    return 0


def check_money(
    kind: str, job: Job, payment: JobPayment | None, *, refund: int, goodwill: int
) -> int:
    """Check a proposal's amounts against the job's payment now; returns the refund (a full
    refund's is all that is left). 409 when the job or payment does not allow the kind, 422
    naming the field whose amount does not fit."""
    problem = money_problem(kind, job, payment)
    if problem:
        raise SettlementNotPossible(problem, state=job.status)
    if kind == "release":
        return 0
    left = left_to_give_back(job, payment)
    if kind == "full_refund":
        if left <= 0:
            raise SettlementNotPossible(
                _("Nothing is left to refund on this job."), state=payment.status
            )
        return left
    field, amount = AMOUNT_FIELD[kind], goodwill if kind == "goodwill" else refund
    if amount <= 0:
        raise field_error(field, _("gives nothing back; propose a release instead"))
    if amount > left:
        raise field_error(
            field,
            _(
                "gives back {amount}, more than the {left} the payment has left",
                amount=amount,
                left=left,
            ),
        )
    return refund
