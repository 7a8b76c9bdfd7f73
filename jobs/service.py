"""Lifecycle actions on jobs: the customer's and staff's confirm, cancel and dispute, and the
system's timed ones (auto-confirm, close, reminders, the sweep).

Every action locks the job row first (a no-op on SQLite), then moves it through
jobs.lifecycle, which refuses illegal moves with 409 and the current state. Services never
commit: the request's unit of work, or the background task, does.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.events import Event, declare, emit
from crowd.core.i18n import _, _l
from crowd.extensions import db
from customers.models import Customer
from jobs.config import job_rules
from jobs.errors import JobNotDisputable
from jobs.lifecycle import transition
from jobs.models import Job
from jobs.queries import actor_kind, job_for, lock_job, present_for
from jobs.timers import (
    auto_confirm_due_at,
    close_due_at,
    reminder_due_at,
)
from members.models import Member
from notifications.service import notify

# A reminder may run this much before its nominal time (clock skew between hosts).
REMINDER_SLACK = timedelta(minutes=1)
DISPUTABLE = ("completed", "confirmed")

# Before a party disputes a job: support answers a second dispute with the first's ticket.
declare("job.dispute_requested")


# --- actions: customer and staff ----------------------------------------------------------


def _user_of(model, row_id: int) -> int:
    return db.session.scalar(select(model.user_id).where(model.id == row_id))


def confirm(job: Job, *, actor: str, actor_user_id: int | None = None) -> None:
    """completed → confirmed (customer, staff on their behalf, or the system after the
    auto-confirm period); what follows (money, levels, notices, closing) is the subscribers'
    of job.confirmed."""
    transition(job, "confirm", actor=actor, actor_user_id=actor_user_id)


def confirm_job(*, actor: Principal, job_id: int) -> dict:
    """The customer (or staff on their behalf) confirms a completed job."""
    job = job_for(actor, job_id, lock=True)
    confirm(job, actor=actor_kind(actor), actor_user_id=actor.user_id)
    db.session.flush()
    return present_for(actor, job)


def late_cancellation_fee(job: Job, *, now: datetime | None = None) -> int:
    """The customer's fee for cancelling now: late_cancel_fee_percent of the price (minor
    units, rounded half up) when the job is assigned and starts within the late window."""
    rules = job_rules()
    if job.status != "assigned" or job.scheduled_start is None:
        return 0
    now = now or utcnow()
    if now < job.scheduled_start - timedelta(hours=rules.late_cancel_window_hours):
        return 0
    return (job.price_amount * rules.late_cancel_fee_percent * 2 + 100) // 200


def cancel_job(*, actor: Principal, job_id: int, reason: str) -> dict:
    """Cancel a job: free before assignment; a customer cancelling an assigned job inside the
    late window owes the late-cancellation fee (staff cancel free of charge)."""
    job = job_for(actor, job_id, lock=True)
    kind = actor_kind(actor)
    fee = late_cancellation_fee(job) if kind == "customer" else 0
    changes = {"cancelled_by": kind, "cancel_reason": reason, "cancellation_fee_amount": fee}
    transition(
        job,
        "cancel",
        actor=kind,
        actor_user_id=actor.user_id,
        changes=changes,
        reason=reason,
        fee=fee,
    )
    db.session.flush()
    return present_for(actor, job)


def dispute_job(*, actor: Principal, job_id: int, reason: str) -> dict:
    """The customer disputes a completed or confirmed job: the job goes to `disputed`, and the
    subscribers of job.disputed do the rest, as for a dispute opened with a ticket — support
    opens the dispute ticket and mediates (support.events), the member's payout is held.

    409 `already-disputed` naming the ticket when the job has an open dispute (the subscriber
    of job.dispute_requested), else `job-not-disputable` unless it is completed or confirmed.
    """
    job = job_for(actor, job_id, lock=True)
    kind = actor_kind(actor)
    emit(
        Event(
            name="job.dispute_requested",
            subject_type="job",
            subject_id=job.id,
            actor=actor.user_id,
            payload={"by": kind, "status": job.status, "reason": reason},
        )
    )
    if job.status not in DISPUTABLE:
        raise JobNotDisputable(
            _(
                "Only a completed or confirmed job can be disputed; job {job_id} is {value}.",
                job_id=job.id,
                value=job.status.replace("_", " "),
            ),
            state=job.status,
        )
    transition(
        job,
        "dispute",
        actor=kind,
        actor_user_id=actor.user_id,
        context={"path": "party", "reason": reason, "ticket_id": None},
        reason=reason[:200],
    )
    db.session.flush()
    return present_for(actor, job)


# --- actions: the system (timed) ----------------------------------------------------------


def auto_confirm(job_id: int, *, skip_locked: bool = False) -> bool:
    """Confirm a job whose auto-confirm period has passed; anything else is left alone."""
    job = lock_job(job_id, skip_locked=skip_locked)
    if job is None or job.status != "completed" or auto_confirm_due_at(job) > utcnow():
        return False
    confirm(job, actor="system")
    return True


def close_job(job_id: int, *, skip_locked: bool = False) -> bool:
    """Close a job confirmed at least close_after_days ago; anything else is left alone."""
    job = lock_job(job_id, skip_locked=skip_locked)
    if job is None or job.status != "confirmed" or close_due_at(job) > utcnow():
        return False
    transition(job, "close", actor="system")
    return True


def send_reminder(job_id: int, kind: str) -> bool:
    """Remind the member and the customer of an assigned job that starts soon.

    A reminder left over from an earlier assignment (the job was re-dispatched to a later
    start) is not due yet and does nothing; the new assignment scheduled its own.
    """
    job = db.session.get(Job, job_id)
    if job is None or job.status != "assigned" or job.assigned_member_id is None:
        return False
    now = utcnow()
    due = reminder_due_at(job, kind)
    if due is None or now < due - REMINDER_SLACK or now >= job.scheduled_start:
        return False
    start = int(job.scheduled_start.timestamp())
    for user_id in (_user_of(Member, job.assigned_member_id), _user_of(Customer, job.customer_id)):
        notify(
            user_id,
            "job.reminder",
            _l("Upcoming job"),
            _l(
                "“{job_title}” starts at {value}.",
                job_title=job.title,
                value=job.scheduled_start.isoformat(),
            ),
            dedupe_key=f"job.reminder:{job.id}:{kind}:{user_id}:{start}",
            job_id=job.id,
            starts_at=job.scheduled_start.isoformat(),
        )
    return True


def sweep_lifecycle(*, limit: int = 200) -> dict[str, int]:
    """Safety net behind the timers: auto-confirm and close every job that is overdue.

    Two indexed queries find the overdue jobs; each is then moved under its own row lock,
    skipping rows another worker holds (it is moving them already).
    """
    rules = job_rules()
    now = utcnow()
    completed_at = func.coalesce(Job.completed_at, Job.status_changed_at)
    overdue_completed = db.session.scalars(
        select(Job.id)
        .where(
            Job.status == "completed",
            completed_at <= now - timedelta(hours=rules.auto_confirm_hours),
        )
        .order_by(Job.id)
        .limit(limit)
    ).all()
    confirmed = sum(auto_confirm(job_id, skip_locked=True) for job_id in overdue_completed)
    overdue_confirmed = db.session.scalars(
        select(Job.id)
        .where(
            Job.status == "confirmed",
            Job.status_changed_at <= now - timedelta(days=rules.close_after_days),
        )
        .order_by(Job.id)
        .limit(limit)
    ).all()
    closed = sum(close_job(job_id, skip_locked=True) for job_id in overdue_confirmed)
    return {"confirmed": confirmed, "closed": closed}
