"""A job payment's chargeback as a state machine: (state, what happened) → next state.

The customer's bank opens a dispute of the charge (charge.dispute.created) and closes it won,
lost or otherwise (charge.dispute.closed; a closing may arrive first, and then the opening
changes nothing). A charge is disputed at most once, so the payment's dispute_* columns hold
the one chargeback; its state follows from them (`state_of`). Every move goes through
`transition()`, which records the dispute on the payment and emits `chargeback.<state>`; what
follows (the job disputed, confirmed again on a win; a loss booked) are payouts.events'
subscribers, which call the functions below.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from crowd.core.events import declare, emit_transition
from crowd.extensions import db
from jobs.lifecycle import allowed_actions
from jobs.lifecycle import transition as job_transition
from jobs.models import Job, JobEvent
from payouts import ledger
from payouts.job_money.payments import CLEARING
from payouts.ledger import Line
from payouts.models.job_payments import JobPayment

# Stripe's closing statuses with an outcome of their own; any other closing (e.g. a warning
# closed without a chargeback) is `closed`.
OUTCOMES = ("won", "lost")
FINAL = ("won", "lost", "closed")
TRANSITIONS: dict[tuple[str | None, str], str] = {
    (None, "open"): "opened",
    **{(state, outcome): outcome for state in (None, "opened") for outcome in FINAL},
}
EVENTS = ("chargeback.opened", "chargeback.won", "chargeback.lost", "chargeback.closed")
declare(*EVENTS)


def state_of(payment: JobPayment) -> str | None:
    """None (no chargeback), opened, or how it closed."""
    if payment.dispute_id is None:
        return None
    if payment.dispute_closed_at is None:
        return "opened"
    return payment.dispute_status if payment.dispute_status in OUTCOMES else "closed"


def action_for(dispute: dict, *, closed: bool) -> str:
    """The move a provider dispute object makes: open, or its outcome."""
    if not closed:
        return "open"
    status = dispute.get("status")
    return status if status in OUTCOMES else "closed"


def transition(payment: JobPayment, action: str, *, dispute: dict, at: datetime) -> str | None:
    """Record the dispute on the (locked) payment and emit `chargeback.<new state>`; None when
    the table has no such move (known already, closed already): then nothing changes."""
    was = state_of(payment)
    target = TRANSITIONS.get((was, action))
    if target is None:
        return None
    payment.dispute_id = dispute.get("id")
    if action == "open":
        payment.dispute_status = dispute.get("status") or "needs_response"
        payment.dispute_reason = dispute.get("reason")
        payment.dispute_amount = dispute.get("amount")
        payment.disputed_at, payment.dispute_closed_at = at, None
    else:
        payment.dispute_status = dispute.get("status")
        payment.dispute_reason = dispute.get("reason") or payment.dispute_reason
        payment.dispute_amount = dispute.get("amount") or payment.dispute_amount
        payment.disputed_at = payment.disputed_at or at
        payment.dispute_closed_at = at
    emit_transition(
        "chargeback",
        payment.id,
        subject_type="job_payment",
        action=action,
        was=was,
        now=target,
        actor=None,
        occurred_at=at,
        job_id=payment.job_id,
        dispute_id=payment.dispute_id,
        dispute_status=payment.dispute_status,
        reason=payment.dispute_reason,
        amount=payment.dispute_amount,
        currency=payment.currency,
    )
    return target


# --- what follows (payouts.events) ----------------------------------------------------------


def dispute_job(payment: JobPayment) -> None:
    """The job (locked by the caller) goes to `disputed` when its state allows; support's
    subscriber of job.disputed opens the dispute ticket, counts it and tells the member, as for
    a party's dispute. Otherwise the chargeback is only recorded."""
    job = db.session.get(Job, payment.job_id)
    if "dispute" not in allowed_actions(job.status, "customer"):
        return
    reason = f"chargeback: {payment.dispute_reason or 'no reason given'}"
    job_transition(
        job,
        "dispute",
        actor="customer",
        context={"path": "chargeback", "reason": reason, "ticket_id": None},
        reason=reason,
        dispute_id=payment.dispute_id,
    )


def confirm_job(payment: JobPayment) -> None:
    """A won chargeback confirms the job again if the chargeback is what put it in `disputed`
    (a dispute opened with support stays for support to settle); the subscribers of
    job.confirmed do the rest, as on any other confirmation."""
    job = db.session.get(Job, payment.job_id)
    if job.status != "disputed":
        return
    moved_by = db.session.scalar(
        select(JobEvent.detail)
        .where(JobEvent.job_id == job.id, JobEvent.to_status == "disputed")
        .order_by(JobEvent.id.desc())
        .limit(1)
    )
    if (moved_by or {}).get("dispute_id") != payment.dispute_id:
        return
    job_transition(job, "chargeback_won", actor="system", dispute_id=payment.dispute_id)


def book_loss(payment: JobPayment) -> None:
    """The bank took the money back from the platform's balance; the platform bears it
    (whether the member gives their earning back is for mediation to decide)."""
    if not payment.dispute_amount:
        return
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
