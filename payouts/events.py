"""The job's money follows its state, whatever moved it: authorisation on posting (offers wait
for it, see payouts.wiring; on assignment at the latest, for jobs posted before), capture
on confirmation, release (or the late-cancellation fee) on cancellation. The work itself runs
in outbox tasks (payouts.job_money); a disputed job's member is held by the payout run through
job_money.open_dispute_member_ids, which reads the job's state. A chargeback disputes the job,
a won one confirms it again, a lost one is allocated by the platform's policy and then confirms
it too (payouts.job_money.chargebacks). A paid
payout releases the member's earlier held ones."""

from __future__ import annotations

from crowd.core.events import Event, subscribe
from crowd.extensions import db
from jobs.models import Job
from payouts import job_money, payout_lifecycle
from payouts.job_money import chargebacks
from payouts.models.job_payments import JobPayment


@subscribe("job.posted")
def authorize_payment_on_posting(event: Event) -> None:
    """Have the payment authorised before any member is offered the job."""
    job_money.on_posted(db.session.get(Job, event.subject_id))


@subscribe("job.assigned")
def authorize_payment(event: Event) -> None:
    """Have the customer's payment for the job authorised if it is not yet (a job posted
    before the rule, or with JOB_PAYMENTS_AUTHORISE_BEFORE_DISPATCH off)."""
    job_money.on_assigned(db.session.get(Job, event.subject_id))


@subscribe("job.confirmed")
def capture_payment(event: Event) -> None:
    """Capture and split the payment the first time the job is confirmed (a job confirmed
    again after a dispute was captured then)."""
    if event.payload["first"]:
        job_money.on_confirmed(db.session.get(Job, event.subject_id))


@subscribe("job.cancelled")
def release_payment(event: Event) -> None:
    """Release the authorisation, or capture the late-cancellation fee."""
    job_money.on_cancelled(db.session.get(Job, event.subject_id))


@subscribe("chargeback.opened")
def dispute_job(event: Event) -> None:
    """The job goes to disputed (when its state allows) and its member hears of it."""
    chargebacks.dispute_job(db.session.get(JobPayment, event.subject_id))


@subscribe("chargeback.won")
def confirm_job(event: Event) -> None:
    """The job the chargeback disputed is confirmed again."""
    chargebacks.confirm_job(db.session.get(JobPayment, event.subject_id))


@subscribe("chargeback.lost")
def book_lost_chargeback(event: Event) -> None:
    """The money the bank took back is allocated once by PAYMENTS_CHARGEBACK_LOST_POLICY (the
    platform, or the member up to their earning); the job the chargeback disputed is settled
    (confirmed again), so the member's payout is no longer held for it."""
    payment = db.session.get(JobPayment, event.subject_id)
    chargebacks.book_loss(payment)
    chargebacks.confirm_job(payment, action="chargeback_lost")


@subscribe("payout.paid", batch=True)
def release_held_payouts(events: list[Event]) -> None:
    """The members' earlier held payouts went out with these: marked released by them (for a
    run's batch in one query)."""
    payout_lifecycle.release_held_by(
        (
            e.subject_id,
            e.payload["member_id"],
            e.payload["currency"],
            e.payload.get("organisation_id"),
        )
        for e in events
    )
