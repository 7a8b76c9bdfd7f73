"""Provider events about job payments: reconcile our record, never backwards, never twice.

Job payments are the platform's own (separate charges and transfers), so an event carrying a
connected `account` is foreign. Every event is checked against its object's own history and
ignored, with the reason, when it does not fit:
- payment_intent.*: the intent must be the current attempt's; the event must be no older than
  the intent event applied last (`provider_event_at`; within one second the later arrival
  wins) nor than the payment itself; the move must be one Stripe's intent makes (MOVES_FROM —
  captured stays captured, a cancelled hold is not authorised again); the currency must be the
  payment's and no amount may exceed the job's price (nor the authorisation, when captured).
- charge.refunded: refunds are facts of their own, known by id, so order does not matter; the
  charge's currency must be the payment's and the refunds must fit into what was captured.
- charge.dispute.*: one dispute per payment (a charge has at most one); created after closed
  changes nothing; its amount must fit into what was captured (the chargeback's
  state machine: payouts.job_money.chargebacks). Every dispute event books the balance
  transactions it lists (funds_withdrawn / funds_reinstated carry them), each once by its id,
  before the move, so a loss knows whether the withdrawal is booked.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from crowd.core.background import enqueue
from crowd.core.db import utcnow
from crowd.extensions import db
from jobs.models import Job
from jobs.queries import lock_job
from payouts.job_money import chargebacks
from payouts.job_money.payments import (
    AUTHORIZE_TASK,
    CANCEL_TASK,
    CAPTURE_TASK,
    LAPSED,
    PAYABLE_JOB_STATES,
    UNAUTHORIZED,
    mark_authorized,
    mark_captured,
    mark_failed,
    new_attempt,
    pause_dispatch,
    payment_of,
    price_due,
)
from payouts.job_money.refunds import apply_refund, pending_refund_total
from payouts.models.job_payments import JobPayment, JobRefund
from payouts.webhooks import CLOCK_SKEW, Ignored, on_event

# Where a webhook may move a payment from, as Stripe's PaymentIntent moves (failed is its
# requires_payment_method, authorized requires_capture, captured succeeded, lapsed canceled);
# from anywhere else the event reports an earlier state than ours and changes nothing.
MOVES_FROM = {
    "authorized": UNAUTHORIZED,
    "captured": (*UNAUTHORIZED, "authorized"),
    "failed": ("pending", "requires_action", "failed"),  # a new try on the intent failed again
    "lapsed": ("pending", "requires_action", "authorized", "failed"),
}


def _payment_by_intent(intent_id: str | None, *, lock: bool = True) -> JobPayment | None:
    if not intent_id:
        return None
    query = select(JobPayment).where(JobPayment.provider_payment_id == intent_id)
    if lock:
        query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
    return db.session.scalar(query)


def _foreign_or_stale(payment: JobPayment, event, obj: dict) -> Ignored | None:
    """Why the event cannot be about the payment as we know it: account, time, currency."""
    if event.account is not None:
        return Ignored(f"foreign: an event of connected account {event.account}, not ours")
    if event.created < payment.created_at.replace(microsecond=0) - CLOCK_SKEW:
        return Ignored(
            f"stale: dated {event.created:%Y-%m-%d %H:%M:%S}, before the job's payment existed"
        )
    currency = str(obj.get("currency") or "").upper()
    if currency != payment.currency:
        return Ignored(
            f"inconsistent: {currency or 'no currency'}, the payment is in {payment.currency}"
        )
    return None


def _amount_problem(name: str, amount, most: int) -> Ignored | None:
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= most:
        return Ignored(f"inconsistent: {name} {amount!r} is not between 1 and {most}")
    return None


def _movable_payment(event, to: str) -> JobPayment | Ignored:
    """The job payment behind the event's intent, locked — or why the event leaves it alone:
    unknown, foreign, older than what we applied, or reporting an earlier state than ours."""
    intent = event.data_object
    payment = _payment_by_intent(intent.get("id"))
    if payment is None:
        return Ignored("not a job payment we know")
    ignored = _foreign_or_stale(payment, event, intent)
    if ignored is not None:
        return ignored
    at = event.created.replace(microsecond=0)
    if payment.provider_event_at is not None and at < payment.provider_event_at:
        return Ignored(
            f"stale: older than the intent's state applied at "
            f"{payment.provider_event_at:%Y-%m-%d %H:%M:%S}"
        )
    if payment.status not in MOVES_FROM[to]:
        return Ignored(f"stale: the payment is {payment.status} already")
    return payment


def _applied(payment: JobPayment, event) -> None:
    payment.provider_event_at = event.created.replace(microsecond=0)


@on_event("payment_intent.amount_capturable_updated")
def _intent_capturable(event) -> Ignored | None:
    intent = event.data_object
    if intent.get("status") != "requires_capture" or not intent.get("amount_capturable"):
        return Ignored("nothing capturable")
    payment = _movable_payment(event, "authorized")
    if isinstance(payment, Ignored):
        return payment
    job = db.session.get(Job, payment.job_id)
    amount = intent["amount_capturable"]
    ignored = _amount_problem("amount_capturable", amount, job.price_amount)
    if ignored is not None:
        return ignored
    _applied(payment, event)
    mark_authorized(payment, job, amount)
    return None


@on_event("payment_intent.succeeded")
def _intent_succeeded(event) -> Ignored | None:
    intent = event.data_object
    payment = _movable_payment(event, "captured")
    if isinstance(payment, Ignored):
        return payment
    job = db.session.get(Job, payment.job_id)
    received = intent.get("amount_received")
    # Never more than we asked for: the job's price, and what was authorised if we know it.
    most = min(job.price_amount, payment.amount_authorized or job.price_amount)
    ignored = _amount_problem("amount_received", received, most)
    if ignored is not None:
        return ignored
    _applied(payment, event)
    payment.amount_authorized = max(payment.amount_authorized, received)
    mark_captured(payment, received)
    # The posting stays with the tasks, keyed by the job: they post what was captured.
    if price_due(job):
        enqueue(CAPTURE_TASK, job_id=job.id)
    elif job.status == "cancelled":
        enqueue(CANCEL_TASK, job_id=job.id)
    return None


def _lock_job_of(event) -> Job | None:
    """Lock the job of the event's intent first: the order the jobs code locks in, needed
    when the payment's move pauses the job's dispatch (withdrawing its offers)."""
    found = _payment_by_intent(event.data_object.get("id"), lock=False)
    return lock_job(found.job_id) if found is not None else None


@on_event("payment_intent.payment_failed")
def _intent_failed(event) -> Ignored | None:
    intent = event.data_object
    job = _lock_job_of(event)
    payment = _movable_payment(event, "failed")
    if isinstance(payment, Ignored):
        return payment
    _applied(payment, event)
    error = intent.get("last_payment_error") or {}
    mark_failed(
        payment,
        error.get("code"),
        error.get("decline_code"),
        error.get("message") or "The payment failed.",
    )
    # A failed authentication (3-D Secure) or decline: no offers until another attempt holds.
    pause_dispatch(job, payment)
    return None


@on_event("payment_intent.canceled")
def _intent_canceled(event) -> Ignored | None:
    job = _lock_job_of(event)
    payment = _movable_payment(event, "lapsed")
    if isinstance(payment, Ignored):
        return payment
    _applied(payment, event)
    if job.status == "cancelled":
        payment.status, payment.cancelled_at = "cancelled", utcnow()
        return None
    # Cancelled at the provider while the job still needs paying (an expired hold, say).
    mark_failed(payment, LAPSED, None, "The authorisation of your payment lapsed.")
    if event.data_object.get("cancellation_reason") == "automatic" and job.status in (
        PAYABLE_JOB_STATES
    ):
        # Stripe let the hold lapse: authorise again at once (a new attempt, its own key).
        new_attempt(payment)
        enqueue(AUTHORIZE_TASK, job_id=job.id)
    else:
        pause_dispatch(job, payment)
    return None


@on_event("charge.refunded")
def _charge_refunded(event) -> Ignored | None:
    charge = event.data_object
    payment = _payment_by_intent(charge.get("payment_intent"))
    if payment is None:
        return Ignored("not a job payment we know")
    ignored = _foreign_or_stale(payment, event, charge)
    if ignored is not None:
        return ignored
    if payment.settlement_transaction_id is None:
        return Ignored("the payment is not settled; staff reconcile its refund by hand")
    listed = (charge.get("refunds") or {}).get("data")
    ignored = _refunds_problem(payment, charge, listed)
    if ignored is not None:
        return ignored
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


def _refunds_problem(payment: JobPayment, charge: dict, listed) -> Ignored | None:
    """Why the charge's refunds cannot be ours: more than was captured, or malformed."""
    total = charge.get("amount_refunded")
    if total is not None:
        ignored = _amount_problem("amount_refunded", total, payment.amount_captured)
        if ignored is not None:
            return ignored
    if listed is None:
        return None
    if not isinstance(listed, list) or not all(isinstance(item, dict) for item in listed):
        return Ignored("inconsistent: the charge's refunds are not a list of refunds")
    new = 0
    for item in listed:
        if item.get("status") not in ("succeeded", "pending"):
            continue
        if not isinstance(item.get("id"), str) or not item["id"]:
            return Ignored("inconsistent: a refund without an id")
        ignored = _amount_problem("refund amount", item.get("amount"), payment.amount_captured)
        if ignored is None and str(item.get("currency") or "").upper() != payment.currency:
            ignored = Ignored(f"inconsistent: refund {item['id']} is not in {payment.currency}")
        if ignored is not None:
            return ignored
        if not _refund_known(payment, item):
            new += item["amount"]
    if new > payment.refundable:
        return Ignored(f"inconsistent: new refunds of {new} exceed the {payment.refundable} left")
    return None


def _refund_known(payment: JobPayment, item: dict) -> bool:
    """Whether the refund is applied already (by its id, or ours by its key)."""
    if db.session.scalar(select(JobRefund.id).where(JobRefund.provider_refund_id == item["id"])):
        return True
    status = db.session.scalar(
        select(JobRefund.status).where(
            JobRefund.key == (item.get("metadata") or {}).get("refund_key", ""),
            JobRefund.job_payment_id == payment.id,
        )
    )
    return status is not None and status != "pending"


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


def _dispute_problem(payment: JobPayment, event, dispute: dict) -> Ignored | None:
    ignored = _foreign_or_stale(payment, event, dispute)
    if ignored is not None:
        return ignored
    if not isinstance(dispute.get("id"), str) or not dispute["id"]:
        return Ignored("inconsistent: a dispute without an id")
    if payment.dispute_id is not None and payment.dispute_id != dispute["id"]:
        # A charge is disputed at most once: another dispute id is not about this payment.
        return Ignored(f"inconsistent: the payment's dispute is {payment.dispute_id}")
    # At most what was taken (captured, or held if our record of the capture is late).
    most = max(payment.amount_captured, payment.amount_authorized)
    amount = dispute.get("amount")
    if amount is not None:
        return _amount_problem("dispute amount", amount, most)
    return None


@on_event("charge.dispute.created")
def _dispute_created(event) -> Ignored | None:
    return _chargeback(event, closed=False, known="the dispute is known already")


@on_event("charge.dispute.closed")
def _dispute_closed(event) -> Ignored | None:
    return _chargeback(event, closed=True, known="the dispute is closed already")


@on_event("charge.dispute.funds_withdrawn")
def _dispute_funds_withdrawn(event) -> Ignored | None:
    return _chargeback(event, closed=None, known="the withdrawal is booked already")


@on_event("charge.dispute.funds_reinstated")
def _dispute_funds_reinstated(event) -> Ignored | None:
    return _chargeback(event, closed=None, known="the reinstatement is booked already")


def _chargeback(event, *, closed: bool | None, known: str) -> Ignored | None:
    """Book the dispute's balance transactions and move the payment's chargeback
    (payouts.job_money.chargebacks; `closed` None: a funds event, which only books); its
    subscribers dispute the job, confirm it again on a win, or allocate a loss."""
    dispute = event.data_object
    found = _payment_by_intent(dispute.get("payment_intent"), lock=False)
    if found is None:
        return Ignored("not a job payment we know")
    # The job first, then its payment: the order the jobs code (and its hooks) lock in.
    lock_job(found.job_id)
    payment = payment_of(found.job_id, lock=True)
    ignored = _dispute_problem(payment, event, dispute)
    if ignored is not None:
        return ignored
    problem = chargebacks.balance_problem(payment, dispute)
    if problem is not None:
        return Ignored(problem)
    booked = chargebacks.book_balance_transactions(payment, dispute)
    moved = None
    if closed is not None:
        action = chargebacks.action_for(dispute, closed=closed)
        moved = chargebacks.transition(payment, action, dispute=dispute, at=event.created)
    if moved is None and not booked:
        return Ignored(known)
    return None
